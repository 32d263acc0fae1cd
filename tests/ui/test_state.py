"""The state and actions behind every screen, with no client running."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

from fieldapp.i18n import Translator, device_language
from fieldapp.store import RecordStore
from fieldapp.ui.state import AppState, Ask, form_errors

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


@pytest.fixture
def state(data_dir, monkeypatch):
    monkeypatch.setenv("FIELDAPP_LANG", "en")
    store = RecordStore.open(data_dir)
    app = AppState(store, data_dir, worker=FakeWorker(), now=lambda: NOW)
    yield app
    store.close()


def new_call(state: AppState, **fields) -> dict:
    state.go("new_call")
    state.call_form.incident_type = fields.pop("incident_type", "fire")
    state.call_form.place = fields.pop("place", "Jableh")
    for key, value in fields.items():
        setattr(state.call_form, key, value)
    return state.save_call()


def test_a_new_call_is_saved_with_received_time_now_and_opens_its_page(state):
    record = new_call(state, reported_people="4", caller_phone="+963 933 111 222", notes="three floors")
    assert record["data"]["received_at"] == "2026-11-25T14:05:00.000+03:00"
    assert record["data"]["reported_people"] == 4 and record["data"]["status"] == "received"
    assert state.screen == "call" and state.call_id == record["id"] and state.notice == "Saved on this phone"
    assert state.worker.nudges == 1


def test_the_received_time_can_be_corrected(state):
    assert new_call(state, received_at="13:40")["data"]["received_at"] == "2026-11-25T13:40:00.000+03:00"


def test_a_call_without_type_or_place_names_both_and_saves_nothing(state):
    state.go("new_call")
    state.call_form.reported_people = "many"
    state.call_form.received_at = "noon"
    assert state.save_call() is None
    assert set(state.errors) == {"incident_type", "place", "reported_people", "received_at"}
    assert state.store.counts()["total"] == 0 and state.screen == "new_call"


def test_location_alone_is_enough_and_keeps_its_accuracy(state):
    state.go("new_call")
    state.call_form.incident_type = "bodies_found"
    state.set_location(35.93, 36.63, 8.5)
    record = state.save_call()
    assert record["data"]["location"] == {"lat": 35.93, "lon": 36.63, "accuracy_m": 8.5}


def test_recent_places_are_offered_newest_first_without_repeats(state):
    for minute, place in enumerate(("Ariha", "Jableh", "Ariha", "Saraqib")):
        state._now = lambda minute=minute: NOW + timedelta(minutes=minute)
        new_call(state, place=place)
    assert state.recent_places()[:3] == ["Saraqib", "Ariha", "Jableh"]


def test_status_steps_record_their_time_as_new_versions(state):
    call = new_call(state)
    state.set_status("dispatched")
    record = state.set_status("on_scene")
    assert record["version"] == 3 and record["data"]["status"] == "on_scene"
    assert [s["status"] for s in record["data"]["status_log"]] == ["dispatched", "on_scene"]
    assert state.store.get(call["id"]).history[0]["data"]["status"] == "received"


def test_a_group_recovery_counts_on_the_call_and_home(state):
    call = new_call(state)
    state.go("recovery", call["id"])
    form = state.recovery_form
    form.outcome, form.count, form.sex, form.age_group = "deceased", "3", "unknown", "adult"
    form.identified, form.name = False, "ignored unless identified"
    record = state.save_recovery()
    assert record["data"]["count"] == 3 and "name" not in record["data"]
    page = state.call_page()
    assert page.people == {"rescued": 0, "injured": 0, "deceased": 3}
    [row] = state.home_rows()
    assert row.people["deceased"] == 3 and row.place == "Jableh" and row.time == "14:05"


def test_a_recovery_needs_an_outcome_and_a_count_of_at_least_one(state):
    new_call(state)
    state.go("recovery", state.call_id)
    state.recovery_form.count = "0"
    assert state.save_recovery() is None and set(state.errors) == {"outcome", "count"}


def test_home_lists_todays_calls_newest_first(state):
    new_call(state, received_at="09:00", place="A")
    new_call(state, received_at="11:30", place="B")
    assert [r.place for r in state.home_rows()] == ["B", "A"]


def test_the_badge_says_waiting_sending_offline_refused(state):
    assert state.badge() == "All sent"
    call = new_call(state)
    assert state.badge() == "1 waiting"
    state.worker.status = SimpleNamespace(phase="sending", sending=1, of=1, offline_since=None)
    assert state.badge() == "Sending 1 of 1"
    state.worker.status = SimpleNamespace(phase="offline", sending=0, of=0, offline_since=NOW.replace(hour=9, minute=12))
    assert state.badge() == "Offline since 09:12 · 1 waiting"
    state.store.record_verdicts([{"id": call["id"], "version": 1, "status": "rejected",
                                  "errors": [{"field": "data.location", "message": "outside the team's area"}]}])
    assert state.badge() == "All sent · 1 refused"


def test_a_refusal_shows_next_to_its_field_and_an_edit_resends_it(state):
    call = new_call(state)
    state.store.record_verdicts([{"id": call["id"], "version": 1, "status": "rejected",
                                  "errors": [{"field": "data.location", "message": "outside the team's area"}]}])
    page = state.call_page()
    assert page.errors == {"place": "outside the team's area"}
    fixed = state.resend(call["id"], {**call["data"], "location": {"place": "Jableh port"}})
    assert fixed["version"] == 2 and state.store.get(call["id"]).state == "pending"


def test_records_of_other_devices_are_read_only(state):
    from fieldapp.core.records import normalize
    from tests.records_factory import call_record

    theirs = normalize(call_record(device_id="dev-other"))
    state.store.save_pulled([theirs])
    state.go("call", theirs["id"])
    assert state.call_page().editable is False


def test_settings_language_callsign_night_mode_persist(state, data_dir):
    state.set_language("ar")
    state.set_callsign("  Falcon-3 ")
    state.set_dark(True)
    assert state.t("home.new_call") == "بلاغ جديد" and state.t.rtl
    again = AppState(state.store, data_dir, now=lambda: NOW)
    assert (again.language, again.callsign, again.dark) == ("ar", "Falcon-3", True)
    record = new_call(again)
    assert record["recorded_by"] == "Falcon-3"


def test_enrolling_with_a_bad_address_says_why_and_send_now_asks_the_worker(state):
    assert state.enroll("http://10.1.2.3:8000", "token") is False
    assert "https" in state.errors["server"]
    state.send_now()
    assert state.worker.sends == 1


def test_translations_are_complete_and_the_device_language_is_used(monkeypatch):
    import json

    from fieldapp.i18n import FOLDER

    english = json.loads((FOLDER / "en.json").read_text())
    arabic = json.loads((FOLDER / "ar.json").read_text())
    assert set(english) == set(arabic)
    # A counted string is an object of CLDR plural forms (fieldapp.i18n): every form is written.
    assert all(all(v.strip() for v in (arabic[k].values() if isinstance(arabic[k], dict) else [arabic[k]])) for k in arabic)
    monkeypatch.setenv("FIELDAPP_LANG", "ar_SY.UTF-8")
    assert device_language() == "ar"
    monkeypatch.setenv("FIELDAPP_LANG", "fr_FR")
    assert device_language() == "en"
    assert Translator("en")("badge.waiting", n=3) == "3 waiting"


def test_form_errors_map_record_fields_to_form_fields():
    assert form_errors([{"field": "data.location.lat", "message": "x"}, {"field": "data.count", "message": "y"},
                        {"field": "id", "message": "z"}]) == {"place": "x", "count": "y", "form": "z"}


def test_a_refused_call_is_corrected_in_its_form_with_the_reason_by_the_field(state):
    call = new_call(state, received_at="13:40")
    state.set_status("dispatched")
    state.store.record_verdicts([{"id": call["id"], "version": 2, "status": "rejected",
                                  "errors": [{"field": "data.location.place", "message": "not a place we know"}]}])
    state.edit_call()
    assert state.screen == "new_call" and state.editing == call["id"]
    assert state.errors == {"place": "not a place we know"} and state.call_form.place == "Jableh"
    state.call_form.place = "Jableh port"
    fixed = state.save_call()
    assert fixed["version"] == 3 and fixed["data"]["location"]["place"] == "Jableh port"
    assert fixed["data"]["received_at"] == call["data"]["received_at"]  # its time kept as it was
    assert fixed["data"]["status"] == "dispatched" and len(fixed["data"]["status_log"]) == 1
    assert state.store.get(call["id"]).state == "pending" and state.screen == "call"


# --- routes, recoveries, messages in the user's language ---------------------------------------------


def test_every_screen_has_a_route_and_back_steps_down_its_stack(state):
    call = new_call(state)
    assert state.route() == f"/call/{call['id']}" and state.stack() == ["/", f"/call/{call['id']}"]
    state.open_route(f"/call/{call['id']}/recovery")
    assert state.screen == "recovery" and state.stack() == ["/", f"/call/{call['id']}", f"/call/{call['id']}/recovery"]
    state.recovery_form.outcome = "rescued"
    recovery = state.save_recovery()
    state.open_route(f"/recovery/{recovery['id']}")
    assert state.screen == "recovery" and state.recovery_id == recovery["id"] and state.recovery_form.outcome == "rescued"
    assert state.stack()[-2:] == [f"/call/{call['id']}", f"/recovery/{recovery['id']}"]
    state.open_route(f"/call/{call['id']}/edit")
    assert state.screen == "new_call" and state.editing == call["id"]
    for route, screen in (("/settings", "settings"), ("/queue", "queue"), ("/queue/figures", "figures"),
                          ("/sync", "outbox"), ("/new", "new_call"), ("/no/such", "home"), ("/call/unknown", "home")):
        state.open_route(route)
        assert state.screen == screen, route


def test_the_browsers_back_after_a_save_steps_over_the_form_it_left(state):
    # The browser's history after a new call is saved: /, /new, /call/<id>; its Back lands on /new.
    state.open_route("/new")
    assert state.stack() == ["/", "/new"]
    state.call_form.incident_type, state.call_form.place = "fire", "Jableh"
    call = state.save_call()
    here = f"/call/{call['id']}"
    assert state.stack() == ["/", here]
    state.open_route("/new", history=True)  # Back: the screen before the form, not an empty form
    assert state.screen == "home" and state.stack() == ["/"]
    state.open_route(here, history=True)  # Forward
    assert state.screen == "call" and state.stack() == ["/", here]
    # a recovery saved: Back from the call steps over its form to the call itself
    state.open_route(f"{here}/recovery")
    state.recovery_form.outcome = "rescued"
    assert state.save_recovery() is not None and state.stack() == ["/", here]
    state.open_route(f"{here}/recovery", history=True)
    assert state.route() == here
    # opened afresh (the New call button), a form a save left is a form again, and stays one
    state.open_route("/new")
    assert state.screen == "new_call" and state.call_form.place == ""
    state.go("home")
    state.open_route("/new", history=True)
    assert state.screen == "new_call"
    # a save refused in the form leaves it: Back comes back to the form as it was
    assert state.save_call() is None and state.stack() == ["/", "/new"]
    state.go("home")
    state.open_route("/new", history=True)
    assert state.screen == "new_call"


def test_the_conflict_screens_kept_fields_are_its_own(state):
    call = new_call(state)
    state.open_route(f"/conflict/{call['id']}")
    state.conflict_keep.add("data.notes")
    state.open_route("/queue")
    state.open_route(f"/conflict/{call['id']}")
    assert state.conflict_keep == set()


def test_a_recovery_is_corrected_as_a_new_version_with_its_own_time(state):
    call = new_call(state)
    state.go("recovery", call["id"])
    form = state.recovery_form
    form.outcome, form.count, form.recovered_at = "deceased", "١٠", "١٣:٠٥"  # Arabic-Indic digits
    first = state.save_recovery()
    assert first["data"]["count"] == 10 and first["data"]["recovered_at"] == "2026-11-25T13:05:00.000+03:00"
    state.edit_recovery(first["id"])
    state.recovery_form.count = "9"
    fixed = state.save_recovery()
    assert fixed["version"] == 2 and fixed["data"]["count"] == 9
    assert fixed["data"]["recovered_at"] == first["data"]["recovered_at"]  # unchanged time kept as it was
    assert state.screen == "call" and state.notice == "Correction saved on this phone"


def test_a_recovery_withdrawn_as_entered_in_error_is_kept_and_no_longer_counted(state):
    call = new_call(state)
    state.go("recovery", call["id"])
    state.recovery_form.outcome, state.recovery_form.count = "deceased", "2"
    recovery = state.save_recovery()
    state.edit_recovery(recovery["id"])
    withdrawn = state.withdraw_recovery()
    assert withdrawn["version"] == 2 and withdrawn["data"]["withdrawn"] is True
    assert state.store.get(recovery["id"]) is not None
    assert state.call_page().people["deceased"] == 0 and len(state.call_page().recoveries) == 1


def test_a_time_in_the_future_is_said_once_before_saving(state):
    state.go("new_call")
    state.call_form.incident_type, state.call_form.place, state.call_form.received_at = "fire", "Jableh", "23:30"
    assert state.save_call() is None and "23:30 is later than now" in state.warnings["received_at"]
    assert state.store.counts()["total"] == 0
    record = state.save_call()  # saved again: the volunteer meant it
    assert record["data"]["received_at"].startswith("2026-11-25T23:30")


def test_arabic_indic_digits_are_accepted_in_number_time_and_phone_fields(state):
    record = new_call(state, received_at="١٣:٤٠", reported_people="٤", caller_phone="+٩٦٣ ٩٣٣ ١١١ ٢٢٢")
    assert record["data"]["received_at"] == "2026-11-25T13:40:00.000+03:00"
    assert record["data"]["reported_people"] == 4 and record["data"]["caller_phone"] == "+963 933 111 222"


def test_refusals_are_said_in_the_users_language_naming_the_field_by_its_label(state):
    call = new_call(state)
    state.store.record_verdicts([{"id": call["id"], "version": 1, "status": "rejected", "errors": [
        {"field": "data.location.place", "message": "String should have at most 200 characters"},
        {"field": "data.caller_phone", "message": "must be a phone number: digits, spaces, ( ) - and an optional leading +"},
        {"field": "data.notes", "message": "outside the team's area"}]}])
    assert state.call_page().errors["place"] == "at most 200 characters"
    state.set_language("ar")
    page = state.call_page()
    # 200 takes CLDR's "other" form in Arabic (مئتا حرف, not حرفًا), the number isolated in the Arabic line.
    assert page.errors["place"] == "يجب ألّا يزيد عن \u2068200\u2069 حرف"
    [row] = state.outbox_rows()
    assert row.state == "rejected" and row.reasons[0] == "المكان: يجب ألّا يزيد عن \u2068200\u2069 حرف"
    assert row.reasons[1].startswith("هاتف المتصل: ") and row.reasons[2] == "ملاحظات: سبب غير مترجم: \u2068outside the team's area\u2069"


def test_home_shows_todays_calls_and_every_call_still_open(state):
    yesterday_open = new_call(state, place="Open since yesterday")
    closed = new_call(state, place="Closed yesterday")
    state.set_status("completed")
    state._now = lambda: NOW + timedelta(days=1)
    new_call(state, place="Today")
    places = [r.place for r in state.home_rows()]
    assert places == ["Today", "Open since yesterday"] and closed["id"] not in [r.id for r in state.home_rows()]
    assert state.home_rows()[1].day == yesterday_open["data"]["received_at"][:10] and state.home_rows()[1].state == "pending"


def test_send_now_says_what_it_did(state):
    assert state.send_now() == "Nothing to send: everything is sent."
    new_call(state)
    assert "not linked" in state.send_now() and state.worker.sends == 2


def test_the_device_language_is_used_unless_the_volunteer_chose(state, data_dir):
    state.use_device_locales(["ar", "en"])
    assert state.language == "ar" and state.t("home.new_call") == "بلاغ جديد"
    state.set_language("en")
    again = AppState(state.store, data_dir, now=lambda: NOW)
    again.use_device_locales(["ar"])
    assert again.language == "en"


# --- a tag already held: said once before saving (the server's verdict is the one that counts) ---------


def _recovery_with_tag(state: AppState, call_id: str, tag: str, outcome: str = "deceased") -> dict | None:
    state.go("recovery", call_id)
    state.recovery_form.outcome, state.recovery_form.tag = outcome, tag
    return state.save_recovery()


def test_a_tag_already_held_on_this_phone_is_said_once_before_saving(state):
    call = new_call(state)
    first = _recovery_with_tag(state, call["id"], "JBL-2026-0142")
    assert first["data"]["tag"] == "JBL-2026-0142" and state.warnings == {}

    assert _recovery_with_tag(state, call["id"], " JBL-2026-0142 ") is None  # the same tag, as stored
    warning = state.warnings["tag"]
    assert "JBL-2026-0142" in warning and "Deceased · 14:05" in warning and "Save again" in warning
    assert state.errors == {} and state.screen == "recovery"  # a warning, not a refusal
    assert state.store.counts()["total"] == 2  # the call and the first recovery: nothing saved yet

    second = state.save_recovery()  # saved again: kept as typed; the server decides
    assert second is not None and second["data"]["tag"] == "JBL-2026-0142"
    assert state.store.counts()["total"] == 3 and state.screen == "call"


def test_another_tag_or_the_record_holding_it_saves_at_once(state):
    call = new_call(state)
    first = _recovery_with_tag(state, call["id"], "JBL-2026-0142")
    assert _recovery_with_tag(state, call["id"], "JBL-2026-0143") is not None  # a different tag
    assert _recovery_with_tag(state, call["id"], "jbl-2026-0142") is not None  # case kept, as the server compares
    state.edit_recovery(first["id"])  # the holder corrected: it keeps its own tag without a word
    state.recovery_form.count = "2"
    fixed = state.save_recovery()
    assert fixed["version"] == 2 and fixed["data"]["tag"] == "JBL-2026-0142" and state.warnings == {}


def test_a_tag_held_warns_in_arabic_too(state):
    state.set_language("ar")
    call = new_call(state)
    _recovery_with_tag(state, call["id"], "G-1", outcome="injured")
    assert _recovery_with_tag(state, call["id"], "G-1") is None
    assert "G-1" in state.warnings["tag"] and "مصاب" in state.warnings["tag"] and "الخادم" in state.warnings["tag"]


def test_tag_holder_scans_the_phones_current_records(state):
    from fieldapp.store.tags import tag_holder

    call = new_call(state)
    assert tag_holder(state.store, "T-1") is None and tag_holder(state.store, "  ") is None
    held = _recovery_with_tag(state, call["id"], "T-1")
    assert tag_holder(state.store, "T-1") == held["id"]
    assert tag_holder(state.store, "T-1", editing=held["id"]) is None
    # a teammate's recovery, brought by a pull, holds its tag too
    theirs = {**held, "id": "5b0c6f0e-0a55-4a43-9a41-6a0c1f0f0e12", "device_id": "dev-b",
              "data": {**held["data"], "tag": "T-2"}}
    state.store.save_pulled([theirs])
    assert tag_holder(state.store, "T-2") == theirs["id"]
    # a call never holds a tag, and a changed tag frees the old one
    state.edit_recovery(held["id"])
    state.recovery_form.tag = "T-3"
    state.save_recovery()
    assert tag_holder(state.store, "T-1") is None and tag_holder(state.store, "T-3") == held["id"]
    # withdrawn as entered in error, it frees its tag for the recovery that should carry it
    state.edit_recovery(held["id"])
    state.withdraw_recovery()
    assert tag_holder(state.store, "T-3") is None
    assert _recovery_with_tag(state, call["id"], "T-3") is not None and "tag" not in state.warnings


def test_the_evidence_vocabularies_are_translated():
    import json

    from fieldapp.core.records import Condition, HandoverTarget
    from fieldapp.i18n import FOLDER

    for language in ("en", "ar"):
        table = json.loads((FOLDER / f"{language}.json").read_text(encoding="utf-8"))
        assert all(table.get(f"condition.{c.value}", "").strip() for c in Condition), language
        assert all(table.get(f"handover.{h.value}", "").strip() for h in HandoverTarget), language
    arabic = json.loads((FOLDER / "ar.json").read_text(encoding="utf-8"))
    assert all(any("\u0600" <= ch <= "\u06ff" for ch in arabic[f"condition.{c.value}"]) for c in Condition)


def test_the_day_queue_is_offered_unless_the_server_said_this_is_a_volunteers_phone(state):
    assert state.shows_queue()
    state.store.set_meta("role", "volunteer")
    assert not state.shows_queue()
    state.store.set_meta("role", "lead")
    assert state.shows_queue()


def test_linking_problems_are_said_in_the_users_language(state):
    state.set_language("ar")
    assert state.enroll("http://10.1.2.3:8000", "token") is False
    assert state.errors["server"] == "عنوان \u2066http\u2069 العادي يكشف رمز الجهاز: استخدم \u2066https\u2069."
    assert state.enroll("not an address", "token") is False and "https://sync.example.org" in state.errors["server"]


# --- the evidence a recovery records (schema 2) --------------------------------------------------------------


def test_a_recovery_records_conditions_age_death_time_handover_and_tag(state):
    call = new_call(state)
    state.go("recovery", call["id"])
    form = state.recovery_form
    form.outcome, form.tag, form.age_years = "deceased", "JBL-7", "٣٤"  # Arabic-Indic digits are numbers too
    form.toggle_condition("gunshot_wounds")
    form.toggle_condition("bound")
    form.toggle_condition("burns")
    form.toggle_condition("burns")  # ticked twice: off again
    form.recovered_at, form.death_estimated_at = "13:30", "١١:١٥"
    form.handover_to, form.handover_receiver, form.handover_place, form.handover_at = (
        "morgue", "Dr. Samir Haddad", "National Hospital morgue", "14:00")
    record = state.save_recovery()
    assert record is not None, state.errors
    data = record["data"]
    assert data["conditions"] == ["bound", "gunshot_wounds"]  # the vocabulary's order
    assert data["age_years"] == 34 and data["tag"] == "JBL-7" and "handed_to" not in data
    assert data["death_estimated_at"] == "2026-11-25T11:15:00.000+03:00"
    assert data["handover"] == {"to": "morgue", "receiver": "Dr. Samir Haddad", "place": "National Hospital morgue",
                                "at": "2026-11-25T14:00:00.000+03:00"}
    # the recovery's page shows it all, by label; its form opens with it
    state.edit_recovery(record["id"])
    assert state.recovery_form.conditions == ["bound", "gunshot_wounds"] and state.recovery_form.age_years == "34"
    assert state.recovery_form.handover_to == "morgue" and state.recovery_form.death_estimated_at == "11:15"
    from fieldapp.ui.state import evidence_lines
    lines = dict(evidence_lines(data, state.t))
    assert lines == {"What was seen": "Bound (hands or feet), Gunshot wounds", "Age (estimated)": "34",
                     "Estimated time of death": "11:15",
                     "Handed over to": "Morgue · Dr. Samir Haddad · National Hospital morgue · 14:00", "Tag": "JBL-7"}
    state.set_language("ar")
    assert "مقيَّد اليدين أو القدمين" in dict(evidence_lines(data, state.t))["ما شوهد"]
    # a correction keeps the times' own day and offset, and can clear the evidence
    state.set_language("en")
    state.recovery_form.conditions = []
    fixed = state.save_recovery()
    assert fixed["version"] == 2 and "conditions" not in fixed["data"]
    assert fixed["data"]["handover"] == data["handover"] and fixed["data"]["death_estimated_at"] == data["death_estimated_at"]


def test_the_evidence_fields_are_checked_beside_their_fields(state):
    call = new_call(state)
    state.go("recovery", call["id"])
    form = state.recovery_form
    form.outcome, form.age_years, form.handover_receiver, form.handover_at = "injured", "about 30", "Ahmad", "25:00"
    form.death_estimated_at = "10:00"  # not deceased: not asked, not saved
    assert state.save_recovery() is None
    assert state.errors == {"age_years": "Enter a whole number", "handover_at": "Enter a time such as 14:05",
                            "handover_to": "Required"}
    # what only the schema knows comes back beside its field, in the user's language
    form.age_years, form.handover_at, form.handover_to, form.count = "30", "", "hospital", "3"
    state.set_language("ar")
    assert state.save_recovery() is None
    assert state.errors["age_years"] == "هو عمر شخص واحد: اتركه فارغاً عند تسجيل مجموعة"
    form.count, form.outcome, form.recovered_at, form.death_estimated_at = "1", "deceased", "12:00", "13:00"
    assert state.save_recovery() is None and state.errors["death_estimated_at"] == "يجب ألّا يكون بعد وقت الانتشال"
    form.death_estimated_at = ""
    record = state.save_recovery()
    assert record["data"]["handover"] == {"to": "hospital", "receiver": "Ahmad"} and "death_estimated_at" not in record["data"]


def test_an_older_recovery_with_handed_to_still_shows_it_and_a_handover_takes_its_place(state):
    call = new_call(state)
    old = state.store.create_recovery({"call_id": call["id"], "outcome": "injured", "count": 1,
                                       "recovered_at": "2026-11-25T13:00:00.000+03:00", "handed_to": "Jableh hospital"})
    from fieldapp.ui.state import evidence_lines
    assert evidence_lines(old["data"], state.t) == [("Handed to", "Jableh hospital")]
    state.edit_recovery(old["id"])
    state.recovery_form.notes = "conscious"
    kept = state.save_recovery()  # a correction that leaves the handover alone keeps the old text
    assert kept["data"]["handed_to"] == "Jableh hospital" and "handover" not in kept["data"]
    state.edit_recovery(old["id"])
    state.recovery_form.handover_to = "hospital"
    replaced = state.save_recovery()
    assert replaced["data"]["handover"] == {"to": "hospital"} and "handed_to" not in replaced["data"]


def test_a_known_tag_with_the_evidence_warns_once_then_saves_all_of_it(state):
    call = new_call(state)
    _recovery_with_tag(state, call["id"], "JBL-9")
    state.go("recovery", call["id"])
    form = state.recovery_form
    form.outcome, form.tag, form.age_years, form.handover_to = "deceased", "JBL-9", "8", "family"
    form.toggle_condition("crush_injuries")
    assert state.save_recovery() is None
    assert "JBL-9" in state.warnings["tag"] and state.errors == {}
    record = state.save_recovery()
    assert record["data"]["tag"] == "JBL-9" and record["data"]["conditions"] == ["crush_injuries"]
    assert record["data"]["age_years"] == 8 and record["data"]["handover"] == {"to": "family"}


def test_the_servers_tag_refusal_is_said_beside_the_tag_in_the_users_language(state):
    call = new_call(state)
    second = _recovery_with_tag(state, call["id"], "JBL-3")
    holder = "5b0c6f0e-0a55-4a43-9a41-6a0c1f0f0e12"
    state.store.record_verdicts([{"id": second["id"], "version": 1, "status": "rejected", "errors": [
        {"field": "data.tag", "message": f"tag 'JBL-3' is already used by record {holder} of this team; "
                                         "each body or casualty tag may be used by one recovery only"}]}])
    state.edit_recovery(second["id"])
    assert state.errors["tag"].startswith("JBL-3 is already used by another recovery of your team (record 5b0c6f0e)")
    state.set_language("ar")
    state.edit_recovery(second["id"])
    assert state.errors["tag"].startswith("\u2068JBL-3\u2069 مستخدَم لانتشال آخر") and "5b0c6f0e" in state.errors["tag"]
    [row] = [r for r in state.outbox_rows() if r.state == "rejected"]
    assert row.reasons[0].startswith("الرقم التعريفي: \u2068JBL-3\u2069 مستخدَم")


def test_refusals_of_the_evidence_fields_name_them_by_label():
    from fieldapp.ui import messages

    en, ar = Translator("en"), Translator("ar")
    assert messages.describe("data.conditions.1", "Input should be 'bound', 'blindfolded'", en) == \
        "What was seen: choose one of the offered values"
    assert messages.describe("data.handover.receiver", "String should have at most 200 characters", en) == \
        "Received by: at most 200 characters"
    assert messages.describe("data.age_years", "Input should be less than or equal to 120", ar).startswith("العمر (تقديري): ")
    assert form_errors([{"field": "data.conditions.0", "message": "x"}, {"field": "data.handover.to", "message": "y"}]) == \
        {"conditions": "x", "handover_to": "y"}


# --- taps that do harm: each asks first, says what it will do, and is disarmed when its screen is left


def test_wipe_disarms_when_settings_is_left_whichever_way(state):
    new_call(state)
    new_call(state, place="Ariha")
    leaving = {
        "the tab bar": lambda: state.open_route("/"),
        "another tab": lambda: state.open_route("/queue"),
        "the title bar's Back": lambda: state.open_route(state.stack()[-2]),
        "the browser's Back": lambda: state.open_route("/", history=True),
    }
    for way, leave in leaving.items():
        state.open_route("/settings")
        assert not state.wipe() and state.wipe_armed, way
        leave()
        state.open_route("/settings")
        assert not state.wipe_armed, way
    assert not state.wipe()  # back on Settings, a tap only asks again
    assert not state.wipe() and state.wipe_armed  # a second tap on Wipe itself (a double tap) only asks
    assert state.store.counts()["total"] == 2


def test_the_armed_wipe_says_how_many_records_go_and_that_it_cannot_be_undone(state):
    first = new_call(state)
    new_call(state, place="Ariha")
    state.store.record_verdicts([{"id": first["id"], "version": 1, "status": "accepted"}])
    state.open_route("/settings")
    state.wipe()
    assert state.confirming is not None and state.confirming.ask == Ask.WIPE
    text = state.confirming.message
    assert "records: 2" in text and "not yet on the server: 1" in text and "cannot be undone" in text
    state.dismiss()
    assert not state.wipe_armed
    state.set_language("ar")
    state.wipe()
    arabic = state.confirming.message
    assert "2" in arabic and "1" in arabic and "لا يمكن التراجع" in arabic and "محو" in arabic


def test_a_tap_on_cancelled_asks_before_the_timestamped_status_is_written(state):
    call = new_call(state)
    assert state.set_status("cancelled", confirmed=True) is None  # a confirmation nothing asked for only asks
    assert state.store.get(call["id"]).version == 1
    state.dismiss()
    assert state.set_status("cancelled") is None  # asked, nothing written
    assert state.store.get(call["id"]).version == 1
    assert state.asking(Ask.CANCEL_CALL, call["id"]) and "14:05" in state.confirming.message
    state.dismiss()  # "No, leave it"
    assert state.confirming is None and state.store.get(call["id"]).version == 1
    state.set_status("cancelled")
    state.open_route("/")
    state.open_route(f"/call/{call['id']}")
    assert not state.asking(Ask.CANCEL_CALL, call["id"])  # leaving the call disarms it
    assert state.set_status("cancelled") is None
    assert state.set_status("cancelled") is None  # a double tap on the step's button only asks again
    assert state.store.get(call["id"]).version == 1 and state.asking(Ask.CANCEL_CALL, call["id"])
    record = state.set_status("cancelled", confirmed=True)  # the question's own button confirms
    assert record["version"] == 2 and record["data"]["status"] == "cancelled"
    assert record["data"]["status_log"] == [{"status": "cancelled", "at": "2026-11-25T14:05:00.000+03:00"}]
    assert state.confirming is None
    assert state.set_status("dispatched")["version"] == 3  # a step forward is written at once


def test_approve_all_asks_with_the_count_and_what_it_leaves_out(state):
    from fieldapp.ui.lead import LeadDay

    lead = LeadDay(state.store, state.data_dir)
    kept = new_call(state)
    refused = new_call(state, place="Ariha")
    state.store.record_verdicts([{"id": refused["id"], "version": 1, "status": "rejected",
                                  "errors": [{"field": "data.location", "message": "outside the team's area"}]}])
    state.open_route("/queue")
    assert state.approve_all(lead) is None  # asked, nothing approved
    assert state.store.get(kept["id"]).record.get("review") is None
    text = state.confirming.message
    assert "to approve: 1" in text and "refused by the server: 1" in text, text
    state.open_route("/")
    state.open_route("/queue")
    assert state.confirming is None  # leaving the queue disarms it
    assert state.approve_all(lead) is None
    assert state.approve_all(lead) is None  # a double tap on Approve all only asks again
    assert state.store.get(kept["id"]).record.get("review") is None
    assert state.approve_all(lead, confirmed=True) == 1  # the question's own button
    assert state.store.get(kept["id"]).record["review"] == {"state": "approved"}
    assert state.store.get(refused["id"]).record.get("review") is None
    assert state.notice == "1 approved" and state.confirming is None
    state.set_language("ar")
    state.approve_all(lead)  # nothing left to approve: said, nothing asked
    assert state.confirming is None and "رفضها الخادم: \u20681\u2069" in state.notice


def test_keep_all_of_this_phones_lists_the_other_devices_values_it_discards_first(state):
    from fieldapp.ui.lead import LeadDay
    from tests.records_factory import call_in_conflict

    lead = LeadDay(state.store, state.data_dir)
    call = call_in_conflict(state.store, notes="ours", their_notes="all out", their_device="dev-b")
    state.open_route(f"/conflict/{call['id']}")
    assert state.keep_all_ours(lead) is None  # asked, nothing saved
    assert state.store.get(call["id"]).state.value == "conflict"
    text = state.confirming.message
    assert "Notes" in text and "Status" in text and "all out" in text, text
    state.open_route("/queue")
    state.open_route(f"/conflict/{call['id']}")
    assert state.confirming is None
    assert state.keep_all_ours(lead) is None
    assert state.keep_all_ours(lead) is None  # a double tap on Keep all only asks again
    assert state.store.get(call["id"]).state.value == "conflict"
    resolved = state.keep_all_ours(lead, confirmed=True)  # the question's own button
    assert resolved["data"]["status"] == "cancelled" and resolved["data"]["notes"] == "false alarm"
