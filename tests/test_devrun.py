"""`make run` starts and stops like a service.

The real `make run` (the repository's Makefile, this checkout's code, the test's
Python in place of the project's .venv) with the real server and the real web
app on free loopback ports. Stopped by TERM, INT or HUP sent to the `make`
process alone (not to its process group), nothing it started is left and both
ports are free within 5 s. Started again with its server's port taken by
another program, it serves on a free one and the device, enrolled anew, syncs.
A PIN on the device's data is read from FIELDAPP_PIN, and without one the run
ends in one line.
"""

from __future__ import annotations

import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[1]
MAKE = shutil.which("make")

pytestmark = [pytest.mark.slow, pytest.mark.skipif(MAKE is None, reason="`make run` needs make")]

# The acceptance bound: everything gone this long after the signal.
STOPPED_WITHIN_S = 5.0


def _as_at_a_terminal() -> None:
    """Ctrl-C and Ctrl-\\ as a terminal's make gets them. A suite started as a background job of a script
    (`make test &`) hands every child SIGINT and SIGQUIT ignored, as POSIX shells do, and a make that starts
    with SIGINT ignored ignores the signal the INT case sends (it failed so in every such run)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGQUIT, signal.SIG_DFL)


class MakeRun:
    """`make run` in a process group of its own, its output read line by line."""

    def __init__(self, tmp_path: Path, server_port: int, app_port: int, **env: str):
        stamp = tmp_path / "installed-stamp"  # the venv is this test's; make is told not to build one
        stamp.touch()
        self.run_dir = tmp_path / "run-data"
        environ = {k: v for k, v in os.environ.items() if k not in ("FIELDAPP_DATA", "FIELDAPP_PIN", "VIRTUAL_ENV")}
        environ.update(PYTHONPATH=str(ROOT), FIELDAPP_RUN_DIR=str(self.run_dir),
                       FIELDAPP_SERVER_PORT=str(server_port), FIELDAPP_APP_PORT=str(app_port), **env)
        self.proc = subprocess.Popen(
            [MAKE, "--no-print-directory", "-o", str(stamp), "run", f"PY={sys.executable}", f"STAMP={stamp}"],
            cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            start_new_session=True, env=environ, preexec_fn=_as_at_a_terminal,
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.output: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def ready(self, seconds: float = 240) -> dict[str, int]:
        """Wait for the line saying both run; the server's and the app's ports."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=1)
            except queue.Empty:
                continue
            if line is None:
                break
            self.output.append(line)
            if line.startswith("Ctrl-C stops both"):
                text = "\n".join(self.output)
                return {name: int(port) for name, port in re.findall(r"^(server|app): +http://127\.0\.0\.1:(\d+)", text, re.M)}
        raise AssertionError("make run did not start:\n" + "\n".join(self.output) + self._logs())

    def finished(self, seconds: float = 120) -> str:
        self.proc.wait(timeout=seconds)
        while (line := self.lines.get(timeout=10)) is not None:
            self.output.append(line)
        return "\n".join(self.output)

    def _logs(self) -> str:
        return "".join(f"\n--- {log.name}\n{log.read_text(errors='replace')[-3000:]}" for log in self.run_dir.glob("*.log"))

    def descendants(self) -> set[int]:
        children: dict[int, list[int]] = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
        found: set[int] = set()
        todo = [self.proc.pid]
        while todo:
            for child in children.get(todo.pop(), []):
                if child not in found:
                    found.add(child)
                    todo.append(child)
        return found

    def kill_all(self, pids: set[int]) -> None:
        for pid in [*pids, self.proc.pid]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has ended; only its exit status waits for its parent


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def _stop_and_check(run: MakeRun, signum: int, ports: dict[str, int]) -> None:
    started = run.descendants()
    assert len(started) >= 3, started  # devrun, the server and the app at least
    os.kill(run.proc.pid, signum)  # to make alone, as `kill -TERM <pid of make>` does
    deadline = time.monotonic() + STOPPED_WITHIN_S
    left: list[int] = []
    busy: list[int] = []
    while time.monotonic() < deadline:
        run.proc.poll()
        left = sorted(pid for pid in started | {run.proc.pid} if _alive(pid))
        busy = [port for port in ports.values() if not _port_free(port)]
        if not left and not busy:
            break
        time.sleep(0.1)
    try:
        assert left == [] and busy == [], f"{signal.Signals(signum).name}: processes {left}, ports {busy} left"
    finally:
        run.kill_all(started)


def _fieldapp(*args: str, data: Path, stdin: str | None = None, **env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if k not in ("FIELDAPP_DATA", "FIELDAPP_PIN")}
    return subprocess.run([sys.executable, "-m", "fieldapp", *args, "--data", str(data)], input=stdin or "",
                          capture_output=True, text=True, timeout=120, env={**environ, "PYTHONPATH": str(ROOT), **env})


