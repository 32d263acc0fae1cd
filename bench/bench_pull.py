"""A new phone's first full pull of its team, by the team's size.

    python -m bench pull            (FIELDAPP_BENCH_PULL_SIZES=12500,50000 to choose sizes)

The server (`fieldapp-server serve`, SQLite, on loopback) holds a team's records
as four phones sent them: a year each, built by bench/history.py the app's way,
put in through the server's own `Database.push`. A new phone, enrolled in the
team with an empty store, runs the real command `python -m fieldapp sync --once`
in its own process: it has nothing to send and pulls every record, page by
page. Records per second (records / the command's wall time, process start to
exit) and the command's peak memory (ru_maxrss, read by a small wrapper
process). The baseline is the same pull of the smallest team, in the same run;
the sizes are taken in turn, forwards then backwards, for ROUNDS rounds (the
disk is shared: an fsync costs 0.5 to 2 ms from one minute to the next).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import statistics
import tempfile
from pathlib import Path

from bench import history
from bench.common import enroll_folder, fieldapp, server_push
from fieldapp.store.partition import CHUNK_RECORDS
from tests.server.conftest import Server

SIZES = tuple(int(s) for s in os.environ.get("FIELDAPP_BENCH_PULL_SIZES", "12500,50000,100000").split(","))
PHONES = 4
ROUNDS = int(os.environ.get("FIELDAPP_BENCH_PULL_ROUNDS", "2"))  # sizes in turn, forwards then backwards
# "Flat": the peak of the largest pull within a tenth of the smallest's, for 8x the records.
GOALS = {"rate_ratio": 1.2, "rate": 3_000, "peak_mb": 120, "peak_flat": 1.1}


def phones_records(per_phone: int) -> list[list[dict]]:
    """Each of PHONES phones' year of records (cached stores, one per seed: its own device id).

    The phones' tags are numbered on across the team (the server refuses a tag used twice in a team)."""
    phones = [list(history.stored_records(history.history_store(per_phone, seed=10 + p))) for p in range(PHONES)]
    history.renumber_tags([r["data"] for records in phones for r in records if r["type"] == "recovery"], {})
    return phones


def largest_chunk(folder: Path) -> int:
    manifest = json.loads((folder / "index" / "manifest.json").read_bytes())
    return max((s["count"] for s in manifest["partitions"].values()), default=0)


def main() -> None:
    print(history.prove_identical())
    sources = phones_records(max(SIZES) // PHONES)
    rows = []
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp:
        tmp = Path(tmp)
        db_url = f"sqlite:///{tmp / 'server.db'}"
        for size in SIZES:
            for p, records in enumerate(sources):
                server_push(db_url, f"team-{size}", f"old-phone-{p}", records[:size // PHONES])
        server = Server(db_url).start()
        runs: dict[int, list[dict]] = {size: [] for size in SIZES}
        try:
            for r in range(ROUNDS):
                # The disk and the cores are shared: each size in each round, the order reversed every round.
                for size in (SIZES if r % 2 == 0 else tuple(reversed(SIZES))):
                    folder = tmp / f"new-phone-{size}-{r}"
                    folder.mkdir()
                    enroll_folder(db_url, folder, server.url, f"team-{size}", f"new-phone-{size}-{r}")
                    done = fieldapp("sync", "--once", data=folder, timeout=900)
                    ok = done["code"] == 0 and f"{size} received" in done["out"]
                    if not ok:
                        print(f"  {size}: the command did not finish as expected: {done['out'][-300:]!r} {done['err'][-500:]!r}")
                    runs[size].append({"wall": done["wall_s"], "peak": done["peak_mb"],
                                       "chunk": largest_chunk(folder) if ok else 0, "ok": ok})
                    print(f"  round {r + 1}: pulled {size} in {done['wall_s']:.1f} s, peak {done['peak_mb']:.1f} MB", flush=True)
                    shutil.rmtree(folder)
        finally:
            server.kill(signal.SIGTERM)
    for size in SIZES:
        wall = statistics.median(x["wall"] for x in runs[size])
        rows.append({"size": size, "wall": wall, "rate": size / wall, "peak": max(x["peak"] for x in runs[size]),
                     "chunk": max(x["chunk"] for x in runs[size]), "ok": all(x["ok"] for x in runs[size])})
    base = rows[0]
    print(f"a new phone's first `fieldapp sync --once` (pulls the whole team, {PHONES} phones' records); "
          f"median of {ROUNDS} rounds, peak the highest")
    print(f"{'team':>8} {'seconds':>8} {'records/s':>10} {'vs ' + str(base['size']):>10} {'peak MB':>8} {'largest chunk':>14}")
    for r in rows:
        print(f"{r['size']:>8} {r['wall']:>8.1f} {r['rate']:>10.0f} {base['rate'] / r['rate']:>9.2f}x {r['peak']:>8.1f} {r['chunk']:>14}")
    last = rows[-1]
    slow = base["rate"] / last["rate"]
    print(f"goals at {last['size']}: rate within {GOALS['rate_ratio']}x of {base['size']}'s: {slow:.2f}x "
          f"{'met' if slow <= GOALS['rate_ratio'] else 'NOT met'}; at least {GOALS['rate']}/s: {last['rate']:.0f} "
          f"{'met' if last['rate'] >= GOALS['rate'] else 'NOT met'}; peak under {GOALS['peak_mb']} MB: {last['peak']:.1f} "
          f"({last['peak'] / base['peak']:.2f}x the {base['size']} pull) "
          f"{'met' if last['peak'] < GOALS['peak_mb'] else 'NOT met'}; flat (within {GOALS['peak_flat']}x): "
          f"{'met' if last['peak'] <= GOALS['peak_flat'] * base['peak'] else 'NOT met'}; chunks at most {CHUNK_RECORDS}: "
          f"{'met' if max(r['chunk'] for r in rows) <= CHUNK_RECORDS else 'NOT met'}")


if __name__ == "__main__":
    main()
