"""Running a coroutine from a test, whatever else runs in the test process.

`make test` runs the suite in several processes, each keeping one Playwright for its
browser tests (tests/conftest.py): Playwright's sync API keeps an event loop running in
the main thread, so `asyncio.run` there fails ("cannot be called from a running event
loop") in any test that comes after a browser test in the same process. Each coroutine
here gets a thread and a loop of its own.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    done: dict[str, Any] = {}

    def in_its_own_thread() -> None:
        try:
            done["value"] = asyncio.run(coroutine)
        except BaseException as error:  # handed to the test's thread, raised there
            done["error"] = error

    thread = threading.Thread(target=in_its_own_thread, name="test-coroutine")
    thread.start()
    thread.join()
    if "error" in done:
        raise done["error"]
    return done["value"]
