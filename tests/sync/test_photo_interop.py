"""The phone's photo uploader: a sync pass sends records, then previews, then originals, continues from the
server's offset, lets a record saved meanwhile go first; and it completes against a standard tus server."""

from __future__ import annotations

import hashlib
import io
import threading
import time

import httpx
import pytest
import uvicorn
from PIL import Image

from fieldapp.core.records import PhotoKind, photo_hashes
from fieldapp.store import RecordStore
from fieldapp.store.attach import attach
from fieldapp.sync import enrollment
from fieldapp.sync import photos as uploader_module
from fieldapp.sync.errors import Unreachable
from fieldapp.sync.photos import PhotoReport, PhotoUploader, upload_waiting
from fieldapp.sync.session import run_pass
from tests.conftest import free_port
from tests.records_factory import call_data, recovery_data

TAKEN = "2026-11-25T11:31:00+03:00"


def photo(seed: int, size: tuple[int, int] = (1600, 1200)) -> bytes:
    image = Image.frombytes("RGB", size, bytes((seed * 7 + i) % 251 for i in range(size[0] * size[1] * 3)))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=95)
    return out.getvalue()


class Recording(httpx.HTTPTransport):
    """The real transport, noting each request; `before(request, n)` runs first and may fail it."""

    def __init__(self, before=None):
        super().__init__()
        self.requests: list[tuple[str, str]] = []
        self.before = before

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append((request.method, request.url.path))
        if self.before is not None:
            self.before(request, len(self.requests))
        return super().handle_request(request)


def fetch(link, token: str, sha: str) -> httpx.Response:
    return httpx.get(link.server.url + "/api/v1/photos/" + sha, headers={"Authorization": f"Bearer {token}"}, timeout=30)


def test_a_pass_sends_records_then_previews_then_originals_and_the_servers_copy_hashes_to_the_record(link, tmp_path):
    store = link.device(tmp_path / "phone", direct=True)
    call = store.create_call(call_data())
    recovery = store.create_recovery(recovery_data(call["id"], count=1))
    face, tag = photo(1), photo(2)
    attach(store, recovery["id"], face, kind=PhotoKind.FACE, taken_at=TAKEN)
    version = attach(store, recovery["id"], tag, kind=PhotoKind.TAG, taken_at=TAKEN)
    transport = Recording()
    result = run_pass(store, tmp_path / "phone", transport=transport)
    assert result.error is None and result.waiting == 0 and result.photos.sent == 4
    kinds = [("push" if path.endswith("/push") else "patch") for method, path in transport.requests if method in ("PATCH", "POST")
             and not path.endswith("/photos/")]
    assert kinds[0] == "push" and set(kinds[1:]) == {"patch"}  # records first
    sent = [path for method, path in transport.requests if method == "POST" and path.endswith("/photos/")]
    assert len(sent) == 4
    lead = link.server.enroll(link.team, "lead-1", "lead")
    for entry in version["data"]["photos"]:
        for sha in (entry["sha256"], entry["preview"]["sha256"]):
            assert hashlib.sha256(fetch(link, lead, sha).content).hexdigest() == sha
    roles = [store.photos.entries()[sha]["role"] for sha in photo_hashes(version)]
    assert sorted(roles) == ["original", "original", "preview", "preview"]
    assert store.photos.counts()["photos_waiting"] == 0
    again = Recording()
    assert run_pass(store, tmp_path / "phone", transport=again).error is None
    assert not [r for r in again.requests if "/photos/" in r[1]]  # nothing sent twice
    store.close()


