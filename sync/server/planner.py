"""What a push does, record by record: the rules, apart from the SQL that reads and writes.

`plan` takes what the database holds for a push's records (plain data, read under
the team's lock) and the incoming versions, and returns the plan the storage carries
out: the versions to store (in order, each as a revision; some become current), the
records rows to write, the installations to bind, the tags to free and take, and one
verdict per incoming version. Pure: no database here, so every rule is tested on its
own (tests/server/test_planner.py) and SQLite and PostgreSQL apply the same plan.

The rules, each in its own function (verdicts.py, fieldapp/core/merge.py):
- the verdict rule (`decide`): new, edit, duplicate or conflict;
- who may send what: the installation's binding, a review only a lead sets, a tag once
  per team;
- an approval belongs to the content it approved (`clears_review`);
- a version built on an older version than the current one is merged field by field
  against that base (`merge`): a clean merge stores the pushed version (as a version
  that did not become current, as a conflict's losing side is stored) and a merged
  version that says which two it merges; only a field both sides changed to different
  values keeps the conflict; one the current version already says whole (content and
  review: two devices made the same change) is a duplicate, nothing stored (`holds_already`);
- a conflict a volunteer settled waits for a lead (`settled_by`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from fieldapp.core.merge import merge, merged_version, same_content
from fieldapp.core.protocol import Role
from fieldapp.core.records import InvalidRecord, held_tag, normalize

from .chain import canonical_json
from .verdicts import (
    Current,
    Refusal,
    VerdictKind,
    clears_review,
    decide,
    installation_refusal,
    review_refusal,
    settled_by,
    tag_refusal,
)

STORED_KINDS = (VerdictKind.ACCEPTED, VerdictKind.CONFLICT, VerdictKind.MERGED)


def content_hash(record: dict) -> str:
    """The SHA-256 of a version's canonical text: what a revision is keyed by."""
    return hashlib.sha256(canonical_json(record).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Revision:
    """One stored version of a record: whether it lost a conflict, and its content where it was read."""

    losing: bool
    record: dict[str, Any] | None = None


@dataclass
class Holdings:
    """What the database holds for a push's records, read under the team's lock."""

    current: dict[str, Current | None]  # id -> its records row (None: no version yet)
    revisions: dict[tuple[str, int], dict[str, Revision]]  # (id, version) -> content hash -> revision
    bound: dict[str, str]  # installation -> the enrolled device it sends through
    held: dict[str, str]  # tag -> the record holding it
    tag_of: dict[str, str | None]  # record id -> the tag it holds
    current_records: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> current version, where read


@dataclass(frozen=True)
class Version:
    """A version to store: an incoming one as sent (`incoming` its index), or one the server made."""

    record: dict[str, Any]
    hash: str
    losing: bool
    incoming: int | None  # the index of the pushed version it is, unchanged; None if altered or made here


@dataclass(frozen=True)
class Planned:
    """The verdict on one incoming version."""

    kind: VerdictKind
    refusals: tuple[Refusal, ...] = ()
    server_record: int | str | None = None  # with a conflict: the current version (index in `versions`, or id as stored)
    review_cleared: bool = False
    merged: int | None = None  # with MERGED: the index in `versions` of the merged version


@dataclass(frozen=True)
class Row:
    """A records row to write: the record's current version (index in `versions`, or -1 to keep it) and marks."""

    current: int
    in_conflict: bool
    settled_by: str | None
    new: bool  # no row yet


@dataclass
class Plan:
    verdicts: list[Planned]
    versions: list[Version]  # in storing order: each a new revision
    rows: dict[str, Row]  # id -> its records row after the push
    bindings: list[str]  # installations first sent now, bound to the sender
    tags_freed: list[str]
    tags_taken: list[tuple[str, str]]  # (tag, record id)


def base_keys(role: str, records: list[dict], current: dict[str, Current | None]) -> set[tuple[str, int]]:
    """The stored versions (id, version) whose content a push's rules read: what the storage reads first.

    A volunteer's version carrying a review (the review rule, and the approval rule)
    and a version built on an older version than the current one (the merge).
    """
    wanted = set()
    for r in records:
        base, now = r["base_version"], current.get(r["id"])
        if base and ((r.get("review") and role != Role.LEAD) or (now is not None and base < now.version)):
            wanted.add((r["id"], base))
    return wanted


def stale_ids(records: list[dict], current: dict[str, Current | None]) -> set[str]:
    """The records whose current version a merge may read."""
    return {r["id"] for r in records if (now := current.get(r["id"])) is not None and 0 < r["base_version"] < now.version}


class _Planner:
    def __init__(self, sender: str, role: str, holdings: Holdings) -> None:
        self.sender, self.role, self.h = sender, role, holdings
        self.held_before = dict(holdings.held)
        self.plan = Plan([], [], {}, [], [], [])
        self.row_ids_before = set(holdings.current)

    # --- what is stored ------------------------------------------------------------------

    def base(self, rid: str, version: int) -> dict | None:
        """The version a record's edit builds on: the one stored under that number that did not lose."""
        won = [rev.record for rev in self.h.revisions.get((rid, version), {}).values() if not rev.losing]
        return won[0] if len(won) == 1 else None

    def base_reviews(self, rid: str, version: int) -> list:
        return [rev.record.get("review") for rev in self.h.revisions.get((rid, version), {}).values()
                if rev.record is not None]

    def store(self, record: dict, h: str, *, losing: bool, incoming: int | None) -> int:
        self.plan.versions.append(Version(record, h, losing, incoming))
        rid, version = record["id"], record["version"]
        # Kept with its content: a later version of this push may build on it.
        self.h.revisions.setdefault((rid, version), {})[h] = Revision(losing, record)
        return len(self.plan.versions) - 1

    def become_current(self, index: int, *, settled: str | None) -> None:
        record = self.plan.versions[index].record
        rid = record["id"]
        old, new = self.h.tag_of.get(rid), held_tag(record)
        if old != new:
            # The record's current version holds its tag, and frees one it dropped (or withdrew).
            if old is not None and self.h.held.get(old) == rid:
                del self.h.held[old]
            if new is not None:
                self.h.held[new] = rid
            self.h.tag_of[rid] = new
        self.h.current[rid] = Current(record["version"], self.plan.versions[index].hash, False, settled)
        self.h.current_records[rid] = record
        self.plan.rows[rid] = Row(index, False, settled, rid not in self.row_ids_before)

    # --- one version -----------------------------------------------------------------------

    def one(self, n: int, record: dict, h: str) -> Planned:
        rid, version, base_version = record["id"], record["version"], record["base_version"]
        now = self.h.current.get(rid)
        same = self.h.revisions.get((rid, version), {})
        base = self.base(rid, base_version) if base_version else None
        cleared = False
        if h not in same and clears_review(role=self.role, record=record, base=base):
            # Stored as it would be stored: so a second push of it is known as the same version.
            record = {k: v for k, v in record.items() if k != "review"}
            h, cleared = content_hash(record), True
        kind = decide(version=version, base_version=base_version, content_hash=h, current=now,
                      same_version_hashes=set(same), losing_hashes={k for k, rev in same.items() if rev.losing})
        if kind in (VerdictKind.ACCEPTED, VerdictKind.CONFLICT):
            refusals = self.refusals(n, record)
            if refusals:
                return Planned(VerdictKind.REJECTED, refusals)
        made = self.merged(record, base, now) if kind is VerdictKind.CONFLICT and now is not None else None
        if made is not None and self.holds_already(rid, record):
            # The current version says all it says (two devices made the same change): as the phone
            # does when it pulls first (fieldapp/store/reconcile.py), nothing is stored, no new version
            # for every device to pull; `duplicate` tells the phone the server holds what it sent.
            # Stored as a losing side alone, verify's replay would read the record as in conflict.
            return Planned(VerdictKind.DUPLICATE, review_cleared=cleared)
        if kind in (VerdictKind.ACCEPTED, VerdictKind.CONFLICT) and record["device_id"] not in self.h.bound:
            self.h.bound[record["device_id"]] = self.sender
            self.plan.bindings.append(record["device_id"])
        if kind is VerdictKind.ACCEPTED:
            index = self.store(record, h, losing=False, incoming=None if cleared else n)
            closes = now is not None and now.in_conflict
            self.become_current(index, settled=settled_by(
                role=self.role, sender=self.sender, closes_conflict=closes, review=record.get("review"),
                before=now.settled_by if now is not None else None))
            return Planned(kind, review_cleared=cleared)
        if kind is VerdictKind.CONFLICT:
            assert now is not None  # a conflict is with a version stored before
            index = self.store(record, h, losing=True, incoming=None if cleared else n)
            if made is not None:
                # Stored as a conflict's losing side is (the chain's replay gives the same), then the merge.
                merged = self.store(made, content_hash(made), losing=False, incoming=None)
                self.become_current(merged, settled=settled_by(
                    role=self.role, sender=self.sender, closes_conflict=False, review=made.get("review"),
                    before=now.settled_by))
                return Planned(VerdictKind.MERGED, review_cleared=cleared, merged=merged)
            self.h.current[rid] = Current(now.version, now.hash, True, now.settled_by)
            row = self.plan.rows.get(rid)
            self.plan.rows[rid] = Row(row.current if row else -1, True, now.settled_by,
                                      row.new if row else rid not in self.row_ids_before)
        if kind in (VerdictKind.CONFLICT, VerdictKind.CONFLICT_AGAIN):
            row = self.plan.rows.get(rid)
            return Planned(kind, review_cleared=cleared, server_record=row.current if row and row.current >= 0 else rid)
        return Planned(kind)

    def refusals(self, n: int, record: dict) -> tuple[Refusal, ...]:
        rid, tag = record["id"], held_tag(record)
        found = (
            installation_refusal(sender=self.sender, bound_to=self.h.bound.get(record["device_id"])),
            review_refusal(role=self.role, review=self.original[n].get("review"),
                           base_reviews=self.base_reviews(rid, record["base_version"])),
            tag_refusal(record_id=rid, tag=tag, holder=self.h.held.get(tag) if tag is not None else None),
        )
        return tuple(r for r in found if r is not None)

    def merged(self, record: dict, base: dict | None, now: Current) -> dict | None:
        """The merged version of a stale edit and the current version, if they merge cleanly."""
        rid = record["id"]
        ours = self.h.current_records.get(rid)
        if base is None or ours is None or now.in_conflict or record["base_version"] >= now.version:
            return None
        result = merge(base, ours, record)
        if not result.clean:
            return None
        # Numbered past every version the server holds of the record (a losing side may be ahead).
        past = max([v for (i, v) in self.h.revisions if i == rid] + [ours["version"], record["version"]])
        made = merged_version(result, ours, record, device_id=record["device_id"], version=past + 1)
        try:
            # The schema checks the merge whole: two valid sides may make an invalid whole
            # (a death time kept beside an outcome changed to rescued): then a conflict.
            return normalize(made)
        except InvalidRecord:
            return None

    def holds_already(self, rid: str, record: dict) -> bool:
        """Whether the current version says what a stale edit says: its content and its review.

        Not merely whether their merge does: an edit that also says less (a stale approval the
        merge drops, a field the other side changed too) gets the merged version, numbered past
        the phone's, so the phone takes it in place of what it sent.
        """
        ours = self.h.current_records[rid]
        return same_content(record, ours) and record.get("review") == ours.get("review")

    def run(self, records: list[dict], hashes: list[str]) -> Plan:
        self.original = records  # as sent: the review rule judges the review a version carried
        for n, (record, h) in enumerate(zip(records, hashes)):
            self.plan.verdicts.append(self.one(n, record, h))
        self.plan.tags_freed = [tag for tag, rid in self.held_before.items() if self.h.held.get(tag) != rid]
        self.plan.tags_taken = [(tag, rid) for tag, rid in self.h.held.items() if self.held_before.get(tag) != rid]
        return self.plan


def plan(*, sender: str, role: str, records: list[dict], hashes: list[str], holdings: Holdings) -> Plan:
    """The plan of one push (`holdings` is changed in place as the push goes)."""
    return _Planner(sender, role, holdings).run(records, hashes)
