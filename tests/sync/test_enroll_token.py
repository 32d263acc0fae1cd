"""The token off the command line: `fieldapp enroll URL` reads it from standard input or FIELDAPP_TOKEN.

A token given as an argument is in /proc/PID/cmdline, which every user of the machine
can read, and in the shell's history. The old form still works, with a warning.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from fieldapp.sync import enrollment


def _fieldapp(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "fieldapp", *args], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **(env or {})})


def _cmdline(pid: int) -> str:
    """The process's command line once it runs fieldapp (between fork and exec it is still pytest's)."""
    seen = ""
    for _ in range(100_000):
        seen = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        if "fieldapp" in seen:
            break
    return seen


def test_the_token_on_standard_input_never_shows_in_the_process_list(link, tmp_path):
    folder = tmp_path / "device"
    token = link.server.enroll(link.team, "dev-stdin")
    process = _fieldapp("enroll", link.server.url, "--data", str(folder))
    try:
        seen = _cmdline(process.pid)  # the process is running, waiting for its standard input
        out, err = process.communicate(token + "\n", timeout=60)
    finally:
        process.kill()
    assert "enroll" in seen and link.server.url in seen and token not in seen
    assert process.returncode == 0, err
    assert token not in out + err and "warning" not in err
    assert enrollment.load(folder).token == token


def test_the_token_from_the_environment(link, tmp_path):
    folder = tmp_path / "device"
    token = link.server.enroll(link.team, "dev-env")
    process = _fieldapp("enroll", link.server.url, "--data", str(folder), env={"FIELDAPP_TOKEN": token})
    seen = _cmdline(process.pid)
    out, err = process.communicate("", timeout=60)
    assert token not in seen
    assert process.returncode == 0, err
    assert token not in out + err
    assert enrollment.load(folder).token == token


def test_the_old_form_still_enrolls_and_warns_in_one_line_without_the_token(link, tmp_path):
    folder = tmp_path / "device"
    token = link.server.enroll(link.team, "dev-old")
    process = _fieldapp("enroll", link.server.url, token, "--data", str(folder))
    out, err = process.communicate("", timeout=60)
    assert process.returncode == 0, err
    assert token not in out + err
    warning, = err.strip().splitlines()
    assert "warning" in warning and "standard input" in warning and "FIELDAPP_TOKEN" in warning
    assert enrollment.load(folder).token == token


def test_no_token_at_all_is_one_line_and_nothing_is_saved(link, tmp_path):
    folder = tmp_path / "device"
    process = _fieldapp("enroll", link.server.url, "--data", str(folder))
    out, err = process.communicate("", timeout=60)
    assert process.returncode == 2
    assert err.strip() == "fieldapp: no token: give it on standard input or in FIELDAPP_TOKEN"
    assert "Traceback" not in err and enrollment.load(folder) is None
