"""Shared test plumbing: where the real PostgreSQL and Chromium are, free ports.

Tests that need PostgreSQL or Chromium find them through the environment:

- FIELDAPP_TEST_POSTGRES_URL, e.g. postgresql://postgres@127.0.0.1:5432/test
- FIELDAPP_TEST_CHROMIUM, e.g. /usr/bin/chromium

Without them, the machine's own are used when it has them: `chromium` on the
PATH, PostgreSQL answering at LOCAL_POSTGRES. Where none is found the tests are
skipped, unless FIELDAPP_TEST_REQUIRE_ALL=1 (as `.ci/run` sets it): then a
missing one is a failure.
"""

from __future__ import annotations

import os
import shutil
import socket

import pytest

REQUIRE_ALL = os.environ.get("FIELDAPP_TEST_REQUIRE_ALL") == "1"
LOCAL_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"


def _local_postgres() -> str | None:
    try:
        import psycopg

        with psycopg.connect(LOCAL_POSTGRES, connect_timeout=2):
            return LOCAL_POSTGRES
    except Exception:  # not installed, not running, not trusting us: no local PostgreSQL
        return None


def _missing(what: str, variable: str) -> None:
    message = f"{what} not available: set {variable}"
    if REQUIRE_ALL:
        pytest.fail(message + " (FIELDAPP_TEST_REQUIRE_ALL=1 makes this a failure)", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def postgres_url() -> str:
    url = os.environ.get("FIELDAPP_TEST_POSTGRES_URL") or _local_postgres()
    if not url:
        _missing("PostgreSQL", "FIELDAPP_TEST_POSTGRES_URL")
    return url


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = os.environ.get("FIELDAPP_TEST_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path or not os.path.exists(path):
        _missing("Chromium", "FIELDAPP_TEST_CHROMIUM")
    return path


def free_port() -> int:
    """A port free on loopback right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def data_dir(tmp_path):
    """A fresh device data folder."""
    folder = tmp_path / "device"
    folder.mkdir()
    return folder