def test_a_cut_upload_continues_from_the_servers_offset_and_a_record_saved_meanwhile_goes_first(link, tmp_path, monkeypatch):
    monkeypatch.setattr(uploader_module, "CHUNK", 16 * 1024)
    store = link.device(tmp_path / "phone", direct=True)
    call = store.create_call(call_data())
    original = photo(4, (2400, 1800))
    attach(store, call["id"], original, kind=PhotoKind.SCENE, taken_at=TAKEN)
    sha = hashlib.sha256(original).hexdigest()
    patches = {"n": 0}
    plan = {"cut_at": 3, "save_at": 0}
    later: dict = {}

    def before(request: httpx.Request, n: int) -> None:
        if request.method != "PATCH":
            return
        patches["n"] += 1
        if patches["n"] == plan["cut_at"]:
            raise httpx.ConnectError("the link dropped")
        if patches["n"] == plan["save_at"]:
            later["record"] = store.create_recovery(recovery_data(call["id"], count=2))  # the volunteer saves meanwhile

    first = run_pass(store, tmp_path / "phone", transport=Recording(before))
    assert isinstance(first.error, Unreachable) and first.waiting > 0
    assert store.get(call["id"]).state.value == "sent"  # the record went before any photo byte
    location = store.photos.entries()[sha].get("upload") or next(
        e["upload"] for e in store.photos.entries().values() if e.get("upload"))
    assert location  # the upload's address, kept for the next pass

    patches["n"] = 0
    plan.update(cut_at=-1, save_at=4)
    transport = Recording(before)
    second = run_pass(store, tmp_path / "phone", transport=transport)
    assert second.error is None and second.waiting == 0
    assert ("HEAD", httpx.URL(location).path) in transport.requests  # asked where the server stands
    sent = [i for i, (m, p) in enumerate(transport.requests) if m == "PATCH"]
    pushes = [i for i, (m, p) in enumerate(transport.requests) if m == "POST" and p.endswith("/push")]
    assert later and any(sent[0] < p < sent[-1] for p in pushes)  # pushed while the upload was under way
    assert store.get(later["record"]["id"]).state.value == "sent"
    lead = link.server.enroll(link.team, "lead-2", "lead")
    assert fetch(link, lead, sha).content == original
    assert hashlib.sha256(fetch(link, lead, sha).content).hexdigest() == sha
    store.close()


@pytest.fixture
def tus_server(tmp_path):
    """tuspyserver, a standard tus server that is not ours, on a free loopback port."""
    from fastapi import FastAPI
    from tuspyserver import create_tus_router

    files = tmp_path / "tus-files"
    files.mkdir()
    app = FastAPI()
    app.include_router(create_tus_router(prefix="files", files_dir=str(files)))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/files/", files
    server.should_exit = True
    thread.join(timeout=10)


def phone_with_a_photo(tmp_path, original: bytes) -> tuple[RecordStore, bytes]:
    """A phone whose one call has this photo attached, waiting to be sent."""
    store = RecordStore.open(tmp_path / "phone")
    call = store.create_call(call_data())
    attach(store, call["id"], original, kind=PhotoKind.SCENE, taken_at=TAKEN)
    return store, original


def test_the_uploader_completes_against_tuspyserver_a_standard_server_through_a_cut(tus_server, tmp_path):
    endpoint, files = tus_server
    store, original = phone_with_a_photo(tmp_path, photo(5, (2000, 1500)))

    def cut_third(request: httpx.Request, n: int) -> None:
        if request.method == "PATCH" and n == 3:
            raise httpx.ConnectError("the link dropped")

    report = PhotoReport()
    with PhotoUploader(endpoint, transport=Recording(cut_third)) as uploader, pytest.raises(Unreachable):
        upload_waiting(store, uploader, report=report)
    with PhotoUploader(endpoint, transport=Recording()) as uploader:
        upload_waiting(store, uploader, report=report)
    assert store.photos.counts()["photos_waiting"] == 0 and store.photos.counts()["previews_waiting"] == 0
    held = {hashlib.sha256(p.read_bytes()).hexdigest() for p in files.iterdir() if p.is_file() and not p.name.endswith(".info")}
    assert hashlib.sha256(original).hexdigest() in held
    store.close()


