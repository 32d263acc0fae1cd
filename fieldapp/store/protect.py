"""A phone in the wrong hands: the PIN, sealing a folder in place, and wiping it.

    unlock(folder, pin)          -> the Vault, kept in this process's memory
    set_pin(folder, pin)         seal a plain folder in place, crash-safely
    set_duress(folder, pin, duress)  a second PIN that wipes and opens an empty store
    wipe(folder)                 every record and key, beyond recovery: the keystore's entry first (best effort)
    set_wipe_after(folder, n)    the team's choice: wipe after n wrong PINs in a row (None: never)
    digits(text)                 a PIN typed on any keyboard, as ASCII digits

Every PIN read (the app's lock, FIELDAPP_PIN, standard input) goes through
`digits`: Arabic-Indic `١٢٣٤` and Persian `۱۲۳۴` are the PIN `1234`. Every try
goes through `throttle.Guesses`: wrong ones cost growing waits. Where the
platform has a keystore (keystore.py), the data key is also wrapped by a secret
held there.

Sealing in place: `keys.json` is written first with state "converting"; each
file is then replaced atomically by its sealed copy (so each is wholly plain or
wholly sealed, and both kinds are read meanwhile); the state becomes "sealed"
last. A kill at any instant leaves a folder the PIN opens, and the next open
finishes the job.
"""

from __future__ import annotations

import os
import secrets
import shutil
import unicodedata
from pathlib import Path

from . import keystore as keystores
from .durable import atomic_write, fsync_dir, overwrite
from .errors import StoreError
from .handover import remove_exports
from .index import Generation, IdIndex
from .keystore import Keystore, KeystoreEntryGone, KeystoreError
from .lock import StoreLock
from .throttle import TRIES_LOCK, Guesses, TooSoon, WipedAfterGuesses
from .vault import CONVERTING, KEYS, MAGIC, SEALED, Duress, KeyFile, KeysLost, PinRequired, Vault, WrongPin, is_sealed

__all__ = ["Duress", "KeysLost", "KeystoreEntryGone", "KeystoreError", "NotAPin", "PinRequired", "TooSoon",
           "WipedAfterGuesses", "WrongPin", "digits", "has_pin", "pin_needs_changing", "set_duress",
           "set_pin", "set_wipe_after", "unlock", "unlocked", "wipe"]

_open: dict[Path, Vault] = {}  # folder -> its vault, for this process's life; never written anywhere

MIN_PIN = 4


def _key(folder: Path | str) -> Path:
    return Path(folder).resolve()


def has_pin(folder: Path | str) -> bool:
    return (Path(folder) / KEYS).exists()


def unlocked(folder: Path | str) -> Vault | None:
    """The vault this process opened for the folder, if any."""
    return _open.get(_key(folder))


class NotAPin(StoreError):
    """A PIN with something in it that is not a digit, or too few digits."""

    def __init__(self, key: str):
        self.key = key  # its words, in the user's language (fieldapp.i18n)
        super().__init__(key)

    def __str__(self) -> str:
        if self.key == "pin.short":
            return f"a PIN needs at least {MIN_PIN} digits"
        return "a PIN is digits only (0-9, or the same digits on an Arabic keyboard)"


def digits(text: str) -> str:
    """The PIN as ASCII digits, whichever keyboard typed it; NotAPin for anything else (`²`, letters)."""
    text = text.strip()
    if not all(c.isdecimal() for c in text):
        raise NotAPin("pin.digits")
    return "".join(str(unicodedata.decimal(c)) for c in text)


def _secret(keys: KeyFile, keystore: Keystore) -> bytes:
    """The keystore's part of the wrapping key: b"" for a folder sealed without a keystore."""
    entry = keys.keystore_entry
    if entry is None:
        return b""
    secret = keystore.get(entry)
    if not secret:
        raise KeystoreEntryGone()
    return secret


