"""The device's HTTP client of the sync protocol (httpx, pure Python).

Only a 2xx answer whose verdicts match what was sent counts; anything else
raises a `SyncError` and changes nothing on the device. Safe to repeat: the
server keeps each version once however often it is pushed.
"""

from __future__ import annotations

import gzip
import json
import ssl
from typing import Any

import httpx
from pydantic import ValidationError
from pydantic_core import to_json

from fieldapp.core.protocol import API_PREFIX, PullResponse, PushResponse, Verdict

from .errors import CertificateRefused, OddAnswer, RequestRefused, RoleRefused, ServerError, TokenRefused, Unreachable

DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
# No answer of the protocol comes near this (a pull page of 1,000 records is
# about 1 MB); a broken or hostile server cannot fill the phone's memory.
MAX_ANSWER_BYTES = 32 * 1024 * 1024


class SyncClient:
    def __init__(self, server_url: str, token: str, *, transport: httpx.BaseTransport | None = None,
                 timeout: httpx.Timeout | float = DEFAULT_TIMEOUT):
        self.server_url = server_url.rstrip("/")
        # TLS certificates are verified (httpx's default); never turned off here.
        self._http = httpx.Client(
            base_url=self.server_url + API_PREFIX, transport=transport, timeout=timeout,
            headers={"Authorization": f"Bearer {token}", "User-Agent": "fieldapp-sync/1"},
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> SyncClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _request(self, method: str, path: str, **kwargs) -> bytes:
        """The answer's body (unpacked) on 2xx; a SyncError by meaning otherwise.

        A request that went out on a kept-alive connection the server had
        closed meanwhile (its keep-alive ran out as the request arrived) is sent
        once more, at once, on a new connection: the server never answered it,
        and pushes and pulls are safe to repeat. Nothing else is repeated here
        (timeouts, refusals, 5xx, answers cut short): the worker's backoff decides.
        """
        for attempt in (1, 2):
            link = _Link()
            try:
                with self._http.stream(method, path, extensions={"trace": link}, **kwargs) as response:
                    body = _read_capped(response)
            except httpx.TimeoutException:
                raise Unreachable("the server did not answer in time") from None
            except httpx.DecodingError:
                raise OddAnswer("the server's answer could not be unpacked") from None
            except httpx.TransportError as exc:
                if attempt == 1 and link.closed_while_idle(exc):
                    continue
                if _certificate_refused(exc):
                    raise CertificateRefused("the server's TLS certificate was refused (not trusted, expired, "
                                             "or for another name)") from None
                raise Unreachable(f"no connection to the server ({type(exc).__name__})") from None
            break
        if response.status_code == 403:
            raise RoleRefused(_reason(body) or "the server refused this device's token")
        if response.status_code == 401:
            raise TokenRefused(_reason(body) or "the server refused this device's token")
        if response.status_code >= 500:
            raise ServerError(f"the server failed ({response.status_code}); it will be tried again")
        if response.status_code >= 400:
            raise RequestRefused(f"the server refused the request ({response.status_code}): {_reason(body)}")
        return body

    def health(self) -> dict[str, Any]:
        return _json(self._request("GET", "/health"))

    def push(self, records: list[dict], *, body: bytes | None = None) -> list[Verdict]:
        """Send `records` (`body`: them as `pack_push` made it, to skip making it again)."""
        if body is None:
            body = pack_push([encode_record(r) for r in records])
        answer = self._request("POST", "/push", content=body,
                               headers={"Content-Type": "application/json", "Content-Encoding": "gzip"})
        try:
            verdicts = PushResponse.model_validate(_json(answer)).results
        except ValidationError:
            raise OddAnswer("the server's answer was not a list of verdicts") from None
        if not _matches(verdicts, records):
            raise OddAnswer("the server's verdicts do not match the records sent")
        return verdicts

    def pull(self, since: str, limit: int, *, own: bool = True) -> PullResponse:
        """A page after `since`; `own=False`: leave this device's deliveries out even from cursor 0."""
        params: dict[str, str | int] = {"since": since, "limit": limit}
        if not own:
            params["own"] = "false"
        answer = self._request("GET", "/pull", params=params)
        try:
            return PullResponse.model_validate(_json(answer))
        except ValidationError:
            raise OddAnswer("the server's answer was not a page of records") from None


def _certificate_refused(exc: BaseException) -> bool:
    """Whether the TLS handshake failed on the server's certificate (httpx keeps ssl's error as a cause)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


class _Link:
    """What one attempt of a request did on the wire, as httpcore's `trace` extension reports it."""

    def __init__(self) -> None:
        self.connected = False  # a new connection was opened for it
        self.sent = False  # it went out on a connection
        self.answered = False  # the answer's head arrived

    def __call__(self, event: str, info: dict) -> None:
        if event.startswith(("connection.connect_tcp.", "connection.connect_unix_socket.")):
            self.connected = True
        elif event.endswith(".send_request_headers.started"):
            self.sent = True
        elif event.endswith(".receive_response_headers.complete"):
            self.answered = True

    def closed_while_idle(self, exc: httpx.TransportError) -> bool:
        """The connection died under the request before any answer, and it was a kept-alive one.

        Only the errors of a dead socket count (the server hung up, a reset, a
        write into a closed socket): not a refused or failed connect, not a
        timeout. A new connection that fails so is the server's doing, not
        an idle connection's: it is not sent again.
        """
        return (isinstance(exc, (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError))
                and self.sent and not self.connected and not self.answered)


def encode_record(record: dict) -> bytes:
    """One record as it goes on the wire: compact JSON, UTF-8 (pydantic's compiled encoder)."""
    return to_json(record)


def pack_push(encoded: list[bytes]) -> bytes:
    """The body of a push, gzipped, from records already encoded."""
    return gzip.compress(b'{"records":[' + b",".join(encoded) + b"]}", 6)


def _matches(verdicts: list[Verdict], records: list[dict]) -> bool:
    # A rejected record may come back without a usable id; the order still holds.
    if len(verdicts) != len(records):
        return False
    return all(v.status == "rejected" or (v.id, v.version) == (r["id"], r["version"]) for v, r in zip(verdicts, records))


def _read_capped(response: httpx.Response) -> bytes:
    body = bytearray()
    for chunk in response.iter_bytes():
        body += chunk
        if len(body) > MAX_ANSWER_BYTES:
            raise OddAnswer(f"the server's answer is larger than {MAX_ANSWER_BYTES} bytes; it was not read")
    return bytes(body)


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        raise OddAnswer("the server's answer was cut short or is not JSON") from None


def _reason(body: bytes) -> str:
    try:
        detail = json.loads(body).get("detail")
    except (ValueError, AttributeError, RecursionError):
        return body[:200].decode("utf-8", "replace")
    return detail if isinstance(detail, str) else json.dumps(detail)[:300]
