"""Home: today's calls and every call still open, newest first, with the people so far."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from fieldapp.core.records import CallStatus, Outcome, RecordType, ReviewState
from fieldapp.store import StoredRecord
from fieldapp.store.document import SyncState
from fieldapp.ui.models.session import Session

OPEN_CALLS_DAYS = 7  # home lists the calls still open from this many days back
# A call still open: shown on home whatever its day, until it is completed or cancelled.
OPEN_STATUSES = frozenset({CallStatus.RECEIVED, CallStatus.DISPATCHED, CallStatus.ON_SCENE})
HOME_PAGE = 20  # calls home draws at a time (four screens); "Show more" adds as many


@dataclass
class CallRow:
    id: str
    incident_type: str
    place: str
    status: str
    time: str
    people: dict[str, int]
    state: SyncState  # the record's sync state
    day: str = ""  # the call's day, shown when it is not today (a call still open)
    review: ReviewState = ReviewState.UNREVIEWED
    review_note: str = ""


def people_of(recoveries: list[StoredRecord]) -> dict[str, int]:
    """The people a call's recoveries brought out, by outcome; a withdrawn recovery is kept, not counted."""
    people = {o.value: 0 for o in Outcome}
    for r in recoveries:
        if not r.record["data"].get("withdrawn"):
            people[r.record["data"]["outcome"]] += r.record["data"]["count"]
    return people


def place_of(record: dict) -> str:
    """A call's place as a person reads it: its name, else its coordinates."""
    location = record["data"].get("location") or {}
    if location.get("place"):
        return location["place"]
    if "lat" in location:
        return f"{location['lat']:.4f}, {location['lon']:.4f}"
    return ""


class HomeModel:
    def __init__(self, session: Session):
        self.s = session
        self.limit = HOME_PAGE  # how many of home's calls are drawn

    def more(self) -> None:
        """Show more: a long day comes a page at a time."""
        self.limit += HOME_PAGE

    def rows(self) -> list[CallRow]:
        """Today's calls and every call still open from the week before, newest first, with the people so far.

        A week, not the whole history: home opens at once on a year of records (a call
        left open for longer is in the lead's day queue, under its own day).
        """
        store, today = self.s.store, self.s.today()
        records = list(store.day(today))
        seen = {r.id for r in records}
        since = (date.fromisoformat(today) - timedelta(days=OPEN_CALLS_DAYS)).isoformat()
        for day in store.days():
            if since <= day < today:
                records += [r for r in store.day(day) if r.id not in seen and (
                    r.type == RecordType.RECOVERY or r.record["data"]["status"] in OPEN_STATUSES)]
        recoveries: dict[str, list[StoredRecord]] = {}
        for r in records:
            if r.type == RecordType.RECOVERY:
                recoveries.setdefault(r.record["data"]["call_id"], []).append(r)
        rows = []
        for r in records:
            if r.type != RecordType.CALL:
                continue
            data = r.record["data"]
            review = r.record.get("review") or {}
            rows.append(CallRow(
                id=r.id, incident_type=data["incident_type"], place=place_of(r.record), status=data["status"],
                time=data["received_at"][11:16], people=people_of(recoveries.get(r.id, [])),
                state=r.state, day=data["received_at"][:10],
                review=ReviewState(review.get("state", ReviewState.UNREVIEWED)), review_note=review.get("note", ""),
            ))
        rows.sort(key=lambda row: (row.day, row.time), reverse=True)
        return rows
