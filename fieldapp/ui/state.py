"""What the screens show and do, in plain Python: no Flet here.

The views (fieldapp/ui/views.py) read these models and call these actions;
everything a volunteer can do is tested here without a client running.
Saving never touches the network: it goes to the store, then nudges the
background worker.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

from fieldapp.core.records import AgeGroup, CallStatus, Condition, HandoverTarget, IncidentType, InvalidRecord, Outcome, Sex
from fieldapp.i18n import Translator, device_language
from fieldapp.store import RecordNotFound, RecordStore, StoredRecord
from fieldapp.store.store import now_local, timestamp
from fieldapp.store.tags import tag_holder
from fieldapp.ui import messages
from fieldapp.ui.lead import LeadDay, LeftOut
from fieldapp.ui.messages import ascii_digits, server_problem, server_problem_kind

SETTINGS = "settings"
STATUS_STEPS = (CallStatus.DISPATCHED, CallStatus.ON_SCENE, CallStatus.COMPLETED, CallStatus.CANCELLED)

# Which form field shows a refusal of a record field (the server's or the schema's).
FORM_FIELD = {
    "data.location": "place", "data.location.place": "place", "data.location.lat": "place", "data.location.lon": "place",
    "data.received_at": "received_at", "data.reported_people": "reported_people", "data.caller_phone": "caller_phone",
    "data.notes": "notes", "data.incident_type": "incident_type", "data.count": "count", "data.name": "name",
    "data.tag": "tag", "data.handed_to": "handed_to", "data.outcome": "outcome",
    "data.recovered_at": "recovered_at", "data.sex": "sex", "data.age_group": "age_group",
    "data.conditions": "conditions", "data.age_years": "age_years", "data.death_estimated_at": "death_estimated_at",
    "data.handover": "handover_to", "data.handover.to": "handover_to", "data.handover.receiver": "handover_receiver",
    "data.handover.place": "handover_place", "data.handover.at": "handover_at",
}
# A call still open: shown on home whatever its day, until it is completed or cancelled.
OPEN_CALLS_DAYS = 7  # home lists the calls still open from this many days back
OPEN_STATUSES = frozenset({CallStatus.RECEIVED.value, CallStatus.DISPATCHED.value, CallStatus.ON_SCENE.value})
FUTURE_SLACK = timedelta(minutes=2)  # a phone's clock and a volunteer's watch differ a little
HOME_PAGE = 20  # calls home draws at a time (four screens); "Show more" adds as many


class Ask(StrEnum):
    """A tap that does harm if made by mistake: it asks first, and the question goes when its screen is left."""

    WIPE = "wipe"  # every record and key on the phone
    APPROVE_ALL = "approve_all"  # the day's records, in bulk
    CANCEL_CALL = "cancel_call"  # a timestamped status that closes the call
    KEEP_OURS = "keep_ours"  # a conflict settled by discarding the other device's values


@dataclass
class Confirmation:
    """An action asked about: what it will do, said beside the button that confirms it."""

    ask: Ask
    message: str
    subject: str | None = None  # what it acts on: the call, the conflict's record, the queue's day
    ids: tuple[str, ...] = ()  # Approve all: the records it listed, which are the ones it approves


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


@dataclass
class CallRow:
    id: str
    incident_type: str
    place: str
    status: str
    time: str
    people: dict[str, int]
    state: str  # the record's sync state: pending | sent | rejected | conflict
    day: str = ""  # the call's day, shown when it is not today (a call still open)
    review: str = "unreviewed"
    review_note: str = ""


@dataclass
class QueueState:
    """What the lead's day queue shows: the day, its filters, the export's choice."""

    day: str
    filter: str | None = None  # waiting | refused | conflict | unreviewed, None for all
    search: str = ""
    incident_type: str | None = None
    status: str | None = None
    include_personal: bool = False  # the lead's export: names only when asked
    flagging: str | None = None  # the record whose flag note is being written
    note: str = ""  # that note


@dataclass
class OutboxRow:
    """A record that is not sent: waiting, refused or in conflict, with what to do about it."""

    id: str
    type: str
    title: str
    state: str
    reasons: list[str]
    call_id: str


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
        if not r.record["data"].get("withdrawn"):  # withdrawn as entered in error: kept, not counted
            people[r.record["data"]["outcome"]] += r.record["data"]["count"]
    return people


def _place(record: dict) -> str:
    location = record["data"].get("location") or {}
    if location.get("place"):
        return location["place"]
    if "lat" in location:
        return f"{location['lat']:.4f}, {location['lon']:.4f}"
    return ""


def withheld_fields(record: Mapping[str, Any]) -> frozenset[str]:
    """The form fields of a record's personal fields the server withheld from this phone."""
    return frozenset(FORM_FIELD[path] for path in record.get("withheld") or () if path in FORM_FIELD)


