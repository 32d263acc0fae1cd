"""A recovery: the form (new, or a recorded one to read, correct or withdraw) and its evidence as read."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fieldapp.core.records import Condition, InvalidRecord, Outcome
from fieldapp.i18n import Translator
from fieldapp.store import StoredRecord
from fieldapp.store.document import SyncState
from fieldapp.store.tags import tag_holder
from fieldapp.ui import messages
from fieldapp.ui.messages import ascii_digits
from fieldapp.ui.models.photos import RECOVERY_KINDS, PhotoTray
from fieldapp.ui.models.refusals import form_errors, withheld_fields
from fieldapp.ui.models.session import Session
from fieldapp.ui.routing import Place, Screen

# What the form shows of a recovery: a correction keeps every other field as it was.
SHOWN = frozenset({"outcome", "count", "recovered_at", "identified", "sex", "age_group", "tag", "notes", "name",
                   "conditions", "age_years", "death_estimated_at", "handover", "photos"})


@dataclass
class RecoveryForm:
    outcome: str | None = None
    count: str = "1"
    sex: str | None = None
    age_group: str | None = None
    identified: bool = False
    name: str = ""
    tag: str = ""
    notes: str = ""
    recovered_at: str = ""  # HH:MM, today; empty means now
    # Evidence (schema 2): what the team saw, an age estimate, a death time, the handover.
    conditions: list[str] = field(default_factory=list)  # in the vocabulary's order
    age_years: str = ""
    death_estimated_at: str = ""  # HH:MM, today; deceased only; empty means not estimated
    handover_to: str | None = None  # one of HANDOVER_TARGETS
    handover_receiver: str = ""
    handover_place: str = ""
    handover_at: str = ""  # HH:MM, today; empty means not said

    def toggle_condition(self, condition: str) -> None:
        """Tick or untick one condition; the list keeps the vocabulary's order."""
        chosen = set(self.conditions) ^ {condition}
        self.conditions = [c.value for c in Condition if c.value in chosen]


