"""The device's HTTP client of the sync protocol (httpx, pure Python).

Only a 2xx answer whose verdicts match what was sent counts; anything else
raises a `SyncError` and changes nothing on the device. Safe to repeat: the
server keeps each version once however often it is pushed.
"""

from __future__ import annotations

import gzip
import json
from typing import Any

import httpx
from pydantic import ValidationError

from .errors import AuthError, RequestRefused, ServerError, Unreachable
from .protocol import API_PREFIX, PullResponse, PushResponse, Verdict

DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)


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

    def __enter__(self) -> "SyncClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _request(self, method: str, path: str, **kwargs) -> httpx.Response:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.TimeoutException:
            raise Unreachable("the server did not answer in time") from None
        except httpx.TransportError as exc:
            raise Unreachable(f"no connection to the server ({type(exc).__name__})") from None
        if response.status_code in (401, 403):
            raise AuthError(_reason(response) or "the server refused this device's token")
        if response.status_code >= 500:
            raise ServerError(f"the server failed ({response.status_code}); it will be tried again")
        if response.status_code >= 400:
            raise RequestRefused(f"the server refused the request ({response.status_code}): {_reason(response)}")
        return response

    def health(self) -> dict[str, Any]:
        return _json(self._request("GET", "/health"))

    def push(self, records: list[dict], *, encoded: list[str] | None = None) -> list[Verdict]:
        """Send `records` (`encoded`: each already as JSON, to skip encoding them again)."""
        if encoded is None:
            encoded = [encode_record(r) for r in records]
        body = gzip.compress(('{"records":[' + ",".join(encoded) + "]}").encode(), 6)
        response = self._request("POST", "/push", content=body,
                                 headers={"Content-Type": "application/json", "Content-Encoding": "gzip"})
        try:
            verdicts = PushResponse.model_validate(_json(response)).results
        except ValidationError:
            raise ServerError("the server's answer was not a list of verdicts") from None
        if not _matches(verdicts, records):
            raise ServerError("the server's verdicts do not match the records sent")
        return verdicts

    def pull(self, since: str, limit: int) -> PullResponse:
        response = self._request("GET", "/pull", params={"since": since, "limit": limit})
        try:
            return PullResponse.model_validate(_json(response))
        except ValidationError:
            raise ServerError("the server's answer was not a page of records") from None


def encode_record(record: dict) -> str:
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


def _matches(verdicts: list[Verdict], records: list[dict]) -> bool:
    # A rejected record may come back without a usable id; the order still holds.
    if len(verdicts) != len(records):
        return False
    return all(v.status == "rejected" or (v.id, v.version) == (r["id"], r["version"]) for v, r in zip(verdicts, records))


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except (ValueError, RecursionError):
        raise ServerError("the server's answer was cut short or is not JSON") from None


def _reason(response: httpx.Response) -> str:
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError, RecursionError):
        return response.text[:200]
    return detail if isinstance(detail, str) else json.dumps(detail)[:300]
