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
    assert state.session.confirming is None and "رفضها الخادم: \u20681\u2069" in state.notice


def _calls(state):
    first, second = new_call(state, place="Jableh"), new_call(state, place="Baniyas")
    state.open_route("/queue")
    state.queue.set_day("٢٠٢٦-١١-٢٥ ")  # Arabic-Indic digits, a space: the day as typed
    assert state.queue.day == "2026-11-25"
    return first, second


def test_a_flag_opens_its_note_and_saves_the_review_with_it(state):
    from fieldapp.core.records import ReviewState

    first, _ = _calls(state)
    state.queue.start_flag(first["id"], "")
    assert state.queue.flagging == first["id"]
    state.queue.note = "wrong place"
    generation = state.generation
    state.queue.save_flag()
    review = state.session.store.get(first["id"]).record["review"]
    assert review == {"state": ReviewState.FLAGGED.value, "note": "wrong place"}
    assert state.queue.flagging is None and state.queue.note == "" and state.generation == generation + 1
    state.queue.start_flag(first["id"], "wrong place")
    state.queue.cancel_flag()  # nothing saved
    assert state.session.store.get(first["id"]).record["version"] == 2 and state.queue.flagging is None


def test_approve_and_the_filters_of_the_queue(state):
    first, second = _calls(state)
    assert {i.call.id for i in state.queue.items()} == {first["id"], second["id"]}
    state.queue.approve(first["id"])
    assert state.session.store.get(first["id"]).record["review"] == {"state": "approved"}
    state.queue.filter = "unreviewed"
    assert [i.call.id for i in state.queue.items()] == [second["id"]]
    state.queue.filter, state.queue.search = None, "jab"
    assert [i.call.id for i in state.queue.items()] == [first["id"]]


def test_the_figures_are_of_the_queues_day(state):
    new_call(state)
    assert state.figures.day == state.queue.day == "2026-11-25"
    assert state.figures.figures()["totals"]["calls"] == 1
    state.queue.set_day("2026-11-24")
    assert state.figures.day == "2026-11-24" and state.figures.figures()["totals"]["calls"] == 0
