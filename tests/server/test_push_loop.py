"""The push route's CPU work (gzip, parsing, checking, the verdicts' JSON) runs off the event loop.

The server runs in this process (uvicorn in a thread), so the test can see on
which thread each step ran, and hold a push's checking while /health is asked.
No timing is measured: where code ran, and what answered first.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import threading

import httpx
import pytest
import uvicorn

from sync.server import body as body_module
from sync.server.app import create_app
from sync.server.auth import new_token, token_hash
from sync.server.routes import push as push_module
from tests.conftest import free_port
from tests.records_factory import call_record


def _on_the_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


class InProcessServer:
    def __init__(self, tmp_path):
        self.app = create_app(f"sqlite:///{tmp_path / 'server.db'}")
        self.url = f"http://127.0.0.1:{free_port()}"
        port = int(self.url.rsplit(":", 1)[1])
        self.server = uvicorn.Server(uvicorn.Config(self.app, host="127.0.0.1", port=port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        for _ in range(300):
            if self.server.started:
                break
            self.thread.join(0.05)
        assert self.server.started

    def enroll(self, team: str = "team-loop") -> str:
        token = new_token()
        self.app.state.database.enroll(team=team, device_id=f"dev-{token[:8]}", role="volunteer", token_hash=token_hash(token))
        return token

    def push(self, token: str, records: list, *, compress: bool = True) -> httpx.Response:
        raw = json.dumps({"records": records}).encode()
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        if compress:
            raw = gzip.compress(raw)
            headers["Content-Encoding"] = "gzip"
        return httpx.post(self.url + "/api/v1/push", content=raw, headers=headers, timeout=60)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(30)


@pytest.fixture
def server(tmp_path):
    running = InProcessServer(tmp_path)
    yield running
    running.stop()


def test_unpacking_checking_and_the_verdicts_run_in_the_thread_pool(server, monkeypatch):
    ran: dict[str, list[bool]] = {}

    def watch(owner, name):
        real = getattr(owner, name)

        def watched(*args, **kwargs):
            ran.setdefault(name, []).append(_on_the_loop())
            return real(*args, **kwargs)

        monkeypatch.setattr(owner, name, watched)

    watch(body_module._Unpacker, "feed")
    for name in ("_all_valid", "_one_by_one", "_answer"):
        watch(push_module, name)
    token = server.enroll()
    good = server.push(token, [call_record(device_id="inst-loop") for _ in range(50)])
    assert good.status_code == 200 and {r["status"] for r in good.json()["results"]} == {"accepted"}
    mixed = server.push(token, [call_record(device_id="inst-loop"), {"id": "not a record"}], compress=False)
    assert [r["status"] for r in mixed.json()["results"]] == ["accepted", "rejected"]
    refused = server.push(token, [], compress=False)
    assert refused.status_code == 200
    assert set(ran) == {"feed", "_all_valid", "_one_by_one", "_answer"}
    assert not any(on_loop for calls in ran.values() for on_loop in calls), ran


def test_health_answers_while_a_big_push_is_being_checked(server, monkeypatch):
    started, release, finished = threading.Event(), threading.Event(), threading.Event()
    real = push_module._all_valid

    def held(raw):
        started.set()
        release.wait(10)  # on the event loop (the fault this guards against), /health waits all this while
        try:
            return real(raw)
        finally:
            finished.set()

    monkeypatch.setattr(push_module, "_all_valid", held)
    token = server.enroll()
    records = [call_record(device_id="inst-big", data={**call_record()["data"], "notes": "x" * 2000}) for _ in range(1000)]
    answers: list[tuple[str, int]] = []
    pushing = threading.Thread(target=lambda: answers.append(("push", server.push(token, records).status_code)))
    pushing.start()
    try:
        assert started.wait(30)
        health = httpx.get(server.url + "/api/v1/health", timeout=60)  # another connection
        answers.append(("health", health.status_code))
        checking_was_done = finished.is_set()
    finally:
        release.set()
        pushing.join(60)
    assert not checking_was_done  # /health answered while the push was still being checked
    assert answers == [("health", 200), ("push", 200)]