def _unwrap(folder: Path, keys: KeyFile, pin: str, keystore: Keystore) -> bytes:
    """The data key for a PIN, each try counted first and paid for with the wait after wrong ones.

    Tries go one at a time, across threads and processes (`Guesses.one_try`):
    each sees the count the one before left. The duress PIN wipes (and raises
    Duress); the team's limit of wrong PINs wipes too (WipedAfterGuesses). A
    keys.json from the release that took PINs as typed is tried as typed too,
    in the same counted try, and re-keyed as digits once a digit PIN opens it.
    """
    try:
        normal: str | None = digits(pin)
    except NotAPin:
        if not keys.as_typed:
            raise
        normal = None  # a passphrase the release before took: tried as typed only
    tries = list(dict.fromkeys(p for p in (normal, pin if keys.as_typed else None) if p is not None))
    guesses = Guesses(folder, keystore, keys.keystore_entry)
    with guesses.one_try():
        if not keys.path.exists():
            raise StoreError("this device's data has no PIN")  # wiped by the try just before this one
        guesses.check()
        secret = _secret(keys, keystore)
        failures = guesses.counted()
        try:
            for typed in tries:
                try:
                    key = keys.unwrap(typed, secret)
                    break
                except WrongPin:
                    continue
            else:
                raise WrongPin()
        except Duress:
            wipe(folder, keystore)
            raise
        except WrongPin:
            limit = keys.wipe_after
            if limit is not None and failures >= limit:
                wipe(folder, keystore)
                raise WipedAfterGuesses() from None
            raise
        guesses.right()
        if normal is not None and keys.pin_as_typed:
            keys.rewrap(key, normal, secret)  # from now on the same digits from any keyboard open it
        return key


def pin_needs_changing(folder: Path | str) -> bool:
    """The PIN is a passphrase the release before took: it still opens the data, but a new one is due."""
    try:
        keys = KeyFile.load(Path(folder))
    except StoreError:
        return False
    return keys is not None and keys.pin_as_typed


def unlock(folder: Path | str, pin: str, keystore: Keystore | None = None) -> Vault:
    """Open the folder's data key with the PIN. Raises WrongPin or TooSoon; on the duress PIN, wipes and raises Duress.

    Opened with a keystore at hand, a folder sealed without one is moved under
    it: from then on its keys.json opens nothing without the keystore's entry.
    """
    folder = Path(folder)
    keystore = keystore or keystores.current()
    keys = KeyFile.load(folder)
    if keys is None:
        raise StoreError("this device's data has no PIN")
    key = _unwrap(folder, keys, pin, keystore)
    if keys.keystore_entry is None and keystore.kind != keystores.NONE:
        entry, secret = _new_entry(keystore)
        keys.data["keystore"] = {"kind": keystore.kind, "entry": entry}
        keys.rewrap(key, pin if keys.pin_as_typed else digits(pin), secret)  # a passphrase stays as typed
    vault = Vault(key, converting=keys.state == CONVERTING)
    _open[_key(folder)] = vault
    return vault


def _new_entry(keystore: Keystore) -> tuple[str, bytes]:
    """A new secret in the keystore, put there before any keys.json relies on it."""
    entry, secret = f"fieldapp-{secrets.token_hex(8)}", secrets.token_bytes(32)
    keystore.put(entry, secret)
    return entry, secret


def has_keystore() -> bool:
    """Whether this platform keeps the data key's second half outside the data folder."""
    return keystores.current().kind != keystores.NONE


def set_wipe_after(folder: Path | str, count: int | None, pin: str | None = None) -> None:
    """The team's choice: wipe the data after `count` wrong PINs in a row (None or 0: never).

    Needs the store unlocked in this process, or its PIN.
    """
    folder = Path(folder)
    if count is not None and count < 0:
        raise StoreError("the number of wrong PINs before a wipe must be 1 or more (0: never)")
    with _locked(folder):
        keys = KeyFile.load(folder)
        if keys is None:
            raise StoreError("set a PIN first: `fieldapp pin set`")
        if pin is not None:
            _unwrap(folder, keys, pin, keystores.current())
        elif unlocked(folder) is None:
            raise PinRequired()
        if count:
            keys.data["wipe_after"] = count
        else:
            keys.data.pop("wipe_after", None)
        keys.save()


