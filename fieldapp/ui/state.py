"""What the screens show and do, in plain Python: no Flet here.

The views (fieldapp/ui/views.py) read these models and call these actions;
everything a volunteer can do is tested here without a client running.
Saving never touches the network: it goes to the store, then nudges the
background worker.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Callable

from fieldapp.i18n import Translator, device_language
from fieldapp.core.records import AgeGroup, CallStatus, IncidentType, InvalidRecord, Outcome, Sex
from fieldapp.store import RecordStore, StoredRecord
from fieldapp.store.store import now_local, timestamp

SETTINGS = "settings"
STATUS_STEPS = (CallStatus.DISPATCHED, CallStatus.ON_SCENE, CallStatus.COMPLETED, CallStatus.CANCELLED)

# Which form field shows a refusal of a record field (the server's or the schema's).
FORM_FIELD = {
    "data.location": "place", "data.location.place": "place", "data.location.lat": "place", "data.location.lon": "place",
    "data.received_at": "received_at", "data.reported_people": "reported_people", "data.caller_phone": "caller_phone",
    "data.notes": "notes", "data.incident_type": "incident_type", "data.count": "count", "data.name": "name",
    "data.tag": "tag", "data.handed_to": "handed_to", "data.outcome": "outcome",
}


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
class RecoveryForm:
    outcome: str | None = None
    count: str = "1"
    sex: str | None = None
    age_group: str | None = None
    identified: bool = False
    name: str = ""
    tag: str = ""
    handed_to: str = ""
    notes: str = ""


@dataclass
class CallRow:
    id: str
    incident_type: str
    place: str
    status: str
    time: str
    people: dict[str, int]
    state: str


@dataclass
class CallPage:
    stored: StoredRecord
    recoveries: list[StoredRecord]
    people: dict[str, int]
    editable: bool
    errors: dict[str, str] = field(default_factory=dict)


def _people(recoveries: list[StoredRecord]) -> dict[str, int]:
    people = {o.value: 0 for o in Outcome}
    for r in recoveries:
        people[r.record["data"]["outcome"]] += r.record["data"]["count"]
    return people


def _place(record: dict) -> str:
    location = record["data"].get("location") or {}
    if location.get("place"):
        return location["place"]
    if "lat" in location:
        return f"{location['lat']:.4f}, {location['lon']:.4f}"
    return ""


def form_errors(errors) -> dict[str, str]:
    """Refusals keyed by the form field that shows them."""
    out: dict[str, str] = {}
    for error in errors:
        field_path = error["field"] if isinstance(error, dict) else error.field
        message = error["message"] if isinstance(error, dict) else error.message
        out.setdefault(FORM_FIELD.get(field_path, "form"), message)
    return out


class AppState:
    def __init__(self, store: RecordStore, data_dir: Path, *, worker=None, now: Callable[[], datetime] = now_local):
        self.store = store
        self.data_dir = Path(data_dir)
        self.worker = worker
        self._now = now
        saved = store.get_meta(SETTINGS, {}) or {}
        self.language: str = saved.get("language") or device_language()
        self.callsign: str = saved.get("callsign", "")
        self.dark: bool = bool(saved.get("dark", False))
        self.t = Translator(self.language)
        self.screen = "home"
        self.call_id: str | None = None
        self.call_form = CallForm()
        self.recovery_form = RecoveryForm()
        self.editing: str | None = None  # the call whose correction the form holds
        self.errors: dict[str, str] = {}
        self.notice: str | None = None
        self.problems = [p.describe() for p in store.problems]
        self.queue: dict[str, Any] = {"day": self.today(), "filter": None, "search": "", "note": "",
                                      "include_personal": False}  # the lead's export: names only when asked

    # --- navigation ----------------------------------------------------------------------

    def go(self, screen: str, call_id: str | None = None) -> None:
        self.screen = screen
        self.errors = {}
        self.notice = None
        if call_id is not None:
            self.call_id = call_id
        self.editing = None
        if screen == "new_call":
            self.call_form = CallForm()
        if screen == "recovery":
            self.recovery_form = RecoveryForm()

    # --- home ------------------------------------------------------------------------------

    def today(self) -> str:
        return self._now().date().isoformat()

    def home_rows(self) -> list[CallRow]:
        """Today's calls, newest first, with the people recovered so far."""
        records = self.store.day(self.today())
        recoveries: dict[str, list[StoredRecord]] = {}
        for r in records:
            if r.type == "recovery":
                recoveries.setdefault(r.record["data"]["call_id"], []).append(r)
        rows = []
        for r in records:
            if r.type != "call":
                continue
            data = r.record["data"]
            rows.append(CallRow(
                id=r.id, incident_type=data["incident_type"], place=_place(r.record), status=data["status"],
                time=data["received_at"][11:16], people=_people(recoveries.get(r.id, [])),
                state=r.state.value,
            ))
        rows.sort(key=lambda row: row.time, reverse=True)
        return rows

    def badge(self) -> str:
        """The sync badge: all sent / N waiting / sending n of m / offline since / N refused."""
        t = self.t
        status = self.worker.status if self.worker is not None else None
        counts = self.store.counts()
        waiting = counts["pending"]
        if status is not None and status.phase == "sending" and status.of:
            text = t("badge.sending", n=status.sending, m=status.of)
        elif status is not None and status.phase == "offline" and waiting:
            since = status.offline_since.strftime("%H:%M") if status.offline_since else "?"
            text = t("badge.offline", time=since, n=waiting)
        elif status is not None and status.phase == "not_enrolled" and waiting:
            text = t("badge.not_enrolled", n=waiting)
        elif status is not None and status.phase == "error" and waiting:
            text = t("badge.error", n=waiting)
        elif waiting:
            text = t("badge.waiting", n=waiting)
        else:
            text = t("badge.all_sent")
        extra = []
        if counts["rejected"]:
            extra.append(t("badge.refused", n=counts["rejected"]))
        if counts["conflict"]:
            extra.append(t("badge.conflicts", n=counts["conflict"]))
        return " · ".join([text, *extra])

    # --- new call -----------------------------------------------------------------------------

    def recent_places(self, limit: int = 6) -> list[str]:
        """Places of the team's recent calls, newest first, without repeats."""
        seen: list[str] = []
        day = self._now().date()
        for back in range(3):
            records = self.store.day((day - timedelta(days=back)).isoformat())
            for r in sorted(records, key=lambda r: r.record["created_at"], reverse=True):
                place = (r.record["data"].get("location") or {}).get("place")
                if r.type == "call" and place and place not in seen:
                    seen.append(place)
                    if len(seen) >= limit:
                        return seen
        return seen

    def set_location(self, lat: float, lon: float, accuracy_m: float | None) -> None:
        self.call_form.lat, self.call_form.lon, self.call_form.accuracy_m = lat, lon, accuracy_m

    def _time_today(self, text: str) -> str | None:
        now = self._now()
        if not text.strip():
            return timestamp(now)
        try:
            hour, minute = (int(part) for part in text.strip().split(":"))
            return timestamp(now.replace(hour=hour, minute=minute, second=0, microsecond=0))
        except ValueError:
            return None

    def edit_call(self) -> None:
        """Open the call's fields for a correction; a refusal shows next to the fields it names."""
        stored = self.store.get(self.call_id)
        data = stored.record["data"]
        location = data.get("location") or {}
        self.go("new_call")
        self.editing = stored.id
        self.call_form = CallForm(
            incident_type=data["incident_type"], place=location.get("place", ""), lat=location.get("lat"),
            lon=location.get("lon"), accuracy_m=location.get("accuracy_m"), received_at=data["received_at"][11:16],
            reported_people=str(data.get("reported_people", "")), caller_phone=data.get("caller_phone", ""),
            notes=data.get("notes", ""),
        )
        if stored.state.value == "rejected":
            self.errors = form_errors(stored.errors)

    def save_call(self) -> dict | None:
        """Save the new call (or the correction); on a refusal, keep the form and name each field's problem."""
        form, t = self.call_form, self.t
        errors: dict[str, str] = {}
        if not form.incident_type:
            errors["incident_type"] = t("error.required")
        if not form.place.strip() and form.lat is None:
            errors["place"] = t("error.place")
        received = self._time_today(form.received_at)
        if received is None:
            errors["received_at"] = t("error.time")
        people = None
        if form.reported_people.strip():
            if not form.reported_people.strip().isdigit():
                errors["reported_people"] = t("error.number")
            else:
                people = int(form.reported_people)
        if errors:
            self.errors = errors
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
            data["caller_phone"] = form.caller_phone.strip()
        if form.notes.strip():
            data["notes"] = form.notes.strip()
        if self.editing:
            return self._save_correction(data)
        try:
            record = self.store.create_call(data, recorded_by=self.callsign or None, now=self._now())
        except InvalidRecord as exc:
            self.errors = form_errors(exc.errors)
            return None
        self.saved()
        self.go("call", record["id"])
        self.notice = t("call.saved")
        return record

    def _save_correction(self, data: dict) -> dict | None:
        call_id = self.editing
        current = self.store.get(call_id).record["data"]
        if current["received_at"][11:16] == self.call_form.received_at.strip():
            data["received_at"] = current["received_at"]  # unchanged: keep its day and offset
        data.update(status=current["status"], status_log=current.get("status_log", []))
        record = self.resend(call_id, data)
        if record is not None:
            self.go("call", call_id)
            self.notice = self.t("call.saved")
        return record

    # --- a call's page -------------------------------------------------------------------------

    def call_page(self) -> CallPage | None:
        if self.call_id is None:
            return None
        stored = self.store.get(self.call_id)
        if stored is None:
            return None
        recoveries = self.store.recoveries_of(self.call_id)
        errors = form_errors(stored.errors) if stored.state.value == "rejected" else {}
        return CallPage(stored, recoveries, _people(recoveries), editable=stored.mine, errors=errors)

    def set_status(self, status: str) -> dict:
        """Mark a status step now: a new version with the time in its log."""
        stored = self.store.get(self.call_id)
        data = dict(stored.record["data"])
        at = timestamp(self._now())
        data["status"] = status
        data["status_log"] = list(data.get("status_log") or []) + [{"status": status, "at": at}]
        record = self.store.edit(self.call_id, data=data, now=self._now())
        self.saved()
        return record

    def resend(self, record_id: str, data: dict) -> dict | None:
        """Fix a refused record and send it again (as a new version)."""
        try:
            record = self.store.edit(record_id, data=data, now=self._now())
        except InvalidRecord as exc:
            self.errors = form_errors(exc.errors)
            return None
        self.saved()
        return record

    # --- a recovery ------------------------------------------------------------------------------

    def save_recovery(self) -> dict | None:
        form, t = self.recovery_form, self.t
        errors: dict[str, str] = {}
        if not form.outcome:
            errors["outcome"] = t("error.required")
        if not form.count.strip().isdigit() or int(form.count) < 1:
            errors["count"] = t("error.number")
        if errors:
            self.errors = errors
            return None
        data: dict[str, Any] = {
            "call_id": self.call_id, "outcome": form.outcome, "count": int(form.count),
            "recovered_at": timestamp(self._now()), "identified": form.identified,
        }
        for key in ("sex", "age_group"):
            if getattr(form, key):
                data[key] = getattr(form, key)
        for key in ("tag", "handed_to", "notes"):
            if getattr(form, key).strip():
                data[key] = getattr(form, key).strip()
        if form.identified and form.name.strip():
            data["name"] = form.name.strip()
        try:
            record = self.store.create_recovery(data, recorded_by=self.callsign or None, now=self._now())
        except InvalidRecord as exc:
            self.errors = form_errors(exc.errors)
            return None
        self.saved()
        self.go("call", self.call_id)
        return record

    # --- settings -------------------------------------------------------------------------------

    def _save_settings(self) -> None:
        self.store.set_meta(SETTINGS, {"language": self.language, "callsign": self.callsign, "dark": self.dark})

    def set_language(self, language: str) -> None:
        self.language = language
        self.t = Translator(language)
        self._save_settings()

    def set_callsign(self, callsign: str) -> None:
        self.callsign = callsign.strip()[:40]
        self._save_settings()

    def set_dark(self, dark: bool) -> None:
        self.dark = dark
        self._save_settings()

    def enrolled_server(self) -> str | None:
        from fieldapp.sync import enrollment
        from fieldapp.sync.errors import SyncError

        try:
            linked = enrollment.load(self.data_dir)
        except SyncError:
            return None
        return linked.server_url if linked else None

    def enroll(self, server_url: str, token: str) -> bool:
        """Link this phone; the token is checked with the server, then kept, never shown."""
        from fieldapp.sync import enrollment
        from fieldapp.sync.errors import SyncError

        try:
            linked = enrollment.enroll(self.data_dir, server_url, token)
        except SyncError as exc:
            self.errors = {"server": str(exc)}
            return False
        self.errors = {}
        self.notice = self.t("settings.enrolled", server=linked.server_url)
        self.send_now()
        return True

    # --- the lead's export ------------------------------------------------------------------

    def set_export_personal(self, include: bool) -> None:
        """The lead's explicit choice to put names and phone numbers in the next export."""
        self.queue["include_personal"] = bool(include)

    def export_day(self, lead, fmt: str) -> Path:
        """Export the queue's day with the lead's choice; the choice goes back to off after."""
        include = bool(self.queue.get("include_personal"))
        path = lead.export(self.queue["day"], fmt, include_personal=include)
        self.queue["include_personal"] = False
        self.notice = self.t("queue.exported_personal" if include else "queue.exported", path=str(path))
        return path

    def send_now(self) -> None:
        if self.worker is not None:
            self.worker.send_now()

    def saved(self) -> None:
        """A record was saved: the worker sends it soon."""
        if self.worker is not None:
            self.worker.nudge()


INCIDENT_TYPES = [i.value for i in IncidentType]
OUTCOMES = [o.value for o in Outcome]
SEXES = [s.value for s in Sex]
AGE_GROUPS = [a.value for a in AgeGroup]
