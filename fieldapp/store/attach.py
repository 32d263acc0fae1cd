"""A record and its photo: a new version of the record that lists a photo the phone holds.

Apart from photos.py, which holds bytes and knows nothing of records, and store.py,
which holds records and owns a PhotoStore: this is where the two meet.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from fieldapp.core.records import PhotoKind, photo_hashes

from .errors import RecordNotFound
from .store import RecordStore, timestamp


def attach(store: RecordStore, record_id: str, original: bytes, *, kind: PhotoKind, taken_at: str) -> dict:
    """Save a new version of the record that lists this photo too, as the app does; returns the version.

    The bytes are held (durably) before the version that names them is saved: a
    version never lists a photo the phone does not hold.
    """
    found = store.get(record_id)
    if found is None:
        raise RecordNotFound(record_id)
    # Listed by the record before its version is saved: a kill in between leaves files the
    # record's retention takes with it, never files no one uploads or removes.
    photo = store.photos.take(original, kind=kind, taken_at=taken_at, record_id=record_id)
    data = dict(found.record["data"])
    if any(p.get("sha256") == photo["sha256"] for p in data.get("photos") or []):
        return found.record
    data["photos"] = [*(data.get("photos") or []), photo]
    return store.edit(record_id, data=data)


def taken_at_of(path: Path) -> str:
    """When a picked file was taken, as far as the phone can tell: its modification time, in local time."""
    return timestamp(datetime.fromtimestamp(path.stat().st_mtime).astimezone())


def hold(store: RecordStore, original: bytes, *, kind: PhotoKind, taken_at: str) -> dict:
    """A photo taken on a form, before its version is saved: held durably, listed by no record yet.

    Until `listed` names its record it is neither sent nor kept by retention; a photo removed
    from the form before the save goes with `PhotoStore.discard`.
    """
    return store.photos.take(original, kind=kind, taken_at=taken_at)


def listed(store: RecordStore, version: dict) -> None:
    """The form's version is saved: its photos are now its record's (sent, and kept with it)."""
    store.photos.listed_by(version["id"], photo_hashes(version))