def wipe_after(folder: Path | str) -> int | None:
    try:
        keys = KeyFile.load(Path(folder))
    except StoreError:
        return None
    return keys.wipe_after if keys is not None else None


def forget(folder: Path | str) -> None:
    """Drop the key from this process (the app's lock)."""
    _open.pop(_key(folder), None)


def check_pin(pin: str) -> str:
    """A new PIN, as ASCII digits: at least MIN_PIN of them, typed on any keyboard."""
    pin = digits(pin)
    if len(pin) < MIN_PIN:
        raise NotAPin("pin.short")
    return pin


def set_pin(folder: Path | str, pin: str, keystore: Keystore | None = None) -> None:
    """Seal a plain folder with a new PIN; or finish sealing one a kill interrupted."""
    folder = Path(folder)
    pin = check_pin(pin)
    keystore = keystore or keystores.current()
    with _locked(folder):
        keys = KeyFile.load(folder)
        if keys is None:
            held, secret = None, b""
            if keystore.kind != keystores.NONE:
                entry, secret = _new_entry(keystore)
                held = {"kind": keystore.kind, "entry": entry}
            keys, key = KeyFile.create(folder, pin, secret, held)
            vault = Vault(key, converting=True)
        elif keys.state == CONVERTING:
            vault = Vault(_unwrap(folder, keys, pin, keystore), converting=True)
        else:
            raise StoreError("a PIN is set already: use `fieldapp pin change`")
        seal_folder(folder, vault)
        keys.mark(SEALED)
        vault.converting = False
        _open[_key(folder)] = vault


def check_keys(folder: Path | str) -> None:
    """Raise KeysLost when `keys.json` is missing from a folder whose files are sealed (or is damaged).

    Checked before a store opens: without it, the sealed files would be taken
    for damaged ones, moved aside, and a new device made in their place.
    """
    folder = Path(folder)
    if (folder / KEYS).exists():
        KeyFile.load(folder)  # raises KeysLost when damaged
        return
    candidates = [folder / "meta.json", folder / "meta.json.bak", folder / "index" / "manifest.json"]
    try:
        with os.scandir(folder / "days") as entries:
            first = next((e.path for e in entries if e.name.endswith(".json")), None)  # one partition tells
        if first is not None:
            candidates.append(Path(first))
    except OSError:
        pass
    for path in candidates:
        try:
            with open(path, "rb") as f:
                head = f.read(len(MAGIC))
        except OSError:
            continue
        if head == MAGIC:
            raise KeysLost(folder, missing=True)


def finish_sealing(folder: Path, vault: Vault) -> None:
    """Called on open of a folder whose sealing a kill interrupted (the lock is held)."""
    keys = KeyFile.load(folder)
    if keys is not None and keys.state == CONVERTING:
        seal_folder(folder, vault)
        keys.mark(SEALED)
        vault.converting = False


def _names(folder: Path) -> list[tuple[Path, str]]:
    """Every file that may hold record content, a name or the token, with its name as sealed."""
    found: list[tuple[Path, str]] = []
    for name in ("meta.json", "enrollment.json"):
        found += [(folder / name, name), (folder / f"{name}.bak", name)]
    found.append((folder / "index" / "manifest.json", "index/manifest.json"))
    for path in sorted((folder / "days").glob("*.json")):
        found.append((path, f"days/{path.name}"))
    for path in sorted((folder / "days").glob("*.json.bak")):
        found.append((path, f"days/{path.name[:-4]}"))
    damaged = folder / "damaged"
    if damaged.is_dir():
        found += [(path, f"damaged/{path.name}") for path in sorted(damaged.iterdir()) if path.is_file()]
    photos = folder / "photos"  # photographs and their manifest (photos.py), each under its own name
    if photos.is_dir():
        found += [(path, f"photos/{path.name}") for path in sorted(photos.iterdir())
                  if path.is_file() and not path.name.startswith(".")]
    return found


