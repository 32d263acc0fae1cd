"""The lead's queue: Approve all asks first (no client)."""

from __future__ import annotations

from tests.ui.models.support import new_call


def test_approve_all_asks_with_the_count_and_what_it_leaves_out(state):

    kept = new_call(state)
    refused = new_call(state, place="Ariha")
    state.session.store.record_verdicts([{"id": refused["id"], "version": 1, "status": "rejected",
                                  "errors": [{"field": "data.location", "message": "outside the team's area"}]}])
    state.open_route("/queue")
    assert state.queue.approve_all() is None  # asked, nothing approved
    assert state.session.store.get(kept["id"]).record.get("review") is None
    text = state.session.confirming.message
    assert "to approve: 1" in text and "refused by the server: 1" in text, text
    state.open_route("/")
    state.open_route("/queue")
    assert state.session.confirming is None  # leaving the queue disarms it
    assert state.queue.approve_all() is None
    assert state.queue.approve_all() is None  # a double tap on Approve all only asks again
    assert state.session.store.get(kept["id"]).record.get("review") is None
    assert state.queue.approve_all(confirmed=True) == 1  # the question's own button
    assert state.session.store.get(kept["id"]).record["review"] == {"state": "approved"}
    assert state.session.store.get(refused["id"]).record.get("review") is None
    assert state.notice == "1 approved" and state.session.confirming is None
    state.settings.set_language("ar")
    state.queue.approve_all()  # nothing left to approve: said, nothing asked
    assert state.session.confirming is None and "رفضها الخادم: 1" in state.notice
