"""The team lead's day, in plain Python: the queue, reviews, conflicts, figures, exports.

Every review is a new version of the record and syncs like any edit; a
conflict is resolved by a version based on the server's, which closes it on
the next sync. The figures are `fieldapp.core.figures`, the same code the server
runs, so the phone and the operations room agree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from fieldapp.core import exports
from fieldapp.core.figures import day_figures, record_day
from fieldapp.core.records import RecordType, ReviewState
from fieldapp.store import NotInConflict, RecordStore, StoredRecord, handover
from fieldapp.store.document import SyncState


class QueueFilter(StrEnum):
    """The queue's filters: records waiting to be sent, refused, in conflict, not reviewed yet."""

    WAITING = "waiting"
    REFUSED = "refused"
    CONFLICT = "conflict"
    UNREVIEWED = "unreviewed"


FILTERS = tuple(f.value for f in QueueFilter)


class LeftOut(StrEnum):
    """Why Approve all leaves a record of the day unapproved: each needs the lead's own look first."""

    REFUSED = "refused"  # the server refused it: it is corrected and sent again, then reviewed
    CONFLICT = "conflict"  # two versions wait for the lead to settle which stands
    WITHDRAWN = "withdrawn"  # entered in error: kept, but there is nothing in it to approve
    FLAGGED = "flagged"  # the lead asked for a correction


@dataclass
class Approval:
    """What Approve all would do on a day: the records it approves, and how many it leaves out, by reason."""
    ids: list[str]
    left_out: dict[LeftOut, int]


@dataclass
class QueueItem:
    call: StoredRecord | None  # None: recoveries whose call is not on this device yet
    recoveries: list[StoredRecord] = field(default_factory=list)
    call_of_day: bool = True  # False: the call belongs to another day (its recoveries are this day's)

    def records(self) -> list[StoredRecord]:
        return ([self.call] if self.call else []) + self.recoveries

    def of_day(self) -> list[StoredRecord]:
        """The records that belong to the queue's day: a call of the day before is shown, not counted."""
        return ([self.call] if self.call and self.call_of_day else []) + self.recoveries


@dataclass
class Difference:
    field: str  # dotted path inside the record, e.g. data.status
    ours: Any
    theirs: Any
    base: Any = None  # the value in the version both sides were built on (None where it is not on this phone)
    base_known: bool = False

    @property
    def ours_changed(self) -> bool:
        return not self.base_known or self.ours != self.base

    @property
    def theirs_changed(self) -> bool:
        return not self.base_known or self.theirs != self.base


def base_of(stored: StoredRecord) -> dict | None:
    """The version this phone's side was built on, where this phone holds it (its history)."""
    number = stored.record.get("base_version")
    for held in reversed(stored.history):
        if held.get("version") == number:
            return held
    return None


@dataclass
class Change:
    """One field the lead's resolution sets to other than the server's current version (the one it builds on)."""
    field: str  # dotted path, e.g. data.notes; "review" for the approval or flag
    server: Any  # the server's value now
    result: Any  # what the resolution saves
    phone: Any  # this phone's value


@dataclass
class Resolution:
    """What saving a conflict's resolution would write, and the lead's own change in it, in plain terms."""
    data: dict
    review: dict | None
    changes: list[Change]  # against the server's version: empty when it is kept as it is
    dropped: list[str]  # fields whose value on this phone the resolution does not keep


def _review_state(stored: StoredRecord) -> ReviewState:
    return ReviewState((stored.record.get("review") or {}).get("state", ReviewState.UNREVIEWED))


def _left_out(stored: StoredRecord) -> LeftOut | None:
    if stored.state is SyncState.REJECTED:
        return LeftOut.REFUSED
    if stored.state is SyncState.CONFLICT:
        return LeftOut.CONFLICT
    if stored.record["data"].get("withdrawn") is True:
        return LeftOut.WITHDRAWN
    if _review_state(stored) is ReviewState.FLAGGED:
        return LeftOut.FLAGGED
    return None


