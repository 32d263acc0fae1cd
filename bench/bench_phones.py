"""500 phones pushing 20 records each at once, over connections idle past the keep-alive, PostgreSQL.

    python -m bench phones          (FIELDAPP_BENCH_PHONES=100 for fewer; FIELDAPP_BENCH_PHONES_TEAMS=50 to spread them)

One server process (`fieldapp-server serve`, one worker) on PostgreSQL, on
loopback. 500 enrolled phones of one team (the worst case: one team's pushes
take turns on its row lock), each with its own `fieldapp.sync.client.SyncClient` (the
device's real client: httpx, its own connection, gzip, verdicts checked) driven
from asyncio (one thread each for the blocking client). Each phone opens its
connection with a `/health`, then all sit idle until just past the server's
keep-alive (uvicorn's, 5 s) counted from the moment the last connection was
up, and push their 20 records (app-built by bench/history.py, each phone its
own installation id) at once: the earliest connections have been closed by
the server, the last are being closed as the pushes go, which is where the
"unreachable" failures came from. Every failure is counted and its error class
printed. The baseline, in the same run: `/health` polled every 10 ms by a
separate process with its own connection while the pushes go.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench import history
from bench.common import ROOT, drop_postgres, percentile, postgres_database
from fieldapp.sync.client import SyncClient
from fieldapp.sync.errors import SyncError
from tests.server.conftest import Server

PHONES = int(os.environ.get("FIELDAPP_BENCH_PHONES", "500"))
TEAMS = int(os.environ.get("FIELDAPP_BENCH_PHONES_TEAMS", "1"))  # the phones dealt round the teams
RECORDS = 20
PAST_KEEPALIVE = 0.05  # seconds after the keep-alive, counted from the last connection up
DEADLINE = 180  # the whole push wave, at most

POLLER = r"""
import json, os, sys, time, httpx
url, stop = sys.argv[1], sys.argv[2]
lat = []
with httpx.Client(timeout=30) as http:
    http.get(url)
    print("up", flush=True)
    while not os.path.exists(stop):
        t = time.perf_counter()
        http.get(url)
        lat.append(time.perf_counter() - t)
        time.sleep(0.01)
print(json.dumps(lat))
"""


def keep_alive() -> float:
    import uvicorn

    return float(uvicorn.Config(app=None).timeout_keep_alive)


def tokens(server: Server, n: int) -> list[str]:
    from sync.server.auth import new_token, token_hash
    from sync.server.db import open_database

    db = open_database(server.database_url)
    out = []
    try:
        for i in range(n):
            token = new_token()
            db.enroll(team=f"team-{i % TEAMS}", device_id=f"phone-{i:03d}", role="volunteer", token_hash=token_hash(token))
            out.append(token)
    finally:
        db.close()
    return out


def batches(n: int) -> list[list[dict]]:
    records = list(history.stored_records(history.history_store(n * RECORDS, state="pending", seed=20, weeks=4)))
    out = []
    for i in range(n):
        mine = [dict(r, device_id=f"dev-phone-{i:03d}") for r in records[i * RECORDS:(i + 1) * RECORDS]]
        out.append(mine)
    return out


async def wave(url: str, keys: list[str], loads: list[list[dict]], idle: float) -> dict:
    loop = asyncio.get_running_loop()
    loop.set_default_executor(ThreadPoolExecutor(max_workers=len(keys) + 4))
    clients = [SyncClient(url, key) for key in keys]
    opened = asyncio.Event()
    up = 0
    results: list[tuple[float, str | None]] = []

    async def phone(i: int) -> None:
        nonlocal up
        await asyncio.to_thread(clients[i].health)  # its connection, open and idle from here
        up += 1
        if up == len(keys):
            push_at[0] = time.monotonic() + idle
            opened.set()
        await opened.wait()
        await asyncio.sleep(max(0.0, push_at[0] - time.monotonic()))
        started = time.perf_counter()
        try:
            verdicts = await asyncio.to_thread(clients[i].push, loads[i])
            bad = [v for v in verdicts if v.status not in ("accepted", "duplicate")]
            error = f"verdicts: {Counter(v.status for v in bad)}" if bad else None
        except SyncError as exc:
            error = f"{type(exc).__name__}: {exc}"
        except Exception as exc:  # anything else is a failure too, by class
            error = f"{type(exc).__name__}: {exc}"
        results.append((time.perf_counter() - started, error))

    push_at = [0.0]
    started = time.monotonic()
    try:
        await asyncio.wait_for(asyncio.gather(*(phone(i) for i in range(len(keys)))), DEADLINE)
    finally:
        for c in clients:
            c.close()
    return {"results": results, "connect_s": push_at[0] - idle - started}


def main() -> None:
    idle = keep_alive() + PAST_KEEPALIVE
    loads = batches(PHONES)
    pg = postgres_database()
    if pg is None:
        print("PostgreSQL not reachable: nothing measured")
        return
    with tempfile.TemporaryDirectory() as tmp:
        stop = Path(tmp) / "stop"
        try:
            server = Server(pg).start()
            try:
                keys = tokens(server, PHONES)
                poller = subprocess.Popen([sys.executable, "-c", POLLER, server.url + "/api/v1/health", str(stop)],
                                          cwd=ROOT, stdout=subprocess.PIPE, text=True)
                assert poller.stdout.readline().strip() == "up"
                try:
                    out = asyncio.run(wave(server.url, keys, loads, idle))
                finally:
                    stop.touch()
                    health = json.loads(poller.communicate(timeout=60)[0])
            finally:
                server.kill(signal.SIGTERM)
        finally:
            drop_postgres(pg)
    results = out["results"]
    pushes = [t for t, e in results]
    failures = Counter(e for _, e in results if e)
    done = len(results)
    print(f"{PHONES} phones, one connection each, opened in {out['connect_s']:.1f} s, idle {idle:.2f} s "
          f"(keep-alive {keep_alive():.0f} s + {PAST_KEEPALIVE} s), then {RECORDS} records each pushed at once; "
          f"one server process, PostgreSQL, {'one team' if TEAMS == 1 else f'{TEAMS} teams'}")
    print(f"  pushes: {done - sum(failures.values())} of {PHONES} ok, {sum(failures.values())} failed"
          + (f", {PHONES - done} never finished" if done < PHONES else ""))
    for error, n in failures.most_common():
        print(f"    {n} x {error}")
    print(f"  push latency: p50 {percentile(pushes, 0.5) * 1e3:.0f} ms, p99 {percentile(pushes, 0.99) * 1e3:.0f} ms, "
          f"max {max(pushes) * 1e3:.0f} ms")
    print(f"  /health from a separate process meanwhile ({len(health)} polls): p50 {percentile(health, 0.5) * 1e3:.1f} ms, "
          f"p99 {percentile(health, 0.99) * 1e3:.1f} ms, max {max(health) * 1e3:.1f} ms")
    print(f"  push p99 / health p99: {percentile(pushes, 0.99) / percentile(health, 0.99):.1f}x")
    print(f"  goal: no push fails: {'met' if not failures and done == PHONES else 'NOT met'}")


if __name__ == "__main__":
    main()
