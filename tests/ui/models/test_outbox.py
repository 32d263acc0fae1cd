"""The sync badge and Send now (no client)."""

from __future__ import annotations

from types import SimpleNamespace

from tests.ui.models.support import NOW, new_call


def test_the_badge_says_waiting_sending_offline_refused(state):
    assert state.badge() == "All sent"
    call = new_call(state)
    assert state.badge() == "1 waiting"
    state.session.worker.status = SimpleNamespace(phase="sending", sending=1, of=1, offline_since=None)
    assert state.badge() == "Sending 1 of 1"
    state.session.worker.status = SimpleNamespace(phase="offline", sending=0, of=0, offline_since=NOW.replace(hour=9, minute=12))
    assert state.badge() == "Offline since 09:12 · 1 waiting"
    state.session.store.record_verdicts([{"id": call["id"], "version": 1, "status": "rejected",
                                  "errors": [{"field": "data.location", "message": "outside the team's area"}]}])
    assert state.badge() == "All sent · 1 refused"


def test_send_now_says_what_it_did(state):
    assert state.outbox.send_now() == "Nothing to send: everything is sent."
    new_call(state)
    assert "not linked" in state.outbox.send_now() and state.session.worker.sends == 2
