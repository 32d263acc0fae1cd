"""The client sends a request once more, at once, when the kept-alive connection it went out on had died.

A tiny HTTP server on a raw socket plays the server whose keep-alive ran out
just as the phone's next request arrived: it answers the first request of a
connection and keeps it open, then hangs up on the second (a reset with the
request unread, or a close after reading it). No timing is measured: the
server records what it read on which connection.
"""

from __future__ import annotations

import json
import select
import socket
import struct
import threading

import httpx
import pytest

from fieldapp.sync.client import SyncClient
from fieldapp.sync.errors import ServerError, Unreachable

HEALTH = json.dumps({"status": "ok"}).encode()
PAGE = json.dumps({"records": [], "cursor": "7", "more": False}).encode()


class RawServer:
    """HTTP/1.1 on a raw socket. `plan(connection, request)` says what each request gets:

        answer         200, keep-alive
        answer_503     503, keep-alive
        reset_unread   once the request has arrived, a reset, the request left unread
        close_read     the request read, then the connection closed, no answer
        hold           the request read, then no answer until the test ends
    """

    def __init__(self, plan):
        self.plan = plan
        self.seen: list[list[str]] = []  # per connection, in order: the request lines read ("-" for one left unread)
        self.lock = threading.Lock()
        self.served = threading.Condition(self.lock)
        self.release = threading.Event()
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        self.release.set()
        try:
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread
        except OSError:
            pass
        self.listener.close()

    def connections(self) -> list[list[str]]:
        with self.lock:
            return [list(c) for c in self.seen]

    def wait_for(self, connections: int) -> None:
        with self.served:
            assert self.served.wait_for(lambda: len(self.seen) >= connections, timeout=30)

    def _accept(self) -> None:
        while True:
            try:
                sock, _ = self.listener.accept()
            except OSError:
                return
            with self.served:
                number = len(self.seen)
                self.seen.append([])
                self.served.notify_all()
            threading.Thread(target=self._serve, args=(sock, number), daemon=True).start()

    def _note(self, number: int, line: str) -> None:
        with self.served:
            self.seen[number].append(line)
            self.served.notify_all()

    def _serve(self, sock: socket.socket, number: int) -> None:
        buffer = bytearray()
        try:
            for index in range(100):
                action = self.plan(number, index)
                if action == "reset_unread":
                    select.select([sock], [], [], 30)  # the request is there (or the client left)
                    if buffer or sock.recv(1, socket.MSG_PEEK):
                        self._note(number, "-")
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    sock.close()
                    return
                request = _read_request(sock, buffer)
                if request is None:
                    sock.close()
                    return
                self._note(number, request)
                if action == "close_read":
                    sock.close()
                    return
                if action == "hold":
                    self.release.wait(60)
                    sock.close()
                    return
                code, body = ("503 Unavailable", b'{"detail":"busy"}') if action == "answer_503" else (
                    "200 OK", HEALTH if "/health" in request else PAGE)
                sock.sendall(f"HTTP/1.1 {code}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
                             f"Connection: keep-alive\r\n\r\n".encode() + body)
        except OSError:
            sock.close()


def _read_request(sock: socket.socket, buffer: bytearray) -> str | None:
    """One request (head and Content-Length body); its request line, or None at EOF."""
    while b"\r\n\r\n" not in buffer:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        buffer += chunk
    end = buffer.index(b"\r\n\r\n") + 4
    head = bytes(buffer[:end]).decode("latin-1").split("\r\n")
    length = next((int(v) for n, _, v in (h.partition(":") for h in head[1:]) if n.strip().lower() == "content-length"), 0)
    while len(buffer) < end + length:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        buffer += chunk
    del buffer[:end + length]
    return head[0].rsplit(" ", 1)[0]  # "GET /api/v1/health"


@pytest.fixture
def raw_server():
    made: list[RawServer] = []

    def make(plan) -> RawServer:
        made.append(RawServer(plan))
        return made[-1]

    yield make
    for server in made:
        server.close()


HEALTH_LINE = "GET /api/v1/health"


