"""A real `fieldapp sync --once` drain of a 10k queue beside PouchDB replication of the same records.

    python -m bench pouchdb

fieldapp: a phone whose 10,000 records (a month of a busy team's, built by
bench/history.py the app's way, all pending; the store's caches in step with
its files, as the app's last save leaves them) wait to be sent runs the real
command `python -m fieldapp sync --once` in its own process against the real
server (`fieldapp-server serve`, SQLite) on loopback. A phone that never pulled
asks for its team first (empty here); then gzip batches of up to 500, one on
the wire while the verdicts of the one before are saved; the server validates
every record with pydantic, links it into the team's hash chain, stores it in
one durable SQLite transaction per batch (committed before the answer) and
answers a verdict per record; the phone saves the verdicts durably (each chunk
file fsynced, the folder once a batch); then pulls, and the server steps over
the phone's own 10k versions. Timed from process start to exit: start-up,
imports and all.

PouchDB: the same 10,000 records (read from the same store's files, as JSON
lines; `_id` is the record's id) loaded into a local PouchDB 9 (LevelDB, the
node default adapter) and replicated by `PouchDB.replicate(local, remote,
{batch_size: 200})` to an express-pouchdb server (LevelDB too, its own node
process) on loopback: revision trees and `_revs_diff` checks, no schema, LevelDB
writes not fsynced. Timed from the call to completion (node's start and the
local load are left out).

Median of ROUNDS rounds, the two sides taken in turn (this machine is a shared
VM: one round to the next varies by a fifth). bench/pouchdb/package.json pins
the versions (with its lock file); `npm ci` runs there when node_modules is
missing.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench import history
from bench.common import ROOT, enroll_folder, jsonl, median
from tests.server.conftest import Server

QUEUE = int(os.environ.get("FIELDAPP_BENCH_QUEUE", "10000"))
ROUNDS = int(os.environ.get("FIELDAPP_BENCH_POUCHDB_ROUNDS", "5"))
BATCH = 200
GOAL = 1.5
HERE = Path(__file__).resolve().parent / "pouchdb"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ensure_node_modules() -> None:
    if not (HERE / "node_modules" / "pouchdb").exists():
        print("(installing PouchDB with npm ci in bench/pouchdb)", flush=True)
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=HERE, check=True, timeout=600,
                       stdout=subprocess.DEVNULL)


def versions() -> str:
    lock = json.loads((HERE / "package-lock.json").read_text())["packages"]
    return ", ".join(f"{name} {lock['node_modules/' + name]['version']}" for name in ("pouchdb", "express-pouchdb", "express"))


def pouchdb_round(tmp: Path, records_file: Path, n: int) -> float:
    data = tmp / f"pouch-{time.monotonic_ns()}"
    data.mkdir()
    port = _free_port()
    server = subprocess.Popen(["node", str(HERE / "server.js"), str(port), str(data)], cwd=HERE,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        for _ in range(200):
            try:
                httpx.get(f"http://127.0.0.1:{port}/", timeout=0.5)
                break
            except httpx.HTTPError:
                time.sleep(0.05)
        done = subprocess.run(["node", str(HERE / "replicate.js"), str(records_file), f"http://127.0.0.1:{port}/bench",
                               str(data), str(BATCH)], cwd=HERE, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-2000:]
        result = json.loads(done.stdout.strip().splitlines()[-1])
        assert result["ok"] and result["docs_written"] == n and result["remote_docs"] == n, result
        return result["seconds"]
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=20)
        shutil.rmtree(data, ignore_errors=True)


def fieldapp_round(folder: Path) -> dict:
    """`python -m fieldapp sync --once`, its output lines timed as they come: start-up, push, then the pull."""
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "fieldapp", "sync", "--once", "--data", str(folder)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "FIELDAPP_LANG": "en"})
    first = last = None
    lines = []
    for line in proc.stdout:
        now = time.perf_counter() - started
        lines.append(line)
        if line.startswith("sending"):
            first = first if first is not None else now
            last = now
    err = proc.stderr.read()
    code = proc.wait(timeout=600)
    wall = time.perf_counter() - started
    assert code == 0 and f"all sent ({QUEUE} now" in lines[-1], (lines[-3:], err[-1000:])
    return {"wall": wall, "start": first, "push": last - first, "pull": wall - last}


def main() -> None:
    ensure_node_modules()
    print(history.prove_identical())
    source = history.history_store(QUEUE, state="pending", weeks=4)
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp:
        tmp = Path(tmp)
        records = list(history.stored_records(source))
        assert len(records) == QUEUE
        records_file = tmp / "records.jsonl"
        records_file.write_text(jsonl(records))
        db_url = f"sqlite:///{tmp / 'server.db'}"
        server = Server(db_url).start()
        ours, theirs = [], []
        try:
            for r in range(ROUNDS):
                folder = tmp / f"phone-{r}"
                history.copy_store(QUEUE, folder, state="pending", weeks=4)
                enroll_folder(db_url, folder, server.url, f"team-{r}", f"phone-{r}")
                ours.append(fieldapp_round(folder))
                shutil.rmtree(folder)
                theirs.append(pouchdb_round(tmp, records_file, QUEUE))
                print(f"  round {r + 1}: fieldapp {ours[-1]['wall']:.2f} s, PouchDB {theirs[-1]:.2f} s", flush=True)
        finally:
            server.kill(signal.SIGTERM)
    wall = median(r["wall"] for r in ours)
    fa, pd = QUEUE / wall, QUEUE / median(theirs)
    print(f"drain a queue of {QUEUE} app-built records over loopback (median of {ROUNDS})")
    print(f"  fieldapp sync --once (whole command, SQLite server): {fa:8.0f} records/s ({wall:.2f} s)")
    push = median(r["push"] for r in ours)
    print(f"    of which: start-up and open {median(r['start'] for r in ours):.2f} s; the push, first batch out to the "
          f"last verdicts saved {push:.2f} s ({QUEUE / push:.0f} records/s); then the pull, which steps over "
          f"its own {QUEUE}, {median(r['pull'] for r in ours):.2f} s")
    print(f"  PouchDB.replicate, batch_size {BATCH} ({versions()}, LevelDB both sides): {pd:8.0f} records/s ({median(theirs):.2f} s)")
    rounds = sorted(QUEUE / r["wall"] / (QUEUE / p) for r, p in zip(ours, theirs))
    print(f"  ratio: {fa / pd:.2f}x   (goal: at least {GOAL}x: {'met' if fa / pd >= GOAL else 'NOT met'}; "
          f"round by round {', '.join(f'{x:.2f}x' for x in rounds)})")


if __name__ == "__main__":
    main()
