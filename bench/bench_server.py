"""Server ingest: 50 devices pushing 200-record batches, SQLite and PostgreSQL.

    python -m bench server

The real server (`fieldapp-server serve`, one process) on loopback, 50
enrolled devices of one team (the worst case: one team's pushes take turns),
each with its own connection, all online together; every push's latency is
kept. Three loads:

- saturated: each device pushes its batches back to back, all at once. This
  measures records per second; latency here is queueing behind 49 others.
- paced: each device's pushes at random moments of a window (devices online
  together, not in lockstep), at 2,000 and at 4,000 records/s offered.

The baseline, in the same run and at the same concurrency, is the 50 devices
asking `/health`: the floor of an HTTP round trip here. PostgreSQL comes from
FIELDAPP_BENCH_POSTGRES_URL (default: the local one).
"""

from __future__ import annotations

import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx
import psycopg

DEVICES = 50
BATCH = 200
BATCHES_PER_DEVICE = 4
PACED_RATES = (2_000, 4_000)  # records/s offered
GOAL_P99_MS = 250
ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _record(device: str, n: int) -> dict:
    stamp = f"2026-11-25T10:{n % 60:02d}:00+03:00"
    return {
        "id": str(uuid.uuid4()), "type": "call", "version": 1, "base_version": 0, "device_id": device,
        "created_at": stamp, "updated_at": stamp,
        "data": {"received_at": stamp, "incident_type": "building_collapse", "status": "on_scene",
                 "location": {"place": "Jableh - جبلة", "lat": 35.36, "lon": 35.92, "accuracy_m": 12.0},
                 "status_log": [{"status": "dispatched", "at": stamp}, {"status": "on_scene", "at": stamp}],
                 "reported_people": 4, "notes": "Three-storey building, family of four under the rubble."},
    }


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


class _Server:
    def __init__(self, database: str):
        self.database = database
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "sync.server.cli", "serve", "--port", str(self.port), "--database", database],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )
        for _ in range(300):
            try:
                httpx.get(self.url + "/api/v1/health", timeout=0.5)
                return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("server did not start")

    def stop(self) -> None:
        os.killpg(self.proc.pid, signal.SIGTERM)
        self.proc.wait(timeout=20)


def _tokens(database: str) -> list[str]:
    from sync.server.auth import new_token, token_hash
    from sync.server.db import open_database

    db = open_database(database)
    tokens = []
    for n in range(DEVICES):
        token = new_token()
        db.enroll(team="team-bench", device_id=f"bench-{n:02d}", role="volunteer", token_hash=token_hash(token))
        tokens.append(token)
    db.close()
    return tokens


def _load(url: str, tokens: list[str], requests_for, *, window: float = 0.0) -> tuple[list[float], float]:
    """Every device runs its requests, all devices at once: back to back, or at
    random moments spread over `window` seconds (devices online together, not in lockstep)."""
    latencies: list[float] = []
    lock = threading.Lock()
    barrier = threading.Barrier(len(tokens) + 1)

    def device(n: int) -> None:
        mine = requests_for(n)
        rng = random.Random(n)
        moments = sorted(rng.uniform(0, window) for _ in mine) if window else [0.0] * len(mine)
        with httpx.Client(base_url=url, timeout=120, headers={"Authorization": f"Bearer {tokens[n]}"}) as http:
            http.get("/api/v1/health")  # connection up before the clock starts
            barrier.wait()
            begin = time.perf_counter()
            for (method, path, body), moment in zip(mine, moments):
                pause = begin + moment - time.perf_counter()
                if pause > 0:
                    time.sleep(pause)
                started = time.perf_counter()
                response = http.request(method, path, content=body, headers={"Content-Type": "application/json"})
                elapsed = time.perf_counter() - started
                assert response.status_code == 200, response.text[:200]
                with lock:
                    latencies.append(elapsed)

    threads = [threading.Thread(target=device, args=(n,)) for n in range(len(tokens))]
    for t in threads:
        t.start()
    barrier.wait()
    started = time.perf_counter()
    for t in threads:
        t.join()
    return latencies, time.perf_counter() - started


