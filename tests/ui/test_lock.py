"""The app's lock, without a client: the PIN at start, after time in the background, the duress PIN."""

from __future__ import annotations

import pytest

from fieldapp.store import RecordStore, protect, throttle
from fieldapp.ui.lock import AppLock
from tests.records_factory import call_data

PIN = "482916"


@pytest.fixture
def sealed(data_dir):
    store = RecordStore.open(data_dir)
    store.create_call(call_data())
    store.close()
    protect.set_pin(data_dir, PIN)
    protect.forget(data_dir)
    yield data_dir
    protect.forget(data_dir)


def test_a_store_without_a_pin_never_locks(data_dir):
    lock = AppLock(data_dir, after_s=0)
    assert not lock.locked
    lock.went_away()
    assert not lock.came_back()


def test_the_pin_opens_the_store_and_a_wrong_one_does_not(sealed):
    lock = AppLock(sealed)
    assert lock.locked
    assert not lock.try_pin("111111") and lock.error == "lock.wrong" and lock.locked
    assert protect.unlocked(sealed) is None  # nothing was read
    assert not lock.try_pin("  ") and lock.error == "lock.empty"
    assert lock.try_pin(PIN) and not lock.locked
    store = RecordStore.open(sealed)  # the key is in memory now: the app's store opens
    assert store.counts()["total"] == 1
    store.close()


def test_after_time_in_the_background_the_pin_is_asked_again_and_the_key_stays(sealed):
    now = [1000.0]
    lock = AppLock(sealed, after_s=180, clock=lambda: now[0])
    lock.try_pin(PIN)
    lock.went_away()
    now[0] += 60
    assert not lock.came_back()  # a minute: still open
    lock.went_away()
    now[0] += 181
    assert lock.came_back() and lock.locked
    assert protect.unlocked(sealed) is not None  # the background sync keeps its key
    assert not lock.try_pin("000000") and lock.locked
    assert lock.try_pin(PIN) and not lock.locked


def test_the_duress_pin_wipes_and_opens_an_empty_app(sealed):
    protect.set_duress(sealed, PIN, "999000")
    protect.forget(sealed)
    lock = AppLock(sealed)
    assert lock.try_pin("999000") and lock.wiped and not lock.locked
    store = RecordStore.open(sealed)
    assert store.counts()["total"] == 0
    store.close()


def test_the_duress_pin_at_a_later_lock_wipes_too(sealed):
    protect.set_duress(sealed, PIN, "999000")
    protect.forget(sealed)
    lock = AppLock(sealed, after_s=0)
    assert lock.try_pin(PIN)
    lock.went_away()
    assert lock.came_back()
    assert lock.try_pin("999000") and lock.wiped
    assert not protect.has_pin(sealed) and protect.unlocked(sealed) is None


def test_wipe_in_the_app_asks_once_then_removes_every_record_and_key(sealed):
    from fieldapp.ui.state import AppState

    protect.unlock(sealed, PIN)
    store = RecordStore.open(sealed)
    state = AppState(store, sealed)
    assert not state.wipe() and state.wipe_armed  # the first tap only asks
    assert not state.wipe() and store.counts()["total"] == 1  # a double tap on Wipe only asks again
    assert state.wipe(confirmed=True)  # the question's own button wipes
    assert not protect.has_pin(sealed)
    assert [p for p in sealed.rglob("*") if p.is_file() and p.name not in (".lock", throttle.TRIES_LOCK)] == []
    fresh = RecordStore.open(sealed)
    assert fresh.counts()["total"] == 0
    fresh.close()


def test_a_store_closed_after_a_wipe_writes_nothing_back(sealed):
    protect.unlock(sealed, PIN)
    store = RecordStore.open(sealed)
    store.create_call(call_data())  # the manifest cache waits to be written
    protect.wipe(sealed)  # the duress PIN, given at a later lock, while the app's store is open
    store.close(wiped=True)
    store.close()  # a second close does nothing
    assert [p for p in sealed.rglob("*") if p.is_file() and p.name not in (".lock", throttle.TRIES_LOCK)] == []


def test_a_new_page_asks_for_the_pin_though_this_process_holds_the_key(sealed):
    first = AppLock(sealed)
    assert first.try_pin(PIN)
    assert protect.unlocked(sealed) is not None
    reloaded = AppLock(sealed)  # a reload of the web page, or a second tab: a new session
    assert reloaded.locked
    assert not reloaded.try_pin("111111") and reloaded.locked
    assert reloaded.try_pin(PIN) and not reloaded.locked


