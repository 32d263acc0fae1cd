"""`pin change` re-keys: a new data key seals every file again, and an old `keys.json` opens nothing new.

The attacker kept a copy of `keys.json` (a backup, a disk image) and learnt the
old PIN; after the change, nothing saved since may open with them. And a kill
at any point of the re-keying leaves a store the new PIN opens, finished at
the next open.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fieldapp.store import DamagedFile, RecordStore, protect, rekey
from fieldapp.store.vault import KEYS, KeyFile, Vault, is_sealed
from fieldapp.sync import enrollment
from tests.records_factory import call_data, recovery_data

ROOT = Path(__file__).resolve().parents[2]
OLD, NEW = "482916", "735104"
TOKEN = "tok-secret-9f8e7d6c5b4a"


@pytest.fixture(autouse=True)
def _forget_keys(tmp_path):
    yield
    for folder in tmp_path.iterdir():
        protect.forget(folder)


def _sealed_files(folder: Path) -> list[Path]:
    return [p for p in sorted(folder.rglob("*")) if p.is_file() and p.name != KEYS and is_sealed(p.read_bytes())]


def _opens_with(folder: Path, vault: Vault) -> list[Path]:
    """The files of the folder this key opens."""
    opened = []
    for path in _sealed_files(folder):
        name = path.relative_to(folder).as_posix().removesuffix(".bak")
        try:
            vault.open(path.read_bytes(), name, path)
            opened.append(path)
        except DamagedFile:
            pass
    return opened


def _populated(folder: Path, calls: int = 60) -> dict[str, dict]:
    from fieldapp.demo import populate

    store = RecordStore.open(folder)
    populate(store, calls, seed=7)
    everything = {r.id: r.record for r in store.iter_current()}
    store.close()
    enrollment.save(folder, enrollment.Enrollment("https://sync.example.org", TOKEN))
    return everything


def test_after_a_pin_change_the_old_keys_and_the_old_pin_read_nothing_saved_since(tmp_path):
    folder = tmp_path / "device"
    _populated(folder)
    protect.set_pin(folder, OLD)
    protect.forget(folder)
    old_keys = (folder / KEYS).read_bytes()  # what a disk image or a backup keeps
    old_vault = Vault(KeyFile.load(folder).unwrap(OLD))
    assert _opens_with(folder, old_vault)

    rekey.change_pin(folder, OLD, NEW)
    protect.forget(folder)
    store = RecordStore.open(folder, pin=NEW)
    after = store.create_call(call_data(location={"place": "Saved After The Change"}))
    store.create_recovery(recovery_data(after["id"], name="Named After The Change"))
    everything = {r.id: r.record for r in store.iter_current()}
    store.close()
    protect.forget(folder)

    assert _opens_with(folder, old_vault) == [], "a file still opens with the old data key"
    assert "previous" not in (folder / KEYS).read_text()  # the old key is gone from keys.json
    (folder / KEYS).write_bytes(old_keys)  # the attacker's copy, with the old PIN
    assert _opens_with(folder, Vault(KeyFile.load(folder).unwrap(OLD))) == []
    assert b"Saved After The Change" not in b"".join(p.read_bytes() for p in folder.rglob("*") if p.is_file())
    assert len(everything) > 60


def test_the_new_pin_opens_everything_after_a_change_and_the_old_one_nothing(tmp_path):
    folder = tmp_path / "device"
    everything = _populated(folder)
    protect.set_pin(folder, OLD)
    protect.forget(folder)
    rekey.change_pin(folder, OLD, NEW)
    protect.forget(folder)
    with pytest.raises(protect.WrongPin):
        RecordStore.open(folder, pin=OLD)
    store = RecordStore.open(folder, pin=NEW)
    try:
        assert {r.id: r.record for r in store.iter_current()} == everything
        assert store.problems == []
    finally:
        store.close()
    assert enrollment.load(folder).token == TOKEN


def _check_after_kill(folder: Path, everything: dict[str, dict], old_vault: Vault) -> str:
    """The store opens with the new PIN (or, killed before keys.json changed, the old one), whole and finished."""
    protect.forget(folder)
    try:
        store = RecordStore.open(folder, pin=NEW)
        pin = NEW
    except protect.WrongPin:
        store = RecordStore.open(folder, pin=OLD)  # the change had not begun: the old PIN, all as it was
        pin = OLD
    try:
        assert {r.id: r.record for r in store.iter_current()} == everything
        assert store.problems == []
    finally:
        store.close()
    assert enrollment.load(folder).token == TOKEN
    protect.forget(folder)
    if pin == NEW:
        assert '"state": "sealed"' in (folder / KEYS).read_text()
        assert _opens_with(folder, old_vault) == [], "the next open did not finish the re-keying"
    return pin


@pytest.mark.parametrize("after", [0, 1, 2, 5, 11, 17, 20])  # of 21 files
def test_re_keying_stopped_after_any_file_is_finished_by_the_next_open(tmp_path, monkeypatch, after):
    """A kill between two of the re-keying's atomic writes, at each point (each write is itself kill-safe)."""

    folder = tmp_path / "device"
    everything = _populated(folder, 120)
    protect.set_pin(folder, OLD)
    protect.forget(folder)
    old_vault = Vault(KeyFile.load(folder).unwrap(OLD))
    real = rekey.atomic_write
    written: list[Path] = []

    def stop_after(path, payload, **kwargs):
        if len(written) == after:
            raise SystemExit("killed")
        written.append(path)
        real(path, payload, **kwargs)

    monkeypatch.setattr(rekey, "atomic_write", stop_after)
    with pytest.raises(SystemExit):
        rekey.change_pin(folder, OLD, NEW)
    monkeypatch.undo()
    assert _check_after_kill(folder, everything, old_vault) == NEW  # keys.json changes before any file


