"""Encryption at rest: the data key, the PIN that wraps it, and sealed files.

With a PIN set, every file of the data folder is sealed with AES-256-GCM under
one random data key (a fresh 96-bit nonce each time; the file's name inside the
folder is the associated data, so a sealed file cannot be passed off as another).
The data key is kept only wrapped, in `keys.json`, by a key derived from the PIN
with scrypt (memory-hard). It lives in memory while the store is open, never on
disk in the clear. A wrong PIN fails the wrap's authentication: nothing is read.

    keys.json   {"format": 1, "state": "converting" | "sealed" | "rekeying",
                 "kdf": {"name": "scrypt", "n", "r", "p", "salt"},
                 "wrapped": sealed data key,
                 "duress": {"salt", "check"} or absent,
                 "keystore": {"kind", "entry"} or absent,
                 "wipe_after": N or absent,
                 "previous": the old data key sealed by the new one, while "rekeying",
                 "pin_form": "digits" or absent}

"pin_form" says the PIN was wrapped as ASCII digits, whichever keyboard typed
it (the duress PIN says so in its own "form"). The release before wrote
neither: it took the PIN as typed (Arabic-Indic digits, 6+ character
passphrases), so such a file is tried as typed too.

With "keystore", the key that unwraps the data key is the PIN's scrypt key
mixed (HMAC-SHA256) with a random secret held in the platform's keystore under
"entry": without that entry the PIN opens nothing (see keystore.py).

`state` is "converting" while a plain store is being sealed in place (files of
both kinds are read then); "sealed" once every file is; "rekeying" while
`pin change` seals every file again under a new data key (`rekey.py`). The id index is not
sealed as a file: its lines name records by a keyed hash (`index_name`) and their partition
masked by a keyed pad (`index_pad`), in blocks of a fixed number of lines (index.py).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from .durable import atomic_write
from .errors import DamagedFile, StoreError

KEYS = "keys.json"
MAGIC = b"FAv1"  # a sealed file starts with this, then the nonce, then the ciphertext
NONCE = 12

# scrypt at 64 MiB: about 0.15 s on the bench machine (docs/performance.md), a
# few times that on a cheap phone; every guess at a 4-digit PIN costs the same.
KDF_N, KDF_R, KDF_P = 2**16, 8, 1

CONVERTING, SEALED, REKEYING = "converting", "sealed", "rekeying"
PREVIOUS = "previous data key"  # the old key, sealed by the new one, while `pin change` re-seals (rekey.py)
CONVERTING, SEALED = "converting", "sealed"
DIGITS = "digits"  # "pin_form": the PIN was wrapped as ASCII digits


class WrongPin(StoreError):
    """The PIN does not open this store. Nothing was read."""

    def __str__(self) -> str:
        return "wrong PIN: nothing was read"


class PinRequired(StoreError):
    """The store is sealed with a PIN and none was given."""

    def __str__(self) -> str:
        return "this device's data is locked with a PIN: give it (FIELDAPP_PIN, or when asked)"


class KeysLost(StoreError):
    """`keys.json` is missing or damaged while the folder's files are sealed: nothing can be read.

    Nothing is moved and nothing is made anew (no device id, no empty store): put
    the file back and every record is there again.
    """

    def __init__(self, folder: Path, missing: bool, reason: str = ""):
        self.folder = Path(folder)
        self.missing = missing
        self.reason = reason
        super().__init__(str(self))

    def __str__(self) -> str:
        what = "is missing, though the data is sealed with a PIN" if self.missing else f"is damaged ({self.reason})"
        return (f"{self.folder / KEYS} {what}: nothing was read or changed; put back keys.json from a copy of this "
                "folder (it holds the key the PIN opens), or `fieldapp wipe` to start again with no records")


class Duress(StoreError):
    """The duress PIN was given: the caller wipes the store."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


def derive(pin: str, salt: bytes, n: int = KDF_N, r: int = KDF_R, p: int = KDF_P) -> bytes:
    return Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(pin.encode("utf-8"))