def test_a_pin_typed_on_an_arabic_or_persian_keyboard_opens_and_other_signs_are_refused(sealed):
    from fieldapp.i18n import Translator

    protect.forget(sealed)
    protect.change_pin(sealed, PIN, "1234")
    protect.forget(sealed)
    lock = AppLock(sealed)
    assert not lock.try_pin("²³⁴⁵") and lock.error == "pin.digits"
    assert "أرقام فقط" in lock.message(Translator("ar")) and "digits only" in lock.message(Translator("en"))
    assert lock.try_pin("١٢٣٤")
    assert AppLock(sealed).try_pin("۱۲۳۴") and AppLock(sealed).try_pin("1234")


def test_the_lock_says_how_long_to_wait_after_wrong_pins(sealed, monkeypatch):
    from fieldapp.i18n import Translator
    from fieldapp.store import throttle

    now = [1_800_000_000.0]
    monkeypatch.setattr(throttle, "clock", lambda: now[0])
    lock = AppLock(sealed)
    for _ in range(5):
        now[0] += 10_000
        assert not lock.try_pin("111111") and lock.error == "lock.wrong"
    now[0] += 5
    assert not lock.try_pin(PIN) and lock.error == "pin.wait" and lock.locked  # the right PIN waits too
    assert lock.message(Translator("en")) == "Too many wrong PINs: try again in 55 s."
    now[0] -= 5
    assert lock.message(Translator("ar")).startswith("أرقام سرية خاطئة كثيرة")  # a PIN is الرقم السري (docs/glossary.md)


def test_the_teams_limit_set_in_the_app_wipes_at_the_lock(sealed, monkeypatch):
    from fieldapp.store import throttle
    from fieldapp.ui.state import AppState

    now = [1_800_000_000.0]
    monkeypatch.setattr(throttle, "clock", lambda: now[0])
    protect.unlock(sealed, PIN)
    store = RecordStore.open(sealed)
    state = AppState(store, sealed)
    assert state.wipe_after() is None and "no keystore" in state.keystore_words()
    state.set_wipe_after(5)
    assert state.wipe_after() == 5
    store.close()
    protect.forget(sealed)
    lock = AppLock(sealed)
    for _ in range(4):
        now[0] += 10_000
        assert not lock.try_pin("111111")
    now[0] += 10_000
    assert lock.try_pin("111111") and lock.wiped  # the fifth: wiped, and the app opens as new
    assert not protect.has_pin(sealed)


def test_a_reload_of_the_same_session_locks_it_again(sealed):
    lock = AppLock(sealed)
    assert lock.try_pin(PIN) and not lock.locked
    assert lock.reconnected() and lock.locked  # Flet reconnects a reloaded page to its session: the lock shows
    assert lock.try_pin(PIN) and not lock.locked


def test_with_the_keystores_key_gone_the_lock_offers_to_wipe_and_start_again_asking_first(sealed, tmp_path):
    from fieldapp.store import keystore

    held = keystore.FileKeystore(tmp_path / "platform-keystore.json")
    protect.unlock(sealed, PIN, held)  # moved under the phone's keystore
    protect.forget(sealed)
    lock = AppLock(sealed, keystore=keystore.FileKeystore(tmp_path / "another-keystore.json"))  # its key is not there
    assert not lock.start_again() and lock.locked  # nothing to start again from yet
    assert not lock.try_pin(PIN) and lock.error == "lock.keystore" and lock.key_gone
    assert not lock.start_again() and lock.asking_start_again and protect.has_pin(sealed)  # the first tap asks
    assert not lock.start_again() and protect.has_pin(sealed)  # a double tap asks again, wipes nothing
    assert lock.start_again(confirmed=True)  # the question's own button
    assert lock.wiped and not lock.locked and not protect.has_pin(sealed)


def test_an_old_passphrase_opens_and_the_lock_says_a_pin_of_digits_is_due(data_dir):
    from tests.store.test_pin_faults import _keyed_the_old_way

    _keyed_the_old_way(data_dir, "river-stone")
    lock = AppLock(data_dir)
    assert lock.try_pin("river-stone") and not lock.locked
    assert lock.notice == "lock.change_pin"
    protect.forget(data_dir)