def _kill_while_re_keying(folder: Path, rng: random.Random, env: dict) -> str:
    """`fieldapp pin change`, SIGKILLed at a random instant once it began re-sealing (or at start-up)."""
    proc = subprocess.Popen([sys.executable, "-m", "fieldapp", "pin", "change", "--data", str(folder)],
                            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            cwd=ROOT, start_new_session=True, env=env)
    proc.stdin.write(f"{OLD}\n{NEW}\n".encode())
    proc.stdin.close()
    if rng.random() < 0.8:  # most kills land in the re-sealing: wait for keys.json to say it began
        while proc.poll() is None and b'"rekeying"' not in (folder / KEYS).read_bytes():
            time.sleep(0.002)
        time.sleep(rng.uniform(0, 0.25))
    else:
        time.sleep(rng.uniform(0.2, 1.5))
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(timeout=30)
    return (folder / KEYS).read_text()


@pytest.mark.slow
def test_pin_change_survives_sigkill_at_any_instant(tmp_path):
    plain = tmp_path / "plain"
    everything = _populated(plain, 800)
    protect.set_pin(plain, OLD)
    protect.forget(plain)
    old_vault = Vault(KeyFile.load(plain).unwrap(OLD))
    rng = random.Random(201)
    env = {k: v for k, v in os.environ.items() if k != "FIELDAPP_PIN"}
    cut_short = 0
    for round_no in range(12):
        folder = tmp_path / f"round{round_no}"
        shutil.copytree(plain, folder)
        cut_short += '"rekeying"' in _kill_while_re_keying(folder, rng, env)
        _check_after_kill(folder, everything, old_vault)
        shutil.rmtree(folder)
    assert cut_short, "no kill landed inside the re-sealing: the test tested nothing"


def test_pin_change_on_the_command_line_re_keys(tmp_path):
    folder = tmp_path / "device"
    _populated(folder)
    protect.set_pin(folder, OLD)
    protect.forget(folder)
    old_vault = Vault(KeyFile.load(folder).unwrap(OLD))
    done = subprocess.run([sys.executable, "-m", "fieldapp", "pin", "change", "--data", str(folder)], input=f"{OLD}\n{NEW}\n",
                          capture_output=True, text=True, cwd=ROOT, timeout=60,
                          env={k: v for k, v in os.environ.items() if k != "FIELDAPP_PIN"})
    assert done.returncode == 0, done.stderr
    assert _opens_with(folder, old_vault) == []
    assert len(_opens_with(folder, Vault(KeyFile.load(folder).unwrap(NEW)))) == len(_sealed_files(folder))


def test_copies_in_damaged_are_sealed_again_under_the_name_they_were_sealed_with_or_go(tmp_path):
    folder = tmp_path / "device"
    _populated(folder)
    protect.set_pin(folder, OLD)
    protect.forget(folder)
    old_vault = Vault(KeyFile.load(folder).unwrap(OLD))
    partition = sorted((folder / "days").glob("*.json"))[0]
    (folder / "damaged").mkdir()
    moved = folder / "damaged" / f"{partition.name}.20261120T000000000000Z"  # as the store moves a file aside
    moved.write_bytes(partition.read_bytes())
    noise = folder / "damaged" / "meta.json.20261120T000000000001Z"
    noise.write_bytes(old_vault.seal(b"{}", "somewhere/else.json"))  # sealed under a name not guessed

    rekey.change_pin(folder, OLD, NEW)
    protect.forget(folder)
    new_vault = Vault(KeyFile.load(folder).unwrap(NEW))
    assert new_vault.open(moved.read_bytes(), f"days/{partition.name}", moved)  # still there for a repair
    assert not noise.exists()
    assert _opens_with(folder, old_vault) == []
    with pytest.raises(DamagedFile):
        old_vault.open(moved.read_bytes(), f"days/{partition.name}", moved)
