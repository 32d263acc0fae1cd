"""The record schema: valid records pass, each kind of bad input is named by its dotted path."""

import pytest

from fieldapp.core.records import InvalidRecord, normalize, parse_record, validate_record
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
