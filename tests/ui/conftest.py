"""The browser tests' fixtures: the app on a free port, Chromium, and a phone at phone size in English or Arabic.

The driver itself (starting the app, `Phone`) is in tests/ui/driver.py. Chromium is started once per test
process (tests/conftest.py); each test gets fresh contexts in it (no cookie, storage or cache of another
test's), closed when the test ends, before its app is stopped.
"""

from __future__ import annotations

import pytest

from fieldapp.sync import enrollment
from tests.conftest import free_port
from tests.sync.conftest import link  # noqa: F401  (fixture: a real server on loopback)
from tests.ui.driver import PHONE, Phone, start_app, stop_app


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


class BrowserOfOneTest:
    """The session's Chromium as one test sees it: each page in a new context, every context closed at the end."""

    def __init__(self, chromium):
        self.chromium = chromium
        self.contexts: list = []

    def new_context(self, **options):
        context = self.chromium.new_context(**options)
        self.contexts.append(context)
        return context

    def new_page(self, **options):
        return self.new_context(**options).new_page()

    def close(self) -> None:
        for context in self.contexts:
            context.close()
        self.contexts.clear()

    def __getattr__(self, name):
        return getattr(self.chromium, name)


@pytest.fixture
def browser(chromium):
    opened = BrowserOfOneTest(chromium)
    yield opened
    opened.close()


@pytest.fixture
def phone(browser):
    """A phone whose language is English (the browser's language reaches the app as the device's)."""
    return Phone(browser.new_page(viewport=PHONE, locale="en-US"))


@pytest.fixture
def arabic_phone(browser):
    return Phone(browser.new_page(viewport=PHONE, locale="ar-SY"))
