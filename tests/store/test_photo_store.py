"""Photos on the phone: held by hash, sealed under the PIN, durable, taken by retention and wipe."""

from __future__ import annotations

import io
import os
import random
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from PIL import Image

from fieldapp.core.records import PhotoKind, photo_hashes
from fieldapp.store import RecordStore, protect, rekey
from fieldapp.store.attach import attach, hold
from fieldapp.store.photos import PREVIEW_EDGE, NotAPhoto, make_preview, sha256_of
from tests.records_factory import call_data, recovery_data

ROOT = Path(__file__).resolve().parents[2]
PIN = "482916"
TAKEN = "2026-11-25T11:31:00+03:00"


def camera_jpeg(width: int = 2400, height: int = 1800, seed: int = 7) -> bytes:
    """A camera-like JPEG: noise (so no two are alike), with GPS and orientation in its EXIF."""
    rng = random.Random(seed)
    image = Image.frombytes("RGB", (width // 8, height // 8), rng.randbytes(width // 8 * height // 8 * 3)).resize((width, height))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[0x0112] = 6  # orientation: rotate 90
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2], gps[3], gps[4] = "N", (35.0, 21.0, 39.0), "E", (35.0, 55.0, 32.0)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=92, exif=exif)
    return out.getvalue()


def windows(data: bytes, size: int = 32, step: int = 997) -> list[bytes]:
    """Pieces of a file's own bytes, from all over it: any one found in the folder is a readable photo byte."""
    return [data[i:i + size] for i in range(0, len(data) - size, step)]


def every_byte(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file())


@pytest.fixture(autouse=True)
def _forget_keys(data_dir):
    yield
    protect.forget(data_dir)


def test_the_preview_is_a_jpeg_of_1280_px_at_most_upright_without_location():
    original = camera_jpeg()
    preview, media_type = make_preview(original)
    assert media_type == "image/jpeg"
    with Image.open(io.BytesIO(preview)) as image:
        assert image.format == "JPEG" and max(image.size) == PREVIEW_EDGE
        assert image.size == (960, 1280)  # turned upright by the orientation tag, which goes with the rest
        assert not image.getexif() and 0x8825 not in image.getexif()
    assert b"PhoneMaker" not in preview and b"Exif" not in preview
    with pytest.raises(NotAPhoto):
        make_preview(b"not a picture at all")


def test_a_photo_is_held_by_hash_its_original_unaltered_and_listed_in_a_new_version(data_dir):
    store = RecordStore.open(data_dir)
    try:
        call = store.create_call(call_data())
        recovery = store.create_recovery(recovery_data(call["id"], count=1))
        original = camera_jpeg()
        version = attach(store, recovery["id"], original, kind=PhotoKind.FACE, taken_at=TAKEN)
        assert version["version"] == 2
        photo = version["data"]["photos"][0]
        assert photo["sha256"] == sha256_of(original) and photo["size"] == len(original) and photo["kind"] == "face"
        assert store.photos.read(photo["sha256"]) == original  # byte for byte
        assert sha256_of(store.photos.read(photo["preview"]["sha256"])) == photo["preview"]["sha256"]
        assert attach(store, recovery["id"], original, kind=PhotoKind.FACE, taken_at=TAKEN)["version"] == 2  # once
        assert [sha for sha, _ in store.photos.waiting()] == [photo["preview"]["sha256"], photo["sha256"]]  # previews first
        assert store.photos.counts() == {"photos": 1, "photos_waiting": 1, "previews_waiting": 1}
    finally:
        store.close()


def test_with_a_pin_set_no_photo_byte_is_readable_in_the_data_folder(data_dir):
    before_pin, after_pin = camera_jpeg(seed=1), camera_jpeg(seed=2)
    store = RecordStore.open(data_dir)
    call = store.create_call(call_data())
    plain = attach(store, call["id"], before_pin, kind=PhotoKind.SCENE, taken_at=TAKEN)
    store.close()
    preview_plain = RecordStore.open(data_dir).photos.read(plain["data"]["photos"][0]["preview"]["sha256"])
    assert any(w in every_byte(data_dir) for w in windows(before_pin))  # plain, before a PIN

    protect.set_pin(data_dir, PIN)  # sealed in place: the photos already held too
    store = RecordStore.open(data_dir, pin=PIN)
    try:
        version = attach(store, call["id"], after_pin, kind=PhotoKind.SCENE, taken_at=TAKEN)
        held = store.photos.read(version["data"]["photos"][1]["sha256"])
        preview = store.photos.read(version["data"]["photos"][1]["preview"]["sha256"])
        assert held == after_pin
    finally:
        store.close()
        protect.forget(data_dir)
    raw = every_byte(data_dir)
    for data in (before_pin, after_pin, preview, preview_plain):
        found = [w for w in windows(data, step=101) if w in raw]
        assert found == [], f"{len(found)} pieces of a photo readable without the PIN"
    for sha in photo_hashes(version):
        assert sha.encode() not in raw and sha[:16].encode() not in raw  # no file named after a photo either
    rekey.change_pin(data_dir, PIN, "777111")  # sealed again under a new key: still there
    store = RecordStore.open(data_dir, pin="777111")
    try:
        assert store.photos.read(sha256_of(before_pin)) == before_pin
    finally:
        store.close()


