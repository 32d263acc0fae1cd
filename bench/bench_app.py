"""App start: process start to a usable home screen, empty store beside a year of history.

    python -m bench app

"Usable" is measured in a real headless Chromium at phone size: from starting
`fieldapp ui --web` to the moment the home screen's "New call" button is in
the page, ready to tap. The same 12 calls of today sit in both stores; one
also holds 50,000 records of the year before, built the app's way
(bench/history.py: byte-identical to saving one by one). Peak memory is the app
process's own VmHWM. Median of 3 starts each.
"""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

from playwright.sync_api import sync_playwright

from bench import history
from bench.bench_store import TZ
from fieldapp.demo import populate
from fieldapp.store import RecordStore

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("FIELDAPP_TEST_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
RUNS = 3


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _peak_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))


def start_to_home(browser, data: Path) -> tuple[float, float]:
    port = _free_port()
    page = browser.new_page(viewport={"width": 412, "height": 915})
    page.route("**/*", lambda r: r.continue_() if r.request.url.startswith("http://127.0.0.1") else r.abort())
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "fieldapp", "ui", "--web", "--port", str(port), "--data", str(data)],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                            env={**os.environ, "FIELDAPP_LANG": "en"})
    try:
        while True:
            try:
                page.goto(f"http://127.0.0.1:{port}", timeout=5000)
                break
            except Exception:
                time.sleep(0.05)
        page.wait_for_selector("flt-semantics-placeholder", state="attached", timeout=60_000)
        page.locator("flt-semantics-placeholder").evaluate("e => e.click()")
        page.wait_for_selector('[flt-semantics-identifier="new-call"]', state="attached", timeout=60_000)
        elapsed = time.perf_counter() - started
        peak = _peak_kb(proc.pid) / 1024
    finally:
        page.close()
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
    return elapsed, peak


def main() -> None:
    print(history.prove_identical())
    with tempfile.TemporaryDirectory() as tmp:
        empty, year = Path(tmp) / "empty", Path(tmp) / "year"
        history.copy_store(50_000, year)  # a year, the app's way (bench/history.py)
        for folder in (empty, year):
            store = RecordStore.open(folder)
            populate(store, 12, seed=3, now=datetime.now(TZ))
            store.close()
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            results = {}
            for name, folder in (("empty", empty), ("year", year)):
                start_to_home(browser, folder)  # warm the disk cache and the browser
                runs = [start_to_home(browser, folder) for _ in range(RUNS)]
                results[name] = (statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs))
            browser.close()
    (e_time, e_mem), (y_time, y_mem) = results["empty"], results["year"]
    print(f"start to a usable home screen (median of {RUNS}), app process peak memory")
    print(f"{'store':>22} {'seconds':>8} {'peak MB':>8}")
    print(f"{'empty (today only)':>22} {e_time:>8.2f} {e_mem:>8.1f}")
    print(f"{'50k records of history':>22} {y_time:>8.2f} {y_mem:>8.1f}")
    print(f"{'ratio':>22} {y_time / e_time:>7.2f}x {y_mem / e_mem:>7.2f}x   (goal: within 1.5x)")


if __name__ == "__main__":
    main()
