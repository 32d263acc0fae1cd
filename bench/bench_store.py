"""Saves on the device: latency with a year of history, beside plain TinyDB; opening cost.

    python -m bench store

For 1k, 10k and 50k records of history: p50/p99 of a save (`create_call`,
durable: fsynced and renamed) beside plain TinyDB (one `JSONStorage` file, not
even fsynced) holding the same history, in the same run. Then opening the
store in a fresh process (start, open, read today's records and the counts:
what the home screen needs) with 50k records of history beside an empty
store: wall time and peak memory.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

from tinydb import TinyDB
from tinydb.storages import JSONStorage

from fieldapp.store import RecordStore

TZ = timezone(timedelta(hours=3))
PLACES = ["Jableh - جبلة", "Latakia - اللاذقية", "Baniyas - بانياس", "Idlib - إدلب", "Ariha - أريحا", "Saraqib - سراقب"]
KINDS = ["airstrike", "shelling", "building_collapse", "fire", "bodies_found", "traffic_accident"]


def _history(n: int, today: datetime, rng: random.Random) -> list[dict]:
    """n sent records spread over the year before today: calls and their recoveries."""
    records: list[dict] = []
    per_day = max(1, n // 365)
    day = 0
    while len(records) < n:
        when = today - timedelta(days=365 - day % 365, hours=rng.randint(0, 10))
        stamp = when.isoformat(timespec="milliseconds")
        call_id = str(uuid.uuid4())
        records.append({
            "id": call_id, "type": "call", "version": 3, "base_version": 2, "device_id": "dev-bench",
            "created_at": stamp, "updated_at": stamp, "recorded_by": "Falcon-3",
            "data": {
                "received_at": stamp, "incident_type": rng.choice(KINDS), "status": "completed",
                "location": {"place": rng.choice(PLACES), "lat": 35.0 + rng.random(), "lon": 35.8 + rng.random(), "accuracy_m": 15.0},
                "status_log": [{"status": s, "at": stamp} for s in ("dispatched", "on_scene", "completed")],
                "reported_people": rng.randint(0, 12), "notes": "Collapsed three-storey building, access from the north side.",
            },
        })
        for _ in range(min(3, n - len(records))):
            records.append({
                "id": str(uuid.uuid4()), "type": "recovery", "version": 1, "base_version": 0, "device_id": "dev-bench",
                "created_at": stamp, "updated_at": stamp,
                "data": {"call_id": call_id, "outcome": rng.choice(["rescued", "injured", "deceased"]), "count": rng.choice([1, 1, 1, 2, 10]),
                         "recovered_at": stamp, "sex": "unknown", "age_group": "adult", "identified": False,
                         "tag": f"T-{rng.randint(1, 9999)}", "handed_to": "Jableh National Hospital"},
            })
        if len(records) >= per_day * (day + 1):
            day += 1
    return records[:n]


def _store_with_history(folder: Path, records: list[dict]) -> None:
    store = RecordStore.open(folder)
    by_day: dict[str, list[dict]] = {}
    for r in records:
        by_day.setdefault(r["created_at"][:10], []).append(r)
    for day_records in by_day.values():
        store.save_pulled(day_records)
    store.close()


def _tinydb_with_history(path: Path, records: list[dict]) -> None:
    path.write_text(json.dumps({"_default": {str(i + 1): r for i, r in enumerate(records)}}))


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def _call(rng: random.Random) -> dict:
    return {
        "received_at": datetime.now(TZ).isoformat(timespec="seconds"), "incident_type": rng.choice(KINDS),
        "status": "received", "location": {"place": rng.choice(PLACES), "lat": 35.36, "lon": 35.92, "accuracy_m": 10.0},
        "reported_people": 4, "notes": "Family of four under the rubble, voices heard.",
    }


def save_latency(history: int, rng: random.Random, saves: int, plain_saves: int) -> dict:
    today = datetime.now(TZ)
    records = _history(history, today, rng)
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp:
        folder = Path(tmp) / "store"
        _store_with_history(folder, records)
        store = RecordStore.open(folder)
        ours = []
        for _ in range(saves):
            data = _call(rng)
            started = time.perf_counter()
            store.create_call(data)
            ours.append(time.perf_counter() - started)
        store.close()

        plain_path = Path(tmp) / "plain.json"
        _tinydb_with_history(plain_path, records)
        db = TinyDB(plain_path, storage=JSONStorage)
        plain = []
        for _ in range(plain_saves):
            doc = {"id": str(uuid.uuid4()), "type": "call", "data": _call(rng)}
            started = time.perf_counter()
            db.insert(doc)
            plain.append(time.perf_counter() - started)
        db.close()
    return {
        "history": history,
        "p50_ms": _percentile(ours, 0.5) * 1e3,
        "p99_ms": _percentile(ours, 0.99) * 1e3,
        "plain_p50_ms": _percentile(plain, 0.5) * 1e3,
        "plain_p99_ms": _percentile(plain, 0.99) * 1e3,
    }


OPEN_PROBE = r"""
import sys, time
t0 = time.perf_counter()
from datetime import date
from fieldapp.store import RecordStore
t1 = time.perf_counter()
store = RecordStore.open(sys.argv[1])
today = store.day(date.today().isoformat())
counts = store.counts()
t2 = time.perf_counter()
store.close()
# VmHWM: this process's own peak (ru_maxrss would carry the parent's across exec)
peak = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:"))
print(t2 - t0, t2 - t1, peak)
"""


def open_cost(folder: Path, runs: int) -> dict:
    """Median over fresh processes: process start to home data ready, the store's part, peak RSS."""
    walls, opens, rss = [], [], []
    for _ in range(runs):
        started = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", OPEN_PROBE, str(folder)], capture_output=True, text=True, check=True)
        walls.append(time.perf_counter() - started)
        _, store_part, peak = out.stdout.split()
        opens.append(float(store_part))
        rss.append(int(peak))
    return {"wall_ms": statistics.median(walls) * 1e3, "open_ms": statistics.median(opens) * 1e3, "rss_mb": statistics.median(rss) / 1024}


