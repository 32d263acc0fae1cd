"""A conflict: the kept fields are its own; Keep all of ours asks first (no client)."""

from __future__ import annotations

from tests.ui.models.support import new_call


def test_the_conflict_screens_kept_fields_are_its_own(state):
    call = new_call(state)
    state.open_route(f"/conflict/{call['id']}")
    state.conflict.keep.add("data.notes")
    state.open_route("/queue")
    state.open_route(f"/conflict/{call['id']}")
    assert state.conflict.keep == set()


def test_keep_all_of_this_phones_lists_the_other_devices_values_it_discards_first(state):
    from tests.records_factory import call_in_conflict

    call = call_in_conflict(state.session.store, notes="ours", their_notes="all out", their_device="dev-b")
    state.open_route(f"/conflict/{call['id']}")
    assert state.conflict.keep_all_ours() is None  # asked, nothing saved
    assert state.session.store.get(call["id"]).state.value == "conflict"
    text = state.session.confirming.message
    assert "Notes" in text and "Status" in text and "all out" in text, text
    state.open_route("/queue")
    state.open_route(f"/conflict/{call['id']}")
    assert state.session.confirming is None
    assert state.conflict.keep_all_ours() is None
    assert state.conflict.keep_all_ours() is None  # a double tap on Keep all only asks again
    assert state.session.store.get(call["id"]).state.value == "conflict"
    resolved = state.conflict.keep_all_ours(confirmed=True)  # the question's own button
    assert resolved["data"]["status"] == "cancelled" and resolved["data"]["notes"] == "false alarm"
