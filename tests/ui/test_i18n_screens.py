"""What the Arabic screens say, from the state behind them: no English word outside an isolated value.

The values the app inserts (a place typed in Latin letters, a tag, a file name, a server's own words)
may be Latin, each inside a directional isolate; everything else a screen says is Arabic.
"""

from __future__ import annotations

import re
from datetime import datetime

import pytest

from fieldapp.store import RecordStore
from fieldapp.ui.state import AppState, conflict_value, evidence_lines
from tests.ui.test_state import NOW, TZ, FakeWorker, new_call

ISOLATE = re.compile("[\u2066\u2067\u2068][^\u2066\u2067\u2068\u2069]*\u2069")


def _bare(text: str) -> str:
    """The text without its isolated values (innermost first)."""
    while True:
        stripped = ISOLATE.sub("", text)
        if stripped == text:
            return text
        text = stripped


def _english(texts: list[str]) -> list[str]:
    return [t for t in texts if re.search("[A-Za-z]", _bare(t))]


@pytest.fixture
def arabic(data_dir, monkeypatch):
    monkeypatch.setenv("FIELDAPP_LANG", "ar")
    store = RecordStore.open(data_dir)
    app = AppState(store, data_dir, worker=FakeWorker(), now=lambda: NOW)
    yield app
    store.close()


def test_the_badge_the_outbox_and_a_refusal_say_nothing_in_english(arabic):
    call = new_call(arabic, place="Jableh")
    other = new_call(arabic, place="Latakia, the port")
    new_call(arabic, place="جبلة")
    arabic.store.record_verdicts([
        {"id": call["id"], "version": 1, "status": "rejected",
         "errors": [{"field": "base_version", "message": "must equal the version the server holds"},
                    {"field": "data.location.place", "message": "String should have at most 200 characters"}]},
        {"id": other["id"], "version": 1, "status": "conflict"},
    ])
    rows = arabic.outbox_rows()
    said = [arabic.badge(), *(r.title for r in rows), *(line for r in rows for line in r.reasons)]
    arabic.call_id = call["id"]
    said += list(arabic.call_page().errors.values())
    assert _english(said) == [], said
    assert any("\u2068Jableh\u2069" in line for line in said)  # the Latin place name, isolated
    assert any("النسخة التي بُني عليها التعديل" in line for line in said)  # base_version, named in Arabic


def test_a_damaged_file_is_reported_in_arabic(data_dir, monkeypatch):
    monkeypatch.setenv("FIELDAPP_LANG", "ar")
    store = RecordStore.open(data_dir)
    store.create_call({"received_at": "2026-11-25T09:00:00+03:00", "incident_type": "fire", "location": {"place": "x"},
                       "status": "received"}, now=datetime(2026, 11, 25, 9, 0, tzinfo=TZ))
    store.close()
    [page] = (data_dir / "days").glob("*.json")
    page.write_bytes(b"{ not json")
    store = RecordStore.open(data_dir)
    try:
        app = AppState(store, data_dir, worker=FakeWorker(), now=lambda: NOW)
        assert len(app.problems) == 1
        assert _english(app.problems) == [], app.problems
        assert "تالف" in app.problems[0]
    finally:
        store.close()


def test_evidence_and_conflict_values_keep_their_order_and_arabic_commas(arabic):
    t = arabic.t
    lines = evidence_lines({"recovered_at": "2026-11-25T14:05:00+03:00", "conditions": ["burns", "fractures"],
                            "handover": {"to": "hospital", "receiver": "Dr. Haddad", "at": "2026-11-26T01:10:00+03:00"},
                            "tag": "JBL-7"}, t)
    said = [f"{label}: {value}" for label, value in lines]
    assert _english(said) == [], said
    assert "حروق، كسور" in said[0] and ", " not in _bare(said[0])
    assert "\u2068Dr. Haddad\u2069" in said[1] and "\u206801:10\u2069" in said[1]
    when = conflict_value(t, "data.received_at", "2026-11-24T23:40:00+03:00")
    assert when.endswith("\u206823:40\u2069") and _english([when]) == []