@pytest.mark.timeout(600)
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP], ids=["TERM", "INT", "HUP"])
def test_a_signal_to_make_stops_everything_it_started(tmp_path, signum):
    run = MakeRun(tmp_path, free_port(), free_port())
    ports = run.ready()
    assert set(ports) == {"server", "app"}
    _stop_and_check(run, signum, ports)


def _counts(device: Path) -> dict:
    import json

    done = _fieldapp("status", "--json", data=device)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)["records"]


@pytest.mark.timeout(900)
def test_with_its_port_taken_it_serves_on_a_free_one_and_the_app_syncs_there(tmp_path, chromium):
    from tests.ui.driver import PHONE

    first = MakeRun(tmp_path, free_port(), free_port())
    ports = first.ready()
    _stop_and_check(first, signal.SIGTERM, ports)
    device = first.run_dir / "device"
    saved = _fieldapp("demo", "--calls", "2", data=device)  # waiting on the phone while nothing runs
    assert saved.returncode == 0, saved.stderr
    waiting = _counts(device)["pending"]
    assert waiting > 0

    with socket.socket() as squatter:  # another program now holds the server's port
        squatter.bind(("127.0.0.1", ports["server"]))
        squatter.listen()
        again = MakeRun(tmp_path, ports["server"], free_port())
        moved = again.ready()
        try:
            assert moved["server"] != ports["server"]
            assert f"now with http://127.0.0.1:{moved['server']}" in "\n".join(again.output)
            # The app itself (its page open, as a volunteer opens it) sends what waited to the moved server.
            context = chromium.new_context(viewport=PHONE, locale="en-US")  # the run's Chromium, a context of its own
            try:
                page = context.new_page()
                page.goto(f"http://127.0.0.1:{moved['app']}")
                page.wait_for_selector("flt-semantics-placeholder", state="attached", timeout=60_000)
                deadline = time.monotonic() + 120
                while (counts := _counts(device))["pending"] and time.monotonic() < deadline:
                    page.wait_for_timeout(500)  # polling the device's own count, not a fixed wait on the app
            finally:
                context.close()
            assert counts["pending"] == 0 and counts["sent"] >= waiting, counts
            # And the device's command line agrees: nothing left to send.
            synced = _fieldapp("sync", "--once", data=device)
            assert synced.returncode == 0, synced.stdout + synced.stderr
        finally:
            _stop_and_check(again, signal.SIGTERM, moved)


@pytest.mark.timeout(900)
def test_with_a_pin_it_takes_fieldapp_pin_and_without_it_ends_in_one_line(tmp_path):
    device = tmp_path / "run-data" / "device"
    assert _fieldapp("demo", "--calls", "1", data=device).returncode == 0
    sealed = _fieldapp("pin", "set", data=device, stdin="4826\n")
    assert sealed.returncode == 0, sealed.stderr

    without = MakeRun(tmp_path, free_port(), free_port())
    output = without.finished()
    assert without.proc.returncode != 0
    assert "Traceback" not in output
    assert "locked with a PIN" in output and "FIELDAPP_PIN" in output

    run = MakeRun(tmp_path, free_port(), free_port(), FIELDAPP_PIN="4826")
    ports = run.ready()
    _stop_and_check(run, signal.SIGTERM, ports)


@pytest.mark.parametrize("given", ["12a4", "wrong-five-times", "keystore-gone"])
def test_a_pin_refused_at_start_ends_in_one_line(tmp_path, monkeypatch, given):
    from fieldapp import devrun
    from fieldapp.store import RecordStore, keystore, protect, throttle

    device = tmp_path / "device"
    RecordStore.open(device).close()
    protect.set_pin(device, "482916")
    protect.forget(device)
    monkeypatch.setattr(throttle, "clock", lambda: 1_800_000_000.0)
    pin = "482916"
    if given == "12a4":
        pin = given  # NotAPin
    elif given == "wrong-five-times":
        for _ in range(throttle.FREE + 1):
            with pytest.raises(protect.WrongPin):
                protect.unlock(device, "111111")  # the next try is TooSoon
    else:
        held = keystore.FileKeystore(tmp_path / "platform-keystore.json")
        protect.unlock(device, pin, held)  # moved under a keystore...
        protect.forget(device)
        keystore.use(keystore.NoKeystore())  # ...which is not there now: KeystoreEntryGone
        monkeypatch.setattr(keystore, "_current", keystore.NoKeystore())
    monkeypatch.setenv("FIELDAPP_PIN", pin)
    try:
        with pytest.raises(SystemExit) as ended:
            devrun._unlock(device)
    finally:
        keystore.use(None)
        protect.forget(device)
    assert isinstance(ended.value.code, str) and ended.value.code.startswith("make run: "), ended.value.code
    assert "\n" not in ended.value.code
