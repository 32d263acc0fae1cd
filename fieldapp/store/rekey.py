"""`pin change` re-keys: a new data key, every file sealed again under it, the old key gone.

Wrapping the same data key under a new PIN would leave an old copy of
`keys.json` (a backup, a disk image) and the old PIN opening everything saved
after the change. So the change makes a new data key:

1. `keys.json` is replaced (atomically) by one with state "rekeying": the new
   key wrapped under the new PIN, and the old key sealed by the new one. From
   here on only the new PIN opens the store; before it, nothing has changed
   and the old PIN opens it as it was.
2. The id log goes (its names are keyed hashes under the old key; the store
   builds it again), then each file is replaced atomically by its copy sealed
   with the new key. Meanwhile a file opens with either key.
3. The state becomes "sealed" and the old key is dropped from `keys.json`.

A kill at any instant leaves a folder the new PIN (or, before step 1, the old
one) opens; the next open of the store finishes steps 2 and 3 (`finish`).
"""

from __future__ import annotations

import secrets
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from . import keystore as keystores
from . import protect
from .durable import atomic_write
from .errors import DamagedFile, StoreError
from .handover import remove_exports
from .index import Generation
from .vault import CONVERTING, KEYS, REKEYING, KeyFile, Vault, is_sealed

__all__ = ["change_pin", "finish"]


def change_pin(folder: Path | str, old: str, new: str) -> None:
    """Re-key the folder under a new PIN. Raises WrongPin; the duress PIN wipes and raises Duress."""
    folder = Path(folder)
    new = protect.check_pin(new)  # as ASCII digits, whichever keyboard typed them
    keystore = keystores.current()
    with protect._locked(folder):
        keys = KeyFile.load(folder)
        if keys is None:
            raise StoreError("this device's data has no PIN: use `fieldapp pin set`")
        # The old PIN as any PIN is tried: counted, paid for after wrong ones; the duress PIN wipes.
        key = protect._unwrap(folder, keys, old, keystore)
        vault = Vault(key, converting=keys.state == CONVERTING)
        if keys.state == CONVERTING:
            protect.finish_sealing(folder, vault)  # a kill cut `pin set` short: seal it all first
        _finish(folder, keys, vault)  # and a change a kill cut short
        new_key = secrets.token_bytes(32)
        fresh = Vault(new_key)
        fresh.previous = AESGCM(key)
        _drop_id_log(folder)
        keys.begin_rekeying(new_key, new, fresh.seal_key(key), protect._secret(keys, keystore))
        _seal_again(folder, fresh)
        keys.end_rekeying()
    protect.forget(folder)  # this process's vault held the old key


def finish(folder: Path, vault: Vault) -> None:
    """On open (the lock held): finish a change a kill cut short, if any."""
    keys = KeyFile.load(folder)
    if keys is not None:
        _finish(folder, keys, vault)


def _finish(folder: Path, keys: KeyFile, vault: Vault) -> None:
    if keys.state != REKEYING:
        return
    previous = keys.previous()
    if previous is not None:
        vault.previous = AESGCM(vault.open_key(previous, folder / KEYS))
    _drop_id_log(folder)
    _seal_again(folder, vault)
    keys.end_rekeying()
    vault.previous = None


def _drop_id_log(folder: Path) -> None:
    # Its names are keyed hashes: under the old key they name nothing. A cache: the store lists again.
    (folder / "index").mkdir(parents=True, exist_ok=True)
    Generation(folder / "index" / "generation").bump()  # every partition file changes: others list again
    (folder / "index" / "ids.log").unlink(missing_ok=True)


def _seal_again(folder: Path, vault: Vault) -> None:
    """Every file sealed with the vault's key; those still under the previous key are sealed again."""
    remove_exports(folder)
    for path, name in protect._names(folder):
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            continue
        if not is_sealed(raw):
            atomic_write(path, vault.seal(raw, name))  # a file the sealing never reached: sealed too
            continue
        names = [name] + (_moved_from(path.name) if path.parent.name == "damaged" else [])
        if any(vault.opens(raw, n) for n in names):
            continue
        for tried in names:
            try:
                plain = vault.open(raw, tried, path)
            except DamagedFile:
                continue
            atomic_write(path, vault.seal(plain, tried))
            break
        else:
            if path.parent.name == "damaged":
                # A damaged copy neither key opens: useless to anyone with the new key, and
                # perhaps readable with the old one under a name not guessed here. It goes.
                path.unlink(missing_ok=True)
            # a damaged store file: the store moves it aside on open, as ever
    for leftover in folder.rglob(".*.tmp"):
        leftover.unlink(missing_ok=True)


def _moved_from(moved: str) -> list[str]:
    """The names a file moved to `damaged/` (`<name>.<stamp>`) was sealed under where it was."""
    original = moved.rsplit(".", 1)[0].removesuffix(".bak")
    return [f"days/{original}", original, f"index/{original}"]
