"""The record schema: valid records pass, each kind of bad input is named by its dotted path."""

import pytest

from fieldapp.core.records import (
    SCHEMA_VERSION,
    Condition,
    HandoverTarget,
    InvalidRecord,
    age_group_of,
    normalize,
    parse_record,
    schema_version,
    validate_record,
)
from tests.records_factory import call_record, recovery_record


def fields(record) -> list[str]:
    return [e.field for e in validate_record(record)]


def test_valid_call_and_recovery_pass():
    call = call_record()
    assert validate_record(call) == []
    full = recovery_record(call["id"])
    full["data"].update(
        sex="female", age_group="child", identified=True, name="Amal", tag="T-17",
        handed_to="Jableh National Hospital", location={"place": "Jableh"}, notes="under the stairs",
    )
    full["review"] = {"state": "approved", "note": "checked"}
    full["recorded_by"] = "Falcon-3"
    assert validate_record(full) == []


def test_a_group_recovery_and_a_call_with_coordinates_only():
    assert validate_record(recovery_record(data={**recovery_record()["data"], "count": 10})) == []
    call = call_record()
    call["data"]["location"] = {"lat": 35.93, "lon": 36.63}
    assert validate_record(call) == []


@pytest.mark.parametrize(
    "where, value, field",
    [
        ("top", {"religion": "x"}, "religion"),
        ("data", {"sect": "x"}, "data.sect"),
        ("data", {"ethnicity": "x"}, "data.ethnicity"),
        ("data", {"affiliation": "x"}, "data.affiliation"),
        ("location", {"tribe": "x"}, "data.location.tribe"),
    ],
)
def test_unknown_fields_are_refused_anywhere(where, value, field):
    record = call_record()
    target = {"top": record, "data": record["data"], "location": record["data"]["location"]}[where]
    target.update(value)
    errors = validate_record(record)
    assert [e.field for e in errors] == [field]
    assert "unknown field" in errors[0].message


@pytest.mark.parametrize(
    "change, field",
    [
        ({"incident_type": "riot"}, "data.incident_type"),
        ({"status": "lost"}, "data.status"),
        ({"received_at": "2026-11-25 10:00"}, "data.received_at"),
        ({"received_at": "2026-11-25T10:00:00"}, "data.received_at"),  # no offset
        ({"received_at": "2026-02-30T10:00:00Z"}, "data.received_at"),  # no such day
        ({"reported_people": -1}, "data.reported_people"),
        ({"reported_people": "3"}, "data.reported_people"),
        ({"location": {"lat": 91, "lon": 10}}, "data.location.lat"),
        ({"location": {"lat": 10, "lon": 181}}, "data.location.lon"),
        ({"location": {"lat": 10}}, "data.location"),
        ({"location": {}}, "data.location"),
        ({"caller_phone": "call me"}, "data.caller_phone"),
        ({"status_log": [{"status": "dispatched", "at": "soon"}]}, "data.status_log.0.at"),
    ],
)
def test_bad_call_fields_are_named(change, field):
    record = call_record()
    record["data"].update(change)
    assert fields(record) == [field]


@pytest.mark.parametrize(
    "change, field",
    [
        ({"outcome": "missing"}, "data.outcome"),
        ({"count": 0}, "data.count"),
        ({"count": 2.5}, "data.count"),
        ({"call_id": "not-a-uuid"}, "data.call_id"),
        ({"sex": "other"}, "data.sex"),
        ({"age_group": "teen"}, "data.age_group"),
        ({"identified": "yes"}, "data.identified"),
    ],
)
def test_bad_recovery_fields_are_named(change, field):
    record = recovery_record()
    record["data"].update(change)
    assert fields(record) == [field]


@pytest.mark.parametrize(
    "change, field",
    [
        ({"type": "incident"}, "type"),
        ({"id": "123"}, "id"),
        ({"version": 0}, "version"),
        ({"version": 2, "base_version": 2}, "base_version"),
        ({"created_at": "yesterday"}, "created_at"),
        ({"device_id": "has spaces in it"}, "device_id"),
        ({"review": {"state": "maybe"}}, "review.state"),
    ],
)
def test_bad_envelope_fields_are_named(change, field):
    record = call_record()
    record.update(change)
    assert fields(record) == [field]


