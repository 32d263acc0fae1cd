"""The PIN under fault and attack: a keystore that does not answer, tries at once, a store keyed by the last release."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from fieldapp.store import RecordStore, keystore, protect, rekey, throttle
from fieldapp.store.vault import KEYS, KeyFile
from tests.store.test_keystore import WRONG, FakeClock, _no_keys_left  # noqa: F401  (autouse: no key kept after a test)
from tests.store.test_protect import PIN, SECRETS, _every_byte, _fill

ROOT = Path(__file__).resolve().parents[2]




@pytest.fixture
def clock(monkeypatch):
    fake = FakeClock(1_800_000_000.0)
    monkeypatch.setattr(throttle, "clock", fake)
    return fake


class SilentKeystore(keystore.FileKeystore):
    """The platform's keystore when its removals time out (FletKeystore after 20 s): get and put still work."""

    def __init__(self, path: Path):
        super().__init__(path)
        self.deletes = 0

    def delete(self, entry: str) -> None:
        self.deletes += 1
        raise keystore.KeystoreError("the keystore did not answer (TimeoutError)")


def _sealed_with_silent_keystore(folder: Path, tmp_path: Path) -> SilentKeystore:
    _fill(folder)
    held = SilentKeystore(tmp_path / "platform-keystore.json")
    keystore.use(held)
    protect.set_pin(folder, PIN)
    protect.forget(folder)
    return held


def _wiped(folder: Path) -> bool:
    return not protect.has_pin(folder) and not any(secret in _every_byte(folder) for secret in SECRETS)


# --- 1. a keystore that does not answer never stops a wipe ---------------------------------------------------


def test_the_duress_pin_wipes_though_the_keystore_does_not_answer(data_dir, tmp_path):
    held = _sealed_with_silent_keystore(data_dir, tmp_path)
    protect.set_duress(data_dir, PIN, "000111")
    protect.forget(data_dir)
    with pytest.raises(protect.Duress):
        protect.unlock(data_dir, "000111")
    assert _wiped(data_dir)
    assert held.deletes >= 2  # asked, and asked again after the data was gone


def test_the_settings_wipe_wipes_though_the_keystore_does_not_answer(data_dir, tmp_path):
    _sealed_with_silent_keystore(data_dir, tmp_path)
    protect.wipe(data_dir)
    assert _wiped(data_dir)


def test_the_teams_limit_wipes_though_the_keystore_does_not_answer(data_dir, tmp_path, clock):
    _sealed_with_silent_keystore(data_dir, tmp_path)
    protect.set_wipe_after(data_dir, 2, PIN)
    protect.forget(data_dir)
    clock.now += 10_000
    with pytest.raises(protect.WrongPin):
        protect.unlock(data_dir, WRONG)
    clock.now += 10_000
    with pytest.raises(protect.WipedAfterGuesses):
        protect.unlock(data_dir, WRONG)
    assert _wiped(data_dir)


def test_the_right_pin_opens_though_the_keystore_does_not_remove_the_count(data_dir, tmp_path, clock):
    _sealed_with_silent_keystore(data_dir, tmp_path)
    clock.now += 10_000
    with pytest.raises(protect.WrongPin):
        protect.unlock(data_dir, WRONG)
    assert protect.unlock(data_dir, PIN) is not None
    assert protect.unlocked(data_dir) is not None


# --- 2. tries at once are tried one at a time, each counted --------------------------------------------------


def test_twelve_wrong_pins_at_once_are_each_counted_and_the_waits_hold(data_dir, clock):
    _fill(data_dir)
    protect.set_pin(data_dir, PIN)
    protect.forget(data_dir)
    results: list[str] = []
    start = threading.Barrier(12)

    def guess(n: int) -> None:
        start.wait()
        try:
            protect.unlock(data_dir, f"{900000 + n}")
        except protect.StoreError as exc:
            results.append(type(exc).__name__)

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    tried = results.count("WrongPin")
    assert len(results) == 12 and tried + results.count("TooSoon") == 12, results
    assert tried == throttle.FREE + 1  # the free typos, then the first wait: the clock stands still
    assert throttle.Guesses(data_dir, keystore.current(), None).failures == tried


