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

from fieldapp.store.durable import atomic_write

from .client import SyncClient
from .errors import SyncError

FILE = "enrollment.json"


class EnrollmentError(SyncError):
    pass


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
        raise EnrollmentError(f"{server_url!r} is not a server address such as https://sync.example.org")
    if parts.scheme == "http" and not is_loopback(parts.hostname) and not insecure:
        raise EnrollmentError("plain http would expose the token on the network: use https, or --insecure on a trusted link")
    return server_url.strip().rstrip("/")


def load(data_dir: Path) -> Enrollment | None:
    try:
        with open(Path(data_dir) / FILE, encoding="utf-8") as f:
            return Enrollment(**json.load(f))
    except FileNotFoundError:
        return None
    except (ValueError, TypeError) as exc:
        raise EnrollmentError(f"{Path(data_dir) / FILE} is damaged; enroll again") from exc


def save(data_dir: Path, enrollment: Enrollment) -> None:
    Path(data_dir).mkdir(parents=True, exist_ok=True)
    atomic_write(Path(data_dir) / FILE, json.dumps(asdict(enrollment)).encode())  # written 0600
    os.chmod(Path(data_dir) / FILE, 0o600)


def enroll(data_dir: Path, server_url: str, token: str, *, insecure: bool = False,
           transport: httpx.BaseTransport | None = None) -> Enrollment:
    """Check the server and the token, then keep them. Raises a SyncError saying why not."""
    url = check_url(server_url, insecure=insecure)
    token = token.strip()
    if not token:
        raise EnrollmentError("the token is empty")
    with SyncClient(url, token, transport=transport, timeout=15.0) as client:
        client.health()
        client.pull("0", 1)  # the token works (401 otherwise)
    enrollment = Enrollment(url, token, insecure)
    save(data_dir, enrollment)
    return enrollment
