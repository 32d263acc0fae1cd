"""What every screen model shares: the store, the words, the clock, where the app is, and what a screen says.

One `Session` per page. The screen models (home, call, recovery, ...) each hold it;
`AppState` makes it and moves it between screens (`go`). Plain Python: no Flet.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

from fieldapp.core.records import InvalidRecord
from fieldapp.i18n import Translator
from fieldapp.store import RecordNotFound, RecordStore, StoredRecord
from fieldapp.store.store import now_local, timestamp
from fieldapp.ui import routing
from fieldapp.ui.messages import ascii_digits
from fieldapp.ui.models.refusals import form_errors
from fieldapp.ui.routing import Place

FUTURE_SLACK = timedelta(minutes=2)  # a phone's clock and a volunteer's watch differ a little


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


def clock(text: str) -> tuple[int, int] | None:
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


@dataclass
class Session:
    store: RecordStore
    data_dir: Path
    t: Translator
    worker: Any = None  # the background sync (fieldapp.sync.worker.SyncWorker), if one runs
    now: Callable[[], datetime] = now_local
    callsign: str = ""
    place: Place = routing.HOME
    history: routing.History = field(default_factory=routing.History)
    errors: dict[str, str] = field(default_factory=dict)  # a form's problems, by field
    warnings: dict[str, str] = field(default_factory=dict)  # said once before a save; a second Save keeps the value
    notice: str | None = None
    # Form fields the server did not show this phone (the record's `withheld`): kept there, not editable here.
    withheld: frozenset[str] = frozenset()
    confirming: Confirmation | None = None  # a harmful tap asked about, waiting for its confirming tap
    generation: int = 0  # +1 on every change of the records: a drawn screen older than this is stale

    def go(self, place: Place) -> None:
        """Move to a place: what the screen left said (problems, a notice, a question) goes with it."""
        self.place = place
        self.errors, self.warnings, self.notice = {}, {}, None
        self.withheld = frozenset()
        self.confirming = None  # a question left on another screen must not be answered by a tap on its return

    @property
    def routed_id(self) -> str:
        """The record the route names (a record's or a conflict's screen)."""
        record_id = self.place.call_id
        assert record_id is not None, self.place
        return record_id

    def routed_record(self) -> StoredRecord | None:
        return self.store.get(self.routed_id)

    # --- questions before a harmful tap ----------------------------------------------------------

    def asking(self, ask: Ask, subject: str | None = None) -> bool:
        """Whether this action, on this subject, was asked about and waits for its confirming tap."""
        return self.confirming is not None and self.confirming.ask == ask and self.confirming.subject == subject

    def ask(self, ask: Ask, message: str, subject: str | None = None, ids: tuple[str, ...] = ()) -> None:
        self.confirming = Confirmation(ask, message, subject, ids)

    def dismiss(self) -> None:
        """The volunteer said no: nothing is done, and the next tap asks again."""
        self.confirming = None

    # --- records ------------------------------------------------------------------------------------

    def open(self, record_id: str | None) -> StoredRecord:
        """The record a page or form has open (RecordNotFound only if the folder lost it under the app)."""
        stored = self.store.get(record_id) if record_id else None
        if stored is None:
            raise RecordNotFound(record_id or "")
        return stored

    def resend(self, record_id: str, data: dict) -> dict | None:
        """Save a record's new version (a fix of a refused one is sent again); a refusal shows by its field."""
        try:
            record = self.store.edit(record_id, data=data, now=self.now())
        except InvalidRecord as exc:
            self.errors = form_errors(exc.errors, self.t)
            return None
        self.saved()
        return record

    def saved(self) -> None:
        """A record was saved: the worker sends it soon. A form saved is left for good (see routing.History)."""
        if self.place.screen in (routing.Screen.NEW_CALL, routing.Screen.RECOVERY):
            self.history.leave(routing.stack(self.place))
        self.generation += 1
        if self.worker is not None:
            self.worker.nudge()

    # --- times of day ---------------------------------------------------------------------------------

    def today(self) -> str:
        return self.now().date().isoformat()

    def time_today(self, text: str) -> str | None:
        """A time of day typed in a form, as a timestamp today; empty means now, None a time that is none."""
        now = self.now()
        if not text.strip():
            return timestamp(now)
        hm = clock(text)
        if hm is None:
            return None
        return timestamp(now.replace(hour=hm[0], minute=hm[1], second=0, microsecond=0))

    def future(self, name: str, text: str, at: str | None) -> bool:
        """A time later than now is said once, beside its field; saving again keeps it."""
        if at is None or not text.strip():
            return False
        if datetime.fromisoformat(at) <= self.now() + FUTURE_SLACK:
            return False
        warning = self.t("warning.future", time=at[11:16])
        if self.warnings.get(name) == warning:
            return False  # said before, and the volunteer saved again: keep it
        self.warnings[name] = warning
        return True
