"""What the tables a summary, an export or a pull reads must hold, derived from the chained versions.

The chain (chain.py) covers `revisions`: each version's record, sender and arrival.
The rest is derived from them, and `fieldapp-server verify` holds each stored row
against what they give, in two streaming passes over the team (memory stays bounded
whatever its size):

1. In seq order, beside the chain walk, each revision on its own (`check_revision`):
   `hash` is the SHA-256 of `record`, `device_id` the record's own. The first version
   of each installation is kept (its sender and arrival: what bound it, for the
   `installations` check of sync/server/acts.py): one entry per installation.
2. In record-id order, a record at a time (`replay_record`): its versions in seq order
   through the verdict rule (verdicts.decide), as the pushes did, give each one's
   `losing` and the record's current version; its `records` row must hold that
   version's `version`, `hash`, `type`, `record` and `in_conflict` (a row too many, or
   one missing, is named), and its `tags` rows the tag that version holds
   (fieldapp.core.records.held_tag). Its `settled_by` is derived in the same replay: each
   version that became current through the settlement rule (verdicts.settled_by), from who
   sent it (`sent_by`), that device's role when it arrived (the operator's acts attest
   the roles: acts.role_history), whether it closed an open conflict, and the review it
   carries. A version the server made by merging (`merged_from`, stored right after the
   losing side it merges, in the same push) closes nothing. Versions that arrived before
   migration 9 set nothing (that server kept no mark).

Pure: no database here.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from fieldapp.core.records import held_tag

from .verdicts import Current, VerdictKind, decide, settled_by


@dataclass(frozen=True)
class Mismatch:
    """A stored row that is not what the chained versions give: the table, the row, what differs."""

    table: str
    record_id: str
    version: int | None
    seq: int | None
    detail: str


def check_revision(seq: int, rid: str, version: int, text: str, record: object, stored_hash: str, text_digest: str,
                   device_id: str) -> Mismatch | None:
    """The columns of one `revisions` row its link does not cover (`text_digest`: the SHA-256 of its record
    text; `record`: the text parsed, or None where the caller had no need to)."""
    if stored_hash != text_digest:
        return Mismatch("revisions", rid, version, seq, "its hash column is not the SHA-256 of its record")
    if record is None and text.count('"device_id":') == 1 and any(
            f'"device_id":{_string(device_id)}{end}' in text for end in ",}"):
        # Its one `device_id` key (canonical JSON: a key, never inside a string) holds this value: no parse.
        return None
    if record is None:
        try:
            record = json.loads(text)
        except ValueError:
            record = None
    made_on = record.get("device_id") if isinstance(record, dict) else None
    if device_id != made_on:
        return Mismatch("revisions", rid, version, seq, f"its device_id column ({device_id}) is not its record's "
                                                        f"({made_on})")
    return None


_string = json.encoder.encode_basestring  # a JSON string as the canonical encoder writes it


class FirstPass:
    """Beside the chain walk, in seq order: the first row found wrong, and each installation's first version."""

    def __init__(self) -> None:
        self.problem: Mismatch | None = None
        self.installations: dict[str, tuple[str, str]] = {}  # installation -> (sent_by, received_at)

    def add(self, seq: int, rid: str, version: int, text: str, record: object, text_digest: str, stored_hash: str,
            device_id: str, sent_by: str, received_at: str) -> None:
        if device_id not in self.installations:
            self.installations[device_id] = (sent_by, received_at)
        if self.problem is None:
            self.problem = check_revision(seq, rid, version, text, record, stored_hash, text_digest, device_id)


@dataclass
class Walks:
    """What verify_chains found, for verify_acts: each whole team's walked head and installations' first versions."""

    heads: dict[str, int] = field(default_factory=dict)
    firsts: dict[str, dict[str, tuple[str, str]]] = field(default_factory=dict)
    broken: set[str] = field(default_factory=set)


@dataclass(frozen=True, slots=True)
class Stored:
    """One stored version as the replay needs it (its record's base_version read from the record)."""

    seq: int
    version: int
    hash: str
    losing: bool
    base_version: int | None
    # What the settlement rule reads (versions above 1 only; a record's first version settles nothing):
    sent_by: str | None = None
    received_at: str | None = None
    review_state: str | None = None
    merged: bool = False  # it names the two versions it merges (merged_from)


# The role of an enrolled device when a version it sent arrived: (device, received_at) -> role.
RoleAt = Callable[[str, str], str | None]
@dataclass(frozen=True, slots=True)
class Now:
    """A record's current version after its stored versions, replayed."""

    version: int
    hash: str
    seq: int
    in_conflict: bool
    settled_by: str | None = None


