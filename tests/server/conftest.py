"""The real server, as a subprocess on a free loopback port, on SQLite and on PostgreSQL."""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import psycopg
import pytest

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]


class Server:
    """A running `fieldapp-server serve`, with helpers to enroll and talk to it."""

    def __init__(self, database_url: str, port: int | None = None, args: tuple[str, ...] = ()):
        self.database_url = database_url
        self.args = args  # more options of `serve` (`--photos DIR`)
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def start(self) -> Server:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "sync.server.cli", "serve", "--port", str(self.port), "--database", self.database_url,
             *self.args],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("server stopped at start-up: " + self.proc.stderr.read().decode(errors="replace")[-2000:])
            try:
                httpx.get(self.url + "/api/v1/health", timeout=0.5)
                return self
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("server did not start within 30 s")

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
            self.proc.wait(timeout=10)

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "sync.server.cli", *args, "--database", self.database_url],
            cwd=ROOT, capture_output=True, text=True, timeout=60,
        )

    def enroll(self, team: str, device: str | None = None, role: str = "volunteer", *, via_cli: bool = False) -> str:
        device = device or f"dev-{uuid.uuid4().hex[:8]}"
        if via_cli:
            made = self.cli("enroll", "--team", team, "--device", device, "--role", role)
            assert made.returncode == 0, made.stderr
            return made.stdout.strip().splitlines()[-1]
        # What the command does, without a process start per test.
        from sync.server.auth import new_token, token_hash
        from sync.server.db import open_database

        token = new_token()
        db = open_database(self.database_url)
        try:
            db.enroll(team=team, device_id=device, role=role, token_hash=token_hash(token))
        finally:
            db.close()
        return token

    def push(self, token: str, records: list, *, compress: bool = False, raw: bytes | None = None, headers=None) -> httpx.Response:
        body = raw if raw is not None else json.dumps({"records": records}).encode()
        h = {"Authorization": f"Bearer {token}", "Content-Type": "application/json", **(headers or {})}
        if compress:
            body = gzip.compress(body)
            h["Content-Encoding"] = "gzip"
        return httpx.post(self.url + "/api/v1/push", content=body, headers=h, timeout=60)

    def statuses(self, token: str, records: list) -> list[str]:
        response = self.push(token, records)
        assert response.status_code == 200, response.text
        return [r["status"] for r in response.json()["results"]]

    def pull_all(self, token: str, limit: int = 500) -> tuple[list[dict], dict]:
        records, conflicts, cursor = [], {}, "0"
        while True:
            page = httpx.get(self.url + "/api/v1/pull", params={"since": cursor, "limit": limit},
                             headers={"Authorization": f"Bearer {token}"}, timeout=30).json()
            records += page["records"]
            conflicts.update({c["id"]: c["server_record"] for c in page["conflicts"]})
            cursor = page["cursor"]
            if not page["more"]:
                return records, conflicts


@pytest.fixture(scope="session")
def postgres_database(postgres_url):
    """A factory of fresh PostgreSQL databases, all dropped at the end."""
    made: list[str] = []

    def make() -> str:
        name = f"fieldapp_test_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        made.append(name)
        base, _, _ = postgres_url.rpartition("/")
        return f"{base}/{name}"

    yield make
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        for name in made:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def database_url(request, tmp_path_factory):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('server') / 'server.db'}"
    return request.getfixturevalue("postgres_database")()


@pytest.fixture(scope="module")
def server(database_url):
    """One server per module and database; each test works in a team of its own."""
    running = Server(database_url).start()
    yield running
    running.kill(signal.SIGTERM)


@pytest.fixture
def team(server) -> str:
    return f"team-{uuid.uuid4().hex[:8]}"