def run(name: str, database: str) -> dict:
    tokens = _tokens(database)
    server = _Server(database)
    try:
        health, _ = _load(server.url, tokens, lambda n: [("GET", "/api/v1/health", None)] * BATCHES_PER_DEVICE)
        bodies = {
            n: [json.dumps({"records": [_record(f"bench-{n:02d}", i) for i in range(BATCH)]}).encode()
                for _ in range(BATCHES_PER_DEVICE)]
            for n in range(DEVICES)
        }
        pushes, wall = _load(server.url, tokens, lambda n: [("POST", "/api/v1/push", b) for b in bodies[n]])
        paced = {}
        for rate in PACED_RATES:
            fresh = {
                n: [json.dumps({"records": [_record(f"bench-{n:02d}", i) for i in range(BATCH)]}).encode()
                    for _ in range(BATCHES_PER_DEVICE)]
                for n in range(DEVICES)
            }
            window = DEVICES * BATCHES_PER_DEVICE * BATCH / rate
            paced[rate], _ = _load(server.url, tokens, lambda n, fresh=fresh: [("POST", "/api/v1/push", b) for b in fresh[n]],
                                   window=window)
    finally:
        server.stop()
    records = DEVICES * BATCHES_PER_DEVICE * BATCH
    return {
        "name": name, "records_per_s": records / wall, "p50_ms": _percentile(pushes, 0.5) * 1e3,
        "p99_ms": _percentile(pushes, 0.99) * 1e3, "health_p50_ms": statistics.median(health) * 1e3,
        "health_p99_ms": _percentile(health, 0.99) * 1e3,
        "paced": {rate: (_percentile(lat, 0.5) * 1e3, _percentile(lat, 0.99) * 1e3) for rate, lat in paced.items()},
    }


def _postgres() -> str | None:
    url = os.environ.get("FIELDAPP_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
    try:
        name = f"fieldapp_bench_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(url, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return url.rpartition("/")[0] + "/" + name
    except psycopg.Error as exc:
        print(f"PostgreSQL not reachable ({type(exc).__name__}); its row is left out")
        return None


def _drop(url: str) -> None:
    base, _, name = url.rpartition("/")
    admin = os.environ.get("FIELDAPP_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    print(f"{DEVICES} devices at once, each pushing {BATCHES_PER_DEVICE} batches of {BATCH} new records back to back")
    print("baseline: the same 50 devices asking /health at once (an HTTP round trip's floor)")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        rows.append(run("SQLite", f"sqlite:///{Path(tmp) / 'bench.db'}"))
    pg = _postgres()
    if pg:
        try:
            rows.append(run("PostgreSQL", pg))
        finally:
            _drop(pg)
    print("saturated: every device pushes its batches back to back, all at once")
    print(f"{'database':>11} {'records/s':>10} {'push p50':>9} {'push p99':>9} {'health p50':>11} {'health p99':>11} {'p99/health p99':>15}")
    for r in rows:
        print(f"{r['name']:>11} {r['records_per_s']:>10.0f} {r['p50_ms']:>8.1f}ms {r['p99_ms']:>8.1f}ms "
              f"{r['health_p50_ms']:>10.1f}ms {r['health_p99_ms']:>10.1f}ms {r['p99_ms'] / r['health_p99_ms']:>14.1f}x")
    print("paced: the same 50 devices online together, each push at a random moment of a window")
    print(f"{'database':>11} {'offered':>10} {'push p50':>9} {'push p99':>9} {'p99/health p99':>15} {'goal':>6}")
    for r in rows:
        for rate, (p50, p99) in r["paced"].items():
            verdict = "met" if p99 < GOAL_P99_MS else "NOT met"
            print(f"{r['name']:>11} {rate:>8}/s {p50:>8.1f}ms {p99:>8.1f}ms {p99 / r['health_p99_ms']:>14.1f}x {verdict:>7}")
    print(f"(goal: p99 under {GOAL_P99_MS} ms per {BATCH}-record push)")

if __name__ == "__main__":
    main()
