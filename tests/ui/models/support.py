"""What the screen models' tests share: a fixed clock, a worker that records what it was asked, a call saved."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

from fieldapp.ui.routing import Screen
from fieldapp.ui.state import AppState

TZ = timezone(timedelta(hours=3))
NOW = datetime(2026, 11, 25, 14, 5, tzinfo=TZ)


class FakeWorker:
    """Stands for fieldapp.sync.worker.SyncWorker: records what the screens asked of it."""

    def __init__(self, phase="idle", **status):
        self.status = SimpleNamespace(phase=phase, sending=0, of=0, offline_since=None, **status)
        self.nudges = 0
        self.sends = 0

    def nudge(self):
        self.nudges += 1

    def send_now(self):
        self.sends += 1


def new_call(state: AppState, **fields) -> dict:
    state.go(Screen.NEW_CALL)
    state.call.form.incident_type = fields.pop("incident_type", "fire")
    state.call.form.place = fields.pop("place", "Jableh")
    for key, value in fields.items():
        setattr(state.call.form, key, value)
    return state.call.save()
