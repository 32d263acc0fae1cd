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
   (fieldapp.core.records.held_tag).

Pure: no database here.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field

from fieldapp.core.records import held_tag

from .verdicts import Current, VerdictKind, decide


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


@dataclass(frozen=True, slots=True)
class Now:
    """A record's current version after its stored versions, replayed."""

    version: int
    hash: str
    seq: int
    in_conflict: bool


def replay_record(rid: str, versions: Sequence[Stored]) -> tuple[Now | None, Mismatch | None]:
    """A record's stored versions in seq order through the verdict rule: its current version, or the first row
    whose `losing` column is not what the rule gives."""
    if len(versions) == 1:  # most records: one version, accepted as the first (base_version plays no part)
        only = versions[0]
        if only.losing:
            return None, Mismatch("revisions", rid, only.version, only.seq, "its losing column says True, the verdict "
                                                                            "rule gives False at this seq")
        return Now(only.version, only.hash, only.seq, False), None
    now: Now | None = None
    lost: set[tuple[int, str]] = set()  # (version, hash) stored as the losing side
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
        if now is None:
            now = Now(v.version, v.hash, v.seq, False)
        elif losing:
            now = Now(now.version, now.hash, now.seq, True)
            lost.add((v.version, v.hash))
        else:
            now = Now(v.version, v.hash, v.seq, False)
    return now, None


def check_record_row(rid: str, now: Now | None, row: tuple | None) -> tuple[Mismatch | None, str | None]:
    """A `records` row (version, hash, type, record, in_conflict) against the replay: what differs, and the tag
    its current version holds (read from the row's record once it is known to be that version)."""
    if row is None:
        if now is None:
            return None, None
        return Mismatch("records", rid, now.version, now.seq, "no current row, though the chain holds the record "
                                                              "(deleted)"), None
    version, stored_hash, kind, text, in_conflict = row
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