def test_a_server_killed_between_the_last_byte_and_the_photos_row_is_not_taken_as_holding_it(link, tmp_path):
    # The phone may mark a photo sent (and retention later erase its only copy) only on the
    # server's word that it holds it, never on an offset equal to the length alone.
    store = link.device(tmp_path / "phone", direct=True)
    call = store.create_call(call_data())
    attach(store, call["id"], photo(6, (800, 600)), kind=PhotoKind.SCENE, taken_at=TAKEN)
    uploads = tmp_path / "server-photos" / ".uploads"
    token = enrollment.load(tmp_path / "phone").token
    with PhotoUploader(link.server.url + "/api/v1/photos/", token) as uploader:
        for sha, entry in store.photos.waiting():  # every byte arrived, then the server was killed
            location, _, _ = uploader.create(sha, len(store.photos.read(sha)), entry["media_type"])
            store.photos.set_upload(sha, location)
            (uploads / (location.rsplit("/", 1)[1] + ".part")).write_bytes(store.photos.read(sha))
    assert run_pass(store, tmp_path / "phone").error is None
    lead = link.server.enroll(link.team, "lead-" + link.team, "lead")
    for sha, entry in store.photos.entries().items():
        assert entry["sent"] and fetch(link, lead, sha).content == store.photos.read(sha)
    store.close()


class AnswerLost(Recording):
    """The last PATCH reaches the server, its answer does not reach the phone."""

    def __init__(self, size: int):
        super().__init__()
        self.size = size

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        if request.method == "PATCH" and int(request.headers["Upload-Offset"]) + len(request.content) == self.size:
            raise httpx.ReadError("the answer was lost")
        return response


def test_against_a_standard_server_an_offset_at_the_length_is_confirmed_by_an_empty_last_patch(tus_server, tmp_path):
    endpoint, files = tus_server
    store, original = phone_with_a_photo(tmp_path, photo(7, (600, 400)))
    sha = hashlib.sha256(original).hexdigest()
    with PhotoUploader(endpoint, transport=AnswerLost(len(original))) as uploader, pytest.raises(Unreachable):
        upload_waiting(store, uploader, report=PhotoReport())
    assert not store.photos.entries()[sha]["sent"]
    transport = Recording()
    with PhotoUploader(endpoint, transport=transport) as uploader:
        upload_waiting(store, uploader, report=PhotoReport())
    assert store.photos.counts()["photos_waiting"] == 0
    assert transport.requests[0][0] == "HEAD" and transport.requests[1][0] == "PATCH"  # the empty last PATCH
    store.close()


class RefusesFirstCreation(Recording):
    """A server that refuses the first photo's creation (413, as for a photo too large)."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path.endswith("/photos/") and not any(
                m == "POST" and p.endswith("/photos/") for m, p in self.requests):
            self.requests.append((request.method, request.url.path))
            return httpx.Response(413, json={"detail": "a photo is at most so many bytes"}, request=request)
        return super().handle_request(request)


def test_a_refusal_of_one_photo_does_not_end_the_photo_phase(link, tmp_path):
    store = link.device(tmp_path / "phone", direct=True)
    call = store.create_call(call_data())
    attach(store, call["id"], photo(10, (400, 300)), kind=PhotoKind.SCENE, taken_at=TAKEN)
    first = store.photos.waiting()[0][0]
    result = run_pass(store, tmp_path / "phone", transport=RefusesFirstCreation())
    assert result.error is None and result.photos.failed == [first]
    entries = store.photos.entries()
    assert not entries[first]["sent"] and all(e["sent"] for sha, e in entries.items() if sha != first)
    store.close()


def test_the_phone_reads_an_offset_of_odd_digits_or_a_trailing_newline_as_no_offset():
    assert uploader_module._number("120") == 120
    assert uploader_module._number("\xb2") is None and uploader_module._number("12\n") is None
    assert uploader_module._number("") is None and uploader_module._number(None) is None