def test_retention_and_wipe_remove_photos_and_previews_with_their_records(data_dir):
    tz = timezone(timedelta(hours=3))
    old = datetime(2026, 10, 1, 9, 0, tzinfo=tz)
    store = RecordStore.open(data_dir)
    call = store.create_call(call_data(), now=old)
    kept_call = store.create_call(call_data(), now=old)
    first = attach(store, call["id"], camera_jpeg(seed=3), kind=PhotoKind.SCENE, taken_at=TAKEN)
    kept = attach(store, kept_call["id"], camera_jpeg(seed=4), kind=PhotoKind.SCENE, taken_at=TAKEN)
    for r in (first, kept):
        store.edit(r["id"], data=r["data"], now=old)  # last changed long ago
    store.record_verdicts([{"id": r["id"], "version": 3, "status": "accepted"} for r in (first, kept)])
    store.set_retention(30)
    now = datetime(2026, 11, 27, 9, 0, tzinfo=tz)
    assert store.apply_retention(now) == 0  # their photos still wait to be sent: they stay
    for sha in photo_hashes(first):
        store.photos.mark_sent(sha)
    files_before = set((data_dir / "photos").iterdir())
    assert store.apply_retention(now) == 1
    assert store.get(call["id"]) is None and store.get(kept_call["id"]) is not None
    assert not any(store.photos.has(sha) for sha in photo_hashes(first))
    assert all(store.photos.has(sha) for sha in photo_hashes(kept))
    assert len(files_before - set((data_dir / "photos").iterdir())) == 2  # the original and its preview
    store.close()

    original = camera_jpeg(seed=4)
    protect.wipe(data_dir)
    assert not any(w in every_byte(data_dir) for w in windows(original))
    assert not (data_dir / "photos").exists()


def test_a_photo_taken_on_a_form_never_saved_goes_with_retention_once_past_it(data_dir):
    """The app killed between the photo and the Save: a photo no record lists is neither sent nor kept for ever."""
    tz = timezone(timedelta(hours=3))
    store = RecordStore.open(data_dir)
    orphan = hold(store, camera_jpeg(seed=5), kind=PhotoKind.FACE, taken_at=TAKEN)
    store.set_retention(30)
    assert store.apply_retention(datetime.now(tz)) == 0
    assert store.photos.has(orphan["sha256"])  # a form may still be open: within the period it stays
    files_before = set((data_dir / "photos").iterdir())
    store.apply_retention(datetime.now(tz) + timedelta(days=31))
    assert not store.photos.has(orphan["sha256"]) and not store.photos.has(orphan["preview"]["sha256"])
    assert len(files_before - set((data_dir / "photos").iterdir())) == 2  # the original and its preview
    store.close()


@pytest.mark.slow
def test_kill_9_during_photo_saves_loses_nothing_that_returned(tmp_path):
    folder = tmp_path / "device"
    RecordStore.open(folder).close()
    protect.set_pin(folder, PIN)
    protect.forget(folder)
    env = {**os.environ, "FIELDAPP_PIN": PIN, "PYTHONPATH": str(ROOT)}
    rng = random.Random(24)
    echoed: list[list[str]] = []
    for _ in range(8):
        proc = subprocess.Popen([sys.executable, "-m", "tests.store.photo_saver", str(folder)], cwd=ROOT, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
        first = proc.stdout.readline()  # past start-up: the kill lands among the saves
        time.sleep(rng.uniform(0.0, 1.5))
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate(timeout=30)
        out = first + out
        lines = out.decode().splitlines()
        if out and not out.endswith(b"\n"):
            lines = lines[:-1]
        assert lines, err.decode(errors="replace")[-2000:]
        echoed += [line.split() for line in lines]
        store = RecordStore.open(folder, pin=PIN)
        try:
            for record_id, original, preview, version in echoed:
                current = store.get(record_id)
                assert current is not None and current.record["version"] >= int(version)
                assert sha256_of(store.photos.read(original)) == original
                assert sha256_of(store.photos.read(preview)) == preview
        finally:
            store.close()
            protect.forget(folder)
    assert len(echoed) > 8
