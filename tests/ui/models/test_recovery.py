"""A recovery's form: saving, correcting, withdrawing, tags held, the evidence fields (no client)."""

from __future__ import annotations

from fieldapp.ui.routing import Screen
from fieldapp.ui.state import AppState
from tests.ui.models.support import new_call


def test_a_group_recovery_counts_on_the_call_and_home(state):
    call = new_call(state)
    state.go(Screen.RECOVERY, call["id"])
    form = state.recovery.form
    form.outcome, form.count, form.sex, form.age_group = "deceased", "3", "unknown", "adult"
    form.identified, form.name = False, "ignored unless identified"
    record = state.recovery.save()
    assert record["data"]["count"] == 3 and "name" not in record["data"]
    page = state.call.page()
    assert page.people == {"rescued": 0, "injured": 0, "deceased": 3}
    [row] = state.home.rows()
    assert row.people["deceased"] == 3 and row.place == "Jableh" and row.time == "14:05"


def test_a_recovery_needs_an_outcome_and_a_count_of_at_least_one(state):
    new_call(state)
    state.go(Screen.RECOVERY, state.place.call_id)
    state.recovery.form.count = "0"
    assert state.recovery.save() is None and set(state.session.errors) == {"outcome", "count"}


def test_a_recovery_is_corrected_as_a_new_version_with_its_own_time(state):
    call = new_call(state)
    state.go(Screen.RECOVERY, call["id"])
    form = state.recovery.form
    form.outcome, form.count, form.recovered_at = "deceased", "١٠", "١٣:٠٥"  # Arabic-Indic digits
    first = state.recovery.save()
    assert first["data"]["count"] == 10 and first["data"]["recovered_at"] == "2026-11-25T13:05:00.000+03:00"
    state.recovery.open(first["id"])
    state.recovery.form.count = "9"
    fixed = state.recovery.save()
    assert fixed["version"] == 2 and fixed["data"]["count"] == 9
    assert fixed["data"]["recovered_at"] == first["data"]["recovered_at"]  # unchanged time kept as it was
    assert state.screen is Screen.CALL and state.notice == "Correction saved on this phone"


def test_a_recovery_withdrawn_as_entered_in_error_is_kept_and_no_longer_counted(state):
    call = new_call(state)
    state.go(Screen.RECOVERY, call["id"])
    state.recovery.form.outcome, state.recovery.form.count = "deceased", "2"
    recovery = state.recovery.save()
    state.recovery.open(recovery["id"])
    withdrawn = state.recovery.withdraw()
    assert withdrawn["version"] == 2 and withdrawn["data"]["withdrawn"] is True
    assert state.session.store.get(recovery["id"]) is not None
    assert state.call.page().people["deceased"] == 0 and len(state.call.page().recoveries) == 1


def _recovery_with_tag(state: AppState, call_id: str, tag: str, outcome: str = "deceased") -> dict | None:
    state.go(Screen.RECOVERY, call_id)
    state.recovery.form.outcome, state.recovery.form.tag = outcome, tag
    return state.recovery.save()


def test_a_tag_already_held_on_this_phone_is_said_once_before_saving(state):
    call = new_call(state)
    first = _recovery_with_tag(state, call["id"], "JBL-2026-0142")
    assert first["data"]["tag"] == "JBL-2026-0142" and state.session.warnings == {}

    assert _recovery_with_tag(state, call["id"], " JBL-2026-0142 ") is None  # the same tag, as stored
    warning = state.session.warnings["tag"]
    assert "JBL-2026-0142" in warning and "Deceased · 14:05" in warning and "Save again" in warning
    assert state.session.errors == {} and state.screen is Screen.RECOVERY  # a warning, not a refusal
    assert state.session.store.counts()["total"] == 2  # the call and the first recovery: nothing saved yet

    second = state.recovery.save()  # saved again: kept as typed; the server decides
    assert second is not None and second["data"]["tag"] == "JBL-2026-0142"
    assert state.session.store.counts()["total"] == 3 and state.screen is Screen.CALL


def test_another_tag_or_the_record_holding_it_saves_at_once(state):
    call = new_call(state)
    first = _recovery_with_tag(state, call["id"], "JBL-2026-0142")
    assert _recovery_with_tag(state, call["id"], "JBL-2026-0143") is not None  # a different tag
    assert _recovery_with_tag(state, call["id"], "jbl-2026-0142") is not None  # case kept, as the server compares
    state.recovery.open(first["id"])  # the holder corrected: it keeps its own tag without a word
    state.recovery.form.count = "2"
    fixed = state.recovery.save()
    assert fixed["version"] == 2 and fixed["data"]["tag"] == "JBL-2026-0142" and state.session.warnings == {}


