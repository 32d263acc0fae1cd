"""The app's lock: the PIN at start, and again after a few minutes in the background.

Plain state and actions (`AppLock`), tested without a client; its screen is
fieldapp/ui/views/lock.py. The data key stays in this process's memory while the
app runs, so the background sync goes on while the screen is locked; the lock
hides the records until the PIN is given again. A store with no PIN never
locks. Each page starts locked, even while the process holds the key, and a
reload of the web page (Flet keeps the session and reconnects it) locks it
again: a reload, or a second tab, asks for the PIN.

A PIN is read as digits from any keyboard (`protect.digits`); wrong ones cost
growing waits, which the screen states.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

from fieldapp.i18n import Translator
from fieldapp.store import protect
from fieldapp.store.keystore import Keystore

# Minutes in the background before the PIN is asked again; FIELDAPP_LOCK_AFTER_S for tests.
LOCK_AFTER_S = float(os.environ.get("FIELDAPP_LOCK_AFTER_S", "180"))


class AppLock:
    """Whether the screens are locked, and the PIN that opens them."""

    def __init__(self, data_dir: Path, *, after_s: float = LOCK_AFTER_S, clock: Callable[[], float] = time.monotonic,
                 keystore: Keystore | None = None):
        self.data_dir = Path(data_dir)
        self.keystore = keystore  # this page's (None: the process's, keystore.current())
        self.after_s = after_s
        self.clock = clock
        self.locked = protect.has_pin(self.data_dir)  # a new page (a reload) asks, whatever this process holds
        self.error: str | None = None  # a translation key
        self.error_params: dict[str, object] = {}
        self.wiped = False
        self.notice: str | None = None  # a translation key, said once the store is open
        self.key_gone = False  # the keystore lacks the data's key: only wiping and starting again leads on
        self.asking_start_again = False
        self._away_since: float | None = None

    def try_pin(self, pin: str) -> bool:
        """Unlock with the PIN; False with `error` set when it does not open the store."""
        pin = pin.strip()
        self.error_params = {}
        if not pin:
            self.error = "lock.empty"
            return False
        try:
            protect.unlock(self.data_dir, pin, self.keystore)  # at start the key into memory; later, the same key checked again
        except protect.WrongPin:
            self.error = "lock.wrong"
            return False
        except protect.NotAPin as exc:
            self.error, self.error_params = exc.key, {"n": protect.MIN_PIN}
            return False
        except protect.TooSoon as exc:
            self.error, self.error_params = "pin.wait", {"seconds": exc.wait_s}
            return False
        except protect.KeystoreEntryGone:
            self.error, self.key_gone = "lock.keystore", True
            return False
        except protect.KeystoreError:
            self.error = "lock.keystore_unreachable"
            return False
        except (protect.Duress, protect.WipedAfterGuesses):
            self.wiped = True  # the folder is empty now: the app opens as new
        self.locked, self.error = False, None
        if not self.wiped and protect.pin_needs_changing(self.data_dir):
            self.notice = "lock.change_pin"  # a passphrase the release before took: it opens, a PIN of digits is due
        return True

    def start_again(self, *, confirmed: bool = False) -> bool:
        """With the keystore's key gone, nothing opens the data: wipe it and start empty. Asks first.

        Only the question's own button confirms (`confirmed`): a double tap on the offer asks again.
        """
        if not self.key_gone:
            return False
        if not (confirmed and self.asking_start_again):
            self.asking_start_again = True
            return False
        protect.wipe(self.data_dir, self.keystore)
        self.asking_start_again = self.key_gone = False
        self.wiped, self.locked, self.error = True, False, None
        return True

    def message(self, t: Translator) -> str:
        """What went wrong, in the user's language."""
        if not self.error:
            return ""
        params = dict(self.error_params)
        if "seconds" in params:
            params = {"wait": t.duration(int(str(params["seconds"])))}
        return t(self.error, **params)

    def went_away(self) -> None:
        if protect.has_pin(self.data_dir):
            self._away_since = self.clock()

    def reconnected(self) -> bool:
        """A reload of the web page (Flet reconnects it to the same session): True when the lock must show."""
        self.locked = protect.has_pin(self.data_dir)
        return self.locked

    def came_back(self) -> bool:
        """True when the app must lock now: it was in the background too long."""
        away, self._away_since = self._away_since, None
        if away is not None and self.clock() - away >= self.after_s and protect.has_pin(self.data_dir):
            self.locked = True
        return self.locked
