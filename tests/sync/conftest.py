"""A real server on SQLite, a fault proxy in front of it, and a real device store."""

from __future__ import annotations

import signal
import uuid
from collections import Counter

import pytest

from fieldapp.store import RecordStore
from fieldapp.sync import enrollment
from sync.server.db import open_database
from tests.server.conftest import Server
from tests.sync.faultproxy import FaultProxy


class Link:
    """The server, its proxy, and what the server holds."""

    def __init__(self, tmp_path):
        self.server = Server(f"sqlite:///{tmp_path / 'server.db'}").start()
        self.proxy = FaultProxy(self.server.port)
        self.team = f"team-{uuid.uuid4().hex[:6]}"

    def device(self, folder, *, role: str = "volunteer", direct: bool = False) -> RecordStore:
        """A device store enrolled in the team, through the proxy unless `direct`."""
        store = RecordStore.open(folder)
        token = self.server.enroll(self.team, store.device_id, role)
        url = self.server.url if direct else self.proxy.url
        enrollment.save(folder, enrollment.Enrollment(url, token))
        return store

    def stored_versions(self) -> Counter:
        db = open_database(self.server.database_url)
        try:
            return Counter((rid, version) for rid, version, _ in db.revision_keys(self.team))
        finally:
            db.close()

    def restart_server(self) -> None:
        self.server.kill(signal.SIGKILL)
        self.server.start()  # same port, same database

    def close(self) -> None:
        self.proxy.close()
        self.server.kill(signal.SIGTERM)


@pytest.fixture
def link(tmp_path):
    made = Link(tmp_path)
    yield made
    made.close()
