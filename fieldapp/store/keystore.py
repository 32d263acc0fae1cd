"""The platform's keystore: a secret kept outside the data folder, so a disk image alone opens nothing.

Where the platform has one (Android Keystore, iOS Keychain, through
`flet-secure-storage`), `protect` keeps a random 32-byte secret in it, and the
data key is wrapped by the PIN *and* that secret together: the PIN with an old
`keys.json` from a disk image opens nothing, and every guess goes through the
app (and its growing delays). Wipe destroys the entry first.

    Keystore        what protect asks of one: get / put / delete an entry's bytes
    NoKeystore      a computer, the web mode: there is none; the PIN alone guards the data
    FileKeystore    a stand-in kept in a file outside the data folder, for tests
    FletKeystore    the real one, through the app's page (flet-secure-storage)

`current()` is the one in force in this process: the app sets the platform's at
start; the command line has none (FIELDAPP_KEYSTORE_FILE names a stand-in, for
tests only).
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from .durable import atomic_write
from .errors import StoreError

if TYPE_CHECKING:
    import flet as ft

NONE, FAKE, FLET = "none", "file", "flet-secure-storage"


class KeystoreError(StoreError):
    """The keystore could not be reached, or holds no entry the data needs."""


class KeystoreEntryGone(KeystoreError):
    """keys.json needs a keystore entry that is not there (wiped, or another phone): nothing opens."""

    def __str__(self) -> str:
        return "the key this phone's keystore held for the data is gone: nothing can be read"


class Keystore(Protocol):
    kind: str

    def get(self, entry: str) -> bytes | None: ...

    def put(self, entry: str, value: bytes) -> None: ...

    def delete(self, entry: str) -> None: ...


class NoKeystore:
    """No keystore on this platform: nothing is kept outside the data folder."""

    kind = NONE

    def get(self, entry: str) -> bytes | None:
        return None

    def put(self, entry: str, value: bytes) -> None:
        raise KeystoreError("this platform has no keystore")

    def delete(self, entry: str) -> None:
        pass


class FileKeystore:
    """A keystore's stand-in for tests: entries in one JSON file that must lie outside the data folder."""

    kind = FAKE

    def __init__(self, path: Path | str):
        self.path = Path(path)

    def _read(self) -> dict[str, str]:
        try:
            return dict(json.loads(self.path.read_text(encoding="ascii")))
        except FileNotFoundError:
            return {}

    def get(self, entry: str) -> bytes | None:
        value = self._read().get(entry)
        return base64.b64decode(value) if value is not None else None

    def put(self, entry: str, value: bytes) -> None:
        entries = self._read()
        entries[entry] = base64.b64encode(value).decode("ascii")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(self.path, json.dumps(entries).encode("ascii"))

    def delete(self, entry: str) -> None:
        entries = self._read()
        if entries.pop(entry, None) is not None:
            atomic_write(self.path, json.dumps(entries).encode("ascii"))


class FletKeystore:
    """The platform's keystore through the app's page: flet-secure-storage's SecureStorage service.

    Its calls are a round trip to the app's client, awaited on the page's event
    loop; protect is synchronous, so these methods are called from another
    thread (the lock runs the PIN check in one: scrypt must not hold the screen).
    """

    kind = FLET
    TIMEOUT_S = 20.0

    def __init__(self, page: ft.Page):
        from flet_secure_storage import SecureStorage

        self.storage = SecureStorage()  # made in the page's context, it registers itself with the page
        self.loop = page.loop

    def _call(self, method: str, *args: Any) -> Any:
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self.loop:
            raise KeystoreError("the keystore was asked from the page's own loop (it would wait for itself)")
        future = asyncio.run_coroutine_threadsafe(getattr(self.storage, method)(*args), self.loop)
        try:
            return future.result(self.TIMEOUT_S)
        except Exception as exc:
            raise KeystoreError(f"the keystore did not answer ({type(exc).__name__})") from None

    def get(self, entry: str) -> bytes | None:
        value = self._call("get", entry)
        return base64.b64decode(value) if value else None

    def put(self, entry: str, value: bytes) -> None:
        self._call("set", entry, base64.b64encode(value).decode("ascii"))

    def delete(self, entry: str) -> None:
        self._call("remove", entry)


_lock = threading.Lock()
_current: Keystore | None = None


def current() -> Keystore:
    """The keystore in force: the app's platform one, else a test's stand-in, else none."""
    global _current
    with _lock:
        if _current is None:
            path = os.environ.get("FIELDAPP_KEYSTORE_FILE")
            _current = FileKeystore(path) if path else NoKeystore()
        return _current


def use(keystore: Keystore | None) -> None:
    """Put a keystore in force (the app at start; tests); None goes back to the default."""
    global _current
    with _lock:
        _current = keystore
