"""Tried as someone holding the phone and its disk image: the keystore, guesses that cost, digits from any keyboard."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from fieldapp.store import RecordStore, keystore, protect, throttle
from tests.store.test_protect import PIN, SECRETS, _every_byte, _fill

ROOT = Path(__file__).resolve().parents[2]
WRONG = "111111"


@pytest.fixture(autouse=True)
def _no_keys_left(data_dir):
    yield
    protect.forget(data_dir)
    keystore.use(None)


@pytest.fixture
def fake_keystore(tmp_path):
    """The platform's keystore, stood in for by a file outside the data folder."""
    held = keystore.FileKeystore(tmp_path / "platform-keystore.json")
    keystore.use(held)
    return held


class FakeClock:
    def __init__(self, now: float):
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    fake = FakeClock(1_800_000_000.0)
    monkeypatch.setattr(throttle, "clock", fake)
    return fake


def _cli(data: Path, *args: str, pin: str | None = None, stdin: str = "", lang: str = "en") -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("FIELDAPP_PIN", "FIELDAPP_KEYSTORE_FILE")}
    env["FIELDAPP_LANG"] = lang
    if pin is not None:
        env["FIELDAPP_PIN"] = pin
    return subprocess.run([sys.executable, "-m", "fieldapp", *args, "--data", str(data)], input=stdin, env=env,
                          capture_output=True, text=True, cwd=ROOT, timeout=120)


# --- keys that freed blocks cannot bring back -------------------------------------------------------------


def test_with_a_keystore_the_pin_and_keys_json_alone_open_nothing(data_dir, fake_keystore):
    _fill(data_dir)
    protect.set_pin(data_dir, PIN)
    protect.forget(data_dir)
    assert b"fieldapp-" in (data_dir / "keys.json").read_bytes()  # keys.json names the keystore's entry
    image = data_dir.parent / "disk-image"
    shutil.copytree(data_dir, image)  # what someone copying the phone's storage has

    keystore.use(keystore.NoKeystore())  # the PIN and keys.json, away from the phone's keystore
    with pytest.raises(protect.KeystoreEntryGone):
        protect.unlock(image, PIN)
    keystore.use(fake_keystore)
    store = RecordStore.open(data_dir, pin=PIN)  # on the phone, the PIN opens it
    assert store.counts()["total"] == 3
    store.close()

    protect.wipe(data_dir)
    assert fake_keystore.get("x") is None and fake_keystore._read() == {}  # the keystore's entry went with it
    with pytest.raises(protect.KeystoreEntryGone):  # the old copy, even on the phone, with the right PIN
        protect.unlock(image, PIN)


def test_the_duress_pin_destroys_the_keystore_entry_first(data_dir, fake_keystore):
    _fill(data_dir)
    protect.set_pin(data_dir, PIN)
    protect.set_duress(data_dir, PIN, "000111")
    protect.forget(data_dir)
    image = data_dir.parent / "disk-image"
    shutil.copytree(data_dir, image)
    with pytest.raises(protect.Duress):
        protect.unlock(data_dir, "000111")
    assert fake_keystore._read() == {}
    with pytest.raises(protect.KeystoreEntryGone):
        protect.unlock(image, PIN)


def test_a_folder_sealed_without_a_keystore_moves_under_one_when_opened_with_it(data_dir, tmp_path):
    _fill(data_dir)
    protect.set_pin(data_dir, PIN)  # on the command line: no keystore
    protect.forget(data_dir)
    assert b"fieldapp-" not in (data_dir / "keys.json").read_bytes()
    held = keystore.FileKeystore(tmp_path / "platform-keystore.json")
    protect.unlock(data_dir, PIN, held)  # the app on a phone, with its keystore
    protect.forget(data_dir)
    with pytest.raises(protect.KeystoreEntryGone):
        protect.unlock(data_dir, PIN, keystore.NoKeystore())
    assert protect.unlock(data_dir, PIN, held) is not None


def test_without_a_keystore_a_set_pin_says_the_pin_alone_guards_it(data_dir):
    assert not protect.has_keystore()
    _fill(data_dir)
    protect.set_pin(data_dir, PIN)
    assert b"keystore" not in (data_dir / "keys.json").read_bytes()


# --- guesses cost -------------------------------------------------------------------------------------------


