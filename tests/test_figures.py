"""The day's figures on a hand-built day, counted by hand here."""

from __future__ import annotations

import json

import pytest

from fieldapp.core.figures import DayFigures, day_figures, minutes_to_scene, record_day
from fieldapp.core.records import CallStatus, IncidentType, validate_record
from tests.records_factory import call_data, call_record, recovery_data, recovery_record

DAY = "2026-11-25"


def _call(incident_type, received_at, status, log, **extra):
    data = call_data(
        incident_type=incident_type,
        received_at=received_at,
        status=status,
        status_log=[{"status": s, "at": at} for s, at in log],
    )
    if "missing_people" in extra:
        data["missing_people"] = extra.pop("missing_people")
    return call_record(data=data, **extra)


def _recovery(call, outcome, count, recovered_at, **data_changes):
    extra = {k: data_changes.pop(k) for k in ("review", "version", "base_version", "id") if k in data_changes}
    data = recovery_data(call["id"], outcome=outcome, count=count, recovered_at=recovered_at, **data_changes)
    return recovery_record(data=data, **extra)


@pytest.fixture
def day_records():
    c1 = _call("airstrike", "2026-11-25T08:10:00+03:00", "completed", [
        ("received", "2026-11-25T08:10:00+03:00"), ("dispatched", "2026-11-25T08:12:00+03:00"),
        ("on_scene", "2026-11-25T08:30:00+03:00"), ("completed", "2026-11-25T11:00:00+03:00"),
    ], review={"state": "flagged", "note": "check the count"}, missing_people=3)  # 20 min to scene
    c2 = _call("building_collapse", "2026-11-25T14:00:00+03:00", "on_scene", [
        ("received", "2026-11-25T14:00:00+03:00"), ("dispatched", "2026-11-25T14:05:00+03:00"),
        ("on_scene", "2026-11-25T14:45:00+03:00"),  # 45 min: the first on_scene counts
        ("dispatched", "2026-11-25T15:10:00+03:00"), ("on_scene", "2026-11-25T15:30:00+03:00"),
    ], review={"state": "approved"}, missing_people=2)
    c3 = _call("fire", "2026-11-25T23:40:00+03:00", "completed", [
        ("received", "2026-11-25T23:40:00+03:00"), ("on_scene", "2026-11-25T23:50:00+03:00"),
        ("completed", "2026-11-26T01:00:00+03:00"),
    ])  # 10 min
    c4 = _call("traffic_accident", "2026-11-25T09:05:00+03:00", "cancelled", [
        ("received", "2026-11-25T09:05:00+03:00"), ("dispatched", "2026-11-25T09:07:00+03:00"),
        ("cancelled", "2026-11-25T09:20:00+03:00"),
    ])  # never on scene: left out of the median
    # 01:30 at +03:00 is still the 24th in UTC: it belongs to the 25th, its own offset's day.
    c6 = _call("shelling", "2026-11-25T01:30:00+03:00", "on_scene", [
        ("received", "2026-11-25T01:30:00+03:00"), ("on_scene", "2026-11-25T02:05:00+03:00"),
    ])  # 35 min
    # Other days.
    c5 = _call("bodies_found", "2026-11-24T22:00:00+03:00", "completed", [
        ("received", "2026-11-24T22:00:00+03:00"), ("on_scene", "2026-11-24T22:30:00+03:00"),
        ("completed", "2026-11-25T03:00:00+03:00"),
    ], missing_people=7)
    # 23:30 at -01:00 is the 25th in UTC, but the 24th in its own offset.
    c7 = _call("flood", "2026-11-24T23:30:00-01:00", "received", [("received", "2026-11-24T23:30:00-01:00")])

    # A group of ten, sex and age unknown: ten unknown in each breakdown.
    r1 = _recovery(c1, "deceased", 10, "2026-11-25T10:00:00+03:00", identified=False, sex="unknown",
                   age_group="unknown", conditions=["bound", "blindfolded"], tag="G-1")
    # No age group, an estimate of 8 years: a child.
    r2 = _recovery(c1, "deceased", 1, "2026-11-25T10:15:00+03:00", identified=True, name="Demo Person",
                   sex="female", age_years=8, death_estimated_at="2026-11-25T06:00:00+03:00",
                   handover={"to": "family", "receiver": "Demo Receiver", "at": "2026-11-25T12:00:00+03:00"})
    r3 = _recovery(c1, "injured", 2, "2026-11-25T09:00:00+03:00", sex="male", age_group="adult")
    r4_v1 = _recovery(c2, "injured", 1, "2026-11-25T15:00:00+03:00", sex="female", age_group="elderly")
    # The same record edited: version 2 says rescued and is flagged; only it counts.
    r4_v2 = {**r4_v1, "version": 2, "base_version": 1, "review": {"state": "flagged"},
             "data": {**r4_v1["data"], "outcome": "rescued"}}
    r5 = _recovery(c3, "rescued", 3, "2026-11-26T00:30:00+03:00")  # across midnight: the 26th
    r6 = _recovery(c3, "injured", 1, "2026-11-25T23:58:00+03:00", age_group="child")  # sex not recorded
    r7 = _recovery(c5, "deceased", 1, "2026-11-25T00:10:00+03:00")  # call of the 24th, person of the 25th
    # Withdrawn as entered in error: kept, counted nowhere.
    r8 = _recovery(c2, "deceased", 5, "2026-11-25T16:00:00+03:00", withdrawn=True, sex="male", age_group="adult")
    records = [c1, c2, c3, c4, c5, c6, c7, r1, r2, r3, r4_v2, r4_v1, r5, r6, r7, r8]
    for record in records:
        assert validate_record(record) == [], record
    return records


