"""A 1 MB photo over a link that drops every 20 s: 20 kB/s each way, 300 ms round trips.

Two uploads of the same 1 MB original, each through its own link of that kind, in the
same run: the phone's (tus, `run_pass` again after each cut, continuing from the
server's offset) and the baseline of the tools people use instead, one request with
the whole file, started over after each cut. Meanwhile a volunteer saves a record
every 7 s; each must be delivered before the photo (a record saved during the photo's
last chunk goes right after it, and is counted apart).

The link (`CuttingLink`) forwards bytes as they come, not whole requests (unlike
tests/sync/faultproxy.py), so a cut lands inside a PATCH and the server keeps what
crossed. "On the wire" counts what the phone sent into the link: what crossed, and
what a cut lost with it.

Goal (issue 24): the photo arrives whole with at most 1.1x its size on the wire; the
baseline never finishes.
"""

from __future__ import annotations

import base64
import hashlib
import http.server
import io
import os
import signal
import socket
import tempfile
import threading
import time
from collections import deque
from pathlib import Path

import httpx

from bench.common import enroll_folder
from fieldapp.core.records import PhotoKind
from fieldapp.store import RecordStore
from fieldapp.store.attach import attach
from fieldapp.store.photos import Role
from fieldapp.sync.session import run_pass
from tests.records_factory import call_data, recovery_data
from tests.server.conftest import Server

RATE = 20_000  # bytes/s, each way
ROUND_TRIP = 0.3  # s
CUT_EVERY = 20.0  # s
PHOTO_BYTES = 1_000_000
SAVE_EVERY = 7.0  # s: a record saved by the volunteer meanwhile
BASELINE_BUDGET = 60.0  # s the baseline gets past the phone's finish


class CuttingLink:
    """A TCP link to `target_port`: RATE bytes/s each way, ROUND_TRIP/2 each way, every connection cut every CUT_EVERY s."""

    def __init__(self, target_port: int):
        self.target_port = target_port
        self.bytes_up = 0  # what the client sent into the link (crossed, or lost at a cut)
        self.cuts = 0
        self._lock = threading.Lock()
        self._live: set[socket.socket] = set()
        self._closed = threading.Event()
        self._listener = socket.socket()
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(16)
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()
        threading.Thread(target=self._cutter, daemon=True).start()

    def close(self) -> None:
        self._closed.set()
        self._listener.close()
        self._cut()

    def _cutter(self) -> None:
        while not self._closed.wait(CUT_EVERY):
            self._cut()
            self.cuts += 1

    def _cut(self) -> None:
        with self._lock:
            live, self._live = list(self._live), set()
        for sock in live:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(("127.0.0.1", self.target_port))
            except OSError:
                client.close()
                continue
            with self._lock:
                self._live |= {client, server}
            for src, dst, up in ((client, server, True), (server, client, False)):
                queue: deque = deque()
                ready = threading.Condition()
                threading.Thread(target=self._read, args=(src, queue, ready, up), daemon=True).start()
                threading.Thread(target=self._write, args=(dst, queue, ready), daemon=True).start()

    def _read(self, src: socket.socket, queue: deque, ready: threading.Condition, up: bool) -> None:
        free_at = time.monotonic()
        while True:
            try:
                data = src.recv(2048)  # a small read: what sits in the phone's buffers has not crossed yet
            except OSError:
                data = b""
            now = time.monotonic()
            if data:
                free_at = max(free_at, now) + len(data) / RATE  # the link's rate
                if up:
                    with self._lock:
                        self.bytes_up += len(data)
                time.sleep(max(0.0, free_at - now))
            with ready:
                queue.append((free_at + ROUND_TRIP / 2, data))  # then the way's latency
                ready.notify()
            if not data:
                return

    def _write(self, dst: socket.socket, queue: deque, ready: threading.Condition) -> None:
        while True:
            with ready:
                while not queue:
                    ready.wait()
                at, data = queue.popleft()
            time.sleep(max(0.0, at - time.monotonic()))
            if not data:
                try:
                    dst.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
                return
            try:
                dst.sendall(data)
            except OSError:
                return


class _Sink(http.server.BaseHTTPRequestHandler):
    """The baseline's server: takes a whole file in one POST, answers when every byte is in."""

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        length = int(self.headers["Content-Length"])
        got = 0
        while got < length:
            chunk = self.rfile.read(min(65536, length - got))
            if not chunk:
                return
            got += len(chunk)
        self.server.finished = True  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


def a_photo() -> bytes:
    """A camera-like JPEG of 1 MB: grain, so it does not shrink, with a smooth preview."""
    from PIL import Image, ImageFilter

    rng = os.urandom(640 * 480 * 3)
    image = Image.frombytes("RGB", (640, 480), rng).filter(ImageFilter.GaussianBlur(2)).resize((3000, 2250))
    for quality in range(95, 40, -5):
        out = io.BytesIO()
        image.save(out, format="JPEG", quality=quality)
        if len(out.getvalue()) <= PHOTO_BYTES:
            break
    data = out.getvalue()
    return data + b"\x00" * (PHOTO_BYTES - len(data))  # bytes after the end marker: still a JPEG, exactly 1 MB


class _NotThe(httpx.HTTPTransport):
    """The good link of the first pass, which leaves the original for the cutting one."""

    def __init__(self, sha: str):
        super().__init__()
        self.marker = base64.b64encode(sha.encode()).decode()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.marker in request.headers.get("Upload-Metadata", ""):
            raise httpx.ConnectError("kept for the cutting link")
        return super().handle_request(request)


