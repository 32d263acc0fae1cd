"""The interface's response: tap to updated screen, a day of 150 calls beside a day of 5.

    python -m bench ui

Measured in a real headless Chromium at phone size (412x915) against
`fieldapp ui --web`, as a volunteer uses it: from the click on a control to
the moment the next screen's own control is in the page's accessibility tree
(the app has handled the tap, sent the new screen, and Flutter has laid it
out; for home, its first call card), and the screen before is gone. Four taps, repeated ROUNDS times: open a call from home, Back (the
browser's) to home, the Settings tab, the Calls tab. The same store holds
either 5 or 150 calls of today (every third with people brought out).
Goal: p95 under 300 ms, and the big day within 1.5x of the small one.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import httpx

from bench.common import percentile

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("FIELDAPP_TEST_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
ROUNDS = int(os.environ.get("FIELDAPP_BENCH_UI_ROUNDS", "15"))
DAYS = (5, 150)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _day(folder: Path, calls: int) -> None:
    from fieldapp.store import RecordStore
    from fieldapp.store.store import timestamp

    store = RecordStore.open(folder)
    start = datetime.now().astimezone().replace(hour=0, minute=0, second=0, microsecond=0)
    kinds = ["airstrike", "building_collapse", "fire", "shelling", "bodies_found", "traffic_accident"]
    for i in range(calls):
        at = timestamp(start + timedelta(minutes=(9 * i) % (24 * 60)))
        call = store.create_call({"received_at": at, "incident_type": kinds[i % len(kinds)],
                                  "location": {"place": f"Street {i + 1}, Jableh"},
                                  "status": ["received", "dispatched", "on_scene", "completed"][i % 4], "status_log": []})
        if i % 3 == 0:
            store.create_recovery({"call_id": call["id"], "outcome": "deceased", "count": 1 + i % 4, "recovered_at": at})
    store.close()


def _measure(calls: int) -> dict[str, list[float]]:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "device"
        _day(data, calls)
        port = _free_port()
        proc = subprocess.Popen([sys.executable, "-m", "fieldapp", "ui", "--web", "--port", str(port), "--data", str(data)],
                                cwd=ROOT, env={**os.environ, "FIELDAPP_LANG": "en"}, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)
        url = f"http://127.0.0.1:{port}"
        try:
            for _ in range(300):
                try:
                    httpx.get(url, timeout=0.5)
                    break
                except httpx.HTTPError:
                    time.sleep(0.2)
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
                page = browser.new_page(viewport={"width": 412, "height": 915}, locale="en-US")
                page.goto(url)
                page.wait_for_selector("flt-semantics-placeholder", state="attached", timeout=60_000)
                page.locator("flt-semantics-placeholder").evaluate("e => e.click()")

                def node(identifier: str):
                    return page.locator(f'[flt-semantics-identifier="{identifier}"]').first

                def shown(identifier: str, gone: str | None = None) -> None:
                    # Home is ready when its list is (its New call button scales in after it)
                    selector = ('[flt-semantics-identifier^="call-"]' if identifier == "new-call"
                                else f'[flt-semantics-identifier="{identifier}"]')
                    page.wait_for_selector(selector, state="attached", timeout=30_000)
                    if gone:
                        page.wait_for_selector(f'[flt-semantics-identifier="{gone}"]', state="detached", timeout=30_000)

                shown("new-call")
                page.wait_for_timeout(1000)
                times: dict[str, list[float]] = {"open a call": [], "Back to home": [], "Settings tab": [], "Calls tab": [],
                                                 "Queue tab": [], "open a record": [], "Back to queue": []}
                for i in range(ROUNDS + 2):  # the first two rounds warm up
                    card = page.locator('[flt-semantics-identifier^="call-"]').nth(i % 3)
                    card.wait_for(state="attached")
                    rounds = []
                    started = time.perf_counter()
                    card.click()
                    shown("add-recovery", gone="new-call")
                    rounds.append(("open a call", time.perf_counter() - started))
                    page.wait_for_timeout(150)
                    started = time.perf_counter()
                    page.go_back(wait_until="commit")
                    shown("new-call", gone="add-recovery")
                    rounds.append(("Back to home", time.perf_counter() - started))
                    page.wait_for_timeout(150)
                    started = time.perf_counter()
                    page.locator("flt-semantics[role=tab]").nth(2).click()
                    shown("send-now", gone="new-call")
                    rounds.append(("Settings tab", time.perf_counter() - started))
                    page.wait_for_timeout(150)
                    started = time.perf_counter()
                    page.locator("flt-semantics[role=tab]").nth(0).click()
                    shown("new-call", gone="send-now")
                    rounds.append(("Calls tab", time.perf_counter() - started))
                    page.wait_for_timeout(150)
                    # The lead's queue: open a record from its card (the card's heading), then Back.
                    started = time.perf_counter()
                    page.locator("flt-semantics[role=tab]").nth(1).click()
                    page.wait_for_selector('[flt-semantics-identifier^="open-"]', state="attached", timeout=30_000)
                    rounds.append(("Queue tab", time.perf_counter() - started))
                    page.wait_for_timeout(150)
                    opener = page.locator('[flt-semantics-identifier^="open-"]').nth(i % 3)
                    opened = opener.get_attribute("flt-semantics-identifier")
                    started = time.perf_counter()
                    opener.click()
                    shown("record-fields", gone=opened)
                    rounds.append(("open a record", time.perf_counter() - started))
                    page.wait_for_timeout(150)
                    started = time.perf_counter()
                    page.go_back(wait_until="commit")
                    shown(opened or "", gone="record-fields")
                    rounds.append(("Back to queue", time.perf_counter() - started))
                    page.wait_for_timeout(150)
                    page.locator("flt-semantics[role=tab]").nth(0).click()
                    shown("new-call")
                    page.wait_for_timeout(150)
                    if i >= 2:
                        for name, seconds in rounds:
                            times[name].append(seconds * 1000)
                    assert node("new-call").count() == 1
                browser.close()
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
    return times


def main() -> None:
    results = {calls: _measure(calls) for calls in DAYS}
    print(f"tap to updated screen, ms, {ROUNDS} rounds, headless Chromium 412x915 (p50 / p95):")
    print(f"{'tap':<16}" + "".join(f"{f'day of {c} calls':>22}" for c in DAYS) + f"{'ratio p50':>11}{'ratio p95':>11}")
    everything = {c: [] for c in DAYS}
    for name in results[DAYS[0]]:
        cells = []
        for calls in DAYS:
            values = results[calls][name]
            everything[calls] += values
            cells.append(f"{percentile(values, 0.5):8.0f} / {percentile(values, 0.95):5.0f}")
        small, big = results[DAYS[0]][name], results[DAYS[1]][name]
        print(f"{name:<16}" + "".join(f"{c:>22}" for c in cells)
              + f"{percentile(big, 0.5) / percentile(small, 0.5):11.2f}{percentile(big, 0.95) / percentile(small, 0.95):11.2f}")
    small, big = everything[DAYS[0]], everything[DAYS[1]]
    p50s, p95s = [percentile(everything[c], 0.5) for c in DAYS], [percentile(everything[c], 0.95) for c in DAYS]
    print(f"{'every tap':<16}" + "".join(f"{f'{a:8.0f} / {b:5.0f}':>22}" for a, b in zip(p50s, p95s))
          + f"{p50s[1] / p50s[0]:11.2f}{p95s[1] / p95s[0]:11.2f}")
    ok = p95s[1] < 300 and p50s[1] <= 1.5 * p50s[0] and p95s[1] <= 1.5 * p95s[0]
    print(f"goal (p95 < 300 ms, 150 calls within 1.5x of 5): {'met' if ok else 'NOT met'}")
    del small, big


if __name__ == "__main__":
    main()
