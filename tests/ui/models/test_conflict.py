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


def test_the_combination_saves_the_servers_version_with_the_fields_switched_to_ours(state):
    from fieldapp.store.document import SyncState
    from fieldapp.ui.models.conflict import Settled
    from tests.records_factory import call_in_conflict

    call = call_in_conflict(state.session.store, notes="ours", their_notes="all out", their_device="dev-b")
    state.open_route(f"/conflict/{call['id']}")
    assert {d.field for d in state.conflict.differences()} == {"data.status", "data.notes"}
    assert state.conflict.plan().changes == []  # nothing switched: the server's version as it is
    state.conflict.take("data.notes", True)
    assert [c.field for c in state.conflict.plan().changes] == ["data.notes"]
    generation = state.generation
    assert state.conflict.settle("theirs") is Settled.SAVED and state.generation == generation + 1
    stored = state.session.store.get(call["id"])
    assert stored.record["data"]["notes"] == "false alarm" and stored.record["data"]["status"] == "completed"
    assert stored.state is SyncState.PENDING
    # pressed again, or a pull settled it meanwhile: said, nothing saved
    assert state.conflict.settle("theirs") is Settled.CLOSED
    assert state.conflict.settle("ours") is Settled.CLOSED


def test_keep_all_of_ours_asks_then_saves_through_settle(state):
    from fieldapp.ui.models.conflict import Settled
    from tests.records_factory import call_in_conflict

    call = call_in_conflict(state.session.store, notes="ours", their_notes="all out", their_device="dev-b")
    state.open_route(f"/conflict/{call['id']}")
    assert state.conflict.settle("ours") is Settled.ASKED and state.conflict.asking_keep_ours()
    assert state.conflict.settle("ours", confirmed=True) is Settled.SAVED
    assert state.session.store.get(call["id"]).record["data"]["status"] == "cancelled"


def test_a_conflict_value_reads_as_a_person_reads_it():
    from fieldapp.i18n import Translator
    from fieldapp.ui.models.conflict import conflict_value

    t = Translator("en")
    assert conflict_value(t, "data.status", "on_scene") == t("status.on_scene")
    assert conflict_value(t, "data.notes", "") == conflict_value(t, "data.notes", None) == t("conflict.not_set")
    assert conflict_value(t, "data.identified", True) == "✓"
    assert conflict_value(t, "review", {"state": "flagged", "note": "check"}) == f"{t('review.flagged')}: check"
    assert conflict_value(t, "data.received_at", "2026-11-25T14:05:00+03:00").endswith("14:05")


def test_each_conflicting_field_shows_the_base_both_values_and_who_changed_each(state):
    """Issue 23: the base value, this phone's and the other device's, who changed each and when."""
    from tests.records_factory import call_in_conflict

    call = call_in_conflict(state.session.store, notes="ours", their_notes="all out", their_device="dev-b")
    state.open_route(f"/conflict/{call['id']}")
    by_field = {d.field: d for d in state.conflict.differences()}
    notes = by_field["data.notes"]
    assert (notes.base, notes.ours, notes.theirs) == ("ours", "false alarm", "all out")
    assert notes.base_known and notes.ours_changed and notes.theirs_changed
    status = by_field["data.status"]
    assert status.base == "received" or status.base_known
    ours_by, theirs_by = state.conflict.authors()
    assert state.session.store.device_id in ours_by and "dev-b" in theirs_by
    assert "Changed by" in state.t("conflict.changed_by", who=theirs_by)
