"""Photos on the server: tus uploads scoped to the token's team, resumed after a cut or a restart, checked
by hash at the last byte; fetched only by a lead of the team or the device that sent them. SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import hashlib
import io
import os
import signal
import uuid

import httpx
import pytest

from tests.records_factory import recovery_data, recovery_record
from tests.server.conftest import Server
from tests.server.test_personal_pull import latest, pull_text

PHOTOS = "/api/v1/photos/"
TUS = {"Tus-Resumable": "1.0.0"}


@pytest.fixture(scope="module")
def photo_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("photos")


@pytest.fixture(scope="module")
def server(database_url, photo_dir):
    running = Server(database_url, args=("--photos", str(photo_dir))).start()
    yield running
    running.kill(signal.SIGTERM)


@pytest.fixture
def team() -> str:
    return f"team-{uuid.uuid4().hex[:8]}"


def photo_bytes(size: int = 300_000) -> bytes:
    return b"\xff\xd8\xff\xe0" + os.urandom(size - 6) + b"\xff\xd9"


def auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}", **TUS}


def metadata(sha: str, media_type: str = "image/jpeg") -> str:
    return f"sha256 {base64.b64encode(sha.encode()).decode()},filetype {base64.b64encode(media_type.encode()).decode()}"


def create(server, token: str, data: bytes, sha: str | None = None) -> httpx.Response:
    sha = sha or hashlib.sha256(data).hexdigest()
    return httpx.post(server.url + PHOTOS, headers={**auth(token), "Upload-Length": str(len(data)),
                                                    "Upload-Metadata": metadata(sha)}, timeout=30)


def patch(server, token: str, location: str, data: bytes, offset: int) -> httpx.Response:
    return httpx.patch(server.url + location if location.startswith("/") else location, content=data[offset:],
                       headers={**auth(token), "Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream"},
                       timeout=60)


def head(server, token: str, location: str) -> httpx.Response:
    return httpx.head(server.url + location, headers=auth(token), timeout=30)


def fetch(server, token: str, sha: str) -> httpx.Response:
    return httpx.get(server.url + PHOTOS + sha, headers={"Authorization": f"Bearer {token}"}, timeout=30)


def send_cut(server, token: str, location: str, data: bytes, offset: int, upto: int) -> None:
    """A PATCH whose connection dies after `upto` bytes of the body: the phone lost its link."""

    def body():
        yield data[offset:upto]
        raise ConnectionError("the link dropped")

    with pytest.raises((httpx.HTTPError, ConnectionError)):
        httpx.patch(server.url + location, content=body(), timeout=30,
                    headers={**auth(token), "Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream",
                             "Content-Length": str(len(data) - offset)})


def upload(server, token: str, data: bytes) -> str:
    made = create(server, token, data)
    assert made.status_code == 201, made.text
    done = patch(server, token, made.headers["Location"], data, int(made.headers["Upload-Offset"]))
    assert done.status_code == 204, done.text
    return hashlib.sha256(data).hexdigest()


def test_an_upload_cut_in_the_middle_and_the_server_killed_continues_from_the_servers_offset(server, team, photo_dir):
    token = server.enroll(team, "a-" + team)
    data = photo_bytes()
    sha = hashlib.sha256(data).hexdigest()
    made = create(server, token, data)
    assert made.status_code == 201 and made.headers["Upload-Offset"] == "0"
    location = made.headers["Location"]
    send_cut(server, token, location, data, 0, 120_000)
    offset = int(head(server, token, location).headers["Upload-Offset"])
    assert 0 < offset <= 120_000  # what arrived stays
    server.kill()  # SIGKILL, then up again on the same database and folder
    server.start()
    assert int(head(server, token, location).headers["Upload-Offset"]) == offset
    again = create(server, token, data)  # an app restart: no address kept, the same upload given back
    assert again.headers["Location"] == location and int(again.headers["Upload-Offset"]) == offset
    wrong = patch(server, token, location, data, 0)
    assert wrong.status_code == 409  # not from the server's offset
    done = patch(server, token, location, data, offset)
    assert done.status_code == 204 and done.headers["Upload-Offset"] == str(len(data))
    assert hashlib.sha256((photo_dir / sha).read_bytes()).hexdigest() == sha
    assert fetch(server, token, sha).content == data
    held = create(server, token, data)  # held already: nothing to send again
    assert held.status_code == 201 and held.headers["Upload-Offset"] == str(len(data)) and held.headers["Fieldapp-Photo"] == "held"
    assert head(server, token, held.headers["Location"]).headers["Upload-Offset"] == str(len(data))


def test_a_wrong_hash_is_refused_at_the_last_byte_and_nothing_is_kept(server, team, photo_dir):
    token = server.enroll(team, "a-" + team)
    data = photo_bytes(50_000)
    claimed = hashlib.sha256(b"other bytes").hexdigest()
    made = create(server, token, data, claimed)
    assert made.status_code == 201
    refused = patch(server, token, made.headers["Location"], data, 0)
    assert refused.status_code == 460 and "not the sha256" in refused.json()["detail"]
    assert head(server, token, made.headers["Location"]).status_code == 404
    assert not (photo_dir / claimed).exists() and not (photo_dir / hashlib.sha256(data).hexdigest()).exists()
    assert [p for p in (photo_dir / ".uploads").iterdir() if made.headers["Location"].rsplit("/", 1)[1] in p.name] == []
    lead = server.enroll(team, "lead-" + team, "lead")
    assert fetch(server, lead, claimed).status_code == 404


def test_a_photo_is_for_a_lead_of_its_team_and_the_device_that_sent_it_only(server, team):
    sender = server.enroll(team, "a-" + team)
    sha = upload(server, sender, photo_bytes(20_000))
    lead = server.enroll(team, "lead-" + team, "lead")
    volunteer = server.enroll(team, "b-" + team)
    other_team = "x" + team
    other_lead = server.enroll(other_team, "lead-" + other_team, "lead")
    assert fetch(server, sender, sha).status_code == 200 and fetch(server, lead, sha).status_code == 200
    assert fetch(server, volunteer, sha).status_code == 404
    assert fetch(server, other_lead, sha).status_code == 404
    assert httpx.get(server.url + PHOTOS + sha, timeout=10).status_code == 401
    # another team's creation of the same bytes learns nothing: a new upload, not "held"
    made = create(server, other_lead, photo_bytes(10))
    assert "Fieldapp-Photo" not in made.headers


def test_another_teams_token_cannot_see_or_write_an_upload_and_no_token_writes_nothing(server, team):
    token = server.enroll(team, "a-" + team)
    other = server.enroll("x" + team, "a-x" + team)
    data = photo_bytes(40_000)
    location = create(server, token, data).headers["Location"]
    assert head(server, other, location).status_code == 404
    assert patch(server, other, location, data, 0).status_code == 404
    unsigned = httpx.patch(server.url + location, content=data, timeout=30,
                           headers={**TUS, "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"})
    assert unsigned.status_code == 401
    assert head(server, token, location).headers["Upload-Offset"] == "0"  # not a byte from either


def test_two_servers_sharing_the_database_and_the_folder_take_one_upload_between_them(server, team, photo_dir, database_url):
    second = Server(database_url, args=("--photos", str(photo_dir))).start()
    try:
        token = server.enroll(team, "a-" + team)
        data = photo_bytes(200_000)
        location = create(server, token, data).headers["Location"]
        send_cut(server, token, location, data, 0, 70_000)
        offset = int(head(second, token, location).headers["Upload-Offset"])
        assert patch(second, token, location, data, offset).status_code == 204
        assert fetch(server, token, hashlib.sha256(data).hexdigest()).content == data
    finally:
        second.kill(signal.SIGTERM)


def test_tuspy_a_standard_client_uploads_to_the_server_and_a_wrong_hash_is_refused(server, team, photo_dir):
    from tusclient import client as tus
    from tusclient.exceptions import TusCommunicationError

    token = server.enroll(team, "a-" + team)
    data = photo_bytes(150_000)
    sha = hashlib.sha256(data).hexdigest()
    client = tus.TusClient(server.url + PHOTOS, headers={"Authorization": f"Bearer {token}"})
    uploader = client.uploader(file_stream=io.BytesIO(data), chunk_size=32_768, metadata={"sha256": sha, "filetype": "image/jpeg"})
    uploader.upload()
    assert fetch(server, token, sha).content == data
    wrong = client.uploader(file_stream=io.BytesIO(photo_bytes(40_000)), chunk_size=16_384,
                            metadata={"sha256": hashlib.sha256(b"x").hexdigest()})
    with pytest.raises(TusCommunicationError):
        wrong.upload()
    assert not (photo_dir / hashlib.sha256(b"x").hexdigest()).exists()


def test_a_volunteers_pull_withholds_the_photos_of_a_record_another_device_made(server, team):
    a = server.enroll(team, "a-" + team)
    call_id = str(uuid.uuid4())
    sha = hashlib.sha256(b"face").hexdigest()
    photo = {"sha256": sha, "size": 4, "media_type": "image/jpeg", "taken_at": "2026-11-25T11:31:00+03:00", "kind": "face"}
    recovery = recovery_record(call_id, device_id="inst-a", data=recovery_data(call_id, photos=[photo]))
    assert server.statuses(a, [recovery]) == ["accepted"]
    b = server.enroll(team, "b-" + team)
    text, records, _ = pull_text(server, b)
    copy = latest(records)[recovery["id"]]
    assert sha not in text and "photos" not in copy["data"] and copy["withheld"] == ["data.photos"]
    lead = server.enroll(team, "lead-" + team, "lead")
    assert latest(pull_text(server, lead)[1])[recovery["id"]]["data"]["photos"][0]["sha256"] == sha


def part_of(photo_dir, location: str):
    return photo_dir / ".uploads" / (location.rsplit("/", 1)[1] + ".part")


@pytest.mark.parametrize("ask", ["head", "create"])
def test_a_kill_after_the_last_byte_before_the_row_is_finished_by_the_next_head_or_creation(server, team, photo_dir, ask):
    # A kill between the last byte's fsync and the photo's row leaves the full part file and the
    # upload's row: the server must not answer "offset == length" for a photo it does not hold.
    token = server.enroll(team, "a-" + team)
    data = photo_bytes(80_000)
    sha = hashlib.sha256(data).hexdigest()
    made = create(server, token, data)
    location = made.headers["Location"]
    part_of(photo_dir, location).write_bytes(data)  # as the kill leaves it
    if ask == "head":
        answer = head(server, token, location)
        assert answer.status_code == 200
    else:
        answer = create(server, token, data)
        assert answer.status_code == 201
    assert answer.headers["Upload-Offset"] == str(len(data)) and answer.headers.get("Fieldapp-Photo") == "held"
    assert fetch(server, token, sha).content == data
    assert not part_of(photo_dir, location).exists()


def test_a_full_part_with_wrong_bytes_is_not_held_and_a_creation_begins_again(server, team, photo_dir):
    token = server.enroll(team, "a-" + team)
    data = photo_bytes(20_000)
    made = create(server, token, data)
    part_of(photo_dir, made.headers["Location"]).write_bytes(os.urandom(len(data)))
    assert head(server, token, made.headers["Location"]).status_code == 404
    again = create(server, token, data)
    assert again.status_code == 201 and again.headers["Upload-Offset"] == "0" and "Fieldapp-Photo" not in again.headers
    assert patch(server, token, again.headers["Location"], data, 0).status_code == 204
    assert fetch(server, token, hashlib.sha256(data).hexdigest()).content == data


def test_odd_digits_and_a_trailing_newline_are_refused_not_a_server_error(server, team):
    token = server.enroll(team, "a-" + team)
    data = photo_bytes(10_000)
    sha = hashlib.sha256(data).hexdigest()
    odd = httpx.post(server.url + PHOTOS, headers={**auth(token), "Upload-Length": b"\xb2", "Upload-Metadata": metadata(sha)},
                     timeout=30)
    assert odd.status_code == 400
    made = create(server, token, data)
    odd = httpx.patch(server.url + made.headers["Location"], content=data, timeout=30,
                      headers={**auth(token), "Upload-Offset": b"\xb9", "Content-Type": "application/offset+octet-stream"})
    assert odd.status_code == 400
    newline = create(server, token, data, sha + "\n")
    assert newline.status_code == 400
    assert head(server, token, made.headers["Location"] + "%0A").status_code == 404


def test_a_new_length_for_the_same_hash_does_not_unlink_a_part_being_written(server, team, photo_dir):
    import fcntl

    token = server.enroll(team, "a-" + team)
    data = photo_bytes(30_000)
    made = create(server, token, data)
    part = part_of(photo_dir, made.headers["Location"])
    with open(part, "rb") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # a PATCH under way, in another process
        other = httpx.post(server.url + PHOTOS, timeout=30, headers={
            **auth(token), "Upload-Length": str(len(data) + 1), "Upload-Metadata": metadata(hashlib.sha256(data).hexdigest())})
        assert other.status_code == 409
        assert part.exists()
    again = httpx.post(server.url + PHOTOS, timeout=30, headers={
        **auth(token), "Upload-Length": str(len(data) + 1), "Upload-Metadata": metadata(hashlib.sha256(data).hexdigest())})
    assert again.status_code == 201 and again.headers["Location"] != made.headers["Location"] and not part.exists()


def test_an_empty_last_patch_after_the_part_was_moved_but_before_its_row_finishes_the_upload(server, team, photo_dir):
    token = server.enroll(team, "a-" + team)
    data = photo_bytes(30_000)
    sha = hashlib.sha256(data).hexdigest()
    made = create(server, token, data)
    part_of(photo_dir, made.headers["Location"]).write_bytes(data)
    part_of(photo_dir, made.headers["Location"]).rename(photo_dir / sha)  # _finish killed after the move
    done = patch(server, token, made.headers["Location"], data, len(data))
    assert done.status_code == 204 and done.headers["Upload-Offset"] == str(len(data))
    assert fetch(server, token, sha).content == data


def test_concurrent_empty_last_patches_are_never_a_server_error(server, team, photo_dir):
    from concurrent.futures import ThreadPoolExecutor

    token = server.enroll(team, "a-" + team)
    data = photo_bytes(200_000)
    made = create(server, token, data)
    part_of(photo_dir, made.headers["Location"]).write_bytes(data)
    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(lambda _: patch(server, token, made.headers["Location"], data, len(data)), range(6)))
    assert {a.status_code for a in answers} <= {204, 404, 409} and 204 in {a.status_code for a in answers}
    assert fetch(server, token, hashlib.sha256(data).hexdigest()).content == data


def test_a_device_has_at_most_twenty_uploads_open_and_the_refusal_says_why(server, team):
    token = server.enroll(team, "a-" + team)
    for n in range(20):
        assert create(server, token, photo_bytes(1_000 + n)).status_code == 201
    over = create(server, token, photo_bytes(2_000))
    assert over.status_code == 429 and "uploads open" in over.json()["detail"]
    other = server.enroll(team, "b-" + team)  # the cap is per device
    assert create(server, other, photo_bytes(2_000)).status_code == 201


def test_an_upload_left_open_past_its_age_is_removed_with_its_part_at_the_next_creation(server, team, photo_dir, database_url):
    from sync.server.db import open_database

    token = server.enroll(team, "a-" + team)
    data = photo_bytes(20_000)
    made = create(server, token, data)
    send_cut(server, token, made.headers["Location"], data, 0, 5_000)
    db = open_database(database_url)
    try:
        with db.transaction(write=True) as cur:
            cur.execute(db.sql("UPDATE photo_uploads SET created_at = ? WHERE upload_id = ?"),
                        ("2020-01-01T00:00:00.000+00:00", made.headers["Location"].rsplit("/", 1)[1]))
    finally:
        db.close()
    assert create(server, token, photo_bytes(3_000)).status_code == 201  # any creation sweeps
    assert head(server, token, made.headers["Location"]).status_code == 404
    assert not part_of(photo_dir, made.headers["Location"]).exists()
    again = create(server, token, data)  # the phone begins again from 0
    assert again.status_code == 201 and again.headers["Upload-Offset"] == "0"


def test_a_new_upload_is_507_when_the_photo_disk_would_keep_less_than_its_margin(tmp_path):
    import shutil

    from sync.server.db import Device, open_database
    from sync.server.photos import PhotoError, PhotoFolder

    db = open_database(f"sqlite:///{tmp_path / 'server.db'}")
    try:
        folder = PhotoFolder(db, tmp_path / "photos", free_margin=shutil.disk_usage(tmp_path).free + (1 << 30))
        with pytest.raises(PhotoError) as refused:
            folder.create(Device("a", "team-a", "volunteer"), "a" * 64, 1000, "image/jpeg")
        assert refused.value.status == 507 and "nearly full" in refused.value.detail
        assert list((tmp_path / "photos" / ".uploads").iterdir()) == []
    finally:
        db.close()
