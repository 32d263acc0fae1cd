"""The lock in a real Chromium: the PIN at start, a wrong one, a call recorded, locked again after time away."""

from __future__ import annotations

import pytest

from fieldapp.store import RecordStore, protect
from fieldapp.sync import enrollment
from tests.conftest import free_port
from tests.ui.driver import PHONE, Phone, start_app, stop_app

PIN = "482916"
HIDDEN = """() => { Object.defineProperty(document, 'visibilityState', {value: 'hidden', configurable: true});
                     Object.defineProperty(document, 'hidden', {value: true, configurable: true});
                     document.dispatchEvent(new Event('visibilitychange')); }"""
SHOWN = """() => { Object.defineProperty(document, 'visibilityState', {value: 'visible', configurable: true});
                    Object.defineProperty(document, 'hidden', {value: false, configurable: true});
                    document.dispatchEvent(new Event('visibilitychange')); }"""


@pytest.fixture
def sealed_app(tmp_path):
    data = tmp_path / "device"
    RecordStore.open(data).close()
    enrollment.save(data, enrollment.Enrollment(f"http://127.0.0.1:{free_port()}", "token-of-a-missing-server"))
    protect.set_pin(data, PIN)
    protect.forget(data)
    # Any time in the background locks here, so the test waits on no clock: how long is too long
    # is AppLock's own, tested with a clock of its own in test_lock.py.
    url, proc = start_app(data, {"FIELDAPP_LOCK_AFTER_S": "0"})
    yield url, data
    stop_app(proc)


@pytest.mark.parametrize("language", ["en", "ar"])
def test_the_pin_at_start_a_call_recorded_and_the_lock_after_time_away(sealed_app, browser, language):
    url, data = sealed_app
    phone = Phone(browser.new_page(viewport=PHONE, locale="ar-SY" if language == "ar" else "en-US"))
    phone.load(url, "lock-pin")
    assert "new-call" not in phone.page.content()  # nothing of the records shows
    assert ("الرقم السري" if language == "ar" else "Enter the PIN") in phone.text()
    phone.shot(f"lock-{language}-light")

    # The PIN's field is obscured: Flutter does not always report its focus (Phone.type), so the tests wait
    # for the lock's answer instead.
    phone.type("lock-pin", "111111", check=False)
    phone.tap("lock-open", answered=False)  # the lock screen says so in place: no screen is drawn anew
    phone.wait_for_text("رقم سري خاطئ" if language == "ar" else "Wrong PIN")
    phone.still()  # the field emptied after the words (the same answer): not typed into before that
    phone.type("lock-pin", PIN, check=False)
    phone.tap("lock-open")
    phone.wait_for("new-call")

    phone.tap("new-call")
    phone.tap("type-fire")
    phone.type("field-place", "Locked Street 7")
    phone.tap("save-call")
    phone.wait_for("add-recovery")

    phone.page.evaluate(HIDDEN)  # the app goes to the background, and comes back
    phone.page.evaluate(SHOWN)
    phone.wait_for("lock-pin", timeout=15_000)
    phone.type("lock-pin", PIN, check=False)
    phone.tap("lock-open")
    phone.wait_for("add-recovery")

    protect.forget(data)
    protect.unlock(data, PIN)
    try:
        places = [r["data"]["location"]["place"] for r in export_sealed(data)]
    finally:
        protect.forget(data)
    assert places == ["Locked Street 7"]
    assert b"Locked Street" not in b"".join(p.read_bytes() for p in data.rglob("*") if p.is_file())


def export_sealed(data):
    store = RecordStore.open(data)
    try:
        return [r.record for r in store.iter_current()]
    finally:
        store.close()
