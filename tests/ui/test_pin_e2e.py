"""The PIN in a real Chromium: digits from an Arabic keyboard, a reload that asks again, the wait shown,
and flet-secure-storage's real control keeping the keystore's secret (the browser's storage, in the web mode)."""

from __future__ import annotations

import json

import pytest

from fieldapp.store import RecordStore, keystore, protect, throttle
from fieldapp.sync import enrollment
from tests.conftest import free_port
from tests.ui.test_e2e import Phone, browser, start_app, stop_app  # noqa: F401  (browser: a fixture)

PIN = "1234"


def _sealed(tmp_path):
    data = tmp_path / "device"
    RecordStore.open(data).close()
    enrollment.save(data, enrollment.Enrollment(f"http://127.0.0.1:{free_port()}", "token-of-a-missing-server"))
    protect.set_pin(data, PIN)
    protect.forget(data)
    return data


@pytest.fixture
def sealed_app(tmp_path):
    data = _sealed(tmp_path)
    url, proc = start_app(data, {"FIELDAPP_LANG": "ar"})
    yield url, data
    stop_app(proc)
    protect.forget(data)


def _to_lock(phone: Phone, url: str) -> None:
    """Load (or reload) the page: a new session, which must ask for the PIN."""
    phone.page.goto(url)
    phone.page.wait_for_selector("flt-semantics-placeholder", state="attached", timeout=60_000)
    phone.page.locator("flt-semantics-placeholder").evaluate("e => e.click()")
    phone.wait_for("lock-pin")


def _give(phone: Phone, pin: str) -> None:
    phone.type("lock-pin", pin, check=False)  # what follows waits for the lock's answer
    # A refused PIN is said in place on the lock (no screen drawn anew): each test waits for what it expects.
    phone.tap("lock-open", answered=False)


def test_arabic_persian_and_ascii_digits_open_the_app_in_arabic_and_a_reload_asks_again(sealed_app, browser):
    url, _data = sealed_app
    phone = Phone(browser.new_page(viewport={"width": 412, "height": 915}, locale="ar-SY"))
    _to_lock(phone, url)
    _give(phone, "²³⁴⁵")  # superscripts: not digits
    phone.wait_for_text("أرقام فقط")
    phone.shot("lock-ar-not-digits")
    for typed in ("١٢٣٤", "۱۲۳۴", "1234"):
        _give(phone, typed)
        phone.wait_for("new-call")
        assert "lock-pin" not in phone.page.content()
        _to_lock(phone, url)  # a reload while the app's process holds the key: the lock again
        assert "new-call" not in phone.page.content()


def test_the_lock_says_how_long_to_wait_after_wrong_pins_in_arabic(tmp_path, browser, monkeypatch):
    data = _sealed(tmp_path)
    # Ten wrong PINs, the last of them just now (the clock stands in for the time they took).
    start = throttle.time.time() - sum(throttle.wait_for(n) + 1 for n in range(10)) - 2
    now = [start]
    monkeypatch.setattr(throttle, "clock", lambda: now[0])
    for _ in range(10):
        now[0] += throttle.Guesses(data, keystore.current(), None).wait_s() + 1
        with pytest.raises(protect.WrongPin):
            protect.unlock(data, "999999")
    url, proc = start_app(data, {"FIELDAPP_LANG": "ar"})  # a restart: the app's own process and clock
    try:
        phone = Phone(browser.new_page(viewport={"width": 412, "height": 915}, locale="ar-SY"))
        _to_lock(phone, url)
        _give(phone, "١٢٣٤")  # the right PIN, during the wait: not tried
        phone.wait_for_text("حاول مجددًا بعد")
        said = phone.text()
        assert "حاول مجددًا بعد" in said and any(m in said for m in ("دقيقة", "دقيقتين", "دقائق")), said  # minutes, in their plural form
        assert "new-call" not in phone.page.content()
        phone.shot("lock-ar-wait")
    finally:
        stop_app(proc)


def test_the_keystore_secret_kept_by_flet_secure_storage_in_the_browser(tmp_path, browser):
    """The real control in a browser: the app moves a PIN-only folder under the keystore, reads the secret back
    after a reload, and another browser (another phone's storage) opens nothing with the right PIN."""
    data = _sealed(tmp_path)
    url, proc = start_app(data, {"FIELDAPP_KEYSTORE": "secure-storage"})
    try:
        context = browser.new_context(viewport={"width": 412, "height": 915}, locale="en-US")
        phone = Phone(context.new_page())
        _to_lock(phone, url)
        _give(phone, PIN)
        phone.wait_for("new-call", timeout=60_000)
        held = json.loads((data / "keys.json").read_text())["keystore"]
        assert held["kind"] == keystore.FLET and held["entry"].startswith("fieldapp-")
        with pytest.raises(protect.KeystoreEntryGone):  # keys.json and the PIN alone: nothing
            protect.unlock(data, PIN, keystore.NoKeystore())
        stored = phone.page.evaluate("() => JSON.stringify(Object.keys(localStorage))")
        assert held["entry"] in stored, stored  # written through the control, into the browser's storage

        _to_lock(phone, url)  # a reload: the secret read back through the control
        _give(phone, PIN)
        phone.wait_for("new-call", timeout=60_000)

        other = Phone(browser.new_context(viewport={"width": 412, "height": 915}, locale="en-US").new_page())
        _to_lock(other, url)  # the same folder, a browser without the secret
        _give(other, PIN)
        other.wait_for_text("keystore does not hold")
        assert "keystore does not hold" in other.text() and "new-call" not in other.page.content()
        other.page.context.close()

        _to_lock(phone, url)
        _give(phone, PIN)
        phone.wait_for("new-call", timeout=60_000)
        phone.visit("/settings")
        phone.wait_for("send-now")
        assert "keystore" in phone.text()
        phone.tap("wipe")
        assert "wipe-after" in phone.page.content()  # the team's limit, offered with a PIN set
        phone.wait_for("wipe-question")
        phone.tap("wipe")  # the question's button wipes: the keystore's entry first
        for _ in range(600):  # the wipe runs off the page's loop: its keys.json gone is the answer
            if not protect.has_pin(data):
                break
            phone.frames(5)
        phone.wait_for("send-now")  # the app again, on an empty store
        stored = phone.page.evaluate("() => JSON.stringify(Object.keys(localStorage))")
        assert held["entry"] not in stored, stored
        assert not protect.has_pin(data)
        context.close()
    finally:
        stop_app(proc)