def test_ten_wrong_pins_a_restart_and_one_more_the_wait_grows_and_is_shown(data_dir, clock):
    _fill(data_dir)
    protect.set_pin(data_dir, PIN)
    protect.forget(data_dir)
    # The clock starts far enough back that the tenth wrong PIN falls at about now, for the command line's real clock.
    clock.now = throttle.time.time() - sum(throttle.wait_for(n) + 1 for n in range(10)) - 5
    waits = []
    for _ in range(10):
        clock.now += throttle.Guesses(data_dir, keystore.current(), None).wait_s() + 1
        with pytest.raises(protect.WrongPin):
            protect.unlock(data_dir, WRONG)
        waits.append(throttle.Guesses(data_dir, keystore.current(), None).wait_s())
    assert waits[:3] == [0, 0, 0] and all(b > a for a, b in zip(waits[3:], waits[4:], strict=False))
    with pytest.raises(protect.TooSoon) as too_soon:  # even the right PIN is not tried during the wait
        protect.unlock(data_dir, PIN)
    assert too_soon.value.wait_s == waits[-1]

    # A restart: another process, the real clock. The wait holds, and says how long.
    locked = _cli(data_dir, "status", pin=PIN)
    assert locked.returncode == 7 and "Traceback" not in locked.stderr, locked.stderr
    shown = re.search(r"try again in (\d+) min (\d+) s", locked.stderr)
    assert shown, locked.stderr
    assert 0 < int(shown[1]) * 60 + int(shown[2]) <= waits[-1]
    arabic = _cli(data_dir, "status", pin=PIN, lang="ar")
    assert arabic.returncode == 7 and "حاول مجددًا بعد" in arabic.stderr and "دقيقة" in arabic.stderr

    clock.now += waits[-1] + 1  # one more, after the wait: the next wait is longer still
    with pytest.raises(protect.WrongPin):
        protect.unlock(data_dir, WRONG)
    assert throttle.Guesses(data_dir, keystore.current(), None).wait_s() > waits[-1]
    clock.now += throttle.LONGEST_WAIT_S + 1
    assert protect.unlock(data_dir, PIN) is not None  # the right PIN, after the wait, opens and clears the count
    assert throttle.Guesses(data_dir, keystore.current(), None).failures == 0


def test_a_count_cut_short_by_a_power_cut_or_a_removed_file_still_holds_with_a_keystore(data_dir, clock, fake_keystore):
    _fill(data_dir)
    protect.set_pin(data_dir, PIN)
    protect.forget(data_dir)
    for _ in range(5):
        clock.now += 10_000
        with pytest.raises(protect.WrongPin):
            protect.unlock(data_dir, WRONG)
    (data_dir / "guesses.json").unlink()  # someone resets the count on disk
    with pytest.raises(protect.TooSoon):
        protect.unlock(data_dir, PIN)


def test_the_teams_limit_of_wrong_pins_wipes(data_dir, clock):
    _fill(data_dir)
    protect.set_pin(data_dir, PIN)
    done = _cli(data_dir, "pin", "wipe-after", "4", pin=PIN)
    assert done.returncode == 0, done.stderr
    protect.forget(data_dir)
    for _ in range(3):
        clock.now += 10_000
        with pytest.raises(protect.WrongPin):
            protect.unlock(data_dir, WRONG)
    clock.now += 10_000
    with pytest.raises(protect.WipedAfterGuesses):
        protect.unlock(data_dir, WRONG)
    assert not protect.has_pin(data_dir)
    assert not any(secret in _every_byte(data_dir) for secret in SECRETS)


def test_the_limit_on_the_command_line_wipes_and_says_so(data_dir):
    _fill(data_dir)
    protect.set_pin(data_dir, PIN)
    protect.set_wipe_after(data_dir, 1, PIN)
    protect.forget(data_dir)
    wiped = _cli(data_dir, "status", pin=WRONG)
    assert wiped.returncode == 7 and "was wiped" in wiped.stderr, wiped.stderr
    assert not protect.has_pin(data_dir) and not any(secret in _every_byte(data_dir) for secret in SECRETS)


def test_wrong_pins_never_wipe_unless_the_team_chose_it(data_dir, clock):
    _fill(data_dir)
    protect.set_pin(data_dir, PIN)
    protect.forget(data_dir)
    for _ in range(30):
        clock.now += 10_000
        with pytest.raises(protect.WrongPin):
            protect.unlock(data_dir, WRONG)
    assert protect.has_pin(data_dir) and protect.wipe_after(data_dir) is None


# --- a PIN is digits, whichever keyboard typed them ---------------------------------------------------------


def test_arabic_persian_and_ascii_digits_are_one_pin_on_the_command_line(data_dir):
    _fill(data_dir)
    done = _cli(data_dir, "pin", "set", stdin="١٢٣٤\n")  # set on an Arabic keyboard
    assert done.returncode == 0, done.stderr
    for typed in ("1234", "١٢٣٤", "۱۲۳۴"):
        opened = _cli(data_dir, "status", pin=typed)
        assert opened.returncode == 0, (typed, opened.stderr)
    change = _cli(data_dir, "pin", "change", pin="۱۲۳۴", stdin="٥٦٧٨\n")
    assert change.returncode == 0, change.stderr
    assert _cli(data_dir, "status", pin="5678").returncode == 0


def test_superscripts_and_letters_are_refused_in_the_users_language(data_dir):
    _fill(data_dir)
    for typed in ("²³⁴⁵", "12a4x6", "①②③④"):
        refused = _cli(data_dir, "pin", "set", stdin=f"{typed}\n")
        assert refused.returncode == 1 and "digits only" in refused.stderr and "Traceback" not in refused.stderr, typed
        assert not protect.has_pin(data_dir)
    arabic = _cli(data_dir, "pin", "set", stdin="²³⁴⁵\n", lang="ar")
    assert arabic.returncode == 1 and "أرقام فقط" in arabic.stderr
    protect.set_pin(data_dir, "1234")  # a PIN set in ASCII digits goes on working
    protect.forget(data_dir)
    with pytest.raises(protect.NotAPin):
        protect.unlock(data_dir, "¹²³⁴")
    assert protect.unlock(data_dir, "١٢٣٤") is not None
