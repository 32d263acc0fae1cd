"""A form's photos (taken or picked, a kind each, removed before the save, saved with the version), a record's photos
with where each is, the badge's photos waiting and the Wi-Fi switch (no client)."""

from __future__ import annotations

import hashlib

from fieldapp.core.records import PhotoKind
from fieldapp.sync.photos import ORIGINALS_ON_WIFI
from fieldapp.ui.models.photos import (
    CALL_KINDS,
    RECOVERY_KINDS,
    PhotoState,
    photo_lines,
    thumbnail,
    where,
)
from fieldapp.ui.routing import Screen
from fieldapp.ui.state import AppState
from tests.sync.test_photo_interop import photo
from tests.ui.models.support import new_call


def _recovery_form(state: AppState) -> dict:
    call = new_call(state)
    state.go(Screen.RECOVERY, call["id"])
    state.recovery.form.outcome = "deceased"
    return call


def test_a_recovery_saves_the_body_and_its_tag_with_its_version_and_they_wait_to_be_sent(state):
    _recovery_form(state)
    tray = state.recovery.photos
    assert tray.kinds == RECOVERY_KINDS and tray.kind is PhotoKind.FACE
    face, tag = photo(1, (800, 600)), photo(2, (800, 600))
    assert tray.add(face)["kind"] == "face"
    tray.choose_kind("tag")
    tray.add(tag)
    assert [line.kind for line in tray.lines()] == ["face", "tag"]
    assert all(line.state is PhotoState.WAITING and line.preview for line in tray.lines())
    files = state.session.store.photos
    assert files.waiting() == []  # held, but listed by no record yet: nothing is sent before the save
    record = state.recovery.save()
    photos = record["data"]["photos"]
    assert [p["sha256"] for p in photos] == [hashlib.sha256(face).hexdigest(), hashlib.sha256(tag).hexdigest()]
    assert [p["kind"] for p in photos] == ["face", "tag"] and record["version"] == 1
    assert photos[0]["taken_at"].startswith("2026-11-25T14:05")
    assert files.read(photos[0]["sha256"]) == face  # the original, byte for byte
    assert files.counts() == {"photos": 2, "photos_waiting": 2, "previews_waiting": 2}
    assert state.badge() == "2 waiting · 2 photos waiting"  # the call and the recovery, and the two photos
    lines = photo_lines(state.session.store, state.session.store.get(record["id"]).record, mine=True)
    assert [line.state for line in lines] == [PhotoState.WAITING] * 2
    files.mark_sent(photos[0]["preview"]["sha256"])
    files.mark_sent(photos[1]["sha256"])
    files.mark_sent(photos[1]["preview"]["sha256"])
    lines = photo_lines(state.session.store, state.session.store.get(record["id"]).record, mine=True)
    assert [line.state for line in lines] == [PhotoState.PREVIEW_SENT, PhotoState.SENT]
    assert where(lines) == {"sent": 1, "here": 1}
    assert thumbnail(state.session.store, lines[0].preview)[:2] == b"\xff\xd8"  # a small JPEG


def test_a_photo_removed_before_the_save_leaves_no_file_and_a_form_left_unsaved_neither(state):
    call = _recovery_form(state)
    tray = state.recovery.photos
    kept, removed = tray.add(photo(3, (640, 480))), tray.add(photo(4, (640, 480)))
    files = state.session.store.photos
    assert len(files.entries()) == 4
    tray.remove(removed["sha256"])
    assert set(files.entries()) == {kept["sha256"], kept["preview"]["sha256"]}
    state.go(Screen.CALL, call["id"])
    state.go(Screen.RECOVERY, call["id"])  # the form again, empty: the photo taken on it goes too
    assert files.entries() == {} and tray.photos == []


def test_a_correction_removes_a_saved_photo_from_its_new_version_and_keeps_the_file_the_old_one_lists(state):
    _recovery_form(state)
    first = state.recovery.photos.add(photo(5, (640, 480)))
    record = state.recovery.save()
    state.recovery.open(record["id"])
    assert [p["sha256"] for p in state.recovery.photos.photos] == [first["sha256"]]
    state.recovery.photos.remove(first["sha256"])
    corrected = state.recovery.save()
    assert corrected["version"] == 2 and "photos" not in corrected["data"]
    assert state.session.store.photos.has(first["sha256"])  # version 1 lists it: the evidence stays


