"""The phone's photo uploader: tus 1.0.0 (core and creation) on httpx, continuing from the server's offset.

    with PhotoUploader(server_url + "/api/v1/photos/", token) as uploader:
        report = upload_waiting(store, uploader, records_waiting=lambda: store.counts()["pending"] > 0)

Previews go first, then originals (`PhotoStore.waiting`). For each file:
the upload's address kept from before (in the photo manifest) is asked its
offset with HEAD; without one, a creation (POST, `Upload-Metadata` carrying the
`sha256`) gives one, or says the server holds the bytes already (its offset is
the length: nothing is sent). Then PATCHes of `CHUNK` bytes from the server's
offset. Between two chunks, a record saved meanwhile stops the upload: the pass
sends the records first and comes back (`Yielded`). A cut ends the pass with
`Unreachable`; the worker's backoff decides when to try again (no retries here),
and the next try continues from what the server says it has.

A phone set to hold originals back until it is on Wi-Fi (`ORIGINALS_ON_WIFI`,
the settings' switch) sends its previews on any network and its originals only
on an unmetered one (`originals_may_go`). A lead's phone fetches the previews of
its team's records from the server (`fetch_previews`): what it shows as thumbnails.

Only standard tus is relied on, so the uploader completes against any tus
server (tests/sync/test_photo_interop.py: `tuspyserver`); our server's extras
(a creation that answers "held", the same upload given back after an app
restart) only save round trips.
"""

from __future__ import annotations

import base64
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urljoin

import httpx

from fieldapp.core.protocol import API_PREFIX, Role
from fieldapp.core.records import PREVIEW_MEDIA_TYPE, photos_of
from fieldapp.store import RecordStore, StoreError
from fieldapp.store.photos import Role as FileRole
from fieldapp.store.photos import sha256_of

from .client import DEFAULT_TIMEOUT, _certificate_refused
from .errors import AuthError, CertificateRefused, RequestRefused, ServerError, SyncError, Unreachable

log = logging.getLogger(__name__)

TUS_VERSION = "1.0.0"
# Bytes a PATCH carries: on a 20 kB/s link about 3 s, so a record saved meanwhile waits no longer
# than that; what a cut interrupts is kept by the server up to its last byte received.
CHUNK = 64 * 1024
PHOTOS_PATH = f"{API_PREFIX}/photos/"
# The store's meta key of the settings' switch: originals wait for Wi-Fi (previews go on any network).
ORIGINALS_ON_WIFI = "photos_originals_on_wifi"
# What the phone's connectivity says of a network whose bytes cost nothing (Flet's ConnectivityType values).
UNMETERED = frozenset({"wifi", "ethernet"})


def unmetered(kinds: list[str]) -> bool:
    """Whether the phone's networks (ft.Connectivity's kinds) include one whose bytes cost nothing."""
    return bool(UNMETERED & set(kinds))


def originals_held_for_wifi(store: RecordStore) -> bool:
    """The settings' switch: originals wait until the phone is on Wi-Fi."""
    return bool(store.get_meta(ORIGINALS_ON_WIFI, False))


def originals_may_go(store: RecordStore, on_wifi: bool | None) -> bool:
    """Whether this pass sends originals: always, unless the switch holds them for Wi-Fi and the phone is not on it
    (or does not know: a phone that has not said is taken to be on a paid network)."""
    return not originals_held_for_wifi(store) or on_wifi is True


class Yielded(Exception):
    """A record was saved during an upload: records go first, the upload continues later."""


@dataclass
class PhotoReport:
    sent: int = 0  # files now held by the server
    bytes_sent: int = 0  # bytes of the photos this pass carried (not headers)
    yielded: bool = False
    failed: list[str] = field(default_factory=list)  # files this pass could not send: a broken blob, a refusal


