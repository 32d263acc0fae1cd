"""The lead's queue cards and the record screen: what a lead reads to judge a record, and its versions (no client)."""

from __future__ import annotations

from datetime import datetime

from fieldapp.core.records import ReviewState
from fieldapp.ui.routing import Screen
from tests.ui.models.support import NOW, TZ


def _call(state, received_at="2026-11-25T13:40:00+03:00", place="Jableh"):
    return state.session.store.create_call(
        {"received_at": received_at, "incident_type": "building_collapse", "location": {"place": place}, "status": "received"},
        recorded_by="Falcon-1", now=NOW)


def _recovery(state, call_id, recovered_at="2026-11-25T13:55:00+03:00", **data):
    fields = {"call_id": call_id, "outcome": "deceased", "count": 10, "recovered_at": recovered_at, "tag": "JB-7",
              "conditions": ["bound", "blindfolded"], "handover": {"to": "morgue", "place": "Latakia National"}}
    return state.session.store.create_recovery(fields | data, recorded_by="Falcon-1", now=NOW)


def test_a_card_shows_what_a_lead_needs_to_judge_a_recovery(state):
    call = _call(state)
    recovery = _recovery(state, call["id"])
    state.open_route("/queue")
    [item] = state.queue.items()
    cards = {stored.id: c for stored, c in state.queue.cards(item)}
    c = cards[recovery["id"]]
    text = "\n".join([c.title, *c.lines])
    for words in ("Deceased × 10", "Not reviewed", "13:55", "JB-7", "Bound", "Blindfolded", "Morgue",
                  "Latakia National", "Falcon-1", state.session.store.device_id):
        assert words.lower() in text.lower(), (words, text)
    assert "Jableh" in "\n".join(cards[call["id"]].lines)
    assert not c.withdrawn and c.approve_label(state.t) == "Approve"


def test_a_withdrawn_recovery_says_so_and_approving_it_confirms_the_withdrawal(state):
    call = _call(state)
    recovery = _recovery(state, call["id"])
    state.session.store.edit(recovery["id"], data={**recovery["data"], "withdrawn": True})
    state.open_route("/queue")
    [item] = state.queue.items()
    c = {s.id: c for s, c in state.queue.cards(item)}[recovery["id"]]
    assert c.withdrawn and c.approve_label(state.t) == "Confirm withdrawal"
    assert "confirms the withdrawal" in state.t("queue.withdrawn_card")
    state.settings.set_language("ar")
    assert c.approve_label(state.t) == "تأكيد الشطب"


def test_a_calls_recoveries_are_found_across_midnight(state):
    """A call received at 23:50 and its person brought out at 00:20: the next day's card has its call."""
    call = _call(state, received_at="2026-11-24T23:50:00+03:00")
    recovery = _recovery(state, call["id"], recovered_at="2026-11-25T00:20:00+03:00")
    state.open_route("/queue")
    [item] = state.queue.items()
    assert item.call is not None and item.call.id == call["id"] and not item.call_of_day
    assert [r.id for r in item.recoveries] == [recovery["id"]]
    # The call belongs to the day before: Approve all of this day counts the recovery only.
    assert state.lead.approval("2026-11-25").ids == [recovery["id"]]
    assert call["id"] in state.lead.approval("2026-11-24").ids


def test_a_card_names_the_volunteer_device_that_settled_a_conflict(state):
    call = _call(state)
    state.session.store.set_meta("settled", {call["id"]: "dev-volunteer"})
    state.open_route("/queue")
    [item] = state.queue.items()
    [(_, c)] = state.queue.cards(item)
    assert c.settled_by == "dev-volunteer"
    assert "dev-volunteer" in state.t("queue.settled_by", device=c.settled_by)


def test_the_record_screen_shows_every_field_and_every_version_with_what_changed(state):
    call = _call(state)
    recovery = _recovery(state, call["id"])
    later = datetime(2026, 11, 25, 15, 0, tzinfo=TZ)
    state.session.store.edit(recovery["id"], data={**recovery["data"], "count": 1, "withdrawn": True}, now=later)
    state.lead.review(recovery["id"], ReviewState.FLAGGED, "count?")
    state.open_route(f"/record/{recovery['id']}")
    assert state.screen is Screen.RECORD and state.stack() == ["/", "/queue", f"/record/{recovery['id']}"]
    lines = dict(state.record.lines())
    assert lines["Tag"] == "JB-7" and lines["How many people"] == "1" and "Morgue" in lines["Handed over to"]
    assert lines["What was seen"] == "Bound (hands or feet), Blindfolded" and lines["Withdrawn"] == "Yes"
    assert "Falcon-1" in lines["Recorded by"] and lines["Review"] == "Flagged: count?"
    newest, edit, first = state.record.history()
    assert [v.number for v in (newest, edit, first)] == [3, 2, 1]
    assert [c.path for c in edit.changes] == ["data.count", "data.withdrawn"]
    assert [c.line(state.t) for c in edit.changes] == ["How many people: now 1, was 10", "Withdrawn: now Yes, was (empty)"]
    assert [c.path for c in newest.changes] == ["review"]
    assert {c.path for c in first.changes} >= {"data.tag", "data.conditions", "data.handover"}
    assert edit.device == state.session.store.device_id and edit.at.startswith("2026-11-25T15:00")
    assert "15:00" in edit.heading(state.t) and "Falcon-1" in edit.heading(state.t)
    state.settings.set_language("ar")
    ar = dict(state.record.lines())
    assert ar["الرقم التعريفي"] == "\u2068JB-7\u2069" and "\u2068Latakia National\u2069" in ar["سُلِّم إلى"]
    assert "بدلًا من" in edit.changes[0].line(state.t)


def test_a_card_opens_its_record_and_back_returns_to_the_queue(state):
    call = _call(state)
    state.open_route("/queue")
    state.open_route(f"/record/{call['id']}")
    assert state.screen is Screen.RECORD and state.record.record_id == call["id"]
    state.open_route("/record/no-such-record")
    assert state.screen is Screen.HOME


def test_a_long_day_is_drawn_a_page_at_a_time(state):
    from fieldapp.ui.models.queue import PAGE

    for i in range(PAGE + 1):
        _call(state, place=f"Street {i}")
    state.open_route("/queue")
    assert len(state.queue.items()) == PAGE + 1 and state.queue.shown == PAGE
    state.queue.show_more()
    assert state.queue.shown == 2 * PAGE
    assert state.t("queue.show_more", n=1) == "Show 1 more call"
    state.queue.set_day("2026-11-24")
    assert state.queue.shown == PAGE