def main() -> None:
    rng = random.Random(2026)
    print("save latency (ms): ours (durable, day-chunked) beside plain TinyDB (one JSONStorage file), same history")
    print(f"{'history':>8} {'p50':>7} {'p99':>7} {'plain p50':>10} {'plain p99':>10} {'p50 ratio':>10}")
    for history, plain_saves in ((1_000, 40), (10_000, 8), (50_000, 5)):
        row = save_latency(history, rng, saves=300, plain_saves=plain_saves)
        ratio = row["plain_p50_ms"] / row["p50_ms"]
        print(f"{history:>8} {row['p50_ms']:>7.2f} {row['p99_ms']:>7.2f} {row['plain_p50_ms']:>10.1f} {row['plain_p99_ms']:>10.1f} {ratio:>9.0f}x", flush=True)

    print("\nopening the store in a fresh process (median of 7): start -> today's records and counts ready")
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp:
        empty = Path(tmp) / "empty"
        year = Path(tmp) / "year"
        RecordStore.open(empty).close()
        _store_with_history(year, _history(50_000, datetime.now(TZ), rng))
        base = open_cost(empty, 7)
        full = open_cost(year, 7)
    print(f"{'store':>18} {'wall ms':>8} {'store ms':>9} {'peak MB':>8}")
    print(f"{'empty':>18} {base['wall_ms']:>8.1f} {base['open_ms']:>9.1f} {base['rss_mb']:>8.1f}")
    print(f"{'50k history':>18} {full['wall_ms']:>8.1f} {full['open_ms']:>9.1f} {full['rss_mb']:>8.1f}")
    print(f"{'ratio':>18} {full['wall_ms'] / base['wall_ms']:>7.2f}x {'':>9} {full['rss_mb'] / base['rss_mb']:>7.2f}x")


if __name__ == "__main__":
    main()