def test_a_tag_held_warns_in_arabic_too(state):
    state.settings.set_language("ar")
    call = new_call(state)
    _recovery_with_tag(state, call["id"], "G-1", outcome="injured")
    assert _recovery_with_tag(state, call["id"], "G-1") is None
    assert "G-1" in state.session.warnings["tag"] and "مصاب" in state.session.warnings["tag"] and "الخادم" in state.session.warnings["tag"]


def test_tag_holder_scans_the_phones_current_records(state):
    from fieldapp.store.tags import tag_holder

    call = new_call(state)
    assert tag_holder(state.session.store, "T-1") is None and tag_holder(state.session.store, "  ") is None
    held = _recovery_with_tag(state, call["id"], "T-1")
    assert tag_holder(state.session.store, "T-1") == held["id"]
    assert tag_holder(state.session.store, "T-1", editing=held["id"]) is None
    # a teammate's recovery, brought by a pull, holds its tag too
    theirs = {**held, "id": "5b0c6f0e-0a55-4a43-9a41-6a0c1f0f0e12", "device_id": "dev-b",
              "data": {**held["data"], "tag": "T-2"}}
    state.session.store.save_pulled([theirs])
    assert tag_holder(state.session.store, "T-2") == theirs["id"]
    # a call never holds a tag, and a changed tag frees the old one
    state.recovery.open(held["id"])
    state.recovery.form.tag = "T-3"
    state.recovery.save()
    assert tag_holder(state.session.store, "T-1") is None and tag_holder(state.session.store, "T-3") == held["id"]
    # withdrawn as entered in error, it frees its tag for the recovery that should carry it
    state.recovery.open(held["id"])
    state.recovery.withdraw()
    assert tag_holder(state.session.store, "T-3") is None
    assert _recovery_with_tag(state, call["id"], "T-3") is not None and "tag" not in state.session.warnings


def test_a_recovery_records_conditions_age_death_time_handover_and_tag(state):
    call = new_call(state)
    state.go(Screen.RECOVERY, call["id"])
    form = state.recovery.form
    form.outcome, form.tag, form.age_years = "deceased", "JBL-7", "٣٤"  # Arabic-Indic digits are numbers too
    form.toggle_condition("gunshot_wounds")
    form.toggle_condition("bound")
    form.toggle_condition("burns")
    form.toggle_condition("burns")  # ticked twice: off again
    form.recovered_at, form.death_estimated_at = "13:30", "١١:١٥"
    form.handover_to, form.handover_receiver, form.handover_place, form.handover_at = (
        "morgue", "Dr. Samir Haddad", "National Hospital morgue", "14:00")
    record = state.recovery.save()
    assert record is not None, state.session.errors
    data = record["data"]
    assert data["conditions"] == ["bound", "gunshot_wounds"]  # the vocabulary's order
    assert data["age_years"] == 34 and data["tag"] == "JBL-7" and "handed_to" not in data
    assert data["death_estimated_at"] == "2026-11-25T11:15:00.000+03:00"
    assert data["handover"] == {"to": "morgue", "receiver": "Dr. Samir Haddad", "place": "National Hospital morgue",
                                "at": "2026-11-25T14:00:00.000+03:00"}
    # the recovery's page shows it all, by label; its form opens with it
    state.recovery.open(record["id"])
    assert state.recovery.form.conditions == ["bound", "gunshot_wounds"] and state.recovery.form.age_years == "34"
    assert state.recovery.form.handover_to == "morgue" and state.recovery.form.death_estimated_at == "11:15"
    from fieldapp.ui.models.recovery import evidence_lines
    lines = dict(evidence_lines(data, state.t))
    assert lines == {"What was seen": "Bound (hands or feet), Gunshot wounds", "Age (estimated)": "34",
                     "Estimated time of death": "11:15",
                     "Handed over to": "Morgue · Dr. Samir Haddad · National Hospital morgue · 14:00", "Tag": "JBL-7"}
    state.settings.set_language("ar")
    assert "مقيَّد اليدين أو القدمين" in dict(evidence_lines(data, state.t))["ما شوهد"]
    # a correction keeps the times' own day and offset, and can clear the evidence
    state.settings.set_language("en")
    state.recovery.form.conditions = []
    fixed = state.recovery.save()
    assert fixed["version"] == 2 and "conditions" not in fixed["data"]
    assert fixed["data"]["handover"] == data["handover"] and fixed["data"]["death_estimated_at"] == data["death_estimated_at"]


