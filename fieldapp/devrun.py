"""`make run`: the server on a SQLite file and the app as a web page, both on 127.0.0.1.

Everything lives under `run-data/` in the working folder: the server's
database and the device's data. The device is enrolled with the server as a
team lead of the team `demo` on the first run, and again whenever the server's
address changed (its port was taken, say), so the sync badge, the day queue and
the figures all have something to talk to. The token goes from one command to
the other and is never printed. With a PIN set on the device's data, the PIN is
asked at the terminal, or read from FIELDAPP_PIN.

It stops like a service: TERM, INT or HUP, to this process or to the `make`
that runs it, stops the server and the app (each with all it started) and
frees their ports.
"""

from __future__ import annotations

import getpass
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from fieldapp.config import data_dir

HOST = "127.0.0.1"
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
# After TERM, how long the server and the app have to finish before they are killed.
GRACE_S = 2.5


class Stop(Exception):
    """A stop signal arrived, here or at the `make` that runs this."""


_signalled: list[str] = []


def _on_stop_signal(signum, frame) -> None:
    # Only noted here: raising at an arbitrary point could lose a process just started.
    _signalled.append(signal.Signals(signum).name)


class MakeParent:
    """The `make` this runs under, watched for the stop signals it does not pass on.

    make sends TERM on to the command it runs, but neither INT nor HUP (it
    expects the terminal to have sent those to the whole process group); it
    waits for its command instead. What shows that make was told to stop is
    that its handler for them ran and put the default action back (Linux's
    /proc), or that it is gone."""

    def __init__(self) -> None:
        self.pid = os.getppid()
        self.caught = self._caught() if self._is_make() else None

    def _is_make(self) -> bool:
        try:
            return Path(f"/proc/{self.pid}/comm").read_text().strip() in ("make", "gmake")
        except OSError:
            return False

    def _caught(self) -> int | None:
        try:
            for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                if line.startswith("SigCgt:"):
                    return int(line.split()[1], 16)
        except (OSError, ValueError):
            pass
        return None

    def stopping(self) -> bool:
        if _signalled:
            return True
        if os.getppid() != self.pid:
            return True  # make is gone: nothing waits for us any more
        if self.caught is None:
            return False
        now = self._caught()
        watched = sum(1 << (s - 1) for s in STOP_SIGNALS)
        return now is not None and bool(self.caught & watched & ~now)


def _port(preferred: int) -> int:
    with socket.socket() as s:
        try:
            s.bind((HOST, preferred))
            return preferred
        except OSError:
            s.bind((HOST, 0))
            return s.getsockname()[1]


def _start(args: list[str], log: Path) -> subprocess.Popen:
    # A new session each, so that stopping one stops all its children.
    return subprocess.Popen(
        [sys.executable, *args], stdout=open(log, "ab"), stderr=subprocess.STDOUT, start_new_session=True
    )


def _wait_for(url: str, proc: subprocess.Popen, what: str, log: Path, parent: MakeParent, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"{what} stopped at start-up; see {log}")
        if parent.stopping():
            raise Stop("make")
        try:
            httpx.get(url, timeout=1.0)
            return
        except httpx.HTTPError:
            time.sleep(0.3)
    sys.exit(f"{what} did not answer within {seconds:.0f} s; see {log}")


def _stop(procs: list[subprocess.Popen]) -> None:
    """TERM to each process group, KILL to what is left after the grace time."""
    for proc in procs:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + GRACE_S
    for proc in procs:
        try:
            proc.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
    for proc in procs:  # the leader may be gone and a child of its group still there
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()


def main() -> int:
    parent = MakeParent()
    root = Path(os.environ.get("FIELDAPP_RUN_DIR", "run-data")).resolve()
    root.mkdir(parents=True, exist_ok=True)
    database = f"sqlite:///{root / 'server.db'}"
    device = data_dir(os.environ.get("FIELDAPP_DATA") or root / "device")
    _unlock(device)  # before anything starts: a signal while the PIN is asked just ends this
    for signum in STOP_SIGNALS:
        signal.signal(signum, _on_stop_signal)
    server_port = _port(int(os.environ.get("FIELDAPP_SERVER_PORT", 8000)))
    app_port = _port(int(os.environ.get("FIELDAPP_APP_PORT", 8550)))
    server_url = f"http://{HOST}:{server_port}"
    app_url = f"http://{HOST}:{app_port}"

    procs: list[subprocess.Popen] = []
    try:
        server_log = root / "server.log"
        procs.append(_start(
            ["-m", "sync.server.cli", "serve", "--host", HOST, "--port", str(server_port), "--database", database],
            server_log,
        ))
        _wait_for(f"{server_url}/api/v1/health", procs[0], "the server", server_log, parent)
        _enroll(device, database, server_url)
        if parent.stopping():
            raise Stop()

        app_log = root / "app.log"
        procs.append(_start(["-m", "fieldapp", "ui", "--web", "--port", str(app_port), "--data", str(device)], app_log))
        _wait_for(app_url, procs[1], "the app", app_log, parent, seconds=120)

        print(f"server: {server_url}   (API docs: {server_url}/docs; log: {server_log})")
        print(f"app:    {app_url}   (data: {device}; log: {app_log})")
        print("Ctrl-C stops both.", flush=True)
        while all(p.poll() is None for p in procs):
            if parent.stopping():
                return 0
            time.sleep(0.3)
        return 1
    except Stop:
        return 0
    finally:
        for signum in STOP_SIGNALS:  # a second signal must not cut the stopping short
            signal.signal(signum, signal.SIG_IGN)
        _stop(procs)


def _unlock(device: Path) -> None:
    """With a PIN on the device's data, open it in this process (enrolling reads and writes it)."""
    from fieldapp.store import protect

    if not protect.has_pin(device):
        return
    pin = os.environ.get("FIELDAPP_PIN")
    if not pin and sys.stdin is not None and sys.stdin.isatty():
        try:
            pin = getpass.getpass(f"PIN of the device's data ({device}): ")
        except (KeyboardInterrupt, EOFError):
            sys.exit("make run: stopped at the PIN")
    if not pin or not pin.strip():
        sys.exit("make run: the device's data is locked with a PIN: give it at the terminal, or in FIELDAPP_PIN")
    try:
        protect.unlock(device, pin.strip())
    except (protect.WrongPin, protect.NotAPin, protect.TooSoon, protect.WipedAfterGuesses,
            protect.KeystoreError) as exc:  # refused, said in one line; a wipe after too many: the next run starts empty
        sys.exit(f"make run: {exc}")
    except protect.Duress:
        pass  # wiped, as that PIN does; the app starts empty and is enrolled again below


def _enroll(device: Path, database: str, server_url: str) -> None:
    """Enroll the device, unless it is enrolled with this very server address already."""
    from fieldapp.sync import enrollment

    try:
        current = enrollment.load(device)
    except enrollment.EnrollmentError:
        current = None  # a damaged file: enrolling again replaces it
    if current is not None and current.server_url == server_url:
        return
    from fieldapp.store import RecordStore

    store = RecordStore.open(device)
    device_id = store.device_id
    store.close()
    made = subprocess.run(
        [sys.executable, "-m", "sync.server.cli", "enroll", "--team", "demo", "--device", device_id,
         "--role", "lead", "--database", database],
        capture_output=True, text=True, check=True,
    )
    token = made.stdout.strip().splitlines()[-1]  # the token comes last
    enrollment.enroll(device, server_url, token)
    if current is not None:
        print(f"the device was enrolled with {current.server_url}; now with {server_url}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