class Vault:
    """The data key, in memory: seals and opens the folder's files."""

    def __init__(self, key: bytes, *, converting: bool = False):
        self._aead = AESGCM(key)
        self._mac = hmac.new(key, b"fieldapp index names", hashlib.sha256).digest()
        self._places = hmac.new(key, b"fieldapp index places", hashlib.sha256).digest()
        self.converting = converting  # plain files are still read while sealing in place
        self.previous: AESGCM | None = None  # the old key while re-keying: files not yet sealed again

    def seal_key(self, key: bytes) -> bytes:
        """Another data key, sealed by this one (the old key while re-keying)."""
        return self.seal(key, PREVIOUS)

    def open_key(self, blob: bytes, path: Path) -> bytes:
        return self.open(blob, PREVIOUS, path)

    def seal(self, plaintext: bytes, name: str) -> bytes:
        nonce = os.urandom(NONCE)
        return MAGIC + nonce + self._aead.encrypt(nonce, plaintext, name.encode("utf-8"))

    def open(self, blob: bytes, name: str, path: Path) -> bytes:
        if not blob.startswith(MAGIC):
            if self.converting:
                return blob
            raise DamagedFile(path, "is not sealed, though this store has a PIN (written by something else?)")
        nonce = blob[len(MAGIC):len(MAGIC) + NONCE]
        for aead in (self._aead, self.previous):
            if aead is None:
                continue
            try:
                return aead.decrypt(nonce, blob[len(MAGIC) + NONCE:], name.encode("utf-8"))
            except InvalidTag:
                pass
        raise DamagedFile(path, "fails its authentication (damaged, or not this store's)")

    def opens(self, blob: bytes, name: str) -> bool:
        """Whether this key (not the previous one) opens a sealed file."""
        nonce = blob[len(MAGIC):len(MAGIC) + NONCE]
        try:
            self._aead.decrypt(nonce, blob[len(MAGIC) + NONCE:], name.encode("utf-8"))
        except InvalidTag:
            return False
        return True

    def index_pad(self, name: str, size: int) -> bytes:
        """What the id index's line for `name` masks its partition with (index.py): keyed, so the
        log does not say which day holds how many records."""
        return hashlib.blake2b(name.encode("ascii", "replace"), key=self._places, digest_size=size).digest()

    def index_name(self, record_id: str) -> str:
        """What the id index says for a record id: a keyed hash, not the id."""
        return hmac.new(self._mac, record_id.encode("ascii", "replace"), hashlib.sha256).hexdigest()[:32]


def is_sealed(raw: bytes) -> bool:
    return raw.startswith(MAGIC)