def _matches(stored: StoredRecord, flt: str) -> bool:
    if flt == QueueFilter.WAITING:
        return stored.state is SyncState.PENDING
    if flt == QueueFilter.REFUSED:
        return stored.state is SyncState.REJECTED
    if flt == QueueFilter.CONFLICT:
        return stored.state is SyncState.CONFLICT
    if flt == QueueFilter.UNREVIEWED:
        return _review_state(stored) is ReviewState.UNREVIEWED
    return True


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, inner in value.items():
            out.update(_flatten(inner, f"{prefix}.{key}" if prefix else key))
        return out
    return {prefix: value}


class LeadDay:
    def __init__(self, store: RecordStore, data_dir: Path):
        self.store = store
        self.data_dir = Path(data_dir)

    def _all(self) -> list[StoredRecord]:
        return list(self.store.iter_current())

    def queue(self, day: str, *, flt: str | None = None, incident_type: str | None = None,
              status: str | None = None, search: str = "") -> list[QueueItem]:
        """The day's calls with their recoveries, this device's and the team's, filtered."""
        stored = [s for s in self._all() if record_day(s.record) == day]
        calls = {s.id: QueueItem(s) for s in stored if s.type == RecordType.CALL}
        orphans: dict[str, QueueItem] = {}
        for s in stored:
            if s.type == RecordType.RECOVERY:
                call_id = s.record["data"]["call_id"]
                item = calls.get(call_id) or orphans.get(call_id)
                if item is None:  # a call of another day (received before midnight), or not on this phone yet
                    call = self.store.get(call_id)
                    item = orphans[call_id] = QueueItem(call if call and call.type == RecordType.CALL else None,
                                                        call_of_day=False)
                item.recoveries.append(s)
        needle = search.strip().lower()
        out = []
        for item in list(calls.values()) + list(orphans.values()):
            data = item.call.record["data"] if item.call else {}
            if incident_type and data.get("incident_type") != incident_type:
                continue
            if status and data.get("status") != status:
                continue
            if flt and not any(_matches(s, flt) for s in item.of_day()):
                continue
            if needle:
                place = ((data.get("location") or {}).get("place") or "").lower()
                tags = [(r.record["data"].get("tag") or "").lower() for r in item.recoveries]
                if needle not in place and not any(needle in t for t in tags):
                    continue
            out.append(item)
        out.sort(key=lambda i: (i.call.record["data"]["received_at"] if i.call else ""), reverse=True)
        return out

    def settled(self) -> dict[str, str]:
        """Record id -> the volunteer's device that settled its conflict, until a lead reviews it (a pull says)."""
        return dict(self.store.get_meta("settled") or {})

    def review(self, record_id: str, state: str, note: str = "") -> dict:
        """Approve, or flag with a note: a new version that syncs like any edit."""
        review = {"state": ReviewState(state).value}
        if note.strip():
            review["note"] = note.strip()
        return self.store.edit(record_id, review=review)

    def approval(self, day: str) -> Approval:
        """What Approve all would approve on the day (every record not reviewed yet) and what it leaves out."""
        ids: list[str] = []
        left_out: dict[LeftOut, int] = {}
        for item in self.queue(day):
            for stored in item.of_day():
                reason = _left_out(stored)
                if reason is not None:
                    left_out[reason] = left_out.get(reason, 0) + 1
                elif _review_state(stored) is ReviewState.UNREVIEWED:
                    ids.append(stored.id)
        return Approval(ids, left_out)

    def approve(self, ids: list[str]) -> int:
        """Approve the records the lead was shown; one refused, in conflict or withdrawn since is still left out."""
        done = 0
        for record_id in ids:
            stored = self.store.get(record_id)
            if stored is not None and _left_out(stored) is None and _review_state(stored) is ReviewState.UNREVIEWED:
                self.review(stored.id, ReviewState.APPROVED)
                done += 1
        return done

    def approve_all_unflagged(self, day: str) -> int:
        """Approve every record of the day that is not reviewed yet and that nothing leaves out (see LeftOut)."""
        return self.approve(self.approval(day).ids)

    def differences(self, record_id: str) -> list[Difference]:
        """The fields where our version and the server's differ, for a side-by-side view."""
        stored = self.store.get(record_id)
        if stored is None or stored.server_record is None:
            return []
        ours, theirs = _flatten(stored.record["data"]), _flatten(stored.server_record["data"])
        base_record = base_of(stored)
        base = _flatten(base_record["data"]) if base_record else {}
        fields = sorted(set(ours) | set(theirs))
        return [Difference(f"data.{f}", ours.get(f), theirs.get(f), base.get(f), base_record is not None)
                for f in fields if ours.get(f) != theirs.get(f)]

    def plan(self, record_id: str, *, keep: str = "theirs", take_ours: set[str] | None = None) -> Resolution | None:
        """What `resolve` with these choices saves, and how that differs from the server's and this phone's sides."""
        stored = self.store.get(record_id)
        if stored is None or stored.server_record is None:
            return None
        base = dict(stored.server_record["data"] if keep == "theirs" else stored.record["data"])
        for path in take_ours or ():
            key = path.split(".")[1]
            if key in stored.record["data"]:
                base[key] = stored.record["data"][key]
            else:
                base.pop(key, None)
        review = stored.record.get("review") if keep == "ours" else stored.server_record.get("review")
        if review is None:  # the store then keeps this phone's review: say so
            review = stored.record.get("review")
        result, server, phone = _flatten(base), _flatten(stored.server_record["data"]), _flatten(stored.record["data"])
        changes = [Change(f"data.{f}", server.get(f), result.get(f), phone.get(f))
                   for f in sorted(set(result) | set(server)) if result.get(f) != server.get(f)]
        server_review, phone_review = stored.server_record.get("review") or {}, stored.record.get("review") or {}
        if (review or {}) != server_review:
            changes.append(Change("review", server_review, review or {}, phone_review))
        dropped = [f"data.{f}" for f in sorted(set(result) | set(phone)) if result.get(f) != phone.get(f)]
        if (review or {}) != phone_review:
            dropped.append("review")
        return Resolution(base, review, changes, dropped)

    def resolve(self, record_id: str, *, keep: str = "theirs", take_ours: set[str] | None = None) -> dict:
        """Keep one side, or combine: the server's data with the fields named in `take_ours`."""
        plan = self.plan(record_id, keep=keep, take_ours=take_ours)
        if plan is None:  # resolved meanwhile (here or by a pull): nothing left to combine
            raise NotInConflict(f"record {record_id} is not in conflict")
        return self.store.resolve_conflict(record_id, data=plan.data, review=plan.review)

    def calls_without_coordinates(self, day: str) -> int:
        """How many of the day's calls a map leaves out: they have a place name but no lat and lon."""
        return sum(1 for s in self._all() if s.type == RecordType.CALL and record_day(s.record) == day
                   and "lat" not in (s.record["data"].get("location") or {}))

    def figures(self, day: str) -> dict:
        return day_figures([s.record for s in self._all()], day)

    def export(self, day: str, fmt: str, *, include_personal: bool = False) -> Path:
        """Write the day's export to the data folder's exports/ for its hand-over; return its path.

        Names and phone numbers only with include_personal, the lead's explicit
        choice. Each row names the team (known once the phone has pulled).
        """
        import json

        records = [s.record for s in self._all()]
        team = self.store.get_meta("team") or None
        options: dict[str, Any] = {"include_personal": include_personal, "day": day, "provenance": exports.one_team(records, team)}
        if fmt == "csv":
            # utf-8-sig: spreadsheets then show the Arabic right.
            payload = exports.to_csv(records, **options).encode("utf-8-sig")
        else:
            payload = json.dumps(exports.to_geojson(records, **options), ensure_ascii=False).encode("utf-8")
        # A working copy for the hand-over only: the app removes it once offered (fieldapp.store.handover).
        return handover.working_copy(self.data_dir, exports.export_filename(team, day, fmt), payload)