def test_figures_of_a_known_day(day_records):
    figures = day_figures(day_records, DAY)

    by_type = {t.value: 0 for t in IncidentType}
    by_type.update(airstrike=1, building_collapse=1, fire=1, traffic_accident=1, shelling=1)
    by_status = {s.value: 0 for s in CallStatus}
    by_status.update(completed=2, on_scene=2, cancelled=1)
    calls_by_hour = [0] * 24
    for hour in (8, 14, 23, 9, 1):
        calls_by_hour[hour] += 1
    people_by_hour = [0] * 24
    people_by_hour[0] = 1  # r7
    people_by_hour[9] = 2  # r3
    people_by_hour[10] = 11  # r1 + r2
    people_by_hour[15] = 1  # r4
    people_by_hour[23] = 1  # r6

    assert figures == {
        "day": DAY,
        "calls_by_incident_type": by_type,
        "calls_by_status": by_status,
        "people": {"rescued": 1, "injured": 3, "deceased": 12},
        "deceased": {"identified": 1, "unidentified": 11},
        # r4 (rescued, female, elderly); r3 (2 male adults) and r6 (child, sex not recorded);
        # r2 (female, 8 years: a child), r1 (10 unknown) and r7 (nothing recorded)
        "people_by_sex": {"rescued": {"female": 1, "male": 0, "unknown": 0},
                          "injured": {"female": 0, "male": 2, "unknown": 1},
                          "deceased": {"female": 1, "male": 0, "unknown": 11}},
        "people_by_age_group": {"rescued": {"child": 0, "adult": 0, "elderly": 1, "unknown": 0},
                                "injured": {"child": 1, "adult": 2, "elderly": 0, "unknown": 0},
                                "deceased": {"child": 1, "adult": 0, "elderly": 0, "unknown": 11}},
        "missing_people": 5,  # c1's 3 and c2's 2; c5's 7 belong to the 24th
        "median_minutes_to_scene": 27.5,  # median of 10, 20, 35, 45
        "calls_on_scene_measured": 4,
        "by_hour": {"calls": calls_by_hour, "people": people_by_hour},
        "review": {"unreviewed": 8, "approved": 1, "flagged": 2},
        "totals": {"calls": 5, "recoveries": 6, "people": 16, "records": 11},
    }
    assert json.loads(json.dumps(figures)) == figures
    assert list(figures) == list(DayFigures.__dataclass_fields__)
    for outcome, people in figures["people"].items():  # each breakdown adds up to the people
        assert sum(figures["people_by_sex"][outcome].values()) == people
        assert sum(figures["people_by_age_group"][outcome].values()) == people


def test_neighbouring_days(day_records):
    before = day_figures(day_records, "2026-11-24")
    assert before["totals"] == {"calls": 2, "recoveries": 0, "people": 0, "records": 2}
    assert before["calls_by_incident_type"]["flood"] == 1
    assert before["median_minutes_to_scene"] == 30.0
    assert before["missing_people"] == 7

    after = day_figures(day_records, "2026-11-26")
    assert after["totals"] == {"calls": 0, "recoveries": 1, "people": 3, "records": 1}
    assert after["people"] == {"rescued": 3, "injured": 0, "deceased": 0}
    assert after["by_hour"]["people"][0] == 3
    assert after["median_minutes_to_scene"] is None
    assert after["calls_on_scene_measured"] == 0


