"""Guesses cost: wrong PINs bring growing waits that a restart does not reset.

Each try is counted on disk *before* the PIN is checked (durably), and the
count is cleared only by the right PIN, so pulling the plug right after a wrong
guess saves nothing. The count lives in `guesses.json` in the data folder and,
where there is a keystore, beside the keystore's secret too; the larger one
counts.

    wait_for(failures)   the wait before the next try: none for the first few typos,
                         then 30 s doubling to at most an hour

Limits, said plainly: someone with a copy of the disk can put back an older
`guesses.json`, or set the phone's clock ahead. Without a keystore that buys
nothing they lacked (they can guess offline against `keys.json` anyway, at
scrypt's cost); with one, the keystore's count still holds, and guesses can
only go through the app.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from .durable import atomic_write
from .errors import StoreError
from .keystore import Keystore, KeystoreError
from .lock import StoreLock

GUESSES = "guesses.json"
TRIES_LOCK = ".tries.lock"  # held across check, count and try: tries at once go one at a time
FREE = 3  # typos cost nothing
FIRST_WAIT_S, LONGEST_WAIT_S = 30, 3600

clock: Callable[[], float] = time.time  # wall-clock time survives a restart; tests put their own
_in_process = threading.Lock()  # one try at a time in this process, where there is no file lock (not POSIX)


class TooSoon(StoreError):
    """A PIN was given before the wait after the last wrong ones was over: it was not tried."""

    def __init__(self, wait_s: float):
        self.wait_s = max(1, int(wait_s + 0.999))
        super().__init__(self.wait_s)

    def __str__(self) -> str:
        return f"too many wrong PINs: try again in {wait_text(self.wait_s)}"


class WipedAfterGuesses(StoreError):
    """The team's limit of wrong PINs was reached: the data was wiped."""

    def __str__(self) -> str:
        return "too many wrong PINs: this device's data was wiped, as its team chose"


def wait_for(failures: int) -> int:
    if failures <= FREE:
        return 0
    return min(FIRST_WAIT_S * 2 ** (failures - FREE - 1), LONGEST_WAIT_S)


def wait_text(seconds: int) -> str:
    minutes, seconds = divmod(seconds, 60)
    return f"{minutes} min {seconds} s" if minutes else f"{seconds} s"


class Guesses:
    """The count of wrong PINs for one data folder, on disk and beside the keystore's secret."""

    def __init__(self, folder: Path, keystore: Keystore, entry: str | None):
        self.path = Path(folder) / GUESSES
        self.keystore = keystore
        self.entry = f"{entry}.guesses" if entry else None

    def _read(self) -> tuple[int, float]:
        found = [(0, 0.0)]
        try:
            data = json.loads(self.path.read_bytes())
            found.append((int(data["failures"]), float(data["at"])))
        except (FileNotFoundError, ValueError, KeyError, TypeError):
            pass  # a damaged count is no count: the keystore's, if any, still holds
        if self.entry:
            raw = self.keystore.get(self.entry)
            if raw:
                data = json.loads(raw)
                found.append((int(data["failures"]), float(data["at"])))
        return max(found)

    def _write(self, failures: int, at: float) -> None:
        raw = json.dumps({"failures": failures, "at": at}).encode("ascii")
        if self.entry:
            self.keystore.put(self.entry, raw)
        atomic_write(self.path, raw)

    @property
    def failures(self) -> int:
        return self._read()[0]

    def wait_s(self) -> float:
        """Seconds until the next PIN may be tried (0: now)."""
        failures, at = self._read()
        wait = wait_for(failures)
        now = clock()
        if now < at:  # the clock was set back: the whole wait from now
            return wait
        return max(0.0, at + wait - now)

    def check(self) -> None:
        wait = self.wait_s()
        if wait > 0:
            raise TooSoon(wait)

    def counted(self) -> int:
        """Count this try as wrong before checking it (a cut after a wrong guess keeps it counted)."""
        failures = self._read()[0] + 1
        self._write(failures, clock())
        return failures

    @contextmanager
    def one_try(self) -> Iterator[None]:
        """Held by a try from its check to its answer: tries at once, from threads or processes, go one at a time.

        Without it, tries at once all read the same count and all go ahead.
        A lock file of its own (not the store's `.lock`): `pin set` and the
        others try the PIN while holding that one.
        """
        lock = StoreLock(self.path.with_name(TRIES_LOCK))
        try:
            with _in_process, lock:
                yield
        finally:
            lock.close()

    def right(self) -> None:
        self.path.unlink(missing_ok=True)
        if self.entry:
            try:
                self.keystore.delete(self.entry)
            except KeystoreError:  # the key is open: a keystore that did not answer must not refuse the right PIN
                try:
                    self.keystore.put(self.entry, json.dumps({"failures": 0, "at": clock()}).encode("ascii"))
                except KeystoreError:
                    pass  # the count it holds stays until the next right PIN