_GUESS = """
import sys
from fieldapp.store import protect
try:
    protect.unlock(sys.argv[1], sys.argv[2])
except protect.StoreError as exc:
    print(type(exc).__name__)
"""


def test_wrong_pins_from_processes_at_once_are_each_counted(data_dir):
    _fill(data_dir)
    protect.set_pin(data_dir, PIN)
    protect.forget(data_dir)
    env = {k: v for k, v in os.environ.items() if k not in ("FIELDAPP_PIN", "FIELDAPP_KEYSTORE_FILE")}
    env["PYTHONPATH"] = str(ROOT)
    procs = [subprocess.Popen([sys.executable, "-c", _GUESS, str(data_dir), f"{900000 + n}"], env=env, cwd=ROOT,
                              stdout=subprocess.PIPE, text=True) for n in range(6)]
    results = [p.communicate(timeout=120)[0].strip() for p in procs]
    tried = results.count("WrongPin")
    assert tried + results.count("TooSoon") == 6, results
    assert 1 <= tried <= throttle.FREE + 1  # the first wait is 30 s: no process started that late
    assert throttle.Guesses(data_dir, keystore.current(), None).failures == tried


# --- 3. a store keyed by the last release, which took the PIN as typed ----------------------------------------


def _keyed_the_old_way(folder: Path, pin: str) -> None:
    """keys.json as the release before digits were normalised wrote it: the PIN as typed, no keystore, no marker."""
    _fill(folder)
    keys, key = KeyFile.create(folder, pin)
    keys.data.pop("pin_form", None)
    keys.save()
    from fieldapp.store.vault import Vault

    protect.seal_folder(folder, Vault(key, converting=True))
    keys.mark("sealed")


def test_a_store_keyed_with_arabic_digits_by_the_last_release_opens_and_is_rekeyed_as_digits(data_dir, clock):
    _keyed_the_old_way(data_dir, "٤٨٢٩١٦")
    assert "pin_form" not in json.loads((data_dir / KEYS).read_bytes())
    store = RecordStore.open(data_dir, pin="٤٨٢٩١٦")
    assert store.counts()["total"] == 3
    store.close()
    protect.forget(data_dir)
    assert json.loads((data_dir / KEYS).read_bytes())["pin_form"] == "digits"
    assert protect.unlock(data_dir, "482916") is not None  # the same PIN from any keyboard now
    protect.forget(data_dir)
    assert protect.unlock(data_dir, "۴۸۲۹۱۶") is not None


def test_a_passphrase_from_the_last_release_still_opens_and_asks_for_a_new_pin(data_dir, clock):
    _keyed_the_old_way(data_dir, "river-stone")
    assert protect.unlock(data_dir, "river-stone") is not None
    assert protect.pin_needs_changing(data_dir)
    protect.forget(data_dir)
    rekey.change_pin(data_dir, "river-stone", PIN)
    assert not protect.pin_needs_changing(data_dir)
    protect.forget(data_dir)
    assert protect.unlock(data_dir, PIN) is not None


def test_a_wrong_pin_on_an_old_store_is_one_counted_try(data_dir, clock):
    _keyed_the_old_way(data_dir, "٤٨٢٩١٦")
    with pytest.raises(protect.WrongPin):
        protect.unlock(data_dir, "٤٨٢٩١٧")
    assert throttle.Guesses(data_dir, keystore.current(), None).failures == 1
    with pytest.raises(protect.NotAPin):  # a new store's PIN is digits only: a passphrase is not tried
        protect.set_pin(data_dir.parent / "new", "river-stone")


def test_an_old_duress_pin_typed_in_arabic_still_wipes(data_dir, clock):
    _keyed_the_old_way(data_dir, "٤٨٢٩١٦")
    KeyFile.load(data_dir).set_duress("٠٠٠١١١")  # as the last release stored it: as typed
    keys = KeyFile.load(data_dir)
    keys.data["duress"].pop("form", None)
    keys.save()
    assert protect.unlock(data_dir, "٤٨٢٩١٦") is not None  # re-keyed as digits; the duress stays as it was typed
    protect.forget(data_dir)
    with pytest.raises(protect.Duress):
        protect.unlock(data_dir, "٠٠٠١١١")
    assert _wiped(data_dir)
