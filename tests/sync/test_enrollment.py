"""Linking a device: the server and token are checked, kept 0600, never sent in clear off this machine."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import pytest

from sync import enrollment
from sync.enrollment import EnrollmentError
from sync.errors import AuthError, Unreachable
from tests.conftest import free_port


@pytest.mark.parametrize("url", ["http://10.0.0.5:8000", "http://sync.example.org", "ftp://x", "nonsense"])
def test_plain_http_off_this_machine_or_bad_addresses_are_refused(data_dir, url):
    with pytest.raises(EnrollmentError):
        enrollment.enroll(data_dir, url, "token")
    assert enrollment.load(data_dir) is None


def test_insecure_allows_plain_http_but_the_server_must_answer(data_dir):
    with pytest.raises(Unreachable):
        enrollment.enroll(data_dir, f"http://127.0.0.2:{free_port()}", "t", insecure=True)


def test_loopback_names_are_allowed():
    for url in ("http://127.0.0.1:8000", "http://localhost:1", "http://[::1]:80", "https://sync.example.org"):
        assert enrollment.check_url(url) == url


def test_enroll_checks_the_token_and_keeps_it_private(link, tmp_path):
    folder = tmp_path / "device"
    token = link.server.enroll(link.team, "dev-x")
    with pytest.raises(AuthError):
        enrollment.enroll(folder, link.server.url, "wrong-token")
    done = subprocess.run([sys.executable, "-m", "fieldapp", "enroll", link.server.url, token, "--data", str(folder)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and token not in done.stdout + done.stderr
    path = folder / "enrollment.json"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert enrollment.load(folder).token == token
    assert "hidden" in repr(enrollment.load(folder)) and token not in repr(enrollment.load(folder))
