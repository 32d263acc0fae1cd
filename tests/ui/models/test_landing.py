"""Forms: a refused save names its first refused field (where the screen lands and what it says); a withdrawn
recovery's chips do nothing (no client)."""

from __future__ import annotations

from fieldapp.ui.models.landing import announcement, first_refused
from fieldapp.ui.routing import Screen
from tests.ui.models.support import new_call


def test_a_refused_save_names_its_first_refused_field_in_english_and_arabic(state):
    call = new_call(state)
    state.go(Screen.RECOVERY, call["id"])
    state.recovery.form.count = "٠"  # no outcome, a count of 0 in Arabic-Indic digits
    assert state.recovery.save() is None
    assert first_refused(state.session.errors) == "outcome"
    assert announcement(state.t, state.session.errors).startswith("Not saved. Outcome:")
    state.recovery.choose("outcome", "deceased")
    assert state.recovery.save() is None and first_refused(state.session.errors) == "count"
    state.settings.set_language("ar")
    assert state.recovery.save() is None
    said = announcement(state.t, state.session.errors)
    assert said.startswith("لم يُحفظ") and state.t("label.count") in said, said


def test_a_withdrawn_recoverys_chips_do_not_change_it(state):
    call = new_call(state)
    state.go(Screen.RECOVERY, call["id"])
    state.recovery.form.outcome, state.recovery.form.count, state.recovery.form.sex = "deceased", "1", "male"
    recovery = state.recovery.save()
    state.recovery.open(recovery["id"])
    state.recovery.withdraw()
    state.recovery.open(recovery["id"])
    assert not state.recovery.editable()
    state.recovery.choose("outcome", "rescued")
    state.recovery.choose("sex", "female")
    state.recovery.toggle_condition("bound")
    form = state.recovery.form
    assert (form.outcome, form.sex, form.conditions) == ("deceased", "male", [])