def test_a_call_photographs_its_scene(state):
    state.go(Screen.NEW_CALL)
    tray = state.call.photos
    assert tray.kinds == CALL_KINDS and tray.kind is PhotoKind.SCENE
    tray.add(photo(6, (640, 480)))
    state.call.form.incident_type, state.call.form.place = "fire", "Jableh"
    record = state.call.save()
    assert [p["kind"] for p in record["data"]["photos"]] == ["scene"]
    assert len(state.session.store.photos.waiting()) == 2  # listed by the call: preview and original go
    state.call.open_edit(record["id"])
    state.call.form.notes = "smoke from the second floor"
    corrected = state.call.save()
    assert corrected["data"]["photos"] == record["data"]["photos"]  # kept by a correction


def test_what_is_not_a_photo_too_large_or_twice_is_said_beside_the_buttons(state):
    _recovery_form(state)
    tray = state.recovery.photos
    assert tray.add(b"%PDF-1.4 not a picture") is None
    assert state.session.errors["photos"] == "Not a photo this phone can read."
    assert tray.add(b"") is None and "at most 50 MB" in state.session.errors["photos"]
    picture = photo(7, (320, 240))
    assert tray.add(picture) is not None and "photos" not in state.session.errors
    assert tray.add(picture) is None and state.session.errors["photos"] == "This photo is on the form already."
    tray.no_camera()
    assert "Choose a photo instead" in state.session.errors["photos"]
    assert len(tray.photos) == 1


def test_another_devices_photo_shows_its_preview_from_the_server_or_says_it_is_not_here(state):
    from fieldapp.store.photos import Role

    store = state.session.store
    preview = photo(8, (320, 240))
    held = {"sha256": "a" * 64, "size": 10, "media_type": "image/jpeg", "taken_at": "2026-11-25T14:00:00+03:00",
            "kind": "tag", "preview": {"sha256": hashlib.sha256(preview).hexdigest(), "size": len(preview),
                                       "media_type": "image/jpeg"}}
    missing = {**held, "sha256": "b" * 64, "preview": {**held["preview"], "sha256": "c" * 64}}
    store.photos.put(preview, "image/jpeg", Role.PREVIEW, ["r1"])
    lines = photo_lines(store, {"data": {"photos": [held, missing]}}, mine=False)
    assert [line.state for line in lines] == [PhotoState.FROM_SERVER, PhotoState.NOT_HERE]
    assert lines[0].preview == held["preview"]["sha256"] and lines[1].preview is None
    assert where(lines) == {"sent": 1, "here": 0}


def test_the_wifi_switch_is_kept_in_the_store_and_turning_it_off_sends_now(state):
    store, shelf = state.session.store, state.photos
    assert shelf.originals_on_wifi() is False
    shelf.set_originals_on_wifi(True)
    assert shelf.originals_on_wifi() is True and store.get_meta(ORIGINALS_ON_WIFI) is True
    sends = state.session.worker.sends
    shelf.set_originals_on_wifi(False)
    assert shelf.originals_on_wifi() is False and state.session.worker.sends == sends + 1


def test_the_screens_read_a_records_photos_through_the_shelf(state):
    _recovery_form(state)
    state.recovery.photos.add(photo(9, (640, 480)))
    record = state.recovery.save()
    [line] = state.photos.lines(state.session.store.get(record["id"]))
    assert line.state is PhotoState.WAITING and state.photos.thumbnail(line.preview)[:2] == b"\xff\xd8"
    assert state.photos.large(line.preview) == state.session.store.photos.read(line.preview)
    assert state.photos.large("0" * 64) is None and state.photos.lines(None) == []


def test_a_picked_file_is_read_from_its_path_when_no_bytes_came_and_taken_when_last_written(state, tmp_path):
    import os

    _recovery_form(state)
    path = tmp_path / "IMG_0001.jpg"
    path.write_bytes(photo(10, (640, 480)))
    os.utime(path, (1764070260, 1764070260))  # 2025-11-25 11:31 UTC
    entry = state.recovery.photos.add_picked(None, str(path))
    assert entry["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert entry["taken_at"] != "2026-11-25T14:05:00+03:00" and entry["taken_at"].startswith("2025-11-25")
    assert state.recovery.photos.add_picked(None, str(tmp_path / "gone.jpg")) is None  # nothing read: said
    assert "photos" in state.session.errors
