"""The volunteer's app in a real headless Chromium at phone size, against `fieldapp ui --web`.

The device is enrolled with a server that is not there (a closed loopback
port), and every request to anything but 127.0.0.1 is blocked, as on a
phone with no network: saving must not wait on either.
"""

from __future__ import annotations

import json
import os
import tempfile
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from fieldapp.sync import enrollment
from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
# Where the screenshots go: a scratch folder, unless FIELDAPP_SCREENSHOTS names
# another (FIELDAPP_SCREENSHOTS=docs/screenshots refreshes the documentation's).
SHOTS = Path(os.environ.get("FIELDAPP_SCREENSHOTS") or Path(tempfile.gettempdir()) / "fieldapp-screenshots").absolute()
PHONE = {"width": 412, "height": 915}
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture
def app(tmp_path):
    data = tmp_path / "device"
    from fieldapp.store import RecordStore

    RecordStore.open(data).close()
    enrollment.save(data, enrollment.Enrollment(f"http://127.0.0.1:{free_port()}", "token-of-a-missing-server"))
    port = free_port()
    env = {**os.environ, "FIELDAPP_LANG": "en"}
    proc = subprocess.Popen([sys.executable, "-m", "fieldapp", "ui", "--web", "--port", str(port), "--data", str(data)],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            httpx.get(url, timeout=0.5)
            break
        except httpx.HTTPError:
            if proc.poll() is not None:
                raise RuntimeError(proc.stderr.read().decode(errors="replace")[-2000:])
            time.sleep(0.2)
    yield url, data
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


class Phone:
    """Drives the Flutter web client through its accessibility DOM."""

    def __init__(self, page):
        self.page = page
        self.outside: list[str] = []  # requests that reached the network layer for another host
        self.refused: list[str] = []  # requests the browser refused under the app's policy

    def open(self, url: str) -> None:
        # The app's Content-Security-Policy must stop the browser before any
        # outside address; a request that got as far as the network shows here.
        self.page.on("requestfailed", lambda r: self.refused.append(r.url) if r.failure == "csp" else None)

        def route(r):
            if r.request.url.startswith("http://127.0.0.1"):
                return r.continue_()
            self.outside.append(r.request.url)
            return r.abort()

        self.page.route("**/*", route)
        self.page.goto(url)
        self.page.wait_for_selector("flt-semantics-placeholder", state="attached", timeout=60_000)
        self.page.locator("flt-semantics-placeholder").evaluate("e => e.click()")
        self.wait_for("new-call")

    def node(self, identifier: str):
        return self.page.locator(f'[flt-semantics-identifier="{identifier}"]').first

    def wait_for(self, identifier: str, timeout: float = 30_000) -> None:
        try:
            self.page.wait_for_selector(f'[flt-semantics-identifier="{identifier}"]', state="attached", timeout=timeout)
        except Exception:
            self.page.screenshot(path=str(SHOTS / f"failed-waiting-for-{identifier}.png"))
            raise

    def tap(self, identifier: str) -> None:
        self.wait_for(identifier)
        self.node(identifier).click()
        self.page.wait_for_timeout(250)

    def type(self, identifier: str, text: str) -> None:
        box = self.node(identifier).locator("input, textarea").first
        box.click()  # focus first: filling an unfocused field can send a stale value
        self.page.wait_for_timeout(100)
        box.fill(text)
        self.page.wait_for_timeout(300)

    def text(self) -> str:
        """What the page says: its nodes' texts and the labels a screen reader reads."""
        labels = self.page.eval_on_selector_all("flt-semantics", "els => els.map(e => e.getAttribute('aria-label') || '')")
        return " ".join(self.page.locator("flt-semantics").all_inner_texts() + labels)

    def shot(self, name: str) -> None:
        self.page.wait_for_timeout(400)  # the canvas lags the DOM by a frame
        self.page.screenshot(path=str(SHOTS / f"{name}.png"))


@pytest.fixture
def phone(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport=PHONE)
        yield Phone(page)
        browser.close()


def export(data: Path) -> list[dict]:
    out = subprocess.run([sys.executable, "-m", "fieldapp", "export", "--data", str(data)],
                         cwd=ROOT, capture_output=True, text=True, timeout=60, check=True).stdout
    return [json.loads(line) for line in out.splitlines()]


def test_a_call_a_group_recovery_and_completion_offline_then_arabic(app, phone):
    url, data = app
    phone.open(url)
    assert "Not linked" not in phone.text()  # enrolled, but the server is unreachable

    started = time.monotonic()
    phone.tap("new-call")
    phone.tap("type-building_collapse")
    phone.type("field-place", "Jableh, Al-Fayd quarter")
    phone.tap("save-call")
    phone.wait_for("add-recovery")
    phone.tap("add-recovery")
    phone.tap("outcome-deceased")
    phone.type("field-count", "3")
    phone.tap("save-recovery")
    phone.wait_for("status-completed")
    phone.tap("status-completed")
    phone.page.wait_for_timeout(500)
    elapsed = time.monotonic() - started
    assert "Deceased × 3" in phone.text()
    phone.tap("edit-call")  # the correction form opens with the call's own values
    phone.wait_for("save-call")
    assert "Correct and resend" in phone.text()
    phone.tap("back")
    phone.wait_for("add-recovery")

    records = export(data)
    calls = [r for r in records if r["type"] == "call"]
    recoveries = [r for r in records if r["type"] == "recovery"]
    assert len(calls) == 1 and len(recoveries) == 1
    call = calls[0]
    assert call["data"]["incident_type"] == "building_collapse"
    assert call["data"]["location"]["place"] == "Jableh, Al-Fayd quarter"
    assert call["data"]["status"] == "completed" and call["version"] == 2 and call["base_version"] == 0
    assert [s["status"] for s in call["data"]["status_log"]] == ["completed"]
    recovery = recoveries[0]
    assert recovery["data"] == {**recovery["data"], "call_id": call["id"], "outcome": "deceased", "count": 3}
    assert recovery["version"] == 1
    # nothing waited on the network: three saves, and the badge still counts them waiting
    phone.tap("back")
    phone.wait_for("new-call")
    badge = phone.node("sync-badge").inner_text()
    assert "waiting" in badge and "2" in badge
    print(f"call, group recovery and completion saved offline in {elapsed:.1f} s of browser time")

    # Arabic: Arabic labels, and the layout mirrors
    ltr_x = phone.node("sync-badge").bounding_box()["x"]
    phone.tap("nav-settings")
    phone.tap("lang-ar")
    phone.tap("nav-home")
    phone.wait_for("new-call")
    assert "بلاغ جديد" in phone.text() and "بلاغات اليوم" in phone.text()
    badge = phone.node("sync-badge").bounding_box()
    assert badge["x"] + badge["width"] > PHONE["width"] - 40 and badge["x"] > ltr_x  # now hugs the right edge
    assert phone.outside == [], phone.outside
    print(f"requests refused by the app's Content-Security-Policy: {phone.refused}")


SCREENS = ("home", "new_call", "call", "recovery", "settings")


def _go(phone: Phone, screen: str) -> None:
    phone.tap("nav-home")
    phone.wait_for("new-call")
    if screen == "new_call":
        phone.tap("new-call")
    elif screen in ("call", "recovery"):
        phone.page.locator('[flt-semantics-identifier^="call-"]').first.click()
        phone.wait_for("add-recovery")
        if screen == "recovery":
            phone.tap("add-recovery")
    elif screen == "settings":
        phone.tap("nav-settings")


def test_screenshots_of_every_screen_english_and_arabic_light_and_dark(app, phone):
    url, data = app
    subprocess.run([sys.executable, "-m", "fieldapp", "demo", "--calls", "12", "--seed", "4", "--data", str(data)],
                   cwd=ROOT, capture_output=True, check=True, timeout=120)
    phone.open(url)
    SHOTS.mkdir(parents=True, exist_ok=True)
    taken = []
    dark = False
    for language in ("en", "ar"):
        for look in ("light", "dark"):
            phone.tap("nav-settings")
            phone.tap(f"lang-{language}")
            if dark != (look == "dark"):
                phone.tap("dark")
                dark = not dark
            for screen in SCREENS:
                _go(phone, screen)
                name = f"{screen}-{language}-{look}"
                phone.shot(name)
                taken.append(name)
    assert len(taken) == 20 and all((SHOTS / f"{n}.png").stat().st_size > 5000 for n in taken)