def baseline(url: str, data: bytes, stop: threading.Event, result: dict) -> None:
    result["attempts"] = 0
    while not stop.is_set():
        result["attempts"] += 1
        try:
            response = httpx.post(url + "/upload", content=data, timeout=httpx.Timeout(60.0, connect=10.0))
            if response.status_code == 200:
                result["finished_after_s"] = time.monotonic() - result["start"]
                break
        except httpx.HTTPError:
            time.sleep(1.0)  # started over after the cut


def main() -> None:
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp:
        run(Path(tmp))


def run(tmp: Path) -> None:
    db_url = f"sqlite:///{tmp / 'server.db'}"
    server = Server(db_url, args=("--photos", str(tmp / "photos"))).start()
    sink = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Sink)
    sink.finished = False  # type: ignore[attr-defined]
    threading.Thread(target=sink.serve_forever, daemon=True).start()
    folder = tmp / "phone"
    store = RecordStore.open(folder)
    try:
        data = a_photo()
        sha = hashlib.sha256(data).hexdigest()
        call = store.create_call(call_data())
        attach(store, call["id"], data, kind=PhotoKind.SCENE, taken_at="2026-11-25T10:05:00+03:00")
        # The records and the preview first, on a good link: what is measured is the original's journey.
        enroll_folder(db_url, folder, server.url, "team-photos", store.device_id, "lead")
        first = run_pass(store, folder, transport=_NotThe(sha))
        preview = next(s for s, e in store.photos.entries().items() if e["role"] == Role.PREVIEW)
        assert store.photos.entries()[preview]["sent"] and not store.photos.entries()[sha]["sent"], first.error

        link = CuttingLink(server.port)
        sink_link = CuttingLink(sink.server_address[1])
        enroll_folder(db_url, folder, link.url, "team-photos", store.device_id, "lead")
        saved: dict[str, float] = {}
        delivered: dict[str, float] = {}
        stop = threading.Event()
        start = time.monotonic()
        base = {"start": start}
        threading.Thread(target=baseline, args=(sink_link.url, data, stop, base), daemon=True).start()

        def volunteer() -> None:
            while not stop.wait(SAVE_EVERY):
                record = store.create_recovery(recovery_data(call["id"], count=1))
                saved[record["id"]] = time.monotonic()

        def watch() -> None:
            while not stop.wait(0.2):
                for rid in list(saved):
                    found = store.get(rid)
                    if rid not in delivered and found is not None and found.state.value == "sent":
                        delivered[rid] = time.monotonic()

        threading.Thread(target=volunteer, daemon=True).start()
        threading.Thread(target=watch, daemon=True).start()
        passes = 0
        photo_done: float | None = None
        while time.monotonic() - start < 600:
            passes += 1
            result = run_pass(store, folder, timeout=httpx.Timeout(30.0, connect=10.0))
            if store.photos.entries()[sha]["sent"]:
                photo_done = time.monotonic()
                break
            if result.error is not None:
                time.sleep(1.0)  # the scheduler's wait after a cut (the app's worker backs off with jitter)
        wire, cuts = link.bytes_up, link.cuts
        during = {rid: at for rid, at in saved.items() if photo_done is None or at < photo_done}  # saved during the upload
        # The baseline gets as long as the phone took, and BASELINE_BUDGET more.
        deadline = time.monotonic() + BASELINE_BUDGET
        while "finished_after_s" not in base and time.monotonic() < deadline:
            time.sleep(1.0)
        baseline_for = time.monotonic() - start
        stop.set()
        link.close()
        sink_link.close()
        held = httpx.get(f"{server.url}/api/v1/photos/{sha}", headers={"Authorization": f"Bearer {lead_token(folder)}"},
                         timeout=30)
        whole = held.status_code == 200 and hashlib.sha256(held.content).hexdigest() == sha
        last_chunk = (photo_done or 0) - 5.0  # saves during the final chunk (about 3 s at this rate) go just after it
        before = [rid for rid, at in during.items() if at < last_chunk]
        late = [rid for rid in before if rid not in delivered or delivered[rid] > (photo_done or 0)]
        delays = sorted(delivered[r] - during[r] for r in during if r in delivered)
        print(f"link: {RATE / 1000:.0f} kB/s each way, {ROUND_TRIP * 1000:.0f} ms round trip, every connection cut every "
              f"{CUT_EVERY:.0f} s")
        if photo_done:
            print(f"phone (tus, from the server's offset): {len(data):,} B original arrived whole={whole} after "
                  f"{photo_done - start:.1f} s, {passes} passes, {cuts} cuts; {wire:,} B on the wire up = "
                  f"{wire / len(data):.3f}x its size (goal <= 1.1x, records and HEADs included)")
        else:
            print(f"phone: NOT delivered within 600 s ({wire:,} B on the wire)")
        if "finished_after_s" in base:
            print(f"baseline (whole file, starts over): finished after {base['finished_after_s']:.1f} s, "
                  f"{base.get('attempts')} attempts (goal: never)")
        else:
            print(f"baseline (whole file, starts over): never finished: {base.get('attempts', '?')} attempts in "
                  f"{baseline_for:.0f} s, {sink_link.bytes_up:,} B on its wire")
        print(f"records saved during the upload: {len(during)}; saved before the photo's last chunk: {len(before)}, delivered "
              f"before the photo: {len(before) - len(late)}; save -> delivered: median "
              f"{delays[len(delays) // 2] if delays else float('nan'):.1f} s, max {delays[-1] if delays else float('nan'):.1f} s")
        verdict = photo_done is not None and whole and wire <= 1.1 * len(data) and "finished_after_s" not in base and not late
        print(f"goal {'MET' if verdict else 'MISSED'}")
    finally:
        store.close()
        sink.shutdown()
        server.kill(signal.SIGTERM)


def lead_token(folder: Path) -> str:
    from fieldapp.sync import enrollment

    linked = enrollment.load(folder)
    assert linked is not None
    return linked.token


if __name__ == "__main__":
    main()
