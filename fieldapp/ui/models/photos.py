"""Photographs on the screens: a form's photos (taken or picked, given a kind, removed before the save), and a record's
photos as read, each with where it is (still on this phone, or at the server).

The bytes go to the phone's photo store as soon as a photo is taken (fieldapp/store/attach.py `hold`: durable,
sealed under the PIN); the form's version lists them when it is saved (`listed`), and only then are they sent.
A photo removed before the save, or a form left unsaved, leaves no file behind (`discard`).
"""

from __future__ import annotations

import io
from collections import OrderedDict
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from fieldapp.core.records import MAX_PHOTO_BYTES, MAX_PHOTOS, PhotoKind, photos_of
from fieldapp.store import RecordStore, StoredRecord, StoreError
from fieldapp.store.attach import hold, listed, taken_at_of
from fieldapp.store.photos import NotAPhoto
from fieldapp.store.store import timestamp
from fieldapp.sync.photos import ORIGINALS_ON_WIFI, originals_held_for_wifi
from fieldapp.ui.models.session import Session

# What each form offers: a call photographs its scene; a recovery the views the field manual asks for of a body.
CALL_KINDS = (PhotoKind.SCENE, PhotoKind.DOCUMENTS, PhotoKind.EFFECTS, PhotoKind.OTHER)
RECOVERY_KINDS = (PhotoKind.FACE, PhotoKind.TAG, PhotoKind.MARKS, PhotoKind.CLOTHING, PhotoKind.EFFECTS,
                  PhotoKind.DOCUMENTS, PhotoKind.OTHER)
THUMB_EDGE = 192  # a thumbnail's long edge, in pixels: made from the preview, small enough to draw often
_THUMBS: OrderedDict[str, bytes] = OrderedDict()  # by the preview's hash: the same bytes whatever the store
_THUMBS_KEPT = 64


class PhotoState(StrEnum):
    """Where a photo is, as this phone knows it."""

    SENT = "sent"  # the original and its preview are at the server
    PREVIEW_SENT = "preview_sent"  # the preview arrived; the original waits (its turn, or Wi-Fi)
    WAITING = "waiting"  # on this phone only
    FROM_SERVER = "from_server"  # another device's photo: its preview came from the server
    NOT_HERE = "not_here"  # another device's photo this phone has not been given (yet)


@dataclass(frozen=True)
class PhotoLine:
    sha256: str
    kind: str
    taken_at: str
    preview: str | None  # the preview's hash, when this phone holds it
    state: PhotoState

    @property
    def short(self) -> str:
        """The names the screens give it (the tests find a photo by them)."""
        return self.sha256[:12]


def thumbnail(store: RecordStore, preview_sha: str) -> bytes | None:
    """A small JPEG of the preview (made once, kept in memory), None when the phone cannot read it."""
    if preview_sha in _THUMBS:
        _THUMBS.move_to_end(preview_sha)
        return _THUMBS[preview_sha]
    preview = large(store, preview_sha)
    if preview is None:
        return None
    from PIL import Image

    with Image.open(io.BytesIO(preview)) as image:
        image.thumbnail((THUMB_EDGE, THUMB_EDGE))
        out = io.BytesIO()
        image.convert("RGB").save(out, format="JPEG", quality=75)
    _THUMBS[preview_sha] = out.getvalue()
    while len(_THUMBS) > _THUMBS_KEPT:
        _THUMBS.popitem(last=False)
    return _THUMBS[preview_sha]


def large(store: RecordStore, preview_sha: str) -> bytes | None:
    """The preview itself (long edge 1280 px), to see a photo large; None when it is not here or damaged."""
    try:
        return store.photos.read(preview_sha)
    except (StoreError, KeyError, OSError):
        return None


def photo_lines(store: RecordStore, record: dict[str, Any], *, mine: bool) -> list[PhotoLine]:
    """A version's photos, each with where it is."""
    files = store.photos.entries()
    lines = []
    for photo in photos_of(record):
        sha = str(photo.get("sha256"))
        preview_sha = (photo.get("preview") or {}).get("sha256")
        original, preview = files.get(sha), files.get(preview_sha) if preview_sha else None
        if not mine and original is None:
            state = PhotoState.FROM_SERVER if preview is not None else PhotoState.NOT_HERE
        elif original is not None and original["sent"]:
            state = PhotoState.SENT
        elif preview is not None and preview["sent"]:
            state = PhotoState.PREVIEW_SENT
        else:
            state = PhotoState.WAITING
        lines.append(PhotoLine(sha, str(photo.get("kind")), str(photo.get("taken_at") or ""),
                               preview_sha if preview is not None else None, state))
    return lines


def where(lines: list[PhotoLine]) -> dict[str, int]:
    """How many of a record's photos are at the server, and how many are still only on this phone (the original)."""
    return {"sent": sum(line.state in (PhotoState.SENT, PhotoState.FROM_SERVER) for line in lines),
            "here": sum(line.state in (PhotoState.WAITING, PhotoState.PREVIEW_SENT) for line in lines)}


