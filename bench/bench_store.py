"""Saves on the device: latency with a year of history, beside plain TinyDB; opening cost.

    python -m bench store

History is built the app's way (bench/history.py: demo records through the
store's own create_call and chunk placement, byte-identical to saving one by
one, which the benchmark checks first), already sent and acknowledged.

For 1k, 10k and 50k records of history: p50/p99 of a save (`create_call`,
durable: fsynced and renamed) beside plain TinyDB (one `JSONStorage` file, not
even fsynced) holding the same records, in the same run. Then opening the
store in a fresh process (start, open, read today's records and the counts:
what the home screen needs) with 200k records of history beside an empty
store: wall time and peak memory. Then the first lookup of a record by id in
a fresh process just after opening (`store.get(id)`, an id from across the
history), at 200k beside 1k. Last, a recovery saved with a body tag as the form
saves it: the warning's lookup of the tag's holder (`tag_holder`), then the save,
beside the same recovery saved without a tag (no lookup), in turn, at 1k and 200k.
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

from bench import history
from fieldapp.store import RecordStore
from fieldapp.store.tags import tag_holder

TZ = timezone(timedelta(hours=3))
PLACES = ["Jableh - جبلة", "Latakia - اللاذقية", "Baniyas - بانياس", "Idlib - إدلب", "Ariha - أريحا", "Saraqib - سراقب"]
KINDS = ["airstrike", "shelling", "building_collapse", "fire", "bodies_found", "traffic_accident"]
OPEN_SIZE = int(os.environ.get("FIELDAPP_BENCH_OPEN_SIZE", "200000"))
LOOKUP_BASE = 1_000


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


def save_latency(size: int, rng: random.Random, saves: int, plain_saves: int) -> dict:
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp:
        folder = history.copy_store(size, Path(tmp) / "store")
        records = list(history.stored_records(folder))
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
        "history": size,
        "p50_ms": _percentile(ours, 0.5) * 1e3,
        "p99_ms": _percentile(ours, 0.99) * 1e3,
        "plain_p50_ms": _percentile(plain, 0.5) * 1e3,
        "plain_p99_ms": _percentile(plain, 0.99) * 1e3,
    }


OPEN_PROBE = r"""
import sys, time
t0 = time.perf_counter()
from datetime import date
from bench import history
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


LOOKUP_PROBE = r"""
import sys, time
from fieldapp.store import RecordStore
store = RecordStore.open(sys.argv[1])
t = time.perf_counter()
found = store.get(sys.argv[2])
elapsed = time.perf_counter() - t
assert found is not None and found.id == sys.argv[2]
store.close()
print(elapsed)
"""


def first_lookup(folder: Path, ids: list[str]) -> list[float]:
    """Each id looked up first thing after opening, each in its own fresh process."""
    out = []
    for rid in ids:
        done = subprocess.run([sys.executable, "-c", LOOKUP_PROBE, str(folder), rid], capture_output=True, text=True, check=True)
        out.append(float(done.stdout.split()[0]))
    return out


def _spread_ids(folder: Path, k: int, rng: random.Random) -> list[str]:
    ids = [r["id"] for r in history.stored_records(folder)]
    return [ids[int(i * (len(ids) - 1) / (k - 1))] for i in range(k)] if k > 1 else [rng.choice(ids)]


def tagged_saves(folder: Path, rng: random.Random, saves: int = 20) -> tuple[list[float], list[float]]:
    """Seconds for each, in turn: the form's check that no recovery holds a tag then its save; a save without a tag."""
    store = RecordStore.open(folder)
    try:
        call = store.create_call(_call(rng))
        tagged, untagged = [], []
        for i in range(saves):
            data = {"call_id": call["id"], "outcome": "deceased", "count": 1,
                    "recovered_at": datetime.now(TZ).isoformat(timespec="seconds")}
            tag = f"BENCH-{rng.getrandbits(48):012x}-{i}"
            started = time.perf_counter()
            assert tag_holder(store, tag) is None
            store.create_recovery({**data, "tag": tag})
            tagged.append(time.perf_counter() - started)
            started = time.perf_counter()
            store.create_recovery(data)
            untagged.append(time.perf_counter() - started)
        return tagged, untagged
    finally:
        store.close()


