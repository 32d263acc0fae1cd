"""The lead's day queue: the day, its filters, reviews (approve, flag with a note), Approve all, the export."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from fieldapp.core.records import RecordType, ReviewState
from fieldapp.i18n import Translator
from fieldapp.store import StoredRecord
from fieldapp.ui import messages
from fieldapp.ui.lead import FILTERS, LeadDay, LeftOut, QueueItem
from fieldapp.ui.models import reading
from fieldapp.ui.models.session import Ask, Session

__all__ = ["FILTERS", "PAGE", "Card", "QueueModel", "card"]

PAGE = 30  # calls drawn at a time; "Show more" draws the next


@dataclass(frozen=True)
class Card:
    """What a lead reads on one record of the queue to judge it, in the user's language (sync state apart:
    the view reads it fresh from the record, so sync news shows at once)."""

    record_id: str
    title: str  # the type or outcome and count, and the review
    lines: list[str] = field(default_factory=list)  # time, place, tag, conditions, handover, who recorded it
    review: ReviewState = ReviewState.UNREVIEWED
    withdrawn: bool = False
    flag_note: str | None = None
    settled_by: str | None = None  # the volunteer's device that settled its conflict, waiting for a lead

    def approve_label(self, t: Translator) -> str:
        """Approving a withdrawn record confirms its withdrawal: the button says so."""
        return t("queue.confirm_withdrawal") if self.withdrawn else t("queue.approve")


def card(t: Translator, stored: StoredRecord, settled: dict[str, str] | None = None) -> Card:
    """One record's card: what it is, when and where, its tag, conditions and handover, who recorded it."""
    record, data = stored.record, stored.record["data"]
    review = record.get("review") or {}
    state = ReviewState(review.get("state", ReviewState.UNREVIEWED))
    if stored.type == RecordType.CALL:
        what = t("incident." + data["incident_type"])
        at, place = data.get("received_at"), reading.value(t, "data.location", data.get("location"))
    else:
        what = f"{t('outcome.' + data['outcome'])} × {t.isolate(data['count'])}"
        at = data.get("recovered_at")
        place = reading.value(t, "data.location", data["location"]) if data.get("location") else ""
    lines = [t("queue.card_time", at=reading.when(t, at))]
    if place:
        lines.append(t("queue.card_place", place=place))
    for key in ("tag", "conditions", "handover", "handed_to"):
        if data.get(key):
            path = f"data.{key}"
            lines.append(f"{messages.label(path, t)}: {reading.value(t, path, data[key])}")
    lines.append(t("queue.card_by", who=t.join([record.get("recorded_by") or t("queue.no_callsign"),
                                                 record.get("device_id") or ""])))
    return Card(
        record_id=stored.id, title=t.join([what, t("review." + state.value)]), lines=lines, review=state,
        withdrawn=data.get("withdrawn") is True, flag_note=review.get("note") if state is ReviewState.FLAGGED else None,
        settled_by=(settled or {}).get(stored.id),
    )


class QueueModel:
    """What the queue shows (the day, its filters, the export's choice) and what the lead does there."""

    def __init__(self, session: Session, lead: LeadDay):
        self.s, self.lead = session, lead
        self.day = session.today()
        self.filter: str | None = None  # waiting | refused | conflict | unreviewed, None for all
        self.search = ""
        self.incident_type: str | None = None
        self.status: str | None = None
        self.include_personal = False  # the lead's export: names only when asked
        self.filters_open = False  # the filters fold away, so more records show
        self.flagging: str | None = None  # the record whose flag note is being written
        self.note = ""  # that note
        self.shown = PAGE  # how many of the day's calls are drawn: a day of 150 stays quick to open and return to

    def show_more(self) -> None:
        self.shown += PAGE

    def set_day(self, text: str) -> None:
        self.day = messages.ascii_digits(text).strip()
        self.shown = PAGE

    def items(self) -> list[QueueItem]:
        return self.lead.queue(self.day, flt=self.filter, search=self.search, incident_type=self.incident_type,
                               status=self.status)

    def cards(self, item: QueueItem, settled: dict[str, str] | None = None) -> list[tuple[StoredRecord, Card]]:
        """The item's records with their cards (a call of another day too: its recoveries need it)."""
        settled = self.lead.settled() if settled is None else settled
        return [(stored, card(self.s.t, stored, settled)) for stored in item.records()]

    def settled(self) -> dict[str, str]:
        """Record id -> the volunteer's device that settled its conflict (read once for a whole queue)."""
        return self.lead.settled()

    # --- reviews -------------------------------------------------------------------------------

    def approve(self, record_id: str) -> None:
        self.lead.review(record_id, ReviewState.APPROVED)
        self.s.notice = None
        self.s.saved()

    def start_flag(self, record_id: str, note: str) -> None:
        """Flag opens this record's own note under it; Flag there saves the review with that note."""
        self.flagging, self.note = record_id, note

    def save_flag(self) -> None:
        if self.flagging:
            self.lead.review(self.flagging, ReviewState.FLAGGED, self.note)
        self.flagging, self.note = None, ""
        self.s.saved()

    def cancel_flag(self) -> None:
        self.flagging, self.note = None, ""

    def approve_all(self, *, confirmed: bool = False) -> int | None:
        """Approve the day's records: the first tap asks, with the count and what is left out and why (None).

        Only the question's own button confirms (`confirmed`; a double tap on Approve all asks again),
        and it approves the records that were counted, no others (LeadDay.approve).
        """
        s, t, day = self.s, self.s.t, self.day
        if confirmed and s.confirming is not None and s.asking(Ask.APPROVE_ALL, day):
            ids = list(s.confirming.ids)
            s.confirming = None
            done = self.lead.approve(ids)
            s.notice = t("queue.approved_n", n=done)
            s.saved()
            return done
        approval = self.lead.approval(day)
        reasons = [t(f"left_out.{reason.value}", n=approval.left_out[reason]) for reason in LeftOut
                   if approval.left_out.get(reason)]
        left_out = [t("confirm.left_out", reasons=t("list.sep").join(reasons))] if reasons else []
        when = messages.long_date(day, t)
        if not approval.ids:  # nothing to approve: said, nothing asked
            s.confirming = None
            s.notice = " ".join([t("confirm.approve_none", day=when), *left_out])
            return 0
        s.ask(Ask.APPROVE_ALL, " ".join([t("confirm.approve_all", day=when, n=len(approval.ids)), *left_out]),
              day, tuple(approval.ids))
        return None

    def asking_approve_all(self) -> bool:
        return self.s.confirming is not None and self.s.asking(Ask.APPROVE_ALL, self.day)

    # --- the export ------------------------------------------------------------------------------

    def set_export_personal(self, include: bool) -> None:
        """The lead's explicit choice to put names and phone numbers in the next export."""
        self.include_personal = bool(include)

    def export(self, fmt: str) -> Path:
        """Export the queue's day with the lead's choice; the choice goes back to off after.

        The file is kept in the app's folder; the screen then offers it to take off the
        phone (a save dialog). A map leaves out calls without coordinates: the notice counts them.
        """
        t, include = self.s.t, self.include_personal
        path = self.lead.export(self.day, fmt, include_personal=include)
        self.include_personal = False
        self.s.notice = t("queue.exported_personal" if include else "queue.exported", path=path.name)
        if fmt == "geojson":
            left_out = self.lead.calls_without_coordinates(self.day)
            if left_out:
                self.s.notice += " · " + t("queue.map_left_out", n=left_out)
        return path