def replay_record(rid: str, versions: Sequence[Stored], role_at: RoleAt | None = None,
                  settled_since: str | None = None) -> tuple[Now | None, Mismatch | None]:
    """A record's stored versions in seq order through the verdict rule: its current version, or the first row
    whose `losing` column is not what the rule gives.

    `role_at`: the sender's role when a version arrived (None: no settlement is derived);
    `settled_since`: when migration 9 was applied (versions before it set no mark)."""
    if len(versions) == 1:  # most records: one version, accepted as the first (base_version plays no part)
        only = versions[0]
        if only.losing:
            return None, Mismatch("revisions", rid, only.version, only.seq, "its losing column says True, the verdict "
                                                                            "rule gives False at this seq")
        return Now(only.version, only.hash, only.seq, False), None
    now: Now | None = None
    lost: set[tuple[int, str]] = set()  # (version, hash) stored as the losing side
    previous: Stored | None = None
    in_conflict_before_previous = False
    for v in sorted(versions, key=lambda v: v.seq):
        if v.base_version is None:
            return now, None  # a record without its base_version: the chain walk names it
        # The verdict rule for a version not stored before (the revisions' key makes each one so):
        # only a version above the current one stored before as a loser can change its answer.
        same = {"lost"} if any(version == v.version for version, _ in lost) else set()
        outcome = decide(version=v.version, base_version=v.base_version, content_hash=v.hash,
                         current=None if now is None else Current(now.version, "", now.in_conflict),
                         same_version_hashes=same, losing_hashes=same)
        losing = outcome is VerdictKind.CONFLICT
        if bool(v.losing) != losing:
            return now, Mismatch("revisions", rid, v.version, v.seq, f"its losing column says {bool(v.losing)}, "
                                                                     f"the verdict rule gives {losing} at this seq")
        was_in_conflict = now is not None and now.in_conflict
        if now is None:
            now = Now(v.version, v.hash, v.seq, False)
        elif losing:
            now = Now(now.version, now.hash, now.seq, True, now.settled_by)
            lost.add((v.version, v.hash))
        else:
            made_here = (v.merged and previous is not None and previous.losing and previous.seq == v.seq - 1
                         and previous.sent_by == v.sent_by and previous.received_at == v.received_at
                         and not in_conflict_before_previous)
            now = Now(v.version, v.hash, v.seq, False,
                      _settled(v, now.settled_by, closes=now.in_conflict and not made_here, role_at=role_at,
                               since=settled_since))
        previous, in_conflict_before_previous = v, was_in_conflict
    return now, None


def _settled(v: Stored, before: str | None, *, closes: bool, role_at: RoleAt | None, since: str | None) -> str | None:
    """A current version's settlement mark, as the push that stored it set it (verdicts.settled_by)."""
    if role_at is None or v.sent_by is None or v.received_at is None or since is None or v.received_at < since:
        return before
    return settled_by(role=role_at(v.sent_by, v.received_at) or "", sender=v.sent_by, closes_conflict=closes,
                      review={"state": v.review_state} if v.review_state else None, before=before)


def check_record_row(rid: str, now: Now | None, row: tuple | None) -> tuple[Mismatch | None, str | None]:
    """A `records` row (version, hash, type, record, in_conflict[, settled_by]) against the replay: what differs,
    and the tag its current version holds (read from the row's record once it is known to be that version)."""
    if row is None:
        if now is None:
            return None, None
        return Mismatch("records", rid, now.version, now.seq, "no current row, though the chain holds the record "
                                                              "(deleted)"), None
    version, stored_hash, kind, text, in_conflict = row[:5]
    if now is None:
        if version == 0:
            return None, None  # a placeholder an earlier server wrote as a lock: never read as a record
        return Mismatch("records", rid, version, None, "a current row for a record with no stored version (added)"), None
    found = []
    if version != now.version:
        found.append(f"version {version}, the chain gives {now.version}")
    if stored_hash != now.hash:
        found.append("its hash is not the current version's")
    same_text = hashlib.sha256(text.encode("utf-8")).hexdigest() == now.hash
    if not same_text:
        found.append("its record is not the current version's as stored in the chain")
    tag = None
    if same_text:
        record_type, tag = type_and_tag(text)
        if kind != record_type:
            found.append(f"type {kind}, the chain gives {record_type}")
    if bool(in_conflict) != now.in_conflict:
        found.append(f"in_conflict {bool(in_conflict)}, the chain gives {now.in_conflict}")
    if len(row) > 5 and row[5] != now.settled_by:
        found.append(f"settled_by {row[5]!r}, the chain gives {now.settled_by!r}")
    if found:
        return Mismatch("records", rid, now.version, now.seq, "; ".join(found) + " (edited)"), None
    return None, tag


def type_and_tag(text: str) -> tuple[str | None, str | None]:
    """A stored version's `type` and held tag (fieldapp.core.records.held_tag), from its canonical JSON text.

    Canonical JSON escapes every quote inside a string, so `"type":` and `"tag":` in the
    text are keys. Every stored version passed the record schema, which has one `type`
    (at the top) and one `tag` (a recovery's `data.tag`) and refuses any other field: a
    text with each key at most once, no `withdrawn` and plain string values is read
    without parsing; any other text is parsed.
    """
    if text.count('"type":') == 1 and text.count('"tag":') <= 1 and '"withdrawn":' not in text:
        kind = _plain_string_after(text, '"type":')
        if kind is not None:
            if kind != "recovery" or '"tag":' not in text:
                return kind, None
            tag = _plain_string_after(text, '"tag":')
            if tag is not None:
                return kind, tag
    record = json.loads(text)
    return (str(record.get("type")), held_tag(record)) if isinstance(record, dict) else (None, None)


def _plain_string_after(text: str, key: str) -> str | None:
    """The string value after `key` in the text, if it is a string without escapes (else None: parse instead)."""
    start = text.index(key) + len(key)
    if not text.startswith('"', start):
        return None
    end = text.find('"', start + 1)
    value = text[start + 1:end]
    return value if end > 0 and "\\" not in value else None


def check_tags(rid: str, held: str | None, rows: Sequence[str]) -> tuple[Mismatch | None, bool]:
    """The `tags` rows naming this record against the tag its current version holds.

    Returns what is wrong, and whether the held tag has no row of its own (the caller
    then asks whether another record holds it: two holders of one tag are possible only
    from before the tag rule, migration 4 kept the first).
    """
    for tag in rows:
        if tag != held:
            return Mismatch("tags", rid, None, None, f"the row says record {rid} holds tag {tag!r}; its current "
                                                     f"version does not (edited)"), False
    return None, held is not None and held not in rows


def tag_row_missing(rid: str, tag: str) -> Mismatch:
    return Mismatch("tags", rid, None, None, f"record {rid} holds tag {tag!r} but no row says so (deleted)")
