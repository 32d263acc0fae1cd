"""A call: the new call's form (and a call's correction), and the call's page with its status steps."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from fieldapp.core.records import CallStatus, InvalidRecord, RecordType
from fieldapp.store import StoredRecord
from fieldapp.store.document import SyncState
from fieldapp.store.store import timestamp
from fieldapp.ui.messages import ascii_digits
from fieldapp.ui.models.home import people_of
from fieldapp.ui.models.photos import CALL_KINDS, PhotoTray
from fieldapp.ui.models.refusals import form_errors, withheld_fields
from fieldapp.ui.models.session import Ask, Session
from fieldapp.ui.routing import Place, Screen

STATUS_STEPS = (CallStatus.DISPATCHED, CallStatus.ON_SCENE, CallStatus.COMPLETED, CallStatus.CANCELLED)


@dataclass
class CallForm:
    incident_type: str | None = None
    place: str = ""
    lat: float | None = None
    lon: float | None = None
    accuracy_m: float | None = None
    received_at: str = ""  # HH:MM, today; empty means now
    reported_people: str = ""
    caller_phone: str = ""
    notes: str = ""


@dataclass
class CallPage:
    stored: StoredRecord
    recoveries: list[StoredRecord]
    people: dict[str, int]
    editable: bool
    errors: dict[str, str] = field(default_factory=dict)


class CallModel:
    def __init__(self, session: Session):
        self.s = session
        self.form = CallForm()
        self.photos = PhotoTray(session, CALL_KINDS)  # the scene

    @property
    def editing(self) -> str | None:
        """The call whose correction the form holds; None for a new call."""
        place = self.s.place
        return place.call_id if place.screen is Screen.NEW_CALL and place.editing else None

    # --- the form ---------------------------------------------------------------------------

    def recent_places(self, limit: int = 6) -> list[str]:
        """Places of the team's recent calls, newest first, without repeats."""
        seen: list[str] = []
        day = self.s.now().date()
        for back in range(3):
            records = self.s.store.day((day - timedelta(days=back)).isoformat())
            for r in sorted(records, key=lambda r: r.record["created_at"], reverse=True):
                place = (r.record["data"].get("location") or {}).get("place")
                if r.type == RecordType.CALL and place and place not in seen:
                    seen.append(place)
                    if len(seen) >= limit:
                        return seen
        return seen

    def pick_type(self, kind: str) -> None:
        self.form.incident_type = kind
        self.s.errors.pop("incident_type", None)

    def set_location(self, lat: float, lon: float, accuracy_m: float | None) -> None:
        self.form.lat, self.form.lon, self.form.accuracy_m = lat, lon, accuracy_m

    def no_location(self) -> None:
        """No permission, no fix, or not on this platform: said beside the button, the form kept."""
        self.s.errors["location"] = self.s.t("call.location_unavailable")

    def open_edit(self, call_id: str) -> None:
        """Open the call's fields for a correction; a refusal shows next to the fields it names."""
        stored = self.s.open(call_id)
        data = stored.record["data"]
        location = data.get("location") or {}
        self.s.go(Place(Screen.NEW_CALL, stored.id, editing=True))
        self.s.withheld = withheld_fields(stored.record)
        self.photos.load(data.get("photos"))
        self.form = CallForm(
            incident_type=data["incident_type"], place=location.get("place", ""), lat=location.get("lat"),
            lon=location.get("lon"), accuracy_m=location.get("accuracy_m"), received_at=data["received_at"][11:16],
            reported_people=str(data.get("reported_people", "")), caller_phone=data.get("caller_phone", ""),
            notes=data.get("notes", ""),
        )
        if stored.state is SyncState.REJECTED:
            self.s.errors = form_errors(stored.errors, self.s.t)

    def save(self) -> dict | None:
        """Save the new call (or the correction); on a refusal, keep the form and name each field's problem."""
        s, form, t = self.s, self.form, self.s.t
        errors: dict[str, str] = {}
        if not form.incident_type:
            errors["incident_type"] = t("error.required")
        if not form.place.strip() and form.lat is None:
            errors["place"] = t("error.place")
        received = s.time_today(form.received_at)
        if received is None:
            errors["received_at"] = t("error.time")
        people = None
        reported = ascii_digits(form.reported_people).strip()
        if reported:
            if not reported.isdigit():
                errors["reported_people"] = t("error.number")
            else:
                people = int(reported)
        if errors:
            s.errors = errors
            return None
        s.errors = {}
        if s.future("received_at", form.received_at, received):
            return None
        location: dict[str, Any] = {}
        if form.place.strip():
            location["place"] = form.place.strip()
        if form.lat is not None:
            location.update(lat=form.lat, lon=form.lon)
            if form.accuracy_m is not None:
                location["accuracy_m"] = form.accuracy_m
        data: dict[str, Any] = {
            "received_at": received, "incident_type": form.incident_type, "location": location,
            "status": CallStatus.RECEIVED.value, "status_log": [],
        }
        if people is not None:
            data["reported_people"] = people
        if form.caller_phone.strip():
            data["caller_phone"] = ascii_digits(form.caller_phone).strip()
        if form.notes.strip():
            data["notes"] = form.notes.strip()
        self.photos.into(data)
        if self.editing:
            return self._save_correction(self.editing, data)
        try:
            record = s.store.create_call(data, recorded_by=s.callsign or None, now=s.now())
        except InvalidRecord as exc:
            s.errors = form_errors(exc.errors, t)
            return None
        self.photos.saved(record)
        s.saved()
        s.go(Place(Screen.CALL, record["id"]))
        s.notice = t("call.saved")
        return record

    def _save_correction(self, call_id: str, data: dict) -> dict | None:
        stored = self.s.open(call_id)
        current = stored.record["data"]
        if current["received_at"][11:16] == ascii_digits(self.form.received_at).strip():
            data["received_at"] = current["received_at"]  # unchanged: keep its day and offset
        data.update(status=current["status"], status_log=current.get("status_log", []))
        record = self.s.resend(stored.id, data)
        self.photos.saved(record)
        if record is not None:
            self.s.go(Place(Screen.CALL, stored.id))
            self.s.notice = self.s.t("call.saved")
        return record

    # --- the call's page --------------------------------------------------------------------------

    def page(self, call_id: str | None = None) -> CallPage | None:
        call_id = call_id or self.s.place.call_id
        if call_id is None:
            return None
        stored = self.s.store.get(call_id)
        if stored is None or stored.type != RecordType.CALL:
            return None
        recoveries = self.s.store.recoveries_of(call_id)
        errors = form_errors(stored.errors, self.s.t) if stored.state is SyncState.REJECTED else {}
        return CallPage(stored, recoveries, people_of(recoveries), editable=stored.mine, errors=errors)

    def set_status(self, status: CallStatus | str, *, confirmed: bool = False) -> dict | None:
        """Mark a status step now: a new version with the time in its log. Cancelled asks first (None then).

        Only the question's own button confirms (`confirmed`): the step's button stays drawn while
        the question shows, and a double tap on it must ask again, not cancel.

        A confirmation, not an undo: an undo would still save and send a version saying the call
        was cancelled (a save is forever: the team and the server would keep a cancellation that never
        was), and an undo bar that goes on a timer is easily missed at a scene, in gloves. A question
        that waits writes nothing until it is answered; the steps forward are written at once.
        """
        s, status = self.s, CallStatus(status).value  # the record holds the word, not the enum member
        call_id = s.place.call_id
        if status == CallStatus.CANCELLED and not (confirmed and s.asking(Ask.CANCEL_CALL, call_id)):
            s.ask(Ask.CANCEL_CALL, s.t("confirm.cancel_call", time=s.now().strftime("%H:%M")), call_id)
            return None
        s.confirming = None
        stored = s.open(call_id)
        data = dict(stored.record["data"])
        at = timestamp(s.now())
        data["status"] = status
        data["status_log"] = list(data.get("status_log") or []) + [{"status": status, "at": at}]
        record = s.store.edit(stored.id, data=data, now=s.now())
        s.saved()
        return record