def main() -> None:
    rng = random.Random(2026)
    print(history.prove_identical())
    print("save latency (ms): ours (durable, day-chunked) beside plain TinyDB (one JSONStorage file), same history")
    print(f"{'history':>8} {'p50':>7} {'p99':>7} {'plain p50':>10} {'plain p99':>10} {'p50 ratio':>10}")
    for size, plain_saves in ((1_000, 40), (10_000, 8), (50_000, 5)):
        row = save_latency(size, rng, saves=300, plain_saves=plain_saves)
        ratio = row["plain_p50_ms"] / row["p50_ms"]
        print(f"{size:>8} {row['p50_ms']:>7.2f} {row['p99_ms']:>7.2f} {row['plain_p50_ms']:>10.1f} {row['plain_p99_ms']:>10.1f} "
              f"{ratio:>9.0f}x", flush=True)

    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp:
        empty = Path(tmp) / "empty"
        RecordStore.open(empty).close()
        year = history.copy_store(OPEN_SIZE, Path(tmp) / "year")
        small = history.copy_store(LOOKUP_BASE, Path(tmp) / "small")
        print("\nopening the store in a fresh process (median of 7): start -> today's records and counts ready")
        base = open_cost(empty, 7)
        full = open_cost(year, 7)
        print(f"{'store':>18} {'wall ms':>8} {'store ms':>9} {'peak MB':>8}")
        print(f"{'empty':>18} {base['wall_ms']:>8.1f} {base['open_ms']:>9.1f} {base['rss_mb']:>8.1f}")
        print(f"{f'{OPEN_SIZE // 1000}k history':>18} {full['wall_ms']:>8.1f} {full['open_ms']:>9.1f} {full['rss_mb']:>8.1f}")
        t_ratio, m_ratio = full["wall_ms"] / base["wall_ms"], full["rss_mb"] / base["rss_mb"]
        print(f"{'ratio':>18} {t_ratio:>7.2f}x {'':>9} {m_ratio:>7.2f}x   "
              f"(goal: within 1.5x in both: {'met' if max(t_ratio, m_ratio) <= 1.5 else 'NOT met'})")

        print("\nfirst lookup by id just after opening, a fresh process each (5 ids spread over the history)")
        big = first_lookup(year, _spread_ids(year, 5, rng))
        little = first_lookup(small, _spread_ids(small, 5, rng))
        print(f"{'history':>9} {'median ms':>10} {'max ms':>8}")
        print(f"{LOOKUP_BASE:>9} {statistics.median(little) * 1e3:>10.1f} {max(little) * 1e3:>8.1f}")
        print(f"{OPEN_SIZE:>9} {statistics.median(big) * 1e3:>10.1f} {max(big) * 1e3:>8.1f}")
        print(f"{'ratio':>9} {statistics.median(big) / statistics.median(little):>9.2f}x   "
              f"(goal: under 50 ms at {OPEN_SIZE}: by the median {'met' if statistics.median(big) < 0.05 else 'NOT met'}, "
              f"by the slowest {'met' if max(big) < 0.05 else 'NOT met'})")

        print("\na recovery saved with a body tag as the form saves it (the tag's holder looked up, then the save),\n"
              "beside one saved without a tag, in turn, 20 each (median ms)")
        print(f"{'history':>9} {'tagged':>8} {'slowest':>8} {'untagged':>9} {'tagged / untagged':>18}")
        medians = {}
        for size, folder in ((LOOKUP_BASE, small), (OPEN_SIZE, year)):
            tagged, untagged = tagged_saves(folder, rng)
            medians[size] = statistics.median(tagged)
            print(f"{size:>9} {medians[size] * 1e3:>8.2f} {max(tagged) * 1e3:>8.2f} {statistics.median(untagged) * 1e3:>9.2f} "
                  f"{statistics.median(tagged) / statistics.median(untagged):>17.2f}x")
        print(f"{'ratio':>9} {medians[OPEN_SIZE] / medians[LOOKUP_BASE]:>7.2f}x   (goal: under 50 ms at {OPEN_SIZE}, as for a "
              f"lookup: {'met' if medians[OPEN_SIZE] < 0.05 else 'NOT met'}; the scan it replaces took seconds)")


if __name__ == "__main__":
    main()