def form_errors(errors, t: Translator | None = None) -> dict[str, str]:
    """Refusals keyed by the form field that shows them; with a translator, in the user's language.

    Beside its field a reason needs no label; one the form has no field for
    ("form") names the field by its label.
    """
    out: dict[str, str] = {}
    for error in errors:
        field_path = error["field"] if isinstance(error, dict) else error.field
        message = error["message"] if isinstance(error, dict) else error.message
        where = _form_field(field_path)
        if t is not None:
            message = messages.reason(message, t) if where != "form" else messages.describe(field_path, message, t)
        out.setdefault(where, message)
    return out


def _form_field(path: str) -> str:
    """The form field showing a record field; a list item (data.conditions.0) shows by its list."""
    while path not in FORM_FIELD and path.rsplit(".", 1)[-1].isdigit():
        path = path.rsplit(".", 1)[0]
    return FORM_FIELD.get(path, "form")


def refusal_lines(errors, t: Translator) -> list[str]:
    """Each refusal as a line: the field's label and the reason, in the user's language."""
    return [messages.describe(e["field"] if isinstance(e, dict) else e.field,
                              e["message"] if isinstance(e, dict) else e.message, t) for e in errors]


def _clock(text: str) -> tuple[int, int] | None:
    """'14:05', '١٤:٠٥', '14.05' or '1405' -> (14, 5); None when it is no time of day."""
    text = ascii_digits(text).strip().replace(".", ":").replace("\u066b", ":")
    if text.isdigit() and len(text) in (3, 4):
        text = f"{text[:-2]}:{text[-2:]}"
    parts = text.split(":")
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        return None
    hour, minute = int(parts[0]), int(parts[1])
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        return None
    return hour, minute


