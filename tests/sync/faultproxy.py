"""A TCP proxy in front of the real server that breaks requests on demand.

Each HTTP request that passes through takes the next planned fault (or the
default, `pass`):

    pass           forwarded both ways
    reset_before   the connection is reset before the request reaches the server
    reset_after    forwarded; the server answers; the client gets a reset instead
    cut_answer     forwarded; only the first half of the answer reaches the client
    status_500     answered 500 by the proxy; the server never sees it
    status_503     the same with 503
    stall          the proxy holds the request and never answers (the client times out)

With `bandwidth` (bytes/s) and `latency` (s) it is also a slow link: each
request and each answer waits `latency` (a round trip) and then trickles at
that rate.
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections import deque
from collections.abc import Callable

FAULTS = ("pass", "reset_before", "reset_after", "cut_answer", "status_500", "status_503", "stall")


def _read_message(sock: socket.socket, buffer: bytearray) -> bytes | None:
    """One HTTP message (head + Content-Length body) from sock; None at EOF."""
    while b"\r\n\r\n" not in buffer:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        buffer += chunk
    head_end = buffer.index(b"\r\n\r\n") + 4
    length = 0
    for line in bytes(buffer[:head_end]).split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(buffer) < head_end + length:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        buffer += chunk
    message = bytes(buffer[: head_end + length])
    del buffer[: head_end + length]
    return message


def _reset(sock: socket.socket) -> None:
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


class FaultProxy:
    def __init__(self, target_port: int, *, bandwidth: float | None = None, latency: float = 0.0):
        self.target_port = target_port
        self.bandwidth = bandwidth
        self.latency = latency
        self.faults: deque[str] = deque()
        self.seen: list[str] = []
        self.bytes_up = 0
        self.bytes_down = 0
        # Called with each request once it is on its way to the server, before
        # the answer is read: a test can kill the server while it works on one.
        self.after_forward: Callable[[bytes], None] | None = None
        self._lock = threading.Lock()
        self._listener = socket.socket()
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self.port = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._closed = threading.Event()
        self._release = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def plan(self, *faults: str) -> None:
        for fault in faults:
            assert fault in FAULTS, fault
        with self._lock:
            self.faults.extend(faults)

    def release_stalls(self) -> None:
        """End every held request now (its client sees the connection close)."""
        self._release.set()

    def close(self) -> None:
        self._closed.set()
        self._release.set()
        self._listener.close()

    def _next_fault(self) -> str:
        with self._lock:
            fault = self.faults.popleft() if self.faults else "pass"
            self.seen.append(fault)
            return fault

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _send(self, sock: socket.socket, data: bytes) -> None:
        if self.latency:
            time.sleep(self.latency / 2)  # each way of a round trip
        if not self.bandwidth:
            sock.sendall(data)
            return
        step = max(1, int(self.bandwidth / 50))  # 20 ms slices
        for start in range(0, len(data), step):
            sock.sendall(data[start:start + step])
            time.sleep(len(data[start:start + step]) / self.bandwidth)

    def _serve(self, client: socket.socket) -> None:
        buffer = bytearray()
        try:
            while True:
                request = _read_message(client, buffer)
                if request is None:
                    client.close()
                    return
                fault = self._next_fault()
                if fault == "reset_before":
                    _reset(client)
                    return
                if fault in ("status_500", "status_503"):
                    code = fault[-3:]
                    body = b'{"detail":"injected failure"}'
                    client.sendall(f"HTTP/1.1 {code} Injected\r\nContent-Type: application/json\r\n"
                                   f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode() + body)
                    client.close()
                    return
                if fault == "stall":
                    self._release.wait(120)
                    client.close()
                    return
                with self._lock:
                    self.bytes_up += len(request)
                upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=60)
                try:
                    self._send(upstream, request)
                    if self.after_forward is not None:
                        self.after_forward(request)
                    response = _read_message(upstream, bytearray())
                finally:
                    upstream.close()
                if response is None:
                    _reset(client)  # the server died mid-request
                    return
                if fault == "reset_after":
                    _reset(client)
                    return
                if fault == "cut_answer":
                    client.sendall(response[: len(response) // 2])
                    client.close()
                    return
                with self._lock:
                    self.bytes_down += len(response)
                self._send(client, response)
        except OSError:
            try:
                client.close()
            except OSError:
                pass
