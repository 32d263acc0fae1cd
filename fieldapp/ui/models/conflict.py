"""A conflict: this phone's values beside the other device's, the lead's combination, Keep all of ours."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from fieldapp.i18n import Translator
from fieldapp.store import NotInConflict, StoredRecord
from fieldapp.ui import messages
from fieldapp.ui.lead import Difference, LeadDay, Resolution
from fieldapp.ui.models import reading
from fieldapp.ui.models.session import Ask, Session

# A conflict value's key -> the translation prefix naming its values.
_NAMED = {"status": "status", "incident_type": "incident", "outcome": "outcome", "sex": "sex", "age_group": "age"}


class Settled(StrEnum):
    ASKED = "asked"  # Keep all asks first: nothing saved
    SAVED = "saved"
    CLOSED = "closed"  # a pull settled it while the screen was open


class ConflictModel:
    def __init__(self, session: Session, lead: LeadDay):
        self.s, self.lead = session, lead
        self.keep: set[str] = set()  # the fields whose value on this phone the lead keeps

    @property
    def record_id(self) -> str:
        return self.s.routed_id

    def record(self) -> StoredRecord | None:
        return self.s.routed_record()

    def differences(self) -> list[Difference]:
        return self.lead.differences(self.record_id)

    def authors(self) -> tuple[str, str]:
        """Who made each side and when: this phone's version, the other device's (callsign, device, time)."""
        stored, t = self.record(), self.s.t
        if stored is None or stored.server_record is None:
            return "", ""

        def who(record: dict) -> str:
            return t.join([record.get("recorded_by") or "", record.get("device_id") or "",
                           reading.when(t, record.get("updated_at"))])

        return who(stored.record), who(stored.server_record)

    def plan(self) -> Resolution | None:
        """The lead's own change as the switches stand."""
        return self.lead.plan(self.record_id, take_ours=self.keep)

    def take(self, path: str, ours: bool) -> None:
        (self.keep.add if ours else self.keep.discard)(path)

    def asking_keep_ours(self) -> bool:
        return self.s.asking(Ask.KEEP_OURS, self.record_id)

    def keep_all_ours(self, *, confirmed: bool = False) -> dict | None:
        """Settle the open conflict with all of this phone's values: first asked, listing the other device's it discards.

        Only the question's own button confirms (`confirmed`; a double tap on Keep all asks again).
        Raises NotInConflict when a pull settled it meanwhile (the screen says so).
        """
        s, t, record_id = self.s, self.s.t, self.record_id
        plan = None if confirmed and s.asking(Ask.KEEP_OURS, record_id) else self.lead.plan(record_id, keep="ours")
        if plan is not None and plan.changes:
            discarded = t("list.sep").join(f"{messages.label(c.field, t)}: {conflict_value(t, c.field, c.server)}"
                                           for c in plan.changes)
            s.ask(Ask.KEEP_OURS, t("confirm.keep_ours", values=discarded), record_id)
            return None
        s.confirming = None
        return self.lead.resolve(record_id, keep="ours")

    def settle(self, keep: str, *, confirmed: bool = False) -> Settled:
        """Save the combination (`theirs` with the switched fields) or keep all of ours (asked first)."""
        try:
            if keep == "ours":
                if self.keep_all_ours(confirmed=confirmed) is None:
                    return Settled.ASKED
            else:
                self.lead.resolve(self.record_id, keep=keep, take_ours=set(self.keep))
        except NotInConflict:
            return Settled.CLOSED
        self.s.saved()
        return Settled.SAVED


def conflict_value(t: Translator, path: str, value: Any) -> str:
    """A conflict's value as a person reads it: a status or type by its name, empty as (empty)."""
    if path == "review" and isinstance(value, dict):
        state = t("review." + value.get("state", "unreviewed"))
        return f"{state}: {t.isolate(value['note'])}" if value.get("note") else state
    if value is None or value == "" or value == []:
        return t("conflict.not_set")
    prefix = _NAMED.get(path.split(".")[-1])
    if prefix and isinstance(value, str):
        return t(f"{prefix}.{value}")
    if isinstance(value, bool):
        return "✓" if value else "✗"
    if isinstance(value, str) and len(value) >= 16 and value[4:5] == "-" and value[10:11] == "T":
        return t.join([messages.long_date(value[:10], t), value[11:16]], sep=" ")
    if isinstance(value, list):
        return t.join(t.join([t('status.' + e['status']), e['at'][11:16]], sep=" ") if isinstance(e, dict) and "status" in e
                      else str(e) for e in value)
    return t.isolate(value)  # a number, phone number, tag or typed text: its own direction in either language