def seal_folder(folder: Path, vault: Vault) -> None:
    (folder / "index").mkdir(parents=True, exist_ok=True)  # a new folder, a PIN before the first record
    remove_exports(folder)  # working copies of exports: plain, and handed over already
    Generation(folder / "index" / "generation").bump()  # every partition file changes: others list again
    for path, name in _names(folder):
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            continue
        if not is_sealed(raw):
            atomic_write(path, vault.seal(raw, name))
    # The id index names records by a keyed hash once sealed, not by their ids, and masks their partitions.
    IdIndex(folder / "index" / "ids.log", vault).seal_log()
    for leftover in folder.rglob(".*.tmp"):
        leftover.unlink(missing_ok=True)  # a save cut short: never part of the store, may be plain


def set_duress(folder: Path | str, pin: str, duress: str) -> None:
    folder = Path(folder)
    duress = check_pin(duress)
    if duress == digits(pin):
        raise StoreError("the duress PIN must differ from the PIN")
    with _locked(folder):
        keys = KeyFile.load(folder)
        if keys is None:
            raise StoreError("set a PIN first: `fieldapp pin set`")
        _unwrap(folder, keys, pin, keystores.current())
        keys.set_duress(duress)


def wipe(folder: Path | str, keystore: Keystore | None = None) -> None:
    """Remove every record and key beyond recovery.

    The keystore's entry goes first: with it gone, every copy of `keys.json`
    (old ones in freed blocks of flash included) opens nothing, whatever the
    PIN; a keystore that does not answer (FletKeystore's timeout) is asked
    again at the end and never stops the wipe. Then `keys.json`: once it is
    gone, sealed files are noise to anyone.
    Plain files (a store with no PIN) are overwritten before they are removed.
    (Flash storage may keep old blocks out of the app's reach: without a
    keystore, an old `keys.json` there falls to a guessed PIN.)
    """
    folder = Path(folder)
    keystore = keystore or keystores.current()
    _open.pop(_key(folder), None)
    if not folder.exists():
        return
    try:
        entry = (KeyFile.load(folder) or KeyFile(folder / KEYS, {})).keystore_entry
    except StoreError:
        entry = None  # a damaged keys.json: nothing names an entry to remove

    def removed(entries: list[str]) -> list[str]:
        """Best effort: the entries the keystore did not remove (it may not answer: FletKeystore's timeout)."""
        left = []
        for name in entries:
            try:
                keystore.delete(name)
            except KeystoreError:
                left.append(name)
        return left

    # A keystore that does not answer must never stop the wipe, nor hold it up more than one wait: the
    # entry is asked for first, the count's entry and anything unanswered once the data is gone.
    left = removed([entry]) if entry is not None else []
    keys = folder / KEYS
    if keys.exists():
        overwrite(keys)
        keys.unlink()
        fsync_dir(folder)
    for path in sorted(folder.rglob("*"), reverse=True):
        if path.is_file() and not path.is_symlink() and path.name not in (".lock", TRIES_LOCK):
            try:
                overwrite(path)
            except OSError:
                pass
    for child in folder.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        elif child.name not in (".lock", TRIES_LOCK):
            child.unlink(missing_ok=True)
    fsync_dir(folder)
    removed(left + ([f"{entry}.guesses"] if entry is not None else []))  # unanswered: keys.json is gone anyway


class _locked:
    """The store's own lock, so no save runs while the folder is sealed or re-keyed."""

    def __init__(self, folder: Path):
        folder.mkdir(parents=True, exist_ok=True)
        self._lock = StoreLock(folder / ".lock")

    def __enter__(self) -> None:
        self._lock.__enter__()

    def __exit__(self, *exc) -> None:
        self._lock.__exit__(*exc)
        self._lock.close()
