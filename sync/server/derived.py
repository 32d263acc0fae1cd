"""What the tables a summary, an export or a pull reads must hold, derived from the chained versions.

The chain (chain.py) covers `revisions`: each version's record, sender and arrival.
The rest is derived from them, so `fieldapp-server verify` replays the team's versions
in seq order through the verdict rule (verdicts.decide), as the pushes did, and then
holds each stored row against what the replay gives:

- `revisions`, the columns the link does not cover: `hash` (the SHA-256 of `record`),
  `device_id` (the record's own), `losing` (the verdict rule's answer at its seq);
- `records`, each record's current version: `version`, `hash`, `type`, `record`,
  `in_conflict`; a row too many, or one missing;
- `tags`: each holder's current version holds its tag (fieldapp.core.records.held_tag),
  and each tag a current recovery holds has its row.

Pure: no database here. The replay keeps, per record, its current version's number,
SHA-256 and seq (and the versions that lost a conflict): memory grows with the team's
records (about 250 bytes each), not with their size or their versions.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

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


@dataclass(slots=True)
class _Now:
    version: int
    digest: bytes  # SHA-256 of the current version's text
    type: str
    in_conflict: bool
    seq: int  # of the revision that holds the current version
    tag: str | None  # the tag the current version holds (held_tag)
    lost: set[int] | None = None  # versions of the record stored as the losing side of a conflict
    seen: bool = False  # its records row was checked


class Replay:
    """The team's versions fed in seq order; what `records` must hold after them."""

    def __init__(self) -> None:
        self.current: dict[str, _Now] = {}
        self.skipped: set[str] = set()  # records a push changed after the head: not judged
        self.problem: Mismatch | None = None

    def add(self, seq: int, rid: str, version: int, record: dict | None, text: str, stored_hash: str, losing: bool,
            device_id: str) -> None:
        """One stored version (`record`: its text parsed); the first row found wrong is kept in `problem`."""
        if self.problem is not None or record is None:
            return  # (a record no longer JSON: the chain walk names it)
        try:
            base, kind, made_on = int(record["base_version"]), str(record["type"]), str(record["device_id"])
        except (ValueError, TypeError, KeyError):
            return
        digest = hashlib.sha256(text.encode("utf-8")).digest()
        if stored_hash != digest.hex():
            self._found("revisions", rid, version, seq, "its hash column is not the SHA-256 of its record")
            return
        if device_id != made_on:
            self._found("revisions", rid, version, seq, f"its device_id column ({device_id}) is not its record's "
                                                        f"({made_on})")
            return
        now = self.current.get(rid)
        # The verdict rule for a version not stored before (the revisions' key makes each one so):
        # what `same_version_hashes` can change is only a version above the current one stored
        # before as a loser, so that is all the replay keeps of them.
        same = {"lost"} if now is not None and now.lost and version in now.lost else set()
        outcome = decide(version=version, base_version=base, content_hash=digest.hex(),
                         current=None if now is None else Current(now.version, "", now.in_conflict),
                         same_version_hashes=same, losing_hashes=same)
        lost = outcome is VerdictKind.CONFLICT
        if bool(losing) != lost:
            self._found("revisions", rid, version, seq, f"its losing column says {bool(losing)}, the verdict rule "
                                                        f"gives {lost} at this seq")
            return
        if now is None:
            self.current[rid] = _Now(version, digest, kind, False, seq, held_tag(record))
        elif lost:
            now.in_conflict = True
            now.lost = (now.lost or set()) | {version}
        else:
            now.version, now.digest, now.type, now.in_conflict, now.seq = version, digest, kind, False, seq
            now.tag = held_tag(record)

    def _found(self, table: str, rid: str, version: int | None, seq: int | None, detail: str) -> None:
        self.problem = Mismatch(table, rid, version, seq, detail)

    def check_record_row(self, rid: str, version: int, stored_hash: str, kind: str, text: str,
                         in_conflict: bool) -> Mismatch | None:
        """One `records` row against the replay (each row once: it is marked seen)."""
        now = self.current.get(rid)
        if now is not None:
            now.seen = True
        if now is None:
            if version == 0:
                return None  # a placeholder an earlier server wrote as a lock: never read as a record
            return Mismatch("records", rid, version, None, "a current row for a record with no stored version (added)")
        found = []
        if version != now.version:
            found.append(f"version {version}, the chain gives {now.version}")
        if stored_hash != now.digest.hex():
            found.append("its hash is not the current version's")
        if hashlib.sha256(text.encode("utf-8")).digest() != now.digest:
            found.append("its record is not the current version's as stored in the chain")
        if kind != now.type:
            found.append(f"type {kind}, the chain gives {now.type}")
        if bool(in_conflict) != now.in_conflict:
            found.append(f"in_conflict {bool(in_conflict)}, the chain gives {now.in_conflict}")
        if found:
            return Mismatch("records", rid, now.version, now.seq, "; ".join(found) + " (edited)")
        return None

    def missing_records(self) -> Mismatch | None:
        """A record with stored versions but no `records` row (after every row was checked)."""
        for rid, now in sorted(self.current.items()):
            if not now.seen:
                return Mismatch("records", rid, now.version, now.seq, "no current row, though the chain holds the "
                                                                      "record (deleted)")
        return None

    def skip(self, rid: str) -> None:
        """A record a push changed after the head was read: left for the next verify."""
        self.current.pop(rid, None)
        self.skipped.add(rid)

    def check_tags(self, rows: list[tuple[str, str]]) -> Mismatch | None:
        """The team's `tags` rows (tag, record id): each holder's current version holds its tag, each tag held has
        its row. Records a push changed since the head are not in the replay: their rows are not judged."""
        holders: dict[str, list[str]] = {}
        for tag, rid in rows:
            holders.setdefault(tag, []).append(rid)
            if rid in self.skipped:
                continue
            now = self.current.get(rid)
            if now is None or now.tag != tag:
                return Mismatch("tags", rid, None, None, f"the row says record {rid} holds tag {tag!r}; its current "
                                                         f"version does not (edited)")
        for rid, now in sorted(self.current.items()):
            # Two holders of one tag are possible only from before the tag rule (migration 4 kept the first).
            if now.tag is not None and now.tag not in holders:
                return Mismatch("tags", rid, None, None, f"record {rid} holds tag {now.tag!r} but no row says so "
                                                         f"(deleted)")
        return None
