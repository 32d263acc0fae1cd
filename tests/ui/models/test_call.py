"""A call's form and page: saving, correcting, status steps (the call model, no client)."""

from __future__ import annotations

from datetime import timedelta

from fieldapp.ui.models.session import Ask
from fieldapp.ui.routing import Screen
from tests.ui.models.support import NOW, new_call


def test_a_new_call_is_saved_with_received_time_now_and_opens_its_page(state):
    record = new_call(state, reported_people="4", caller_phone="+963 933 111 222", notes="three floors")
    assert record["data"]["received_at"] == "2026-11-25T14:05:00.000+03:00"
    assert record["data"]["reported_people"] == 4 and record["data"]["status"] == "received"
    assert state.screen is Screen.CALL and state.place.call_id == record["id"] and state.notice == "Saved on this phone"
    assert state.session.worker.nudges == 1


def test_the_received_time_can_be_corrected(state):
    assert new_call(state, received_at="13:40")["data"]["received_at"] == "2026-11-25T13:40:00.000+03:00"


def test_a_call_without_type_or_place_names_both_and_saves_nothing(state):
    state.go(Screen.NEW_CALL)
    state.call.form.reported_people = "many"
    state.call.form.received_at = "noon"
    assert state.call.save() is None
    assert set(state.session.errors) == {"incident_type", "place", "reported_people", "received_at"}
    assert state.session.store.counts()["total"] == 0 and state.screen is Screen.NEW_CALL


def test_location_alone_is_enough_and_keeps_its_accuracy(state):
    state.go(Screen.NEW_CALL)
    state.call.form.incident_type = "bodies_found"
    state.call.set_location(35.93, 36.63, 8.5)
    record = state.call.save()
    assert record["data"]["location"] == {"lat": 35.93, "lon": 36.63, "accuracy_m": 8.5}


def test_recent_places_are_offered_newest_first_without_repeats(state):
    for minute, place in enumerate(("Ariha", "Jableh", "Ariha", "Saraqib")):
        state.session.now = lambda minute=minute: NOW + timedelta(minutes=minute)
        new_call(state, place=place)
    assert state.call.recent_places()[:3] == ["Saraqib", "Ariha", "Jableh"]


def test_status_steps_record_their_time_as_new_versions(state):
    call = new_call(state)
    state.call.set_status("dispatched")
    record = state.call.set_status("on_scene")
    assert record["version"] == 3 and record["data"]["status"] == "on_scene"
    assert [s["status"] for s in record["data"]["status_log"]] == ["dispatched", "on_scene"]
    assert state.session.store.get(call["id"]).history[0]["data"]["status"] == "received"


def test_a_refusal_shows_next_to_its_field_and_an_edit_resends_it(state):
    call = new_call(state)
    state.session.store.record_verdicts([{"id": call["id"], "version": 1, "status": "rejected",
                                  "errors": [{"field": "data.location", "message": "outside the team's area"}]}])
    page = state.call.page()
    assert page.errors == {"place": "outside the team's area"}
    fixed = state.session.resend(call["id"], {**call["data"], "location": {"place": "Jableh port"}})
    assert fixed["version"] == 2 and state.session.store.get(call["id"]).state == "pending"


def test_records_of_other_devices_are_read_only(state):
    from fieldapp.core.records import normalize
    from tests.records_factory import call_record

    theirs = normalize(call_record(device_id="dev-other"))
    state.session.store.save_pulled([theirs])
    state.go(Screen.CALL, theirs["id"])
    assert state.call.page().editable is False


def test_a_refused_call_is_corrected_in_its_form_with_the_reason_by_the_field(state):
    call = new_call(state, received_at="13:40")
    state.call.set_status("dispatched")
    state.session.store.record_verdicts([{"id": call["id"], "version": 2, "status": "rejected",
                                  "errors": [{"field": "data.location.place", "message": "not a place we know"}]}])
    state.call.open_edit(call["id"])
    assert state.screen is Screen.NEW_CALL and state.call.editing == call["id"]
    assert state.session.errors == {"place": "not a place we know"} and state.call.form.place == "Jableh"
    state.call.form.place = "Jableh port"
    fixed = state.call.save()
    assert fixed["version"] == 3 and fixed["data"]["location"]["place"] == "Jableh port"
    assert fixed["data"]["received_at"] == call["data"]["received_at"]  # its time kept as it was
    assert fixed["data"]["status"] == "dispatched" and len(fixed["data"]["status_log"]) == 1
    assert state.session.store.get(call["id"]).state == "pending" and state.screen is Screen.CALL


def test_a_time_in_the_future_is_said_once_before_saving(state):
    state.go(Screen.NEW_CALL)
    state.call.form.incident_type, state.call.form.place, state.call.form.received_at = "fire", "Jableh", "23:30"
    assert state.call.save() is None and "23:30 is later than now" in state.session.warnings["received_at"]
    assert state.session.store.counts()["total"] == 0
    record = state.call.save()  # saved again: the volunteer meant it
    assert record["data"]["received_at"].startswith("2026-11-25T23:30")


def test_arabic_indic_digits_are_accepted_in_number_time_and_phone_fields(state):
    record = new_call(state, received_at="١٣:٤٠", reported_people="٤", caller_phone="+٩٦٣ ٩٣٣ ١١١ ٢٢٢")
    assert record["data"]["received_at"] == "2026-11-25T13:40:00.000+03:00"
    assert record["data"]["reported_people"] == 4 and record["data"]["caller_phone"] == "+963 933 111 222"


def test_a_tap_on_cancelled_asks_before_the_timestamped_status_is_written(state):
    call = new_call(state)
    assert state.call.set_status("cancelled", confirmed=True) is None  # a confirmation nothing asked for only asks
    assert state.session.store.get(call["id"]).version == 1
    state.session.dismiss()
    assert state.call.set_status("cancelled") is None  # asked, nothing written
    assert state.session.store.get(call["id"]).version == 1
    assert state.session.asking(Ask.CANCEL_CALL, call["id"]) and "14:05" in state.session.confirming.message
    state.session.dismiss()  # "No, leave it"
    assert state.session.confirming is None and state.session.store.get(call["id"]).version == 1
    state.call.set_status("cancelled")
    state.open_route("/")
    state.open_route(f"/call/{call['id']}")
    assert not state.session.asking(Ask.CANCEL_CALL, call["id"])  # leaving the call disarms it
    assert state.call.set_status("cancelled") is None
    assert state.call.set_status("cancelled") is None  # a double tap on the step's button only asks again
    assert state.session.store.get(call["id"]).version == 1 and state.session.asking(Ask.CANCEL_CALL, call["id"])
    record = state.call.set_status("cancelled", confirmed=True)  # the question's own button confirms
    assert record["version"] == 2 and record["data"]["status"] == "cancelled"
    assert record["data"]["status_log"] == [{"status": "cancelled", "at": "2026-11-25T14:05:00.000+03:00"}]
    assert state.session.confirming is None
    assert state.call.set_status("dispatched")["version"] == 3  # a step forward is written at once
