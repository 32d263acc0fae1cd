"""`fieldapp photo add | list`, photos in `status`, and `sync --once` exiting 0 only when photos arrived too."""

from __future__ import annotations

import hashlib
import io
import json
import signal

import httpx
from PIL import Image

from fieldapp.store import RecordStore
from fieldapp.sync import enrollment
from tests.records_factory import call_data, recovery_data
from tests.server.conftest import Server
from tests.test_cli import fieldapp


def jpeg_file(folder, name: str = "face.jpg", seed: int = 1):
    image = Image.frombytes("RGB", (640, 480), bytes((seed + i * 13) % 256 for i in range(640 * 480 * 3)))
    path = folder / name
    image.save(path, format="JPEG", quality=90)
    return path


def a_recovery(data_dir) -> str:
    store = RecordStore.open(data_dir)
    try:
        call = store.create_call(call_data())
        return store.create_recovery(recovery_data(call["id"], count=1))["id"]
    finally:
        store.close()


def test_photo_add_saves_a_new_version_and_list_and_status_show_it(data_dir, tmp_path):
    record_id = a_recovery(data_dir)
    path = jpeg_file(tmp_path)
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    added = fieldapp("photo", "add", record_id, str(path), "--kind", "face", data=data_dir)
    assert added.returncode == 0, added.stderr
    assert added.stdout.strip() == f"{sha} face added to {record_id} (version 2)"
    listed = fieldapp("photo", "list", record_id, "--json", data=data_dir)
    rows = json.loads(listed.stdout)
    assert [(r["sha256"], r["kind"], r["state"]) for r in rows] == [(sha, "face", "waiting")]
    assert sha in fieldapp("photo", "list", data=data_dir).stdout
    status = json.loads(fieldapp("status", "--json", data=data_dir).stdout)
    assert status["photos"] == {"photos": 1, "photos_waiting": 1, "previews_waiting": 1}
    assert "photos:      1 (1 waiting, 1 previews waiting)" in fieldapp("status", data=data_dir).stdout


def test_photo_add_refuses_in_one_line_and_changes_nothing(data_dir, tmp_path):
    record_id = a_recovery(data_dir)
    (tmp_path / "notes.txt").write_text("not a picture")
    for args, words in (((record_id, str(tmp_path / "missing.jpg")), "cannot read"),
                        ((record_id, str(tmp_path / "notes.txt")), "not a photograph"),
                        (("00000000-0000-4000-8000-000000000000", str(jpeg_file(tmp_path))), "no record")):
        done = fieldapp("photo", "add", *args, data=data_dir)
        assert done.returncode == 2 and words in done.stderr and len(done.stderr.strip().splitlines()) == 1
    bad_kind = fieldapp("photo", "add", record_id, str(jpeg_file(tmp_path)), "--kind", "selfie", data=data_dir)
    assert bad_kind.returncode == 2
    store = RecordStore.open(data_dir)
    assert store.get(record_id).record["version"] == 1
    store.close()


def test_sync_once_exits_0_only_when_records_and_photos_are_all_delivered(data_dir, tmp_path):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the photos' folder should be")
    server = Server(f"sqlite:///{tmp_path / 'server.db'}", args=("--photos", str(blocked / "photos"))).start()
    try:
        record_id = a_recovery(data_dir)
        store = RecordStore.open(data_dir)
        token = server.enroll("team-cli", store.device_id, "lead")
        store.close()
        enrollment.save(data_dir, enrollment.Enrollment(server.url, token))
        path = jpeg_file(tmp_path)
        assert fieldapp("photo", "add", record_id, str(path), "--kind", "tag", data=data_dir).returncode == 0
        stuck = fieldapp("sync", "--once", data=data_dir)
        assert stuck.returncode == 1 and "1 photos and 1 previews waiting" in stuck.stdout
        assert json.loads(fieldapp("status", "--json", data=data_dir).stdout)["records"]["pending"] == 0  # records went
        server.kill(signal.SIGTERM)
        server = Server(server.database_url, port=server.port, args=("--photos", str(tmp_path / "photos"))).start()
        done = fieldapp("sync", "--once", data=data_dir)
        assert done.returncode == 0, done.stdout + done.stderr
        sha = hashlib.sha256(path.read_bytes()).hexdigest()
        got = httpx.get(f"{server.url}/api/v1/photos/{sha}", headers={"Authorization": f"Bearer {token}"}, timeout=30)
        assert got.content == path.read_bytes()
        assert json.loads(fieldapp("photo", "list", "--json", data=data_dir).stdout)[0]["state"] == "sent"
    finally:
        server.kill(signal.SIGTERM)


def test_an_image_round_trips(tmp_path):
    assert Image.open(io.BytesIO(jpeg_file(tmp_path).read_bytes())).size == (640, 480)