class RecoveryModel:
    def __init__(self, session: Session):
        self.s = session
        self.form = RecoveryForm()
        self.photos = PhotoTray(session, RECOVERY_KINDS)  # the body, its tag, effects, documents

    @property
    def recovery_id(self) -> str | None:
        """The recovery the form corrects; None for a new one."""
        place = self.s.place
        return place.recovery_id if place.screen is Screen.RECOVERY else None

    def record(self) -> StoredRecord | None:
        """The recovery the form corrects, or None for a new one."""
        return self.s.store.get(self.recovery_id) if self.recovery_id else None

    def editable(self) -> bool:
        """A new recovery, or this phone's own not withdrawn: a withdrawn one or another device's is read only."""
        stored = self.record()
        return stored is None or (stored.mine and stored.record["data"].get("withdrawn") is not True)

    def choose(self, name: str, value: str | None) -> None:
        """A chip chosen (outcome, sex, age group, handover): its problem goes with the choice. Read only: nothing."""
        if not self.editable():
            return
        setattr(self.form, name, value)
        self.s.errors.pop(name, None)

    def toggle_condition(self, condition: str) -> None:
        if not self.editable():
            return
        self.form.toggle_condition(condition)
        self.s.errors.pop("conditions", None)

    def open(self, recovery_id: str) -> None:
        """Open a recorded recovery in its form, to read, correct (a new version) or withdraw."""
        stored = self.s.open(recovery_id)
        data = stored.record["data"]
        handover = data.get("handover") or {}
        self.s.go(Place(Screen.RECOVERY, data["call_id"], stored.id))
        self.s.withheld = withheld_fields(stored.record)
        self.photos.load(data.get("photos"))
        self.form = RecoveryForm(
            outcome=data["outcome"], count=str(data["count"]), sex=data.get("sex"), age_group=data.get("age_group"),
            identified=bool(data.get("identified")), name=data.get("name", ""), tag=data.get("tag", ""),
            notes=data.get("notes", ""), recovered_at=data["recovered_at"][11:16],
            conditions=list(data.get("conditions") or []), age_years=str(data.get("age_years", "")),
            death_estimated_at=(data.get("death_estimated_at") or "")[11:16],
            handover_to=handover.get("to"), handover_receiver=handover.get("receiver", ""),
            handover_place=handover.get("place", ""), handover_at=(handover.get("at") or "")[11:16],
        )
        if stored.state is SyncState.REJECTED:
            self.s.errors = form_errors(stored.errors, self.s.t)

    def withdraw(self) -> dict | None:
        """Withdraw the open recovery as entered in error: a new version marked so, never erased."""
        stored = self.s.open(self.recovery_id)
        record = self.s.resend(stored.id, {**stored.record["data"], "withdrawn": True})
        if record is not None:
            self.s.go(Place(Screen.CALL, record["data"]["call_id"]))
            self.s.notice = self.s.t("recovery.withdrawn_saved")
        return record

    def _tag_held(self, text: str) -> bool:
        """A tag another recovery on this phone holds is said once, beside the tag; saving again keeps it.

        A warning, not a refusal: the server's verdict on a team's tags is the one that counts.
        """
        s = self.s
        holder_id = tag_holder(s.store, text, editing=self.recovery_id)
        if holder_id is None:
            return False
        holder = s.store.get(holder_id)
        data = holder.record["data"] if holder is not None else {}
        about = s.t.join([s.t('outcome.' + data['outcome']), data['recovered_at'][11:16]]) if data else holder_id
        warning = s.t("warning.tag_held", tag=text.strip(), holder=about)
        if s.warnings.get("tag") == warning:
            return False  # said before, and the volunteer saved again: keep it
        s.warnings["tag"] = warning
        return True

    def _checked(self) -> dict[str, Any] | None:
        """The form's fields as a record's data, or None with each problem beside its field."""
        s, form, t = self.s, self.form, self.s.t
        errors: dict[str, str] = {}
        if not form.outcome:
            errors["outcome"] = t("error.required")
        count = ascii_digits(form.count).strip()
        if not count.isdigit() or int(count) < 1:
            errors["count"] = t("error.number")
        recovered = s.time_today(form.recovered_at)
        if recovered is None:
            errors["recovered_at"] = t("error.time")
        age = ascii_digits(form.age_years).strip()
        if age and not age.isdigit():
            errors["age_years"] = t("error.number")
        died = None
        if form.outcome == Outcome.DECEASED and form.death_estimated_at.strip():
            died = s.time_today(form.death_estimated_at)
            if died is None:
                errors["death_estimated_at"] = t("error.time")
        handed_at = s.time_today(form.handover_at) if form.handover_at.strip() else None
        if form.handover_at.strip() and handed_at is None:
            errors["handover_at"] = t("error.time")
        if not form.handover_to and any(x.strip() for x in (form.handover_receiver, form.handover_place, form.handover_at)):
            errors["handover_to"] = t("error.required")
        if errors:
            s.errors = errors
            return None
        s.errors = {}
        future = s.future("recovered_at", form.recovered_at, recovered)
        if self._tag_held(form.tag) or future:  # each said once, together
            return None
        data: dict[str, Any] = {
            "call_id": s.place.call_id, "outcome": form.outcome, "count": int(count),
            "recovered_at": recovered, "identified": form.identified,
        }
        for key in ("sex", "age_group"):
            if getattr(form, key):
                data[key] = getattr(form, key)
        for key in ("tag", "notes"):
            if getattr(form, key).strip():
                data[key] = getattr(form, key).strip()
        if form.identified and form.name.strip():
            data["name"] = form.name.strip()
        if form.conditions:
            data["conditions"] = list(form.conditions)
        if age:
            data["age_years"] = int(age)
        if died is not None:
            data["death_estimated_at"] = died
        if form.handover_to:
            handover: dict[str, Any] = {"to": form.handover_to}
            for key in ("receiver", "place"):
                if getattr(form, f"handover_{key}").strip():
                    handover[key] = getattr(form, f"handover_{key}").strip()
            if handed_at is not None:
                handover["at"] = handed_at
            data["handover"] = handover
        self.photos.into(data)
        return data

    def save(self) -> dict | None:
        s = self.s
        data = self._checked()
        if data is None:
            return None
        if self.recovery_id:
            return self._save_correction(self.recovery_id, data)
        try:
            record = s.store.create_recovery(data, recorded_by=s.callsign or None, now=s.now())
        except InvalidRecord as exc:
            s.errors = form_errors(exc.errors, s.t)
            return None
        self.photos.saved(record)
        s.saved()
        s.go(Place(Screen.CALL, s.place.call_id))
        return record

    def _save_correction(self, recovery_id: str, data: dict) -> dict | None:
        stored = self.s.open(recovery_id)
        current = stored.record["data"]
        if current["recovered_at"][11:16] == ascii_digits(self.form.recovered_at).strip():
            data["recovered_at"] = current["recovered_at"]  # unchanged: keep its day and offset
        # A time unchanged keeps its day and offset too.
        if "death_estimated_at" in data and (current.get("death_estimated_at") or "")[11:16] == data["death_estimated_at"][11:16]:
            data["death_estimated_at"] = current["death_estimated_at"]
        at, was = (data.get("handover") or {}).get("at"), (current.get("handover") or {}).get("at")
        if at and was and at[11:16] == was[11:16]:
            data["handover"]["at"] = was
        # What the form does not show (a location) stays as it was; an older record's free-text
        # handed_to too, until a handover takes its place.
        shown = SHOWN | {"handed_to"} if "handover" in data else SHOWN
        data = {**{k: v for k, v in current.items() if k not in shown}, **data}
        record = self.s.resend(stored.id, data)
        self.photos.saved(record)
        if record is not None:
            self.s.go(Place(Screen.CALL, data["call_id"]))
            self.s.notice = self.s.t("recovery.corrected")
        return record


def evidence_lines(data: dict, t: Translator) -> list[tuple[str, str]]:
    """What a recovery's page shows of its evidence: (label, value) pairs, in the user's language."""
    def when(at: str) -> str:
        same_day = at[:10] == (data.get("recovered_at") or "")[:10]
        return at[11:16] if same_day else t.join([messages.long_date(at[:10], t), at[11:16]], sep=" ")

    lines: list[tuple[str, str]] = []
    if data.get("conditions"):
        lines.append((t("label.conditions"), t.list(t(f"condition.{c}") for c in data["conditions"])))
    if data.get("age_years") is not None:
        lines.append((t("label.age_years"), t.isolate(data["age_years"])))
    if data.get("death_estimated_at"):
        lines.append((t("label.death_estimated_at"), when(data["death_estimated_at"])))
    handover = data.get("handover")
    if handover:
        parts = [t(f"handover.{handover['to']}"), handover.get("receiver"), handover.get("place"),
                 when(handover["at"]) if handover.get("at") else None]
        lines.append((t("label.handover"), t.join(parts)))
    elif data.get("handed_to"):  # an older record's free text, still shown
        lines.append((t("label.handed_to"), t.isolate(data["handed_to"])))
    if data.get("tag"):
        lines.append((t("label.tag"), t.isolate(data["tag"])))
    return lines
