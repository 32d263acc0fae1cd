"""One data folder, several processes: a saver, sync passes, and pulls of another device's records.

The app (or `fieldapp demo`) keeps saving while `fieldapp sync --once` runs
beside it, in separate processes sharing the folder. Every save that returned
must be held once, the store must never hold one id in two partitions, and the
server must hold every version once.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from fieldapp.demo import populate
from fieldapp.store import RecordStore
from fieldapp.sync import enrollment
from fieldapp.sync.session import run_pass
from sync.server.db import open_database
from tests.server.conftest import Server

ROOT = Path(__file__).resolve().parents[2]
ROUNDS = 4

pytestmark = pytest.mark.slow


def ids_in_files(folder: Path) -> Counter:
    """How many partition files hold each record id, read straight from the files."""
    held: Counter = Counter()
    for path in sorted((folder / "days").glob("*.json")):
        table = json.loads(path.read_bytes()).get("records", {})
        held.update(doc["id"] for doc in table.values())
    return held


def _enroll(server: Server, team: str, folder: Path) -> None:
    store = RecordStore.open(folder)
    try:
        token = server.enroll(team, store.device_id)
    finally:
        store.close()
    enrollment.save(folder, enrollment.Enrollment(server.url, token))


def _sync_once(folder: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "fieldapp", "sync", "--once", "--data", str(folder)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_a_saver_and_sync_passes_in_other_processes_keep_each_record_once(tmp_path):
    server = Server(f"sqlite:///{tmp_path / 'server.db'}").start()
    team = f"team-{uuid.uuid4().hex[:6]}"
    phone, other = tmp_path / "phone", tmp_path / "other"
    try:
        _enroll(server, team, phone)
        _enroll(server, team, other)
        rng = random.Random(20261127)
        echoed: set[str] = set()
        for _ in range(ROUNDS):
            saver = subprocess.Popen(
                [sys.executable, "-m", "fieldapp", "demo", "--calls", "3000", "--echo", "--data", str(phone)],
                cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
            )
            # Sync passes beside the saver (two at once, as the app's worker and the
            # command line may run), and the other device's records to pull back.
            time.sleep(0.8)
            until = time.monotonic() + rng.uniform(4, 7)
            while saver.poll() is None and time.monotonic() < until:
                store = RecordStore.open(other)
                populate(store, 6, seed=rng.randrange(10**6))
                assert run_pass(store, other).error is None
                store.close()
                with ThreadPoolExecutor(2) as passes:
                    list(passes.map(_sync_once, [phone, phone]))
            if saver.poll() is None:
                os.killpg(saver.pid, signal.SIGKILL)
            out, err = saver.communicate(timeout=60)
            lines = out.decode().splitlines()
            if out and not out.endswith(b"\n"):
                lines = lines[:-1]  # cut by the kill: not a returned save
            echoed.update(lines)

        store = RecordStore.open(other)
        assert run_pass(store, other).error is None
        store.close()
        last = None
        for _ in range(3):  # drain the phone
            last = _sync_once(phone)
            if last.returncode == 0:
                break

        held = ids_in_files(phone)
        twice = [rid for rid, n in held.items() if n > 1]
        assert not twice, f"{len(twice)} ids held in two partitions"
        assert last.returncode == 0, last.stdout[-500:]
        assert echoed <= set(held), f"{len(echoed - set(held))} returned saves lost"

        store = RecordStore.open(phone)
        try:
            counts = store.counts()
            current = {r.id: r for r in store.iter_current()}
        finally:
            store.close()
        assert counts["total"] == len(held) == len(current)
        assert counts["pending"] == 0

        db = open_database(server.database_url)
        try:
            versions = Counter((rid, version) for rid, version, _ in db.revision_keys(team))
            on_server = {r["id"]: r["version"] for r in db.current_records(team)}
        finally:
            db.close()
        assert set(versions.values()) == {1}, "a version stored twice on the server"
        assert {rid: r.version for rid, r in current.items()} == on_server
        print(f"{len(echoed)} saves echoed over {ROUNDS} rounds; {len(held)} records, each once")
    finally:
        server.kill(signal.SIGTERM)