def test_the_evidence_fields_are_checked_beside_their_fields(state):
    call = new_call(state)
    state.go(Screen.RECOVERY, call["id"])
    form = state.recovery.form
    form.outcome, form.age_years, form.handover_receiver, form.handover_at = "injured", "about 30", "Ahmad", "25:00"
    form.death_estimated_at = "10:00"  # not deceased: not asked, not saved
    assert state.recovery.save() is None
    assert state.session.errors == {"age_years": "Enter a whole number", "handover_at": "Enter a time such as 14:05",
                            "handover_to": "Required"}
    # what only the schema knows comes back beside its field, in the user's language
    form.age_years, form.handover_at, form.handover_to, form.count = "30", "", "hospital", "3"
    state.settings.set_language("ar")
    assert state.recovery.save() is None
    assert state.session.errors["age_years"] == "هو عمر شخص واحد: اتركه فارغاً عند تسجيل مجموعة"
    form.count, form.outcome, form.recovered_at, form.death_estimated_at = "1", "deceased", "12:00", "13:00"
    assert state.recovery.save() is None and state.session.errors["death_estimated_at"] == "يجب ألّا يكون بعد وقت الانتشال"
    form.death_estimated_at = ""
    record = state.recovery.save()
    assert record["data"]["handover"] == {"to": "hospital", "receiver": "Ahmad"} and "death_estimated_at" not in record["data"]


def test_an_older_recovery_with_handed_to_still_shows_it_and_a_handover_takes_its_place(state):
    call = new_call(state)
    old = state.session.store.create_recovery({"call_id": call["id"], "outcome": "injured", "count": 1,
                                       "recovered_at": "2026-11-25T13:00:00.000+03:00", "handed_to": "Jableh hospital"})
    from fieldapp.ui.models.recovery import evidence_lines
    assert evidence_lines(old["data"], state.t) == [("Handed to", "Jableh hospital")]
    state.recovery.open(old["id"])
    state.recovery.form.notes = "conscious"
    kept = state.recovery.save()  # a correction that leaves the handover alone keeps the old text
    assert kept["data"]["handed_to"] == "Jableh hospital" and "handover" not in kept["data"]
    state.recovery.open(old["id"])
    state.recovery.form.handover_to = "hospital"
    replaced = state.recovery.save()
    assert replaced["data"]["handover"] == {"to": "hospital"} and "handed_to" not in replaced["data"]


def test_a_known_tag_with_the_evidence_warns_once_then_saves_all_of_it(state):
    call = new_call(state)
    _recovery_with_tag(state, call["id"], "JBL-9")
    state.go(Screen.RECOVERY, call["id"])
    form = state.recovery.form
    form.outcome, form.tag, form.age_years, form.handover_to = "deceased", "JBL-9", "8", "family"
    form.toggle_condition("crush_injuries")
    assert state.recovery.save() is None
    assert "JBL-9" in state.session.warnings["tag"] and state.session.errors == {}
    record = state.recovery.save()
    assert record["data"]["tag"] == "JBL-9" and record["data"]["conditions"] == ["crush_injuries"]
    assert record["data"]["age_years"] == 8 and record["data"]["handover"] == {"to": "family"}


def test_the_servers_tag_refusal_is_said_beside_the_tag_in_the_users_language(state):
    call = new_call(state)
    second = _recovery_with_tag(state, call["id"], "JBL-3")
    holder = "5b0c6f0e-0a55-4a43-9a41-6a0c1f0f0e12"
    state.session.store.record_verdicts([{"id": second["id"], "version": 1, "status": "rejected", "errors": [
        {"field": "data.tag", "message": f"tag 'JBL-3' is already used by record {holder} of this team; "
                                         "each body or casualty tag may be used by one recovery only"}]}])
    state.recovery.open(second["id"])
    assert state.session.errors["tag"].startswith("JBL-3 is already used by another recovery of your team (record 5b0c6f0e)")
    state.settings.set_language("ar")
    state.recovery.open(second["id"])
    assert state.session.errors["tag"].startswith("\u2068JBL-3\u2069 مستخدَم لانتشال آخر") and "5b0c6f0e" in state.session.errors["tag"]
    [row] = [r for r in state.outbox.rows() if r.state == "rejected"]
    assert row.reasons[0].startswith("الرقم التعريفي: \u2068JBL-3\u2069 مستخدَم")
