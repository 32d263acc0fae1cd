"""The app's lock, without a client: the PIN at start, after time in the background, the duress PIN."""

from __future__ import annotations

import pytest

from fieldapp.store import RecordStore, protect
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
    assert store.counts()["total"] == 1
    assert state.wipe()
    assert not protect.has_pin(sealed) and [p for p in sealed.rglob("*") if p.is_file() and p.name != ".lock"] == []
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
    assert [p for p in sealed.rglob("*") if p.is_file() and p.name != ".lock"] == []
