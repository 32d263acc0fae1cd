"""The `withheld` marker in the shared schema: records without it are unchanged; with it, unambiguous."""

from __future__ import annotations

from fieldapp.core.records import normalize, parse_record, schema_version
from tests.records_factory import call_data, call_record, recovery_data, recovery_record


def errors_of(record: dict) -> list[tuple[str, str]]:
    return [(e.field, e.message) for e in parse_record(record)[1]]


def test_a_record_without_the_marker_is_unchanged_byte_for_byte():
    record = normalize(recovery_record(data=recovery_data("3b0c0b5e-0c39-4a8e-9a3c-1f0a7a0f9b11", name="N")))
    assert "withheld" not in record and normalize(record) == record and schema_version(record) == 1


def test_the_marker_is_kept_in_one_order_and_names_only_personal_fields_once():
    record = recovery_record(version=2, base_version=1, withheld=["review.note", "data.handover.receiver", "data.name"])
    assert normalize(record)["withheld"] == ["data.name", "data.handover.receiver", "review.note"]
    assert errors_of({**record, "withheld": ["data.name", "data.name"]}) == [
        ("withheld", "names a field twice: give each withheld field once")]
    assert errors_of({**record, "withheld": ["data.count"]})[0][0] == "withheld.0"
    assert errors_of({**record, "withheld": "data.name"})[0][0] == "withheld"


def test_a_field_cannot_be_withheld_and_carried():
    call = call_record(version=2, base_version=1, data=call_data(caller_phone="+963 1"), withheld=["data.caller_phone"])
    assert errors_of(call) == [("withheld", "names data.caller_phone, which this version carries too: "
                                            "a field withheld from this device keeps the server's value")]
    reviewed = {**call_record(version=2, base_version=1, withheld=["review.note"]),
                "review": {"state": "approved", "note": "seen"}}
    assert errors_of(reviewed)[0][0] == "withheld"
    assert errors_of({**reviewed, "review": {"state": "approved"}}) == []
