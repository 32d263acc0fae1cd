"""The lead's day queue: the day, its filters, reviews (approve, flag with a note), Approve all, the export."""

from __future__ import annotations

from pathlib import Path

from fieldapp.core.records import ReviewState
from fieldapp.ui import messages
from fieldapp.ui.lead import FILTERS, LeadDay, LeftOut, QueueItem
from fieldapp.ui.models.session import Ask, Session

__all__ = ["FILTERS", "QueueModel"]


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

    def set_day(self, text: str) -> None:
        self.day = messages.ascii_digits(text).strip()

    def items(self) -> list[QueueItem]:
        return self.lead.queue(self.day, flt=self.filter, search=self.search, incident_type=self.incident_type,
                               status=self.status)

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
