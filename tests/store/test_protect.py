"""A phone in the wrong hands: the PIN, data sealed at rest, wipe, the duress PIN, retention."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from fieldapp.store import RecordStore, protect, rekey, throttle
from fieldapp.sync import enrollment
from tests.records_factory import call_data, recovery_data

ROOT = Path(__file__).resolve().parents[2]
PIN, OTHER = "482916", "123400"
NAME, PLACE, PHONE, TOKEN = "Hala Darwish", "Wadi al-Nasara ravine", "+963944123456", "tok-secret-9f8e7d6c5b4a"
SECRETS = [s.encode() for s in (NAME, PLACE, PHONE, TOKEN)] + ["هالة درويش".encode()]


def _fill(folder: Path) -> list[str]:
    """Records holding a name, a place and a phone number, an edit (so backups exist), and a token."""
    store = RecordStore.open(folder)
    call = store.create_call(call_data(location={"place": PLACE}, caller_phone=PHONE))
    recovery = store.create_recovery(recovery_data(call["id"], name=NAME, identified=True))
    store.create_recovery(recovery_data(call["id"], name="هالة درويش"))
    store.edit(call["id"], data=call_data(location={"place": PLACE}, caller_phone=PHONE, status="dispatched"))
    store.close()
    enrollment.save(folder, enrollment.Enrollment("https://sync.example.org", TOKEN))
    return [call["id"], recovery["id"]]


def _every_byte(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file())


@pytest.fixture(autouse=True)
def _forget_keys(data_dir):
    yield
    protect.forget(data_dir)


def test_with_a_pin_set_no_name_place_phone_or_token_is_readable_in_the_folder(data_dir):
    ids = _fill(data_dir)
    (data_dir / "damaged").mkdir()
    (data_dir / "damaged" / "2026-11-20.000.json.20261120T0000Z").write_bytes(f'{{"x": "{NAME}"'.encode())
    assert all(secret in _every_byte(data_dir) for secret in SECRETS[:4])  # plain before

    protect.set_pin(data_dir, PIN)
    protect.forget(data_dir)
    raw = _every_byte(data_dir)
    found = [secret for secret in SECRETS if secret in raw]
    assert found == [], f"readable without the PIN: {found}"
    assert not list(data_dir.rglob(".*.tmp"))

    store = RecordStore.open(data_dir, pin=PIN)  # and with it, everything is there
    try:
        assert store.get(ids[1]).record["data"]["name"] == NAME and store.counts()["total"] == 3
        store.create_recovery(recovery_data(ids[0], name="Another Name"))
    finally:
        store.close()
    assert enrollment.load(data_dir).token == TOKEN
    assert b"Another Name" not in _every_byte(data_dir)


def test_a_wrong_pin_reads_nothing_and_a_changed_pin_opens_the_same_data(data_dir):
    ids = _fill(data_dir)
    protect.set_pin(data_dir, PIN)
    protect.forget(data_dir)
    with pytest.raises(protect.PinRequired):
        RecordStore.open(data_dir)
    with pytest.raises(protect.WrongPin):
        RecordStore.open(data_dir, pin=OTHER)
    assert protect.unlocked(data_dir) is None
    with pytest.raises(protect.WrongPin):
        rekey.change_pin(data_dir, OTHER, "999999")

    rekey.change_pin(data_dir, PIN, "777777")
    with pytest.raises(protect.WrongPin):
        RecordStore.open(data_dir, pin=PIN)
    store = RecordStore.open(data_dir, pin="777777")
    assert store.get(ids[0]) is not None
    store.close()


def test_every_command_works_given_the_pin_and_says_so_without_it(data_dir):
    _fill(data_dir)
    run = subprocess.run([sys.executable, "-m", "fieldapp", "pin", "set", "--data", str(data_dir)], input=f"{PIN}\n",
                         capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert run.returncode == 0, run.stderr
    env = {**os.environ, "FIELDAPP_PIN": PIN}
    for command in (["status"], ["export", "--include-personal"], ["demo", "--calls", "2"]):
        done = subprocess.run([sys.executable, "-m", "fieldapp", *command, "--data", str(data_dir)], env=env,
                              capture_output=True, text=True, cwd=ROOT, timeout=60, stdin=subprocess.DEVNULL)
        assert done.returncode == 0, (command, done.stderr)
    exported = subprocess.run([sys.executable, "-m", "fieldapp", "export", "--include-personal", "--data", str(data_dir)],
                              env=env, capture_output=True, text=True, cwd=ROOT, timeout=60, stdin=subprocess.DEVNULL)
    assert NAME in exported.stdout
    locked = subprocess.run([sys.executable, "-m", "fieldapp", "status", "--data", str(data_dir)],
                            capture_output=True, text=True, cwd=ROOT, timeout=60, stdin=subprocess.DEVNULL,
                            env={k: v for k, v in os.environ.items() if k != "FIELDAPP_PIN"})
    assert locked.returncode == 7 and "locked with a PIN" in locked.stderr and "Traceback" not in locked.stderr
    wrong = subprocess.run([sys.executable, "-m", "fieldapp", "status", "--data", str(data_dir)],
                           env={**os.environ, "FIELDAPP_PIN": OTHER}, capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert wrong.returncode == 7 and wrong.stderr.strip() == "fieldapp: wrong PIN: nothing was read"


def test_wipe_leaves_no_record_and_no_key(data_dir):
    _fill(data_dir)
    protect.set_pin(data_dir, PIN)
    protect.wipe(data_dir)
    assert [p for p in data_dir.rglob("*") if p.is_file() and p.name not in (".lock", throttle.TRIES_LOCK)] == []
    store = RecordStore.open(data_dir)  # an empty store, no PIN
    assert store.counts()["total"] == 0
    store.close()


def test_a_plain_store_is_wiped_too(data_dir):
    _fill(data_dir)
    done = subprocess.run([sys.executable, "-m", "fieldapp", "wipe", "--yes", "--data", str(data_dir)],
                          capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 0, done.stderr
    assert not any(secret in _every_byte(data_dir) for secret in SECRETS)


def test_the_duress_pin_wipes_and_opens_an_empty_store(data_dir):
    _fill(data_dir)
    protect.set_pin(data_dir, PIN)
    protect.set_duress(data_dir, PIN, "000111")
    protect.forget(data_dir)
    with pytest.raises(protect.WrongPin):
        RecordStore.open(data_dir, pin=OTHER)
    store = RecordStore.open(data_dir, pin="000111")
    try:
        assert store.counts()["total"] == 0 and store.vault is None
    finally:
        store.close()
    assert not (data_dir / "keys.json").exists()
    assert not any(secret in _every_byte(data_dir) for secret in SECRETS)
    assert enrollment.load(data_dir) is None


def test_retention_removes_only_what_the_server_holds_past_the_period(data_dir):
    store = RecordStore.open(data_dir)
    tz = timezone(timedelta(hours=3))
    old = datetime(2026, 10, 1, 9, 0, tzinfo=tz)
    sent, waiting, refused, approved = (store.create_call(call_data(), now=old + timedelta(minutes=i)) for i in range(4))
    recovery = store.create_recovery(recovery_data(sent["id"]), now=old)  # its call waits for it
    store.edit(approved["id"], review={"state": "approved", "note": ""}, now=old)
    fresh = store.create_call(call_data(), now=datetime(2026, 11, 26, 9, 0, tzinfo=tz))
    store.record_verdicts([{"id": r["id"], "version": 1, "status": "accepted"} for r in (sent, fresh)]
                          + [{"id": approved["id"], "version": 2, "status": "accepted"},
                             {"id": refused["id"], "version": 1, "status": "rejected", "errors": [{"field": "data", "message": "x"}]}])
    now = datetime(2026, 11, 27, 9, 0, tzinfo=tz)
    store.set_retention(30, approved_only=True)
    assert store.apply_retention(now) == 1  # only the approved one
    assert store.get(approved["id"]) is None
    store.set_retention(30)
    assert store.apply_retention(now) == 0  # `sent` stays: its recovery still waits
    store.record_verdicts([{"id": recovery["id"], "version": 1, "status": "accepted"}])
    assert store.apply_retention(now) == 2  # the call and its recovery, both held by the server
    kept = {r.id for r in store.iter_current()}
    assert kept == {waiting["id"], refused["id"], fresh["id"]}
    store.close()


def _killed(args: list[str], rng: random.Random, env: dict, stdin: str | None = None, late: float = 1.6,
            after_first_line: bool = False) -> list[str]:
    """Run a command and SIGKILL it at a random instant: from its start, or from its first line of output.

    Counting from the first line keeps the kill inside the saves however slow a busy machine makes the start.
    """
    proc = subprocess.Popen([sys.executable, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            cwd=ROOT, start_new_session=True, env=env)
    if stdin is not None:
        proc.stdin.write(stdin.encode())
    proc.stdin.close()
    proc.stdin = None
    first = proc.stdout.readline() if after_first_line else b""
    time.sleep(rng.uniform(0.0 if after_first_line else 0.3, late))
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    out, _ = proc.communicate(timeout=30)
    out = first + out
    lines = out.decode().splitlines()
    if out and not out.endswith(b"\n"):
        lines = lines[:-1]
    return lines


@pytest.mark.slow
def test_saves_on_a_sealed_store_survive_sigkill(tmp_path):
    folder = tmp_path / "device"
    RecordStore.open(folder).close()
    protect.set_pin(folder, PIN)
    protect.forget(folder)
    env = {**os.environ, "FIELDAPP_PIN": PIN}
    rng = random.Random(151)
    echoed: set[str] = set()
    for attempt in range(10):
        echoed.update(_killed(["-m", "fieldapp", "demo", "--calls", "3000", "--echo", "--data", str(folder)], rng, env,
                              after_first_line=attempt % 2 == 1))
        store = RecordStore.open(folder, pin=PIN)
        try:
            assert store.problems == []
            assert echoed <= {r.id for r in store.iter_current()}
        finally:
            store.close()
            protect.forget(folder)
    assert len(echoed) > 100


@pytest.mark.slow
def test_sealing_in_place_survives_sigkill_at_any_instant(tmp_path):
    plain = tmp_path / "plain"
    store = RecordStore.open(plain)
    from fieldapp.demo import populate

    populate(store, 400, seed=3)
    everything = {r.id: r.record for r in store.iter_current()}
    store.close()
    enrollment.save(plain, enrollment.Enrollment("https://sync.example.org", TOKEN))
    rng = random.Random(152)
    for round_no in range(8):
        folder = tmp_path / f"round{round_no}"
        shutil.copytree(plain, folder)
        _killed(["-m", "fieldapp", "pin", "set", "--data", str(folder)], rng, dict(os.environ), stdin=f"{PIN}\n", late=0.9)
        pin = PIN if protect.has_pin(folder) else None
        store = RecordStore.open(folder, pin=pin)  # opens, and finishes the sealing a kill cut short
        try:
            assert {r.id: r.record for r in store.iter_current()} == everything
        finally:
            store.close()
        if pin:
            assert enrollment.load(folder).token == TOKEN
            protect.forget(folder)
            assert not any(secret in _every_byte(folder) for secret in SECRETS[:4]), f"round {round_no}: plain text left"


@pytest.mark.parametrize("after", [0, 1, 3, 7, 12])
def test_sealing_stopped_after_any_file_is_finished_by_the_next_open(tmp_path, monkeypatch, after):
    """A kill between two of the sealing's atomic writes, at each point (each write is itself kill-safe)."""
    from fieldapp.demo import populate
    from fieldapp.store import vault as vault_module

    folder = tmp_path / "device"
    store = RecordStore.open(folder)
    populate(store, 60, seed=4)
    everything = {r.id: r.record for r in store.iter_current()}
    store.close()
    enrollment.save(folder, enrollment.Enrollment("https://sync.example.org", TOKEN))
    real = protect.atomic_write
    written = []

    def stop_after(path, payload, **kwargs):
        if path.name != vault_module.KEYS:
            if len(written) == after:
                raise SystemExit("killed")
            written.append(path)
        real(path, payload, **kwargs)

    monkeypatch.setattr(protect, "atomic_write", stop_after)
    with pytest.raises(SystemExit):
        protect.set_pin(folder, PIN)
    monkeypatch.undo()
    protect.forget(folder)
    assert protect.has_pin(folder)
    store = RecordStore.open(folder, pin=PIN)
    try:
        assert {r.id: r.record for r in store.iter_current()} == everything
    finally:
        store.close()
    assert enrollment.load(folder).token == TOKEN
    protect.forget(folder)
    assert not any(secret in _every_byte(folder) for secret in SECRETS[:4])


