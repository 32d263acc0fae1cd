"""Refusals and translations: each said in the user's language, beside its field (no client)."""

from __future__ import annotations

from fieldapp.i18n import Translator, device_language
from fieldapp.ui.models.refusals import form_errors
from tests.ui.models.support import new_call


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


def test_refusals_are_said_in_the_users_language_naming_the_field_by_its_label(state):
    call = new_call(state)
    state.session.store.record_verdicts([{"id": call["id"], "version": 1, "status": "rejected", "errors": [
        {"field": "data.location.place", "message": "String should have at most 200 characters"},
        {"field": "data.caller_phone", "message": "must be a phone number: digits, spaces, ( ) - and an optional leading +"},
        {"field": "data.notes", "message": "outside the team's area"}]}])
    assert state.call.page().errors["place"] == "at most 200 characters"
    state.settings.set_language("ar")
    page = state.call.page()
    # 200 takes CLDR's "other" form in Arabic (مئتا حرف, not حرفًا), the number isolated in the Arabic line.
    assert page.errors["place"] == "يجب ألّا يزيد عن \u2068200\u2069 حرف"
    [row] = state.outbox.rows()
    assert row.state == "rejected" and row.reasons[0] == "المكان: يجب ألّا يزيد عن \u2068200\u2069 حرف"
    assert row.reasons[1].startswith("هاتف المتصل: ") and row.reasons[2] == "ملاحظات: سبب غير مترجم: \u2068outside the team's area\u2069"


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
