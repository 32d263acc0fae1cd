"""The verdict rule: what becomes of one incoming record version, given what is stored.

Pure: no database here, so every case is tested on its own and both storage
back ends apply the same rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Outcome(StrEnum):
    ACCEPTED = "accepted"  # stored now; it becomes the record's current version
    DUPLICATE = "duplicate"  # this exact version was stored before
    CONFLICT = "conflict"  # stored beside the current version, record marked in conflict
    CONFLICT_AGAIN = "conflict_again"  # stored before as the losing side of an open conflict


@dataclass(frozen=True)
class Current:
    """The record as the server holds it now."""

    version: int
    hash: str
    in_conflict: bool


def decide(
    *, version: int, base_version: int, content_hash: str,
    current: Current | None, same_version_hashes: set[str], losing_hashes: set[str],
) -> Outcome:
    """Decide one incoming version.

    `same_version_hashes`: hashes already stored for this (record, version);
    `losing_hashes`: those of them that lost a conflict.
    """
    if content_hash in same_version_hashes:
        # Pushed before. If it lost a conflict still open, say so again: a
        # device whose first answer was lost must still learn of it.
        if content_hash in losing_hashes and current is not None and current.in_conflict:
            return Outcome.CONFLICT_AGAIN
        return Outcome.DUPLICATE
    if current is None:
        return Outcome.ACCEPTED
    if same_version_hashes:
        # Another device wrote a different version with the same number.
        return Outcome.CONFLICT
    if base_version == current.version and version > current.version:
        # Built on what the server holds: a plain edit, or a lead's resolution.
        return Outcome.ACCEPTED
    return Outcome.CONFLICT
