"""Linking this device to a server: the address and token, kept in the data folder (0600).

A token is only sent over TLS, or in plain http to this machine itself,
unless the operator says `--insecure`: a token read off the air at a
checkpoint is a volunteer's records read too.
"""

from __future__ import annotations

import ipaddress
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from fieldapp.store import protect
from fieldapp.store.durable import atomic_write
from fieldapp.store.errors import DamagedFile
from fieldapp.store.vault import is_sealed

from .client import SyncClient
from .errors import BadAddress, DamagedLink, DataLocked, EmptyToken, EnrollmentError, PlainHttp

FILE = "enrollment.json"

__all__ = ["Enrollment", "EnrollmentError", "enroll", "load", "save"]  # EnrollmentError: fieldapp.sync.errors


@dataclass(frozen=True)
class Enrollment:
    server_url: str
    token: str
    insecure: bool = False

    def __repr__(self) -> str:  # never show the token
        return f"Enrollment(server_url={self.server_url!r}, token=<hidden>, insecure={self.insecure})"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_url(server_url: str, *, insecure: bool = False) -> str:
    parts = urlsplit(server_url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        # The value is not echoed: a token typed in the address's place must not be printed.
        raise BadAddress("the server address is not one such as https://sync.example.org "
                              "(the address comes first, then the token)")
    if parts.scheme == "http" and not is_loopback(parts.hostname) and not insecure:
        raise PlainHttp("plain http would expose the token on the network: use https, or --insecure on a trusted link")
    return server_url.strip().rstrip("/")


_FIELDS = {"server_url": str, "token": str, "insecure": bool}
_KINDS = {str: "text", bool: "true or false", int: "a number", float: "a number",
          list: "a list", dict: "an object", type(None): "null"}


def _kind(value: object) -> str:
    return _KINDS.get(type(value), type(value).__name__)


def _problem(data: object) -> str | None:
    """What is wrong with the parsed file, naming fields and types, never values (one may be the token)."""
    if not isinstance(data, dict):
        return f"it holds {_kind(data)}, not an object"
    unknown = sorted(str(key) for key in data if key not in _FIELDS)
    if unknown:
        return f"it has unknown fields: {', '.join(unknown)}"
    missing = [key for key in ("server_url", "token") if key not in data]
    if missing:
        return f"it lacks {' and '.join(missing)}"
    for key, kind in _FIELDS.items():
        if key in data and type(data[key]) is not kind:
            return f"{key} is {_kind(data[key])}, not {_KINDS[kind]}"
    if not data["token"].strip():
        return "the token is empty"
    try:
        check_url(data["server_url"])
    except EnrollmentError:
        try:
            check_url(data["server_url"], insecure=True)
        except EnrollmentError:
            return "server_url is not an http(s) server address"
        if not data.get("insecure", False):
            return "server_url is plain http to another machine and insecure is not set"
    return None


def load(data_dir: Path) -> Enrollment | None:
    """The device's enrollment, None if it has none. A damaged file raises EnrollmentError saying what is wrong."""
    path = Path(data_dir) / FILE
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise DamagedLink(f"{path} cannot be read ({exc.strerror}); enroll again") from None
    vault = protect.unlocked(data_dir)
    if vault is not None:
        try:
            raw = vault.open(raw, FILE, path)
        except DamagedFile as exc:
            raise DamagedLink(f"{path} {exc.reason}; enroll again") from None
    elif is_sealed(raw):
        raise DataLocked("this device's data is locked with a PIN: unlock it first")
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise DamagedLink(f"{path} is damaged (not UTF-8 text); enroll again") from None
    except ValueError:
        raise DamagedLink(f"{path} is damaged (not valid JSON); enroll again") from None
    problem = _problem(data)
    if problem:
        raise DamagedLink(f"{path} is damaged ({problem}); enroll again")
    return Enrollment(data["server_url"].strip().rstrip("/"), data["token"].strip(), data.get("insecure", False))


def save(data_dir: Path, enrollment: Enrollment) -> None:
    Path(data_dir).mkdir(parents=True, exist_ok=True)
    payload = json.dumps(asdict(enrollment)).encode()
    vault = protect.unlocked(data_dir)
    if vault is not None:
        payload = vault.seal(payload, FILE)
    elif protect.has_pin(data_dir):
        raise DataLocked("this device's data is locked with a PIN: unlock it first")
    atomic_write(Path(data_dir) / FILE, payload)  # written 0600
    os.chmod(Path(data_dir) / FILE, 0o600)


def enroll(data_dir: Path, server_url: str, token: str, *, insecure: bool = False,
           transport: httpx.BaseTransport | None = None) -> Enrollment:
    """Check the server and the token, then keep them. Raises a SyncError saying why not."""
    url = check_url(server_url, insecure=insecure)
    token = token.strip()
    if not token:
        raise EmptyToken("the token is empty")
    with SyncClient(url, token, transport=transport, timeout=15.0) as client:
        client.health()
        client.pull("0", 1)  # the token works (401 otherwise)
    enrollment = Enrollment(url, token, insecure)
    save(data_dir, enrollment)
    return enrollment