class PhotoUploader:
    """A tus client over httpx, the phone's HTTP client. TLS is verified, as for records."""

    def __init__(self, endpoint: str, token: str | None = None, *, transport: httpx.BaseTransport | None = None,
                 timeout: httpx.Timeout | float = DEFAULT_TIMEOUT):
        self.endpoint = endpoint if endpoint.endswith("/") else endpoint + "/"
        headers = {"Tus-Resumable": TUS_VERSION, "User-Agent": "fieldapp-sync/1"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._http = httpx.Client(transport=transport, timeout=timeout, headers=headers)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> PhotoUploader:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _send(self, method: str, url: str, **kwargs) -> httpx.Response:
        try:
            response = self._http.request(method, url, **kwargs)
        except httpx.TimeoutException:
            raise Unreachable("the server did not answer in time") from None
        except httpx.TransportError as exc:
            if _certificate_refused(exc):
                raise CertificateRefused("the server's TLS certificate was refused (not trusted, expired, "
                                         "or for another name)") from None
            raise Unreachable(f"no connection to the server ({type(exc).__name__})") from None
        if response.status_code in (401, 403):
            raise AuthError("the server refused this device's token")
        if response.status_code >= 500:
            raise ServerError(f"the server failed ({response.status_code}); it will be tried again")
        return response

    def fetch(self, sha: str) -> bytes | None:
        """A photo's bytes from the server (`GET /api/v1/photos/{sha256}`), None when it will not give them."""
        try:
            response = self._http.get(urljoin(self.endpoint, sha))
        except httpx.HTTPError:
            raise Unreachable("no connection to the server") from None
        return response.content if response.status_code == 200 else None

    # --- the three requests of tus core and creation

    def offset(self, location: str) -> tuple[int, bool] | None:
        """(the server's offset, whether it says it holds the photo) of an upload; None when it no longer has it."""
        response = self._send("HEAD", location, headers={"Cache-Control": "no-store"})
        if response.status_code in (404, 410):
            return None
        offset = _number(response.headers.get("Upload-Offset"))
        if response.status_code != 200 or offset is None:
            raise ServerError(f"the server's answer to HEAD was not an offset ({response.status_code})")
        return offset, _held(response)

    def create(self, sha: str, size: int, media_type: str) -> tuple[str, int | None, bool]:
        """A new upload: (its address, the offset the server gave if it gave one, whether it holds the photo)."""
        pairs = {"sha256": sha, "filetype": media_type, "filename": sha}
        metadata = ",".join(f"{k} {base64.b64encode(v.encode()).decode('ascii')}" for k, v in pairs.items())
        response = self._send("POST", self.endpoint, headers={"Upload-Length": str(size), "Upload-Metadata": metadata})
        if response.status_code != 201 or not response.headers.get("Location"):
            raise RequestRefused(f"the server refused the photo ({response.status_code}): {_reason(response)}")
        return urljoin(self.endpoint, response.headers["Location"]), _number(response.headers.get("Upload-Offset")), \
            _held(response)

    def patch(self, location: str, offset: int, chunk: bytes) -> int:
        """Send bytes from `offset`; the server's new offset."""
        response = self._send("PATCH", location, content=chunk, headers={
            "Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream"})
        if response.status_code == 409:
            raise OffsetMoved()
        if response.status_code in (404, 410):
            raise UploadGone()
        if response.status_code == 460:
            raise RequestRefused(f"the server refused the photo's bytes: {_reason(response)}")
        moved = _number(response.headers.get("Upload-Offset"))
        if response.status_code != 204 or moved is None:
            raise RequestRefused(f"the server refused the bytes ({response.status_code}): {_reason(response)}")
        return moved


class OffsetMoved(SyncError):
    """The server's offset is not where this PATCH started: ask it again."""


class UploadGone(SyncError):
    """The server no longer has this upload: create it again."""


def _number(header: str | None) -> int | None:
    """A tus offset or length: ASCII digits only (`str.isdigit` takes '²', which `int` refuses)."""
    return int(header) if header is not None and re.fullmatch(r"[0-9]{1,15}", header) else None


def _held(response: httpx.Response) -> bool:
    """Our server's word that the photo is complete, checked and kept (a standard tus server never says it)."""
    return response.headers.get("Fieldapp-Photo", "").strip().lower() == "held"


def _reason(response: httpx.Response) -> str:
    try:
        return str(response.json().get("detail", ""))[:300]
    except ValueError:
        return response.text[:300]


def upload_one(store: RecordStore, uploader: PhotoUploader, sha: str, entry: dict, report: PhotoReport,
               records_waiting: Callable[[], bool] = lambda: False) -> None:
    """Bring one file to the server, from where the server stands; Yielded when records wait."""
    data = store.photos.read(sha)  # checked against its hash: the server is sent exactly the evidence
    for _ in range(3):  # an upload the server dropped, or an offset that moved: start from the server's word
        location = entry.get("upload")
        offset: int | None = None
        held = False  # sent only on the server's word: "held", or a PATCH that reached the last byte
        if location:
            asked = uploader.offset(location)
            if asked is None:
                location = None
            else:
                offset, held = asked
        if not location:
            location, offset, held = uploader.create(sha, len(data), entry["media_type"])
            store.photos.set_upload(sha, location)
            entry["upload"] = location
            if offset is None:
                asked = uploader.offset(location)
                offset, held = asked if asked else (0, False)
        assert offset is not None
        try:
            while offset < len(data) and not held:
                if records_waiting():
                    raise Yielded()
                chunk = data[offset:offset + CHUNK]
                offset = uploader.patch(location, offset, chunk)
                report.bytes_sent += len(chunk)
                held = offset == len(data)  # the last PATCH succeeds only once the server holds the photo
            if not held:
                # An offset at the length is not the server's word that it holds the photo (a kill may
                # have come before it was kept): an empty last PATCH asks it to finish, and says so.
                held = uploader.patch(location, offset, b"") == len(data)
        except (OffsetMoved, UploadGone) as exc:
            if isinstance(exc, UploadGone):
                store.photos.set_upload(sha, None)
                entry["upload"] = None
            continue
        if not held:
            continue
        store.photos.mark_sent(sha)
        report.sent += 1
        return
    raise ServerError("the server's offset kept moving under this upload; it will be tried again")


def upload_waiting(store: RecordStore, uploader: PhotoUploader, *, records_waiting: Callable[[], bool] = lambda: False,
                   report: PhotoReport | None = None, originals: bool = True) -> PhotoReport:
    """Every file waiting, previews first; stops (report.yielded) when a record waits, raises SyncError on the wire.

    Without `originals` (held for Wi-Fi) only the previews go: the lead sees the photos, the large files wait.
    """
    report = report or PhotoReport()
    for sha, entry in store.photos.waiting():
        if not originals and entry["role"] == FileRole.ORIGINAL:
            continue
        try:
            upload_one(store, uploader, sha, dict(entry), report, records_waiting)
        except Yielded:
            report.yielded = True
            return report
        except (StoreError, RequestRefused) as exc:
            # One photo's problem (a damaged blob, a refusal of its bytes) holds up no other photo.
            log.warning("photo %s not sent: %s", sha[:12], type(exc).__name__)
            report.failed.append(sha)
    return report


def fetch_previews(store: RecordStore, uploader: PhotoUploader) -> int:
    """A lead's phone: the previews its team's records list and it does not hold, from the server; how many came.

    A preview the server does not hold yet (or will not give) is asked again at the next pass. Each is
    checked against the hash its record lists before it is kept, and kept as sent (the server has it).
    """
    if store.get_meta("role") == Role.VOLUNTEER:
        return 0  # a volunteer's pull carries no other device's photos (withheld as personal)
    fetched = 0
    held = set(store.photos.entries())  # read once: each read of the sealed manifest is a file read and a decryption
    for stored in store.iter_current():
        if stored.mine:
            continue
        for photo in photos_of(stored.record):
            preview = photo.get("preview") or {}
            sha = preview.get("sha256")
            if not sha or sha in held:
                continue
            response = uploader.fetch(sha)
            if response is None or sha256_of(response) != sha:
                continue
            store.photos.put(response, PREVIEW_MEDIA_TYPE, FileRole.PREVIEW, [stored.id])
            store.photos.mark_sent(sha)
            held.add(sha)
            fetched += 1
    return fetched
