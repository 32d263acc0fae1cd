"""`fieldapp sync --once` with 300 new saves waiting, by the size of the phone's history.

    python -m bench once            (FIELDAPP_BENCH_ONCE_SIZES=1000,50000 to choose sizes)

What a volunteer lives through at the end of a shift: the phone holds a history
already sent and acknowledged (built by bench/history.py the app's own way,
byte-identical to saving one by one), 300 new records saved today through
`create_call` / `create_recovery`, and runs the real command, `python -m fieldapp
sync --once`, in its own process against the real server (`fieldapp-server
serve`, SQLite) on loopback. The server holds the device's history (put in
through its own `Database.push`), the device is enrolled and its pull cursor
is where its last sync left it. Wall time of the command, from process start
to exit; median of 3 per size, the sizes taken in turn. The baseline is the
same command with 1k records of history, in the same run.
"""

from __future__ import annotations

import os
import signal
import tempfile
from pathlib import Path

from bench import history
from bench.common import enroll_folder, fieldapp, median, server_push, team_cursor
from fieldapp.store import RecordStore
from tests.server.conftest import Server

SIZES = tuple(int(s) for s in os.environ.get("FIELDAPP_BENCH_ONCE_SIZES", "1000,50000,200000").split(","))
WAITING = 300
RUNS = 3
GOAL = 1.5


def prepare(tmp: Path, db_url: str, size: int) -> Path:
    folder = history.copy_store(size, tmp / f"phone-{size}")
    team, device = f"team-{size}", f"phone-{size}"
    server_push(db_url, team, device, list(history.stored_records(folder)))
    return folder


def refused(folder: Path) -> None:
    """What the server refused, by field and reason (no values), so a failed run says why."""
    from collections import Counter

    store = RecordStore.open(folder)
    reasons = Counter((r.type, e.get("field"), e.get("message")) for r in store.iter_current() if r.state == "rejected"
                      for e in r.errors)
    store.close()
    for (kind, field, message), n in reasons.most_common(5):
        print(f"    refused: {n} x {kind} {field}: {message}")


def main() -> None:
    print(history.prove_identical())
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp:
        tmp = Path(tmp)
        db_url = f"sqlite:///{tmp / 'server.db'}"
        folders = {size: prepare(tmp, db_url, size) for size in SIZES}
        server = Server(db_url).start()
        try:
            for size, folder in folders.items():
                enroll_folder(db_url, folder, server.url, f"team-{size}", f"phone-{size}")
                store = RecordStore.open(folder)
                store.set_meta("pull_cursor", team_cursor(db_url, f"team-{size}"))
                store.set_meta("team", f"team-{size}")
                store.close()
            walls: dict[int, list[float]] = {size: [] for size in SIZES}
            peaks: dict[int, list[float]] = {size: [] for size in SIZES}
            for run in range(RUNS):
                for size, folder in folders.items():
                    store = RecordStore.open(folder)
                    history.save_today(store, WAITING, seed=run * 100 + 7)
                    store.close()
                    done = fieldapp("sync", "--once", data=folder)
                    if not (done["code"] == 0 and f"all sent ({WAITING} now" in done["out"]):
                        print(f"  {size}, run {run + 1}: {done['out'].strip().splitlines()[-1:]} {done['err'][-500:]}")
                        refused(folder)
                    walls[size].append(done["wall_s"])
                    peaks[size].append(done["peak_mb"])
        finally:
            server.kill(signal.SIGTERM)
    base = median(walls[SIZES[0]])
    print(f"`fieldapp sync --once` with {WAITING} new saves waiting (median of {RUNS}, wall time of the command)")
    print(f"{'history':>9} {'seconds':>8} {'runs':>22} {'peak MB':>8} {'vs ' + str(SIZES[0]):>9}")
    for size in SIZES:
        runs = ", ".join(f"{w:.2f}" for w in walls[size])
        print(f"{size:>9} {median(walls[size]):>8.2f} {runs:>22} {median(peaks[size]):>8.1f} {median(walls[size]) / base:>8.2f}x")
    worst = median(walls[SIZES[-1]]) / base
    print(f"goal: {SIZES[-1]} within {GOAL}x of {SIZES[0]}: {worst:.2f}x, {'met' if worst <= GOAL else 'NOT met'}")


if __name__ == "__main__":
    main()
