"""The browser tests' fixtures: the app on a free port, Chromium, and a phone at phone size in English or Arabic.

The driver itself (starting the app, `Phone`) is in tests/ui/driver.py.
"""

from __future__ import annotations

import pytest

from fieldapp.sync import enrollment
from tests.conftest import free_port
from tests.sync.conftest import link  # noqa: F401  (fixture: a real server on loopback)
from tests.ui.driver import CHROMIUM_ARGS, PHONE, Phone, start_app, stop_app


@pytest.fixture
def app(tmp_path):
    """The app on a device enrolled with a server that is not there (a closed loopback port): (url, data folder)."""
    data = tmp_path / "device"
    from fieldapp.store import RecordStore

    RecordStore.open(data).close()
    enrollment.save(data, enrollment.Enrollment(f"http://127.0.0.1:{free_port()}", "token-of-a-missing-server"))
    url, proc = start_app(data)
    yield url, data
    stop_app(proc)


@pytest.fixture
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def phone(browser):
    """A phone whose language is English (the browser's language reaches the app as the device's)."""
    return Phone(browser.new_page(viewport=PHONE, locale="en-US"))


@pytest.fixture
def arabic_phone(browser):
    return Phone(browser.new_page(viewport=PHONE, locale="ar-SY"))
