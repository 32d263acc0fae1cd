"""Shared test plumbing: where the real PostgreSQL and Chromium are, free ports.

Tests that need PostgreSQL or Chromium find them through the environment:

- FIELDAPP_TEST_POSTGRES_URL, e.g. postgresql://postgres@127.0.0.1:5432/test
- FIELDAPP_TEST_CHROMIUM, e.g. /usr/bin/chromium

Without them, the machine's own are used when it has them: `chromium` on the
PATH, PostgreSQL answering at LOCAL_POSTGRES. Where none is found the tests are
skipped, unless FIELDAPP_TEST_REQUIRE_ALL=1 (as `.ci/run` sets it): then a
missing one is a failure.

`make test` runs the suite in several processes (pytest-xdist); everything here
is safe so: each process has its own ports, its own Chromium and its own temporary
folders, and each PostgreSQL test its own database.
"""

from __future__ import annotations

import os
import random
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


# Ports are handed out below the kernel's ephemeral range (32768 up), where no outgoing connection takes
# one between the test picking it and its server binding it, in a block of its own for each xdist worker,
# and never twice in one process: two servers started at once never get the same port.
_WORKER = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
_PORT_BLOCK = 1500
_PORTS = range(20000 + _PORT_BLOCK * (_WORKER % 8), 20000 + _PORT_BLOCK * (_WORKER % 8 + 1))
_handed_out: set[int] = set()
_pick = random.Random()  # its own, so a test seeding `random` does not make two runs pick alike


def free_port() -> int:
    """A port free on loopback right now, not handed out before in this process."""
    for _ in range(200):
        port = _pick.choice(_PORTS)
        if port in _handed_out:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        _handed_out.add(port)
        return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:  # the block is full: any port the kernel gives
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def playwright():
    """Playwright, once per test process (its sync API cannot be started twice in one thread)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as started:
        yield started


@pytest.fixture(scope="session")
def chromium(playwright, chromium_path):
    """One headless Chromium for the whole run of this process; each test opens its own context in it."""
    from tests.ui.driver import CHROMIUM_ARGS

    launched = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
    yield launched
    launched.close()


@pytest.fixture
def data_dir(tmp_path):
    """A fresh device data folder."""
    folder = tmp_path / "device"
    folder.mkdir()
    return folder