def test_an_empty_day_has_every_key():
    figures = day_figures([], DAY)
    assert figures["totals"] == {"calls": 0, "recoveries": 0, "people": 0, "records": 0}
    assert set(figures["calls_by_incident_type"]) == {t.value for t in IncidentType}
    assert figures["by_hour"] == {"calls": [0] * 24, "people": [0] * 24}
    assert figures["median_minutes_to_scene"] is None


def test_helpers():
    assert record_day(call_record(data=call_data(received_at="2026-11-25T00:05:00+03:00"))) == "2026-11-25"
    assert record_day(call_record(data=call_data(received_at="2026-11-25T23:55:00Z"))) == "2026-11-25"
    call = call_record(data=call_data(status_log=[{"status": "on_scene", "at": "2026-11-25T09:00:00+03:00"}]))
    assert minutes_to_scene(call) is None  # before the call was received at 10:00: a clock mistake
    call["data"]["status_log"] = [{"status": "on_scene", "at": "2026-11-25T07:30:00Z"}]
    assert minutes_to_scene(call) == 30.0  # 10:30 at +03:00


def test_bad_day_is_refused():
    with pytest.raises(ValueError):
        day_figures([], "25/11/2026")


def test_demo_days_match_a_plain_count():
    """Over a week of demo data, each day's figures equal a count written out plainly here."""
    from datetime import datetime, timedelta, timezone

    from fieldapp.demo import demo_plan

    now = datetime(2026, 11, 25, 18, 0, tzinfo=timezone(timedelta(hours=3)))
    records = []
    for n, item in enumerate(demo_plan(120, seed=9, now=now)):
        call_id = f"00000000-0000-4000-8000-{n:012d}"
        records.append({"id": call_id, "type": "call", "version": 1, "data": item.data})
        for m, (rdata, _) in enumerate(item.recoveries):
            records.append({"id": f"{call_id}-{m}", "type": "recovery", "version": 1, "data": {**rdata, "call_id": call_id}})

    days = sorted({r["data"]["received_at"][:10] for r in records if r["type"] == "call"})
    assert len(days) >= 3
    for day in days:
        calls = [r["data"] for r in records if r["type"] == "call" and r["data"]["received_at"][:10] == day]
        people = [r["data"] for r in records if r["type"] == "recovery" and r["data"]["recovered_at"][:10] == day]
        figures = day_figures(records, day)
        assert figures["totals"]["calls"] == len(calls)
        for kind in IncidentType:
            assert figures["calls_by_incident_type"][kind] == sum(c["incident_type"] == kind for c in calls)
        for status in CallStatus:
            assert figures["calls_by_status"][status] == sum(c["status"] == status for c in calls)
        for outcome in ("rescued", "injured", "deceased"):
            assert figures["people"][outcome] == sum(p["count"] for p in people if p["outcome"] == outcome)
        dead = [p for p in people if p["outcome"] == "deceased"]
        assert figures["deceased"]["identified"] == sum(p["count"] for p in dead if p.get("identified") is True)
        assert figures["deceased"]["unidentified"] == sum(p["count"] for p in dead if p.get("identified") is not True)
        assert sum(figures["by_hour"]["people"]) == sum(p["count"] for p in people)
        assert figures["missing_people"] == sum(c.get("missing_people", 0) for c in calls)
        for outcome in ("rescued", "injured", "deceased"):
            of = [p for p in people if p["outcome"] == outcome]
            for sex in ("female", "male"):
                assert figures["people_by_sex"][outcome][sex] == sum(p["count"] for p in of if p.get("sex") == sex)
            assert figures["people_by_sex"][outcome]["unknown"] == sum(
                p["count"] for p in of if p.get("sex") not in ("female", "male"))
            for group, years in (("child", range(0, 18)), ("adult", range(18, 60)), ("elderly", range(60, 121))):
                assert figures["people_by_age_group"][outcome][group] == sum(
                    p["count"] for p in of
                    if p.get("age_group") == group or (p.get("age_group") in (None, "unknown") and p.get("age_years") in years))
        assert sum(figures["by_hour"]["calls"]) == len(calls)
    week = [day_figures(records, d) for d in days + ["2026-11-26"]]
    assert sum(f["people"]["deceased"] for f in week) > 100  # the scale the design speaks of