def test_missing_required_fields_are_each_named():
    record = call_record()
    del record["data"]["status"]
    del record["updated_at"]
    assert sorted(fields(record)) == ["data.status", "updated_at"]


def test_not_an_object():
    assert fields([1, 2]) == ["record"]


def test_normalize_returns_plain_data_or_raises_with_errors():
    record = call_record()
    plain = normalize(record)
    assert plain["data"]["incident_type"] == "building_collapse"
    assert "caller_phone" not in plain["data"]  # absent optional fields stay absent
    record["data"]["religion"] = "x"
    with pytest.raises(InvalidRecord) as caught:
        normalize(record)
    assert caught.value.errors[0].field == "data.religion"


def test_parse_record_returns_the_model():
    model, errors = parse_record(recovery_record())
    assert errors == [] and model.type == "recovery"


def test_a_recovery_can_be_marked_withdrawn_as_entered_in_error():
    record = recovery_record()
    record["data"]["withdrawn"] = True
    assert validate_record(record) == []
    record["data"]["withdrawn"] = "yes"
    assert fields(record) == ["data.withdrawn"]


# --- schema 2: the evidence fields ------------------------------------------------------------


def evidence_recovery() -> dict:
    record = recovery_record()
    record["data"].update(
        sex="male", age_group="adult", age_years=35, identified=False, tag="JBL-2026-0142",
        conditions=["bound", "blindfolded", "gunshot_wounds"],
        death_estimated_at="2026-11-23T18:00:00+03:00",
        handover={"to": "morgue", "receiver": "Demo Receiver", "place": "Jableh National Hospital",
                  "at": "2026-11-25T13:10:00+03:00"},
    )
    return record


def test_a_recovery_with_every_evidence_field_passes_and_is_schema_2():
    record = evidence_recovery()
    assert validate_record(record) == []
    assert schema_version(record) == 2 and SCHEMA_VERSION == 3  # 3: photos (tests/test_photo_schema.py)
    plain = normalize(record)
    assert plain["data"]["conditions"] == ["bound", "blindfolded", "gunshot_wounds"]  # order kept as given
    assert plain["data"]["handover"]["to"] == "morgue"
    assert schema_version(parse_record(record)[0]) == 2  # a model too


def test_a_call_with_missing_people_is_schema_2():
    call = call_record()
    call["data"]["missing_people"] = 4
    assert validate_record(call) == [] and schema_version(call) == 2
    call["data"]["missing_people"] = 0
    assert validate_record(call) == [] and schema_version(call) == 2


def test_version_1_records_stay_valid_and_are_schema_1():
    """A record as version 1 phones write it: free-text handed_to, no evidence field."""
    call = call_record()
    old = recovery_record(call["id"])
    old["data"].update(sex="female", age_group="child", identified=True, name="Amal", tag="T-17",
                       handed_to="Jableh National Hospital morgue - براد مشفى جبلة الوطني")
    assert validate_record(call) == [] and validate_record(old) == []
    assert schema_version(call) == 1 and schema_version(old) == 1
    assert normalize(old) == old  # read back unchanged
    # handed_to stays accepted beside the other evidence fields: only handover excludes it
    old["data"]["conditions"] = ["burns"]
    assert validate_record(old) == [] and schema_version(old) == 2


def test_every_condition_and_handover_target_is_accepted():
    for condition in Condition:
        record = recovery_record()
        record["data"]["conditions"] = [condition.value]
        assert validate_record(record) == [], condition
    for target in HandoverTarget:
        record = recovery_record()
        record["data"]["handover"] = {"to": target.value}
        assert validate_record(record) == [], target
    record = recovery_record()
    record["data"]["conditions"] = [c.value for c in Condition if c not in ("no_visible_injuries",)]
    assert validate_record(record) == []


def test_the_conditions_vocabulary_is_physical_observation_only():
    words = {c.value for c in Condition}
    for interpretation in ("executed", "tortured", "murdered", "massacre", "perpetrator", "combatant", "civilian",
                           "martyr", "sniper", "airstrike_victim", "cause_of_death"):
        assert interpretation not in words


