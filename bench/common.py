"""What several benchmarks share: the real server, enrolled devices, the real command, peak memory."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterable, Sequence
from pathlib import Path

from fieldapp.sync import enrollment
from sync.server.db import Device, open_database

ROOT = Path(__file__).resolve().parents[1]
POSTGRES = os.environ.get("FIELDAPP_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")

# Runs a command and prints its own peak memory: ru_maxrss of the one child it
# waited for (this wrapper is tiny, so what exec carries over from it is noise).
PEAK_WRAPPER = r"""
import resource, subprocess, sys, time
started = time.perf_counter()
code = subprocess.run(sys.argv[1:]).returncode
wall = time.perf_counter() - started
print("BENCH-PEAK", code, wall, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)
"""


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def median(values: Iterable[float]) -> float:
    return statistics.median(list(values))


def fieldapp(*args: str, data: Path, timeout: float = 900) -> dict:
    """Run `fieldapp ARGS --data DATA` as a user does, in its own process; wall time and its peak memory."""
    command = [sys.executable, "-m", "fieldapp", *args, "--data", str(data)]
    started = time.perf_counter()
    try:
        done = subprocess.run([sys.executable, "-c", PEAK_WRAPPER, *command], cwd=ROOT, capture_output=True,
                              text=True, timeout=timeout, env={**os.environ, "FIELDAPP_LANG": "en"})
    except subprocess.TimeoutExpired:
        return {"code": None, "wall_s": time.perf_counter() - started, "peak_mb": float("nan"), "out": "", "err": "timed out"}
    line = next(line for line in done.stderr.splitlines() if line.startswith("BENCH-PEAK"))
    _, code, wall, peak = line.split()
    return {"code": int(code), "wall_s": float(wall), "peak_mb": int(peak) / 1024, "out": done.stdout,
            "err": "\n".join(line for line in done.stderr.splitlines() if not line.startswith("BENCH-PEAK"))}


def enroll_folder(db_url: str, folder: Path, server_url: str, team: str, device: str, role: str = "volunteer") -> str:
    """Enroll a device on the server's database and link the store folder to it, as `fieldapp enroll` leaves it."""
    from sync.server.auth import new_token, token_hash

    token = new_token()
    db = open_database(db_url)
    try:
        db.enroll(team=team, device_id=device, role=role, token_hash=token_hash(token))
    finally:
        db.close()
    enrollment.save(folder, enrollment.Enrollment(server_url, token))
    return token


def server_push(db_url: str, team: str, device: str, records: list[dict], batch: int = 500) -> None:
    """Records into the server through its own `Database.push`, as if the device had pushed them."""
    from sync.server.auth import new_token, token_hash

    db = open_database(db_url)
    try:
        db.enroll(team=team, device_id=device, role="volunteer", token_hash=token_hash(new_token()))
        who = Device(device_id=device, team=team, role="volunteer")
        for i in range(0, len(records), batch):
            outcomes = db.push(who, records[i:i + batch])
            bad = [o for o in outcomes if o.outcome.value not in ("accepted", "duplicate")]
            assert not bad, bad[:3]
    finally:
        db.close()


def team_cursor(db_url: str, team: str) -> str:
    """The last sequence number of a team: where a device that has everything pulls from."""
    db = open_database(db_url)
    try:
        with db.transaction(write=False) as cur:
            cur.execute(db.sql("SELECT MAX(seq) FROM revisions WHERE team = ?"), (team,))
            return str(cur.fetchone()[0] or 0)
    finally:
        db.close()


def postgres_database() -> str | None:
    import psycopg

    name = f"fieldapp_bench_{uuid.uuid4().hex[:10]}"
    try:
        with psycopg.connect(POSTGRES, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as exc:
        print(f"PostgreSQL not reachable ({type(exc).__name__})")
        return None
    return POSTGRES.rpartition("/")[0] + "/" + name


def drop_postgres(url: str) -> None:
    import psycopg

    name = url.rpartition("/")[2]
    with psycopg.connect(POSTGRES, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def jsonl(records: Iterable[dict]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
