"""Linking a device: the server and token are checked, kept 0600, never sent in clear off this machine."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys

import pytest

from fieldapp.sync import enrollment
from fieldapp.sync.enrollment import EnrollmentError
from fieldapp.sync.errors import AuthError, Unreachable
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
    done = subprocess.run([sys.executable, "-m", "fieldapp", "enroll", link.server.url, "--data", str(folder)],
                          input=token + "\n", capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and token not in done.stdout + done.stderr
    path = folder / "enrollment.json"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert enrollment.load(folder).token == token
    assert "hidden" in repr(enrollment.load(folder)) and token not in repr(enrollment.load(folder))


@pytest.mark.parametrize("raw, reason", [
    (b'{"server_url": 5, "token": [], "insecure": "yes"}', "server_url is a number, not text"),
    (b'{"server_url": "https://sync.example.org", "token": ["secret-token"]}', "token is a list, not text"),
    (b'{"server_url": "https://sync.example.org", "token": "secret-token", "insecure": "yes"}',
     "insecure is text, not true or false"),
    (b'["https://sync.example.org", "secret-token"]', "it holds a list, not an object"),
    (b"null", "it holds null, not an object"),
    (b"{}", "it lacks server_url and token"),
    (b'{"server_url": "https://sync.example.org"}', "it lacks token"),
    (b'{"server_url": "https://sync.example.org", "token": "secret-token", "role": "lead"}',
     "it has unknown fields: role"),
    (b'{"server_url": "https://sync.example.org", "token": "  "}', "the token is empty"),
    (b'{"server_url": "ftp://secret-token@x", "token": "secret-token"}', "server_url is not an http(s) server address"),
    (b'{"server_url": "http://sync.example.org", "token": "secret-token"}', "insecure is not set"),
    (b'\xff\xfe{"server_url"', "not UTF-8 text"),
    (b'{"server_url": "https://sync.exa', "not valid JSON"),
])
def test_a_damaged_enrollment_file_is_named_with_what_is_wrong_never_its_values(data_dir, raw, reason):
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "enrollment.json").write_bytes(raw)
    with pytest.raises(EnrollmentError) as caught:
        enrollment.load(data_dir)
    message = str(caught.value)
    assert str(data_dir / "enrollment.json") in message and reason in message and "enroll again" in message
    assert "secret-token" not in message
    # the worker and the status line treat it as "not enrolled", never a crash
    from fieldapp.sync.worker import enrollment_exists
    assert enrollment_exists(data_dir) is False


def test_an_enrollment_file_that_is_a_folder_is_named(data_dir):
    (data_dir / "enrollment.json").mkdir(parents=True)
    with pytest.raises(EnrollmentError, match="cannot be read"):
        enrollment.load(data_dir)


def test_a_good_enrollment_file_still_loads_and_older_files_without_insecure_too(data_dir):
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "enrollment.json").write_text('{"server_url": "https://sync.example.org/", "token": "t"}')
    assert enrollment.load(data_dir) == enrollment.Enrollment("https://sync.example.org", "t", False)
    enrollment.save(data_dir, enrollment.Enrollment("http://10.0.0.5:8000", "t", True))
    assert enrollment.load(data_dir) == enrollment.Enrollment("http://10.0.0.5:8000", "t", True)


def test_sync_once_with_a_wrong_typed_enrollment_file_says_why_in_one_line(data_dir):
    assert subprocess.run([sys.executable, "-m", "fieldapp", "demo", "--calls", "2", "--data", str(data_dir)],
                          capture_output=True, timeout=60).returncode == 0
    (data_dir / "enrollment.json").write_text('{"server_url": 5, "token": [], "insecure": "yes"}')
    done = subprocess.run([sys.executable, "-m", "fieldapp", "sync", "--once", "--data", str(data_dir)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "Traceback" not in done.stdout + done.stderr
    assert "enrollment.json is damaged (server_url is a number, not text); enroll again" in done.stdout + done.stderr
    status = subprocess.run([sys.executable, "-m", "fieldapp", "status", "--json", "--data", str(data_dir)],
                            capture_output=True, text=True, timeout=60)
    assert status.returncode == 0, status.stderr
    assert "server_url is a number" in json.loads(status.stdout)["sync"]["last_error"]