@pytest.mark.parametrize("years, group", [(0, "child"), (17, "child"), (18, "adult"), (59, "adult"),
                                          (60, "elderly"), (120, "elderly")])
def test_age_groups_in_years(years, group):
    assert age_group_of(years) == group
    record = recovery_record()
    record["data"].update(age_years=years, age_group=group)
    assert validate_record(record) == []
    record["data"]["age_group"] = "unknown"  # unknown goes with any estimate
    assert validate_record(record) == []
    del record["data"]["age_group"]
    assert validate_record(record) == []


@pytest.mark.parametrize(
    "change, field, words",
    [
        ({"conditions": ["bound", "bound"]}, "data.conditions", "twice"),
        ({"conditions": ["executed"]}, "data.conditions.0", "must be one of"),
        ({"conditions": "bound"}, "data.conditions", ""),
        ({"conditions": ["no_visible_injuries", "burns"]}, "data.conditions", "cannot go with burns"),
        ({"age_years": -1}, "data.age_years", ""),
        ({"age_years": 121}, "data.age_years", ""),
        ({"age_years": 30.5}, "data.age_years", ""),
        ({"age_years": "30"}, "data.age_years", ""),
        ({"age_years": 40, "age_group": "child"}, "data.age_years", "does not fit age_group child"),
        ({"age_years": 12, "age_group": "elderly"}, "data.age_years", "does not fit"),
        ({"age_years": 30, "count": 3}, "data.age_years", "one person"),
        ({"death_estimated_at": "2026-11-25T12:00:00+03:00"}, "data.death_estimated_at", "after recovered_at"),
        ({"death_estimated_at": "2026-11-25T11:00:00Z"}, "data.death_estimated_at", "after recovered_at"),  # 14:00 local
        ({"death_estimated_at": "2026-11-24 10:00"}, "data.death_estimated_at", "RFC 3339"),
        ({"death_estimated_at": "2026-11-24T10:00:00"}, "data.death_estimated_at", "RFC 3339"),
        ({"death_estimated_at": "2026-11-24T10:00:00+03:00", "outcome": "injured"}, "data.death_estimated_at",
         "deceased"),
        ({"handover": {"to": "neighbour"}}, "data.handover.to", "must be one of"),
        ({"handover": {"receiver": "X"}}, "data.handover.to", "required"),
        ({"handover": {"to": "family", "at": "later"}}, "data.handover.at", "RFC 3339"),
        ({"handover": {"to": "family", "receiver": ""}}, "data.handover.receiver", ""),
        ({"handover": {"to": "family", "phone": "+963 900 1"}}, "data.handover.phone", "unknown field"),
        ({"handover": "family"}, "data.handover", ""),
        ({"handover": {"to": "family"}, "handed_to": "family"}, "data.handover", "not both"),
        ({"tag": ""}, "data.tag", ""),
        ({"tag": "x" * 201}, "data.tag", ""),
        ({"cause_of_death": "shot"}, "data.cause_of_death", "unknown field"),
        ({"perpetrator": "x"}, "data.perpetrator", "unknown field"),
    ],
)
def test_bad_evidence_fields_are_named(change, field, words):
    record = recovery_record()
    record["data"].update(change)
    errors = validate_record(record)
    assert [e.field for e in errors] == [field], errors
    assert words in errors[0].message


@pytest.mark.parametrize("value", [-1, "3", 2.0, True, 100_001])
def test_bad_missing_people_is_named(value):
    call = call_record()
    call["data"]["missing_people"] = value
    assert fields(call) == ["data.missing_people"]


def test_a_call_cannot_carry_recovery_fields_nor_a_recovery_call_fields():
    call = call_record()
    call["data"]["conditions"] = ["bound"]
    assert fields(call) == ["data.conditions"]
    record = recovery_record()
    record["data"]["missing_people"] = 2
    assert fields(record) == ["data.missing_people"]


def test_schema_version_of_odd_input_is_1():
    assert schema_version({}) == 1
    assert schema_version({"type": "call", "data": "x"}) == 1
    assert schema_version({"type": "recovery", "data": {"conditions": None}}) == 1