@dataclass
class KeyFile:
    """`keys.json`: the wrapped data key and how to derive the key that unwraps it."""

    path: Path
    data: dict[str, Any]

    @classmethod
    def load(cls, folder: Path) -> KeyFile | None:
        path = Path(folder) / KEYS
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return None
        try:
            data = json.loads(raw)
            if not isinstance(data, dict) or data.get("format") != 1 or not isinstance(data.get("kdf"), dict) \
                    or not isinstance(data.get("wrapped"), str):
                raise ValueError
        except ValueError:
            raise KeysLost(path.parent, missing=False, reason="not a key file this version reads") from None
        return cls(path, data)

    @property
    def state(self) -> str:
        return str(self.data.get("state", SEALED))

    @property
    def keystore_entry(self) -> str | None:
        held = self.data.get("keystore")
        return str(held["entry"]) if isinstance(held, dict) and held.get("entry") else None

    @property
    def wipe_after(self) -> int | None:
        value = self.data.get("wipe_after")
        return int(value) if isinstance(value, int) and value > 0 else None

    @property
    def pin_as_typed(self) -> bool:
        """The PIN was wrapped as typed, by the release before digits were normalised."""
        return self.data.get("pin_form") != DIGITS

    @property
    def as_typed(self) -> bool:
        """The PIN or the duress PIN may have been wrapped as typed: a PIN is tried as typed too."""
        duress = self.data.get("duress")
        return self.pin_as_typed or isinstance(duress, dict) and duress.get("form") != DIGITS

    @classmethod
    def create(cls, folder: Path, pin: str, secret: bytes = b"", keystore: dict[str, str] | None = None,
               ) -> tuple[KeyFile, bytes]:
        key = secrets.token_bytes(32)
        keys = cls(Path(folder) / KEYS, {"format": 1, "state": CONVERTING})
        if keystore:
            keys.data["keystore"] = keystore
        keys._wrap(key, pin, secret)
        keys.save()
        return keys, key

    def _wrap(self, key: bytes, pin: str, secret: bytes = b"") -> None:
        salt = secrets.token_bytes(16)
        wrapping = _mixed(derive(pin, salt), secret)
        self.data["kdf"] = {"name": "scrypt", "n": KDF_N, "r": KDF_R, "p": KDF_P, "salt": _b64(salt)}
        nonce = os.urandom(NONCE)
        self.data["wrapped"] = _b64(nonce + AESGCM(wrapping).encrypt(nonce, key, b"fieldapp data key"))
        if _is_digits(pin):
            self.data["pin_form"] = DIGITS
        else:
            self.data.pop("pin_form", None)

    def unwrap(self, pin: str, secret: bytes = b"") -> bytes:
        """The data key; raises Duress for the duress PIN, WrongPin for any other wrong one."""
        kdf = self.data["kdf"]
        wrapping = _mixed(derive(pin, _unb64(kdf["salt"]), kdf["n"], kdf["r"], kdf["p"]), secret)
        blob = _unb64(self.data["wrapped"])
        try:
            return AESGCM(wrapping).decrypt(blob[:NONCE], blob[NONCE:], b"fieldapp data key")
        except InvalidTag:
            pass
        duress = self.data.get("duress")
        if duress and hmac.compare_digest(_duress_check(pin, _unb64(duress["salt"]), kdf), duress["check"]):
            raise Duress()
        raise WrongPin()

    def rewrap(self, key: bytes, pin: str, secret: bytes = b"") -> None:
        self._wrap(key, pin, secret)
        self.save()

    def begin_rekeying(self, key: bytes, pin: str, previous: bytes, secret: bytes = b"") -> None:
        """The new data key under the new PIN (and the keystore's secret, if any), the old key kept sealed
        by it until every file is sealed again."""
        self._wrap(key, pin, secret)
        self.data["previous"] = _b64(previous)
        self.data["state"] = REKEYING
        self.save()

    def previous(self) -> bytes | None:
        """The old data key, sealed by the new one, while re-keying."""
        sealed = self.data.get("previous")
        return _unb64(sealed) if isinstance(sealed, str) else None

    def end_rekeying(self) -> None:
        """Every file is sealed with the new key: the old one goes."""
        self.data.pop("previous", None)
        self.data["state"] = SEALED
        self.save()

    def set_duress(self, pin: str) -> None:
        salt = secrets.token_bytes(16)
        self.data["duress"] = {"salt": _b64(salt), "check": _duress_check(pin, salt, self.data["kdf"])}
        if _is_digits(pin):
            self.data["duress"]["form"] = DIGITS
        self.save()

    def mark(self, state: str) -> None:
        self.data["state"] = state
        self.save()

    def save(self) -> None:
        atomic_write(self.path, json.dumps(self.data, sort_keys=True).encode("ascii"))


def _is_digits(pin: str) -> bool:
    return pin.isascii() and pin.isdigit()


def _mixed(pin_key: bytes, secret: bytes) -> bytes:
    """The PIN's key, mixed with the keystore's secret when there is one."""
    return hmac.new(secret, pin_key, hashlib.sha256).digest() if secret else pin_key


def _duress_check(pin: str, salt: bytes, kdf: dict[str, Any]) -> str:
    return hashlib.sha256(derive(pin, salt, kdf["n"], kdf["r"], kdf["p"])).hexdigest()
