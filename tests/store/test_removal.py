"""Removal leaves no copy: retention, wipe and the duress PIN, searched byte by byte afterwards.

What an attacker holding the phone's data folder does: read every file, backups,
caches, exports and `damaged/` included, for the names, places, tags and ids of
the records removed; then damage a partition so the store restores its backup.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from fieldapp.store import RecordStore, protect
from fieldapp.sync import enrollment
from tests.records_factory import call_data, recovery_data

ROOT = Path(__file__).resolve().parents[2]
PIN = "482916"
TZ = timezone(timedelta(hours=3))
OLD = datetime(2026, 10, 1, 9, 0, tzinfo=TZ)
NOW = datetime(2026, 11, 27, 9, 0, tzinfo=TZ)


def _every_byte(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file())


def _secrets(n: int) -> list[tuple[str, str, str]]:
    return [(f"Removed Person {n}-{i}", f"Removed Place {n}-{i}", f"RT-{n}{i:03d}") for i in range(6)]


def _fill(folder: Path, pin: str | None = None) -> tuple[list[bytes], set[str]]:
    """Old records the server holds (edited, so backups hold them too) and fresh ones that stay.

    Returns the bytes that must be gone after removal, and the ids that must stay.
    """
    store = RecordStore.open(folder, pin=pin)
    gone: list[bytes] = []
    for n, (name, place, tag) in enumerate(_secrets(1)):
        call = store.create_call(call_data(location={"place": place}), now=OLD + timedelta(minutes=n))
        recovery = store.create_recovery(recovery_data(call["id"], name=name, tag=tag), now=OLD + timedelta(minutes=n))
        store.edit(call["id"], data=call_data(location={"place": place}, status="dispatched"), now=OLD + timedelta(minutes=n, seconds=30))
        store.record_verdicts([{"id": call["id"], "version": 2, "status": "accepted"},
                               {"id": recovery["id"], "version": 1, "status": "accepted"}])
        gone += [name.encode(), place.encode(), tag.encode(), call["id"].encode(), recovery["id"].encode()]
    kept = {store.create_call(call_data(location={"place": "Kept Place"}), now=OLD + timedelta(days=1))["id"]}
    store.edit(next(iter(kept)), data=call_data(location={"place": "Kept Place"}, status="dispatched"))  # a backup
    store.create_call(call_data(), now=NOW)  # a fresh one the server holds, on another day
    store.record_verdicts([{"id": r.id, "version": r.record["version"], "status": "accepted"}
                           for r in store.iter_current() if r.id not in kept])
    kept |= {r.id for r in store.iter_current() if r.record["created_at"].startswith("2026-11-27")}
    store.close()
    return gone, kept


def _found(folder: Path, gone: list[bytes]) -> list[bytes]:
    raw = _every_byte(folder)
    return [secret for secret in gone if secret in raw]


def _damage_every_partition(folder: Path) -> None:
    for path in (folder / "days").glob("*.json"):
        path.write_bytes(b"{garbage")


@pytest.mark.parametrize("pin", [None, PIN])
def test_retention_leaves_no_copy_of_what_it_removed_and_no_backup_brings_it_back(data_dir, pin):
    if pin:
        protect.set_pin(data_dir, pin)
    gone, kept = _fill(data_dir, pin)
    # An export the lead made of that day, still in the folder, and a damaged copy of a partition.
    (data_dir / "exports").mkdir()
    (data_dir / "exports" / "team-2026-10-01.csv").write_bytes(b"place\n" + gone[1] + b"\n")
    old_partition = sorted((data_dir / "days").glob("2026-10-01.*.json"))[0]  # all its records go
    (data_dir / "damaged").mkdir()
    (data_dir / "damaged" / f"{old_partition.name}.20261002T000000000000Z").write_bytes(old_partition.read_bytes()[:-5])
    if pin is None:
        assert _found(data_dir, gone) == gone  # all readable before: the search finds what it looks for

    store = RecordStore.open(data_dir, pin=pin)
    store.set_retention(30)
    assert store.apply_retention(NOW) == 12
    store.close()
    protect.forget(data_dir)

    assert _found(data_dir, gone) == [], "a removed record's name, place, tag or id is still in the folder"
    assert not (data_dir / "exports").exists() or not any((data_dir / "exports").iterdir())
    named = [p.name for p in data_dir.rglob("*2026-10-01*")]
    assert named == [], f"files still name the day whose records all went: {named}"

    _damage_every_partition(data_dir)
    store = RecordStore.open(data_dir, pin=pin)
    try:
        assert {r.id for r in store.iter_current()} == kept  # the backups hold nothing removed
        assert store.counts()["total"] == len(kept)
    finally:
        store.close()
        protect.forget(data_dir)
    assert _found(data_dir, gone) == []


def test_the_retention_command_leaves_no_copy(data_dir):
    gone, kept = _fill(data_dir)
    store = RecordStore.open(data_dir)
    store.set_retention(1)
    store.close()
    done = subprocess.run([sys.executable, "-m", "fieldapp", "retention", "--data", str(data_dir)],
                          capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "13 removed" in done.stdout  # the 27 November one too: more than a day before today
    assert _found(data_dir, gone) == []


def test_wipe_and_the_duress_pin_leave_no_name_place_tag_or_id(tmp_path):
    for way in ("wipe", "duress", "wipe-plain"):
        folder = tmp_path / way
        folder.mkdir()
        pin = None if way == "wipe-plain" else PIN
        if pin:
            protect.set_pin(folder, pin)
            protect.set_duress(folder, pin, "000111")
        gone, _ = _fill(folder, pin)
        enrollment.save(folder, enrollment.Enrollment("https://sync.example.org", "tok-secret-1234"))
        (folder / "exports").mkdir()
        (folder / "exports" / "team.csv").write_bytes(gone[0])
        protect.forget(folder)
        if way == "duress":
            RecordStore.open(folder, pin="000111").close()
        else:
            protect.wipe(folder)
        assert _found(folder, gone + [b"tok-secret-1234"]) == [], way
        assert not (folder / "keys.json").exists()
        _damage_every_partition(folder)
        store = RecordStore.open(folder)
        try:
            assert store.counts()["total"] == 0, way
        finally:
            store.close()
        assert _found(folder, gone) == [], way


def test_no_plain_export_stays_once_handed_over_or_once_a_pin_is_set(data_dir):
    from fieldapp.store import handover
    from fieldapp.ui.lead import LeadDay

    store = RecordStore.open(data_dir)
    store.create_call(call_data(location={"place": "Exported Place"}))
    lead = LeadDay(store, data_dir)
    path = lead.export(call_data()["received_at"][:10], "csv")
    assert path.parent == data_dir / "exports" and b"Exported Place" in path.read_bytes()
    handover.handed_over(path)  # what the app does once the save dialog is done
    assert b"Exported Place" not in _every_byte(data_dir / "exports")
    lead.export(call_data()["received_at"][:10], "geojson")  # a hand-over a kill cut short
    store.close()
    protect.set_pin(data_dir, PIN)
    protect.forget(data_dir)
    assert b"Exported Place" not in _every_byte(data_dir)
