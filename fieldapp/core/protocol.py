"""Sync protocol version 1: the shapes both ends agree on, and their limits.

Records inside a push are kept as raw JSON values here: each is validated on
its own (`fieldapp.core.records.parse_record`) so that one bad record gets its own
`rejected` verdict instead of failing the whole batch.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from fieldapp.core.records import FieldError

API_PREFIX = "/api/v1"

# Limits of one push. The client batches under them; the server answers 413
# naming the limit when a request goes over.
MAX_RECORDS_PER_PUSH = 1000
MAX_PUSH_BYTES = 4 * 1024 * 1024  # as sent (compressed or not)
MAX_UNPACKED_BYTES = 16 * 1024 * 1024  # after gzip: a small bomb stops here
MAX_PULL_LIMIT = 1000
DEFAULT_PULL_LIMIT = 500


class VerdictStatus(StrEnum):
    ACCEPTED = "accepted"  # stored now
    DUPLICATE = "duplicate"  # this exact version was stored before: treat as sent
    CONFLICT = "conflict"  # the record moved on since base_version: both kept
    REJECTED = "rejected"  # invalid: see errors


class Role(StrEnum):
    """What an enrolled device's token may do: the server enforces it, the phone shows a lead's tools to a lead."""

    VOLUNTEER = "volunteer"
    LEAD = "lead"


SENT_STATUSES = frozenset({VerdictStatus.ACCEPTED, VerdictStatus.DUPLICATE})


class PushRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    records: list[Any] = Field(max_length=MAX_RECORDS_PER_PUSH)


class Verdict(BaseModel):
    id: str | None
    version: int | None
    status: VerdictStatus
    errors: list[FieldError] = Field(default_factory=list)
    # With `conflict`: the server's current version of the record, so the
    # device can keep both for a team lead. Left out of other verdicts.
    server_record: dict[str, Any] | None = Field(default=None, exclude_if=lambda value: value is None)
    # With `accepted`, from a volunteer's token: the version changed the record's content,
    # so it was stored without the review it carried (it goes back to the lead). Left out otherwise.
    review_cleared: bool = Field(default=False, exclude_if=lambda value: not value)
    # With `accepted`: the version was built on an older version than the server's current
    # one, and the two were merged field by field (fieldapp.core.merge). This is the merged
    # version the server stored, now the record's current one. Left out otherwise.
    merged_record: dict[str, Any] | None = Field(default=None, exclude_if=lambda value: value is None)


class PushResponse(BaseModel):
    results: list[Verdict]


class ServerConflict(BaseModel):
    """A record in conflict on the server now (an extension of the contract).

    Both sides are in the page's `records`; this names which one is the
    server's current version, the one a lead's resolution must be based on
    (a resolution is a new version with base_version = its version).
    """

    id: str
    server_record: dict[str, Any]


class Settled(BaseModel):
    """A record whose conflict a volunteer's device settled: it waits for a lead's review.

    (An extension of the contract.) The record's current version was stored from
    `settled_by`'s token while the record was in conflict; it stays so until a
    lead's token stores a version that approves or flags it.
    """

    id: str
    settled_by: str


class PullResponse(BaseModel):
    # The team of the token: every record of the page is this team's.
    # (Empty from a server older than this field.)
    team: str = ""
    # What the token may do ("volunteer" or "lead"): the app shows a lead's tools to a lead only.
    role: str = ""
    records: list[dict[str, Any]]
    # The enrolled device that delivered each version, one-to-one with `records`
    # (empty from a server older than this field).
    delivered_by: list[str] = Field(default_factory=list)
    cursor: str
    more: bool
    # For every record id in `records` that is in conflict on the server now.
    conflicts: list[ServerConflict] = Field(default_factory=list)
    # For every record id in `records` settled by a volunteer and not yet reviewed by a lead.
    settled: list[Settled] = Field(default_factory=list)

    @model_validator(mode="after")
    def _aligned(self) -> PullResponse:
        if self.delivered_by and len(self.delivered_by) != len(self.records):
            raise ValueError("delivered_by must name one enrolled device for each record")
        return self


class Health(BaseModel):
    status: str = "ok"
    protocol: int = 1
