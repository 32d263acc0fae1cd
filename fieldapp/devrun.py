"""`make run`: the server on a SQLite file and the app as a web page, both on 127.0.0.1.

Everything lives under `run-data/` in the working folder: the server's
database and the device's data. On the first run the device is enrolled with
the server as a team lead of the team `demo`, so the sync badge, the day queue
and the figures all have something to talk to. The token goes from one
command to the other and is never printed.

Ctrl-C stops both.
"""

from __future__ import annotations

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


def _wait_for(url: str, proc: subprocess.Popen, what: str, log: Path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"{what} stopped at start-up; see {log}")
        try:
            httpx.get(url, timeout=1.0)
            return
        except httpx.HTTPError:
            time.sleep(0.3)
    sys.exit(f"{what} did not answer within {seconds:.0f} s; see {log}")


def _stop(procs: list[subprocess.Popen]) -> None:
    for proc in procs:
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    for proc in procs:
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def main() -> int:
    root = Path(os.environ.get("FIELDAPP_RUN_DIR", "run-data")).resolve()
    root.mkdir(parents=True, exist_ok=True)
    database = f"sqlite:///{root / 'server.db'}"
    device = data_dir(os.environ.get("FIELDAPP_DATA") or root / "device")
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
        _wait_for(f"{server_url}/api/v1/health", procs[0], "the server", server_log)
        _enroll_once(device, database, server_url)

        app_log = root / "app.log"
        procs.append(_start(["-m", "fieldapp", "ui", "--web", "--port", str(app_port), "--data", str(device)], app_log))
        _wait_for(app_url, procs[1], "the app", app_log, seconds=120)

        print(f"server: {server_url}   (API docs: {server_url}/docs; log: {server_log})")
        print(f"app:    {app_url}   (data: {device}; log: {app_log})")
        print("Ctrl-C stops both.", flush=True)
        while all(p.poll() is None for p in procs):
            time.sleep(0.5)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        _stop(procs)


def _enroll_once(device: Path, database: str, server_url: str) -> None:
    from fieldapp.sync import enrollment

    if enrollment.load(device) is not None:
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


if __name__ == "__main__":
    sys.exit(main())
