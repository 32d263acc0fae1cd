"""A phone in the wrong hands: the PIN, sealing a folder in place, and wiping it.

    unlock(folder, pin)          -> the Vault, kept in this process's memory
    set_pin(folder, pin)         seal a plain folder in place, crash-safely
    change_pin(folder, old, new) a new data key: every file sealed again (rekey.py)
    set_duress(folder, pin, duress)  a second PIN that wipes and opens an empty store
    wipe(folder)                 every record and key, beyond recovery

Sealing in place: `keys.json` is written first with state "converting"; each
file is then replaced atomically by its sealed copy (so each is wholly plain or
wholly sealed, and both kinds are read meanwhile); the state becomes "sealed"
last. A kill at any instant leaves a folder the PIN opens, and the next open
finishes the job.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from .durable import atomic_write, fsync_dir
from .errors import StoreError
from .handover import remove_exports
from .index import Generation, IdIndex
from .lock import StoreLock
from .vault import CONVERTING, KEYS, MAGIC, SEALED, Duress, KeyFile, KeysLost, PinRequired, Vault, WrongPin, is_sealed

__all__ = ["Duress", "KeysLost", "PinRequired", "WrongPin", "change_pin", "has_pin", "set_duress", "set_pin", "unlock", "unlocked", "wipe"]

_open: dict[Path, Vault] = {}  # folder -> its vault, for this process's life; never written anywhere

MIN_PIN = 4


def _key(folder: Path | str) -> Path:
    return Path(folder).resolve()


def has_pin(folder: Path | str) -> bool:
    return (Path(folder) / KEYS).exists()


def unlocked(folder: Path | str) -> Vault | None:
    """The vault this process opened for the folder, if any."""
    return _open.get(_key(folder))


def unlock(folder: Path | str, pin: str) -> Vault:
    """Open the folder's data key with the PIN. Raises WrongPin; on the duress PIN, wipes and raises Duress."""
    keys = KeyFile.load(Path(folder))
    if keys is None:
        raise StoreError("this device's data has no PIN")
    try:
        key = keys.unwrap(pin)
    except Duress:
        wipe(folder)
        raise
    vault = Vault(key, converting=keys.state == CONVERTING)
    _open[_key(folder)] = vault
    return vault


def forget(folder: Path | str) -> None:
    """Drop the key from this process (the app's lock)."""
    _open.pop(_key(folder), None)


def check_pin(pin: str) -> None:
    if len(pin) < MIN_PIN or not pin.isdigit() and len(pin) < 6:
        raise StoreError(f"a PIN needs at least {MIN_PIN} digits (or 6 characters)")


def set_pin(folder: Path | str, pin: str) -> None:
    """Seal a plain folder with a new PIN; or finish sealing one a kill interrupted."""
    folder = Path(folder)
    check_pin(pin)
    with _locked(folder):
        keys = KeyFile.load(folder)
        if keys is None:
            keys, key = KeyFile.create(folder, pin)
            vault = Vault(key, converting=True)
        elif keys.state == CONVERTING:
            vault = Vault(keys.unwrap(pin), converting=True)
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


def change_pin(folder: Path | str, old: str, new: str) -> None:
    """A new PIN and a new data key: every file sealed again (`rekey.py`); a duress PIN stays as it was."""
    from . import rekey  # it builds on this module

    rekey.change_pin(folder, old, new)


def set_duress(folder: Path | str, pin: str, duress: str) -> None:
    folder = Path(folder)
    check_pin(duress)
    if duress == pin:
        raise StoreError("the duress PIN must differ from the PIN")
    with _locked(folder):
        keys = KeyFile.load(folder)
        if keys is None:
            raise StoreError("set a PIN first: `fieldapp pin set`")
        keys.unwrap(pin)
        keys.set_duress(duress)


def wipe(folder: Path | str) -> None:
    """Remove every record and key beyond recovery.

    The key goes first: once `keys.json` is gone, sealed files are noise to
    anyone. Plain files (a store with no PIN) are overwritten before they are
    removed. (Flash storage may keep old blocks out of the app's reach; with a
    PIN set, those blocks were sealed too.)
    """
    folder = Path(folder)
    _open.pop(_key(folder), None)
    if not folder.exists():
        return
    keys = folder / KEYS
    if keys.exists():
        size = keys.stat().st_size
        with open(keys, "r+b") as f:
            f.write(os.urandom(size))
            f.flush()
            os.fsync(f.fileno())
        keys.unlink()
        fsync_dir(folder)
    for path in sorted(folder.rglob("*"), reverse=True):
        if path.is_file() and not path.is_symlink() and path.name != ".lock":
            try:
                size = path.stat().st_size
                with open(path, "r+b") as f:
                    f.write(os.urandom(size))
                    f.flush()
                    os.fsync(f.fileno())
            except OSError:
                pass
    for child in folder.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        elif child.name != ".lock":
            child.unlink(missing_ok=True)
    fsync_dir(folder)


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
