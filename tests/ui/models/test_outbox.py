"""The sync badge and Send now (no client)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from fieldapp.sync import errors
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


def test_the_outbox_lists_refusals_first_each_with_where_it_is_fixed(state):
    from fieldapp.store.document import SyncState

    first, second = new_call(state), new_call(state)
    state.session.store.record_verdicts([{"id": second["id"], "version": 1, "status": "rejected",
                                          "errors": [{"field": "data.notes", "message": "too long"}]}])
    rows = state.outbox.rows()
    assert [(r.id, r.state) for r in rows] == [(second["id"], SyncState.REJECTED), (first["id"], SyncState.PENDING)]
    assert rows[0].route == f"/call/{second['id']}" and rows[0].reasons and not rows[1].reasons


@pytest.mark.parametrize(("failure", "key"), [
    (errors.TokenRefused("words the app has never seen"), "server.token"),
    (errors.CertificateRefused("?"), "server.certificate"),
    (errors.OddAnswer("?"), "server.odd_answer"),
    (errors.ServerError("?"), "server.failed"),
])
def test_the_badge_names_a_server_problem_by_its_class_not_its_words(state, failure, key):
    new_call(state)
    state.session.worker.status = SimpleNamespace(phase="error", sending=0, of=0, offline_since=None,
                                                  reason=str(failure), problem=type(failure))
    assert state.badge() == state.t("badge.error", n=1, problem=state.t(key))


def test_a_problem_the_app_does_not_name_is_said_in_its_own_words(state):
    new_call(state)
    state.session.worker.status = SimpleNamespace(phase="error", sending=0, of=0, offline_since=None,
                                                  reason="this needs a team lead's token", problem=errors.RoleRefused)
    assert state.badge() == state.t("badge.error", n=1, problem="this needs a team lead's token")
    # the old English of an unknown token, now under another class: no longer taken for one by its words
    state.session.worker.status = SimpleNamespace(phase="error", sending=0, of=0, offline_since=None,
                                                  reason="unknown or revoked device token", problem=errors.RequestRefused)
    assert state.t("server.token") not in state.badge()


def test_offline_says_the_server_is_silent_only_for_an_unreachable_server(state):
    new_call(state)
    since = NOW.replace(hour=9, minute=12)
    state.session.worker.status = SimpleNamespace(phase="offline", sending=0, of=0, offline_since=since,
                                                  reason="no network", problem=None)
    assert state.badge() == state.t("badge.offline", time="09:12", n=1)
    state.session.worker.status = SimpleNamespace(phase="offline", sending=0, of=0, offline_since=since,
                                                  reason="whatever words", problem=errors.Unreachable)
    assert state.badge() == state.t("badge.unreachable", time="09:12", n=1)
