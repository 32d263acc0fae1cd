"""The verdict rule: what becomes of one incoming record version, given what is stored.

Pure: no database here, so every case is tested on its own and both storage
back ends apply the same rule.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from fieldapp.core.merge import same_content
from fieldapp.core.protocol import Role
from fieldapp.core.records import ReviewState


class VerdictKind(StrEnum):
    """What became of one pushed version (the wire's `status` is coarser: routes/push.py maps it)."""

    ACCEPTED = "accepted"  # stored now; it becomes the record's current version
    DUPLICATE = "duplicate"  # this exact version was stored before
    CONFLICT = "conflict"  # stored beside the current version, record marked in conflict
    CONFLICT_AGAIN = "conflict_again"  # stored before as the losing side of an open conflict
    MERGED = "merged"  # built on an older version: stored, and merged with the current one into a new version
    REJECTED = "rejected"  # valid, but not this device's to send: see the refusals


@dataclass(frozen=True)
class Refusal:
    """Why a version was refused: the field it names and the reason."""

    field: str
    message: str


@dataclass(frozen=True)
class Current:
    """The record as the server holds it now."""

    version: int
    hash: str
    in_conflict: bool
    settled_by: str | None = None  # the volunteer's device that settled its conflict, until a lead reviews it


def decide(
    *, version: int, base_version: int, content_hash: str,
    current: Current | None, same_version_hashes: set[str], losing_hashes: set[str],
) -> VerdictKind:
    """Decide one incoming version.

    `same_version_hashes`: hashes already stored for this (record, version);
    `losing_hashes`: those of them that lost a conflict.
    """
    if content_hash in same_version_hashes:
        # Pushed before. If it lost a conflict still open, say so again: a
        # device whose first answer was lost must still learn of it.
        if content_hash in losing_hashes and current is not None and current.in_conflict:
            return VerdictKind.CONFLICT_AGAIN
        return VerdictKind.DUPLICATE
    if current is None:
        return VerdictKind.ACCEPTED
    if same_version_hashes:
        # Another device wrote a different version with the same number.
        return VerdictKind.CONFLICT
    if base_version == current.version and version > current.version:
        # Built on what the server holds: a plain edit, or a lead's resolution.
        return VerdictKind.ACCEPTED
    return VerdictKind.CONFLICT


# --- who may send what ---------------------------------------------------------------------
#
# Applied only to a version that would be stored (accepted, or kept as a conflict):
# one stored before is a duplicate whoever sends it again, since it changes nothing.


def _review_key(review: dict[str, Any] | None) -> tuple[str, str]:
    # No review and an `unreviewed` one without a note say the same: a lead has not looked.
    if not review:
        return (ReviewState.UNREVIEWED, "")
    return (str(review.get("state") or ReviewState.UNREVIEWED), str(review.get("note") or ""))


def review_refusal(*, role: str, review: dict[str, Any] | None,
                   base_reviews: Iterable[dict[str, Any] | None]) -> Refusal | None:
    """A volunteer's version may keep the review it builds on, or drop it; nothing else.

    `base_reviews`: the review of each stored version numbered `base_version` (several
    when that number is on both sides of a conflict; none for a new record, base 0).
    Dropping means leaving `review` out, or `{"state": "unreviewed"}` with no note:
    an edited record goes back to the lead. So a new record from a volunteer carries
    no review, or that one. A lead may set any review.
    """
    if role == Role.LEAD:
        return None
    wanted = _review_key(review)
    if wanted == _review_key(None) or any(wanted == _review_key(b) for b in base_reviews):
        return None
    return Refusal("review", "a review is a team lead's to set: a volunteer's version keeps the review "
                             "of the version it builds on, or leaves it out")


def clears_review(*, role: str, record: dict[str, Any], base: dict[str, Any] | None) -> bool:
    """Whether a version is stored without the review it carries: an approval belongs to its content.

    A volunteer's version whose content differs from its base's (`base`: the stored
    version it builds on, None for a new record or one the server does not hold) in
    anything but version bookkeeping goes back to the lead, unreviewed. A lead's
    version keeps or sets its review across a change of content.
    """
    if role == Role.LEAD or not record.get("review") or base is None:
        return False
    return not same_content(record, base)


def settled_by(*, role: str, sender: str, closes_conflict: bool, review: dict[str, Any] | None,
               before: str | None) -> str | None:
    """Who settled a record's conflict, for its new current version: it waits for a lead until one reviews it.

    `before`: the mark the record carried; `closes_conflict`: the version is stored as current
    while the record was in conflict. A lead's version that approves or flags clears the mark.
    """
    if role == Role.LEAD:
        state = (review or {}).get("state")
        return None if state in (ReviewState.APPROVED, ReviewState.FLAGGED) else before
    return sender if closes_conflict else before


def installation_refusal(*, sender: str, bound_to: str | None) -> Refusal | None:
    """An installation `device_id` speaks through the enrolled device that first sent it.

    `bound_to`: the enrolled device it is bound to, None if it is new (then the
    sender's binding is made). Bound to the enrolled device's name, not to its
    token: enrolling that device again (a new token after a revoke) keeps it.
    Only the operator moves a binding (`fieldapp-server enroll --installation`):
    a revoked device's installation is not for the first teammate to claim.
    """
    if bound_to is None or bound_to == sender:
        return None
    return Refusal("device_id", "this installation sends through another enrolled device of the team; "
                                "a device may send only the records of its own installation")


def tag_refusal(*, record_id: str, tag: str | None, holder: str | None) -> Refusal | None:
    """A recovery's `data.tag` is unique among the team's recoveries.

    `tag`: the tag this version carries (None: none); `holder`: the record that holds
    that tag now, as the push found it under the team's lock (the stored holder, or an
    earlier record of the same push), None if it is free. A new version of the record
    holding it keeps it; a record that drops or changes its tag, or withdraws the
    recovery, frees the old one (the push updates the holders as it goes; `tag` is
    `fieldapp.core.records.held_tag`). Tags compare exactly as stored.
    """
    if tag is None or holder is None or holder == record_id:
        return None
    return Refusal("data.tag", f"tag {tag!r} is already used by record {holder} of this team; "
                               f"each body or casualty tag may be used by one recovery only")