class PhotoTray:
    """A form's photos: those its record's version lists, and those taken since; saved with the form's version."""

    def __init__(self, session: Session, kinds: tuple[PhotoKind, ...]):
        self.s = session
        self.kinds = kinds
        self.kind: PhotoKind = kinds[0]  # the kind the next photo is given
        self.photos: list[dict[str, Any]] = []  # schema 3 entries, in the order taken
        self.new: set[str] = set()  # taken on this form, not yet in a saved version

    def load(self, photos: list[dict[str, Any]] | None = None) -> None:
        """A form opened (empty, or a record's to correct): what an unsaved one held goes first."""
        self.drop_unsaved()
        self.photos = [dict(p) for p in photos or []]
        self.kind = self.kinds[0]

    def choose_kind(self, kind: PhotoKind | str) -> None:
        self.kind = PhotoKind(kind)

    def add(self, original: bytes, *, taken_at: str | None = None) -> dict[str, Any] | None:
        """A photo taken or picked: held on the phone at once, shown on the form; None and a problem said when not."""
        t = self.s.t
        self.s.errors.pop("photos", None)
        if len(self.photos) >= MAX_PHOTOS:
            self.s.errors["photos"] = t("photo.too_many", n=MAX_PHOTOS)
            return None
        if not original or len(original) > MAX_PHOTO_BYTES:
            self.s.errors["photos"] = t("photo.too_large", mb=MAX_PHOTO_BYTES // (1024 * 1024))
            return None
        try:
            entry = hold(self.s.store, original, kind=self.kind, taken_at=taken_at or timestamp(self.s.now()))
        except NotAPhoto:
            self.s.errors["photos"] = t("photo.not_a_photo")
            return None
        if any(p["sha256"] == entry["sha256"] for p in self.photos):
            self.s.errors["photos"] = t("photo.already")
            return None
        self.photos.append(entry)
        self.new.add(entry["sha256"])
        return entry

    def add_picked(self, data: bytes | None, path: str | None) -> dict[str, Any] | None:
        """A picked file: its bytes (a browser gives no path), else read from its path, taken when last written."""
        taken_at = None
        try:
            if path and Path(path).is_file():
                taken_at = taken_at_of(Path(path))
                data = data if data is not None else Path(path).read_bytes()
        except OSError:
            pass
        return self.add(bytes(data or b""), taken_at=taken_at)

    def no_camera(self) -> None:
        """No camera here, or it would not start: said beside the buttons; a file can still be chosen."""
        self.s.errors["photos"] = self.s.t("photo.no_camera")

    def remove(self, sha: str) -> None:
        """Off the form before the save; a photo taken on this form leaves no file behind."""
        gone = [p for p in self.photos if p["sha256"] == sha]
        self.photos = [p for p in self.photos if p["sha256"] != sha]
        if sha in self.new:
            self.new.discard(sha)
            self._discard(gone)

    def drop_unsaved(self) -> None:
        self._discard([p for p in self.photos if p["sha256"] in self.new])
        self.new = set()

    def _discard(self, photos: list[dict[str, Any]]) -> None:
        for photo in photos:
            for sha in (photo["sha256"], (photo.get("preview") or {}).get("sha256")):
                if sha:
                    self.s.store.photos.discard(sha)  # only a file no saved version lists

    def into(self, data: dict[str, Any]) -> None:
        """The form's data lists its photos (a correction that removed them all lists none)."""
        if self.photos:
            data["photos"] = [dict(p) for p in self.photos]
        else:
            data.pop("photos", None)

    def saved(self, version: dict[str, Any] | None) -> None:
        """The form's version was saved: its photos are its record's now, to be sent."""
        if version is None:
            return
        listed(self.s.store, version)
        self.new = set()

    def lines(self) -> list[PhotoLine]:
        """The form's photos read as a record's are: the form is this phone's own."""
        return photo_lines(self.s.store, {"data": {"photos": self.photos}}, mine=True)


class PhotoShelf:
    """What the screens read of the phone's photos (a view never reaches the store): a record's photos, a
    thumbnail, one photo large; and the settings' Wi-Fi switch."""

    def __init__(self, session: Session):
        self.s = session

    def lines(self, stored: StoredRecord | None) -> list[PhotoLine]:
        return photo_lines(self.s.store, stored.record, mine=stored.mine) if stored is not None else []

    def thumbnail(self, preview_sha: str) -> bytes | None:
        return thumbnail(self.s.store, preview_sha)

    def large(self, preview_sha: str) -> bytes | None:
        return large(self.s.store, preview_sha)

    def originals_on_wifi(self) -> bool:
        """The settings' switch: originals wait for Wi-Fi (the uploader reads it: fieldapp/sync/photos.py)."""
        return originals_held_for_wifi(self.s.store)

    def set_originals_on_wifi(self, on: bool) -> None:
        self.s.store.set_meta(ORIGINALS_ON_WIFI, bool(on))
        if not on and self.s.worker is not None:
            self.s.worker.send_now()  # what was held back may go now