class AppState:
    def __init__(self, store: RecordStore, data_dir: Path, *, worker=None, now: Callable[[], datetime] = now_local):
        self.store = store
        self.data_dir = Path(data_dir)
        self.worker = worker
        self._now = now
        saved = store.get_meta(SETTINGS, {}) or {}
        self.language_chosen = bool(saved.get("language"))  # the volunteer's own choice beats the device's
        self.language: str = saved.get("language") or device_language()
        self.callsign: str = saved.get("callsign", "")
        self.dark: bool = bool(saved.get("dark", False))
        self.t = Translator(self.language)
        self.screen = "home"
        self.call_id: str | None = None
        self.recovery_id: str | None = None  # the recovery the form corrects; None for a new one
        self.call_form = CallForm()
        self.recovery_form = RecoveryForm()
        self.editing: str | None = None  # the call whose correction the form holds
        self.errors: dict[str, str] = {}
        # Form fields the server did not show this phone (the record's `withheld`): kept there, not editable here.
        self.withheld: frozenset[str] = frozenset()
        self.warnings: dict[str, str] = {}  # said once before a save; a second Save keeps the value
        self.notice: str | None = None
        self.keystore: Any = None  # this page's keystore (fieldapp.store.keystore), if the platform has one
        self.confirming: Confirmation | None = None  # a harmful tap asked about, waiting for its confirming tap
        self.problems = [p.message(self.t) for p in store.problems]
        self.queue = QueueState(day=self.today())
        self.generation = 0  # +1 on every change of the records: a drawn screen older than this is stale
        self.home_limit = HOME_PAGE  # how many of home's calls are drawn
        # Forms a save has left, each with the screen under it: the browser's Back steps over them.
        self.left_forms: dict[str, str] = {}
        self.conflict_keep: set[str] = set()  # the conflict's fields whose value on this phone the lead keeps

    @property
    def wipe_armed(self) -> bool:
        """Wipe was tapped once: a second tap removes everything."""
        return self.asking(Ask.WIPE)

    def asking(self, ask: Ask, subject: str | None = None) -> bool:
        """Whether this action, on this subject, was asked about and waits for its confirming tap."""
        return self.confirming is not None and self.confirming.ask == ask and self.confirming.subject == subject

    def _ask(self, ask: Ask, message: str, subject: str | None = None, ids: tuple[str, ...] = ()) -> None:
        self.confirming = Confirmation(ask, message, subject, ids)

    def dismiss(self) -> None:
        """The volunteer said no: nothing is done, and the next tap asks again."""
        self.confirming = None

    def shows_queue(self) -> bool:
        """The Day queue is a team lead's: hidden once the server has said this phone's token is a volunteer's."""
        return self.store.get_meta("role") != "volunteer"

    def use_device_locales(self, codes: list[str]) -> None:
        """The platform's locales, best first: Arabic for an Arabic one, unless the volunteer chose."""
        if self.language_chosen or not codes:
            return
        language = "ar" if any((c or "").lower().startswith("ar") for c in codes[:1]) else "en"
        if language != self.language:
            self.language = language
            self.t = Translator(language)

    # --- navigation ----------------------------------------------------------------------

    def go(self, screen: str, call_id: str | None = None) -> None:
        self.screen = screen
        self.errors = {}
        self.warnings = {}
        self.notice = None
        if call_id is not None:
            self.call_id = call_id
        self.editing = None
        self.recovery_id = None
        self.withheld = frozenset()
        self.conflict_keep = set()
        self.confirming = None  # a question left on another screen must not be answered by a tap on its return
        if screen == "new_call":
            self.call_form = CallForm()
        if screen == "recovery":
            self.recovery_form = RecoveryForm()

    # Every screen has a route, so the browser's Back and Android's back step through them:
    #   /  /new  /call/<id>  /call/<id>/edit  /call/<id>/recovery  /recovery/<id>
    #   /sync  /settings  /queue  /queue/figures  /conflict/<id>

    def route(self) -> str:
        screen, call_id = self.screen, self.call_id
        if screen == "new_call":
            return f"/call/{self.editing}/edit" if self.editing else "/new"
        if screen == "call" and call_id:
            return f"/call/{call_id}"
        if screen == "recovery" and call_id:
            return f"/recovery/{self.recovery_id}" if self.recovery_id else f"/call/{call_id}/recovery"
        if screen == "conflict" and call_id:
            return f"/conflict/{call_id}"
        return {"settings": "/settings", "queue": "/queue", "figures": "/queue/figures", "outbox": "/sync"}.get(screen, "/")

    def open_route(self, route: str, *, history: bool = False) -> None:
        """Show the screen a route names (the browser's Back, a link, a tab); an unknown one goes home.

        A form a save has left is stepped over when the browser's history (`history`) comes back to
        it: its screen under it is shown, not an empty form. Opened afresh (a tap), it is a form again.
        """
        if history and route in self.left_forms:
            route = self.left_forms[route]
        else:
            self.left_forms.pop(route, None)
        if route == self.route():
            return
        parts = [p for p in (route or "/").split("?")[0].split("/") if p]
        record = self.store.get(parts[1]) if len(parts) >= 2 and parts[0] in ("call", "recovery", "conflict") else None
        if parts[:1] == ["call"] and record is not None and record.type == "call":
            if parts[2:] == ["edit"] and record.mine:
                self.call_id = record.id
                self.edit_call()
            elif parts[2:] == ["recovery"] and record.mine:
                self.go("recovery", record.id)
            else:
                self.go("call", record.id)
        elif parts[:1] == ["recovery"] and record is not None and record.type == "recovery":
            self.edit_recovery(record.id)
        elif parts[:1] == ["conflict"] and record is not None:
            self.go("conflict", record.id)
        elif parts == ["new"]:
            self.go("new_call")
        elif parts in (["settings"], ["queue"], ["sync"]):
            self.go({"sync": "outbox"}.get(parts[0], parts[0]))
        elif parts == ["queue", "figures"]:
            self.go("figures")
        else:
            self.go("home")

    def stack(self) -> list[str]:
        """The routes under the current screen, the current one last: what Back steps down through."""
        # Home is under every screen: Back from a tab returns to it, as on Android, and going back to
        # it shows the list as it was, without drawing it again.
        here = self.route()
        screen = self.screen
        if screen == "home":
            return [here]
        if screen in ("figures", "conflict"):
            return ["/", "/queue", here]
        if screen in ("call", "outbox", "settings", "queue") or (screen == "new_call" and not self.editing):
            return ["/", here]
        return ["/", f"/call/{self.call_id}", here]  # a call's correction, a recovery

    # --- home ------------------------------------------------------------------------------

    def today(self) -> str:
        return self._now().date().isoformat()

    def home_rows(self) -> list[CallRow]:
        """Today's calls and every call still open from the week before, newest first, with the people so far.

        A week, not the whole history: home opens at once on a year of records (a call
        left open for longer is in the lead's day queue, under its own day).
        """
        today = self.today()
        records = list(self.store.day(today))
        seen = {r.id for r in records}
        since = (date.fromisoformat(today) - timedelta(days=OPEN_CALLS_DAYS)).isoformat()
        for day in self.store.days():
            if since <= day < today:
                records += [r for r in self.store.day(day) if r.id not in seen and (
                    r.type == "recovery" or r.record["data"]["status"] in OPEN_STATUSES)]
        recoveries: dict[str, list[StoredRecord]] = {}
        for r in records:
            if r.type == "recovery":
                recoveries.setdefault(r.record["data"]["call_id"], []).append(r)
        rows = []
        for r in records:
            if r.type != "call":
                continue
            data = r.record["data"]
            review = r.record.get("review") or {}
            rows.append(CallRow(
                id=r.id, incident_type=data["incident_type"], place=_place(r.record), status=data["status"],
                time=data["received_at"][11:16], people=_people(recoveries.get(r.id, [])),
                state=r.state.value, day=data["received_at"][:10],
                review=review.get("state", "unreviewed"), review_note=review.get("note", ""),
            ))
        rows.sort(key=lambda row: (row.day, row.time), reverse=True)
        return rows

    def outbox_rows(self) -> list[OutboxRow]:
        """What the badge stands for: every record still waiting, refused or in conflict, refusals first."""
        t = self.t
        rows = []
        for r in self.store.iter_current():
            if r.state.value == "sent":
                continue
            data = r.record["data"]
            if r.type == "call":
                title = t.join([t('incident.' + data['incident_type']), _place(r.record), data['received_at'][11:16]])
                call_id = r.id
            else:
                title = t.join([f"{t('outcome.' + data['outcome'])} × {t.isolate(data['count'])}", data['recovered_at'][11:16]])
                call_id = data["call_id"]
            reasons = refusal_lines(r.errors, t) if r.state.value == "rejected" else []
            rows.append(OutboxRow(r.id, r.type, title, r.state.value, reasons, call_id))
        order = {"rejected": 0, "conflict": 1, "pending": 2}
        rows.sort(key=lambda row: order.get(row.state, 3))
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
            # The phone has a network and the server does not answer at its address: say which.
            silent = server_problem_kind(getattr(status, "reason", None)) == "server.unreachable"
            text = t("badge.unreachable" if silent else "badge.offline", time=since, n=waiting)
        elif status is not None and status.phase == "not_enrolled" and waiting:
            text = t("badge.not_enrolled", n=waiting)
        elif status is not None and status.phase == "error" and waiting:
            text = t("badge.error", n=waiting, problem=server_problem(getattr(status, "reason", None), t))
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
        clock = _clock(text)
        if clock is None:
            return None
        return timestamp(now.replace(hour=clock[0], minute=clock[1], second=0, microsecond=0))

    def _future(self, name: str, text: str, at: str | None) -> bool:
        """A time later than now is said once, beside its field; saving again keeps it."""
        if at is None or not text.strip():
            return False
        if datetime.fromisoformat(at) <= self._now() + FUTURE_SLACK:
            return False
        warning = self.t("warning.future", time=at[11:16])
        if self.warnings.get(name) == warning:
            return False  # said before, and the volunteer saved again: keep it
        self.warnings[name] = warning
        return True

    def _open(self, record_id: str | None) -> StoredRecord:
        """The record a page or form has open (RecordNotFound only if the folder lost it under the app)."""
        stored = self.store.get(record_id) if record_id else None
        if stored is None:
            raise RecordNotFound(record_id or "")
        return stored

    def edit_call(self) -> None:
        """Open the call's fields for a correction; a refusal shows next to the fields it names."""
        stored = self._open(self.call_id)
        data = stored.record["data"]
        location = data.get("location") or {}
        self.go("new_call")
        self.editing = stored.id
        self.withheld = withheld_fields(stored.record)
        self.call_form = CallForm(
            incident_type=data["incident_type"], place=location.get("place", ""), lat=location.get("lat"),
            lon=location.get("lon"), accuracy_m=location.get("accuracy_m"), received_at=data["received_at"][11:16],
            reported_people=str(data.get("reported_people", "")), caller_phone=data.get("caller_phone", ""),
            notes=data.get("notes", ""),
        )
        if stored.state.value == "rejected":
            self.errors = form_errors(stored.errors, self.t)

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
        reported = ascii_digits(form.reported_people).strip()
        if reported:
            if not reported.isdigit():
                errors["reported_people"] = t("error.number")
            else:
                people = int(reported)
        if errors:
            self.errors = errors
            return None
        self.errors = {}
        if self._future("received_at", form.received_at, received):
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
        if self.editing:
            return self._save_correction(data)
        try:
            record = self.store.create_call(data, recorded_by=self.callsign or None, now=self._now())
        except InvalidRecord as exc:
            self.errors = form_errors(exc.errors, t)
            return None
        self.saved()
        self.go("call", record["id"])
        self.notice = t("call.saved")
        return record

    def _save_correction(self, data: dict) -> dict | None:
        stored = self._open(self.editing)
        current = stored.record["data"]
        if current["received_at"][11:16] == ascii_digits(self.call_form.received_at).strip():
            data["received_at"] = current["received_at"]  # unchanged: keep its day and offset
        data.update(status=current["status"], status_log=current.get("status_log", []))
        record = self.resend(stored.id, data)
        if record is not None:
            self.go("call", stored.id)
            self.notice = self.t("call.saved")
        return record

    # --- a call's page -------------------------------------------------------------------------

    def call_page(self, call_id: str | None = None) -> CallPage | None:
        call_id = call_id or self.call_id
        if call_id is None:
            return None
        stored = self.store.get(call_id)
        if stored is None or stored.type != "call":
            return None
        recoveries = self.store.recoveries_of(call_id)
        errors = form_errors(stored.errors, self.t) if stored.state.value == "rejected" else {}
        return CallPage(stored, recoveries, _people(recoveries), editable=stored.mine, errors=errors)

    def set_status(self, status: str, *, confirmed: bool = False) -> dict | None:
        """Mark a status step now: a new version with the time in its log. Cancelled asks first (None then).

        Only the question's own button confirms (`confirmed`): the step's button stays drawn while
        the question shows, and a double tap on it must ask again, not cancel.

        A confirmation, not an undo: an undo would still save and send a version saying the call
        was cancelled (a save is forever: the team and the server would keep a cancellation that never
        was), and an undo bar that goes on a timer is easily missed at a scene, in gloves. A question
        that waits writes nothing until it is answered; the steps forward are written at once.
        """
        if status == CallStatus.CANCELLED.value and not (confirmed and self.asking(Ask.CANCEL_CALL, self.call_id)):
            self._ask(Ask.CANCEL_CALL, self.t("confirm.cancel_call", time=self._now().strftime("%H:%M")), self.call_id)
            return None
        self.confirming = None
        stored = self._open(self.call_id)
        data = dict(stored.record["data"])
        at = timestamp(self._now())
        data["status"] = status
        data["status_log"] = list(data.get("status_log") or []) + [{"status": status, "at": at}]
        record = self.store.edit(stored.id, data=data, now=self._now())
        self.saved()
        return record

    def resend(self, record_id: str, data: dict) -> dict | None:
        """Fix a refused record and send it again (as a new version)."""
        try:
            record = self.store.edit(record_id, data=data, now=self._now())
        except InvalidRecord as exc:
            self.errors = form_errors(exc.errors, self.t)
            return None
        self.saved()
        return record

    # --- a recovery ------------------------------------------------------------------------------

    def edit_recovery(self, recovery_id: str) -> None:
        """Open a recorded recovery in its form, to read, correct (a new version) or withdraw."""
        stored = self._open(recovery_id)
        data = stored.record["data"]
        handover = data.get("handover") or {}
        self.go("recovery", data["call_id"])
        self.recovery_id = stored.id
        self.withheld = withheld_fields(stored.record)
        self.recovery_form = RecoveryForm(
            outcome=data["outcome"], count=str(data["count"]), sex=data.get("sex"), age_group=data.get("age_group"),
            identified=bool(data.get("identified")), name=data.get("name", ""), tag=data.get("tag", ""),
            notes=data.get("notes", ""), recovered_at=data["recovered_at"][11:16],
            conditions=list(data.get("conditions") or []), age_years=str(data.get("age_years", "")),
            death_estimated_at=(data.get("death_estimated_at") or "")[11:16],
            handover_to=handover.get("to"), handover_receiver=handover.get("receiver", ""),
            handover_place=handover.get("place", ""), handover_at=(handover.get("at") or "")[11:16],
        )
        if stored.state.value == "rejected":
            self.errors = form_errors(stored.errors, self.t)

    def recovery_record(self) -> StoredRecord | None:
        """The recovery the form corrects, or None for a new one."""
        return self.store.get(self.recovery_id) if self.recovery_id else None

    def withdraw_recovery(self) -> dict | None:
        """Withdraw the open recovery as entered in error: a new version marked so, never erased."""
        stored = self._open(self.recovery_id)
        record = self.resend(stored.id, {**stored.record["data"], "withdrawn": True})
        if record is not None:
            call_id = record["data"]["call_id"]
            self.go("call", call_id)
            self.notice = self.t("recovery.withdrawn_saved")
        return record

    def _save_recovery_correction(self, data: dict) -> dict | None:
        stored = self._open(self.recovery_id)
        current = stored.record["data"]
        if current["recovered_at"][11:16] == ascii_digits(self.recovery_form.recovered_at).strip():
            data["recovered_at"] = current["recovered_at"]  # unchanged: keep its day and offset
        # A time unchanged keeps its day and offset too.
        if "death_estimated_at" in data and (current.get("death_estimated_at") or "")[11:16] == data["death_estimated_at"][11:16]:
            data["death_estimated_at"] = current["death_estimated_at"]
        at, was = (data.get("handover") or {}).get("at"), (current.get("handover") or {}).get("at")
        if at and was and at[11:16] == was[11:16]:
            data["handover"]["at"] = was
        # What the form does not show (a location) stays as it was; an older record's free-text
        # handed_to too, until a handover takes its place.
        shown = {"outcome", "count", "recovered_at", "identified", "sex", "age_group", "tag", "notes", "name",
                 "conditions", "age_years", "death_estimated_at", "handover"}
        if "handover" in data:
            shown.add("handed_to")
        data = {**{k: v for k, v in current.items() if k not in shown}, **data}
        record = self.resend(stored.id, data)
        if record is not None:
            self.go("call", data["call_id"])
            self.notice = self.t("recovery.corrected")
        return record

    def _tag_held(self, text: str) -> bool:
        """A tag another recovery on this phone holds is said once, beside the tag; saving again keeps it.

        A warning, not a refusal: the server's verdict on a team's tags is the one that counts.
        """
        holder_id = tag_holder(self.store, text, editing=self.recovery_id)
        if holder_id is None:
            return False
        holder = self.store.get(holder_id)
        data = holder.record["data"] if holder is not None else {}
        about = self.t.join([self.t('outcome.' + data['outcome']), data['recovered_at'][11:16]]) if data else holder_id
        warning = self.t("warning.tag_held", tag=text.strip(), holder=about)
        if self.warnings.get("tag") == warning:
            return False  # said before, and the volunteer saved again: keep it
        self.warnings["tag"] = warning
        return True

    def save_recovery(self) -> dict | None:
        form, t = self.recovery_form, self.t
        errors: dict[str, str] = {}
        if not form.outcome:
            errors["outcome"] = t("error.required")
        count = ascii_digits(form.count).strip()
        if not count.isdigit() or int(count) < 1:
            errors["count"] = t("error.number")
        recovered = self._time_today(form.recovered_at)
        if recovered is None:
            errors["recovered_at"] = t("error.time")
        age = ascii_digits(form.age_years).strip()
        if age and not age.isdigit():
            errors["age_years"] = t("error.number")
        died = None
        if form.outcome == Outcome.DECEASED.value and form.death_estimated_at.strip():
            died = self._time_today(form.death_estimated_at)
            if died is None:
                errors["death_estimated_at"] = t("error.time")
        handed_at = self._time_today(form.handover_at) if form.handover_at.strip() else None
        if form.handover_at.strip() and handed_at is None:
            errors["handover_at"] = t("error.time")
        if not form.handover_to and any(x.strip() for x in (form.handover_receiver, form.handover_place, form.handover_at)):
            errors["handover_to"] = t("error.required")
        if errors:
            self.errors = errors
            return None
        self.errors = {}
        future = self._future("recovered_at", form.recovered_at, recovered)
        if self._tag_held(form.tag) or future:  # each said once, together
            return None
        data: dict[str, Any] = {
            "call_id": self.call_id, "outcome": form.outcome, "count": int(count),
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
        if self.recovery_id:
            return self._save_recovery_correction(data)
        try:
            record = self.store.create_recovery(data, recorded_by=self.callsign or None, now=self._now())
        except InvalidRecord as exc:
            self.errors = form_errors(exc.errors, t)
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

    def wipe(self, *, confirmed: bool = False) -> bool:
        """Remove every record and key from this phone: Wipe asks, saying how many records go; the question's button wipes.

        Only that button confirms (`confirmed`): a second tap on Wipe itself (a double tap) asks again.
        Returns True once wiped; the app then starts again on an empty store.
        """
        if not (confirmed and self.wipe_armed):
            counts = self.store.counts()
            self._ask(Ask.WIPE, self.t("confirm.wipe", n=counts["total"], unsent=counts["total"] - counts["sent"]))
            return False
        from fieldapp.store import protect

        if self.worker is not None:
            self.worker.stop()
        self.store.close()
        protect.wipe(self.data_dir, self.keystore)  # the keystore's entry first
        self.confirming = None
        return True

    def keystore_words(self) -> str:
        """Whether this platform keeps the data key's second half outside the data folder, said plainly."""
        from fieldapp.store import protect

        held = self.keystore is not None or protect.has_keystore()
        return self.t("settings.keystore_yes" if held else "settings.keystore_no")

    def wipe_after(self) -> int | None:
        """The team's limit of wrong PINs before a wipe; None when there is no PIN or no limit."""
        from fieldapp.store import protect

        return protect.wipe_after(self.data_dir)

    def set_wipe_after(self, count: int | None) -> None:
        from fieldapp.store import protect

        protect.set_wipe_after(self.data_dir, count)  # the store is unlocked: its key is in memory

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
            self.errors = {"server": self._enroll_problem(exc)}
            return False
        self.errors = {}
        self.notice = self.t("settings.enrolled", server=linked.server_url)
        self.send_now()
        return True

    def _enroll_problem(self, exc: Exception) -> str:
        """Why linking failed, in the user's language (a reason the app does not know, as it came)."""
        from fieldapp.sync.errors import AuthError, ServerError, Unreachable

        text = str(exc)
        if isinstance(exc, Unreachable):
            return self.t("enroll.unreachable")
        if isinstance(exc, AuthError):
            return self.t("enroll.token_refused")
        if isinstance(exc, ServerError):
            return self.t("enroll.server_error")
        for start, key in (("the server address is not", "enroll.address"), ("plain http", "enroll.http"),
                           ("the token is empty", "enroll.token_empty"), ("this device's data is locked", "enroll.locked")):
            if text.startswith(start):
                return self.t(key)
        return self.t("refusal.unknown", reason=text)  # words the app does not know: after a lead-in, isolated

    # --- the lead's queue: Approve all, a conflict kept as this phone has it --------------------

    def approve_all(self, lead: LeadDay, *, confirmed: bool = False) -> int | None:
        """Approve the day's records: the first tap asks, with the count and what is left out and why (None).

        Only the question's own button confirms (`confirmed`; a double tap on Approve all asks again),
        and it approves the records that were counted, no others (LeadDay.approve).
        """
        t, day = self.t, self.queue.day
        if confirmed and self.confirming is not None and self.asking(Ask.APPROVE_ALL, day):
            ids = list(self.confirming.ids)
            self.confirming = None
            done = lead.approve(ids)
            self.notice = t("queue.approved_n", n=done)
            self.saved()
            return done
        approval = lead.approval(day)
        reasons = [t(f"left_out.{reason.value}", n=approval.left_out[reason]) for reason in LeftOut
                   if approval.left_out.get(reason)]
        left_out = [t("confirm.left_out", reasons=t("list.sep").join(reasons))] if reasons else []
        when = messages.long_date(day, t)
        if not approval.ids:  # nothing to approve: said, nothing asked
            self.confirming = None
            self.notice = " ".join([t("confirm.approve_none", day=when), *left_out])
            return 0
        self._ask(Ask.APPROVE_ALL, " ".join([t("confirm.approve_all", day=when, n=len(approval.ids)), *left_out]),
                  day, tuple(approval.ids))
        return None

    def keep_all_ours(self, lead: LeadDay, *, confirmed: bool = False) -> dict | None:
        """Settle the open conflict with all of this phone's values: first asked, listing the other device's it discards.

        Only the question's own button confirms (`confirmed`; a double tap on Keep all asks again).
        Raises NotInConflict when a pull settled it meanwhile (the screen says so).
        """
        record_id, t = self.call_id, self.t
        assert record_id is not None  # the conflict's route names it
        plan = None if confirmed and self.asking(Ask.KEEP_OURS, record_id) else lead.plan(record_id, keep="ours")
        if plan is not None and plan.changes:
            discarded = t("list.sep").join(f"{messages.label(c.field, t)}: {conflict_value(t, c.field, c.server)}"
                                           for c in plan.changes)
            self._ask(Ask.KEEP_OURS, t("confirm.keep_ours", values=discarded), record_id)
            return None
        self.confirming = None
        return lead.resolve(record_id, keep="ours")

    # --- the lead's export ------------------------------------------------------------------

    def set_export_personal(self, include: bool) -> None:
        """The lead's explicit choice to put names and phone numbers in the next export."""
        self.queue.include_personal = bool(include)

    def export_day(self, lead, fmt: str) -> Path:
        """Export the queue's day with the lead's choice; the choice goes back to off after.

        The file is kept in the app's folder; the screen then offers it to take off the
        phone (a save dialog). A map leaves out calls without coordinates: the notice counts them.
        """
        include = self.queue.include_personal
        path = lead.export(self.queue.day, fmt, include_personal=include)
        self.queue.include_personal = False
        self.notice = self.t("queue.exported_personal" if include else "queue.exported", path=path.name)
        if fmt == "geojson":
            left_out = lead.calls_without_coordinates(self.queue.day)
            if left_out:
                self.notice += " · " + self.t("queue.map_left_out", n=left_out)
        return path

    def send_now(self) -> str:
        """Ask the worker for a pass now, and say what that does (the badge then follows the pass)."""
        waiting = self.store.counts()["pending"]
        if self.worker is not None:
            self.worker.send_now()
        if not waiting:
            self.notice = self.t("send.nothing")
        elif self.enrolled_server() is None:
            self.notice = self.t("send.not_linked", n=waiting)
        else:
            self.notice = self.t("send.started", n=waiting)
        return self.notice

    def saved(self) -> None:
        """A record was saved: the worker sends it soon. A form saved is left for good (see open_route)."""
        if self.screen in ("new_call", "recovery"):
            routes = self.stack()
            self.left_forms[routes[-1]] = routes[-2]
        self.generation += 1
        if self.worker is not None:
            self.worker.nudge()


INCIDENT_TYPES = [i.value for i in IncidentType]
OUTCOMES = [o.value for o in Outcome]
SEXES = [s.value for s in Sex]
AGE_GROUPS = [a.value for a in AgeGroup]
CONDITIONS = [c.value for c in Condition]
HANDOVER_TARGETS = [h.value for h in HandoverTarget]


def conflict_value(t: Translator, path: str, value: Any) -> str:
    """A conflict's value as a person reads it: a status or type by its name, empty as (empty)."""
    if path == "review" and isinstance(value, dict):
        state = t("review." + value.get("state", "unreviewed"))
        return f"{state}: {t.isolate(value['note'])}" if value.get("note") else state
    if value is None or value == "" or value == []:
        return t("conflict.not_set")
    key = path.split(".")[-1]
    prefix = {"status": "status", "incident_type": "incident", "outcome": "outcome", "sex": "sex", "age_group": "age"}.get(key)
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
