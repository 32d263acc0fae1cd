"""Shared test plumbing: where the real PostgreSQL and Chromium are, free ports.

Tests that need PostgreSQL or Chromium find them through the environment:

- FIELDAPP_TEST_POSTGRES_URL, e.g. postgresql://postgres@127.0.0.1:5432/test
- FIELDAPP_TEST_CHROMIUM, e.g. /usr/bin/chromium

Where they are missing the tests are skipped, unless FIELDAPP_TEST_REQUIRE_ALL=1
(as `.ci/run` sets it): then a missing one is a failure.
"""

from __future__ import annotations

import os
import socket

import pytest

REQUIRE_ALL = os.environ.get("FIELDAPP_TEST_REQUIRE_ALL") == "1"


def _missing(what: str, variable: str) -> None:
    message = f"{what} not available: set {variable}"
    if REQUIRE_ALL:
        pytest.fail(message + " (FIELDAPP_TEST_REQUIRE_ALL=1 makes this a failure)", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def postgres_url() -> str:
    url = os.environ.get("FIELDAPP_TEST_POSTGRES_URL")
    if not url:
        _missing("PostgreSQL", "FIELDAPP_TEST_POSTGRES_URL")
    return url


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = os.environ.get("FIELDAPP_TEST_CHROMIUM")
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