@pytest.mark.parametrize("hang_up", ["reset_unread", "close_read"])
def test_a_request_on_a_connection_the_server_closed_is_sent_again_once_on_a_new_one(raw_server, hang_up):
    # every connection: the first request answered, kept alive; the second hung up on
    server = raw_server(lambda connection, request: "answer" if request == 0 else hang_up)
    with SyncClient(server.url, "token") as client:
        assert client.health() == {"status": "ok"}
        assert client.health() == {"status": "ok"}  # went out on the dead one first, then on a new one
        assert client.pull("0", 10).cursor == "7"  # the same again, on the next
    unread = "-" if hang_up == "reset_unread" else HEALTH_LINE
    first_call_on_it = [HEALTH_LINE, unread]
    assert server.connections() == [
        first_call_on_it,  # call 1 answered; call 2's first attempt hung up on
        [HEALTH_LINE, "-" if hang_up == "reset_unread" else "GET /api/v1/pull?since=0&limit=10"],  # call 2; call 3's first attempt
        ["GET /api/v1/pull?since=0&limit=10"],  # call 3, on a new connection
    ]


def test_without_the_second_attempt_the_dead_connection_fails_the_call(raw_server, monkeypatch):
    # What the phones saw before: "unreachable" from a server that was up all along.
    from fieldapp.sync import client as client_module

    monkeypatch.setattr(client_module._Link, "closed_while_idle", lambda self, exc: False)
    server = raw_server(lambda connection, request: "answer" if request == 0 else "reset_unread")
    with SyncClient(server.url, "token") as client:
        client.health()
        with pytest.raises(Unreachable):
            client.health()


def test_a_push_on_a_dead_connection_arrives_once(raw_server):
    # The push's body is sent again whole: the server reads it once, on the new connection.
    server = raw_server(lambda connection, request: "answer" if request == 0 else "reset_unread")
    with SyncClient(server.url, "token") as client:
        client.health()
        with pytest.raises(ServerError):  # the raw server's answer is no list of verdicts
            client.push([{"id": "a", "version": 1}])
    assert server.connections() == [[HEALTH_LINE, "-"], ["POST /api/v1/push"]]


def test_a_new_connection_that_dies_is_not_sent_again(raw_server):
    # Only a kept-alive connection that died counts: a server hanging up on a
    # fresh one is failing, and that is the worker's backoff's to handle.
    server = raw_server(lambda connection, request: "close_read")
    with SyncClient(server.url, "token") as client:
        with pytest.raises(Unreachable):
            client.health()
        with pytest.raises(Unreachable):
            client.health()
    with SyncClient(server.url, "token") as marker, pytest.raises(Unreachable):  # accepted after any attempt before it
        marker.health()
    assert server.connections() == [[HEALTH_LINE]] * 3


def test_a_stalled_request_is_not_sent_again_at_once(raw_server):
    server = raw_server(lambda connection, request: "hold" if (connection, request) == (0, 1) else "answer")
    with SyncClient(server.url, "token", timeout=httpx.Timeout(30.0, read=0.5)) as client:
        client.health()
        with pytest.raises(Unreachable, match="in time"):
            client.health()
    # a last call on a new connection: any second attempt would have been accepted before it
    with SyncClient(server.url, "token") as marker:
        assert marker.health() == {"status": "ok"}
    assert server.connections() == [[HEALTH_LINE, HEALTH_LINE], [HEALTH_LINE]]


def test_a_5xx_is_not_sent_again_at_once(raw_server):
    server = raw_server(lambda connection, request: "answer_503" if (connection, request) == (0, 1) else "answer")
    with SyncClient(server.url, "token") as client:
        client.health()
        with pytest.raises(ServerError, match="503"):
            client.health()
        assert client.health() == {"status": "ok"}  # the same connection, still alive
    assert server.connections() == [[HEALTH_LINE] * 3]


def test_a_refused_connection_is_not_sent_again():
    from tests.conftest import free_port

    with SyncClient(f"http://127.0.0.1:{free_port()}", "token") as client, \
            pytest.raises(Unreachable, match="ConnectError"):  # nothing listens there
        client.health()
