"""The server's clock, as stored: UTC, RFC 3339, to the millisecond."""

from __future__ import annotations

from datetime import UTC, datetime


def now_utc() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")