def test_pin_commands_refuse_a_short_pin_and_a_second_set_with_one_line(data_dir):
    _fill(data_dir)
    short = subprocess.run([sys.executable, "-m", "fieldapp", "pin", "set", "--data", str(data_dir)], input="12\n",
                           capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert short.returncode == 1 and short.stderr.strip() == "fieldapp: a PIN needs at least 4 digits"
    assert not protect.has_pin(data_dir)
    protect.set_pin(data_dir, PIN)
    again = subprocess.run([sys.executable, "-m", "fieldapp", "pin", "set", "--data", str(data_dir)], input=f"{OTHER}\n",
                           capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert again.returncode == 1 and "use `fieldapp pin change`" in again.stderr


def test_a_pin_set_on_a_new_empty_folder_then_every_command_works_with_it(tmp_path):
    """The careful user sets a PIN before the first record; the folder does not even exist yet."""
    folder = tmp_path / "new-device"
    run = subprocess.run([sys.executable, "-m", "fieldapp", "pin", "set", "--data", str(folder)], input=f"{PIN}\n",
                         capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert run.returncode == 0, run.stderr
    keys = (folder / "keys.json").read_text()
    assert '"state": "sealed"' in keys
    env = {**os.environ, "FIELDAPP_PIN": PIN}
    outputs = {}
    for command in (["demo", "--calls", "3", "--seed", "5"], ["export", "--include-personal"], ["status", "--json"]):
        done = subprocess.run([sys.executable, "-m", "fieldapp", *command, "--data", str(folder)], env=env,
                              capture_output=True, text=True, cwd=ROOT, timeout=60, stdin=subprocess.DEVNULL)
        assert done.returncode == 0, (command, done.stderr)
        outputs[command[0]] = done.stdout
    import json

    total = json.loads(outputs["status"])["records"]["total"]
    assert total >= 3 and len(outputs["export"].splitlines()) == total
    names = [json.loads(line)["data"].get("place", "").encode() for line in outputs["export"].splitlines()]
    raw = _every_byte(folder)
    assert not [n for n in names if n and n in raw], "a saved record is readable in the folder"


@pytest.mark.parametrize("harm", ["missing", "damaged", "empty"])
def test_a_missing_or_damaged_keys_file_is_said_in_one_line_and_nothing_is_moved(data_dir, harm):
    _fill(data_dir)
    protect.set_pin(data_dir, PIN)
    protect.forget(data_dir)
    keys = (data_dir / "keys.json").read_bytes()
    before = {p: p.read_bytes() for p in data_dir.rglob("*") if p.is_file() and p.name != "keys.json"}
    if harm == "missing":
        (data_dir / "keys.json").unlink()
    else:
        (data_dir / "keys.json").write_bytes(b"" if harm == "empty" else keys[:40])
    env = {**os.environ, "FIELDAPP_PIN": PIN}
    for command in (["status"], ["export"], ["demo", "--calls", "1"], ["retention", "--days", "3"], ["pin", "set"]):
        done = subprocess.run([sys.executable, "-m", "fieldapp", *command, "--data", str(data_dir)], env=env, input=f"{PIN}\n",
                              capture_output=True, text=True, cwd=ROOT, timeout=60)
        assert done.returncode == 8, (command, done.stderr)
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and "keys.json" in lines[0] and "put back" in lines[0] and "Traceback" not in done.stderr, lines
    after = {p: p.read_bytes() for p in data_dir.rglob("*") if p.is_file() and p.name != "keys.json"}
    assert after == before  # nothing moved to damaged/, no new device id, nothing written
    with pytest.raises(protect.KeysLost):
        RecordStore.open(data_dir, pin=PIN)
    assert not (data_dir / "damaged").exists()

    (data_dir / "keys.json").write_bytes(keys)  # put back: every record is there
    store = RecordStore.open(data_dir, pin=PIN)
    try:
        assert store.counts()["total"] == 3 and store.problems == []
    finally:
        store.close()
