"""Demo data: valid for the schema, covering every kind, consistent in time, saved through the real store."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest

from fieldapp.core.figures import parse_time
from fieldapp.core.records import AgeGroup, CallStatus, IncidentType, Outcome, Sex, validate_record
from fieldapp.demo import PLACES, DemoCall, demo_plan, populate
from fieldapp.store import RecordStore

SYRIA = timezone(timedelta(hours=3))
NOW = datetime(2026, 11, 25, 16, 20, 5, tzinfo=SYRIA)
ORDER = ["received", "dispatched", "on_scene", "completed"]


def _envelope(kind: str, record_id: str, data: dict, at: datetime) -> dict:
    stamp = at.isoformat(timespec="milliseconds")
    return {"id": record_id, "type": kind, "version": 1, "base_version": 0, "device_id": "demo-test",
            "created_at": stamp, "updated_at": stamp, "data": data}


def plan_records(plan: list[DemoCall]) -> list[dict]:
    """The records a store would make of a plan."""
    records = []
    for item in plan:
        call_id = str(uuid.uuid4())
        records.append(_envelope("call", call_id, item.data, item.at))
        for rdata, at in item.recoveries:
            records.append(_envelope("recovery", str(uuid.uuid4()), {**rdata, "call_id": call_id}, at))
    return records


@pytest.mark.parametrize("calls", [1, 2, 5, 12, 40])
def test_every_record_is_valid_for_many_seeds(calls):
    for seed in range(40):
        plan = demo_plan(calls, seed=seed, now=NOW)
        assert len(plan) == calls
        for record in plan_records(plan):
            assert validate_record(record) == [], (seed, record)
            assert "call_id" not in record["data"] or record["type"] == "recovery"


@pytest.mark.parametrize("seed", range(8))
def test_plan_covers_every_kind(seed):
    plan = demo_plan(12, seed=seed, now=NOW)
    calls = [c.data for c in plan]
    people = [r for c in plan for r, _ in c.recoveries]

    assert {c["incident_type"] for c in calls} == {t.value for t in IncidentType}
    assert {c["status"] for c in calls} == {s.value for s in CallStatus}
    assert {r["outcome"] for r in people} == {o.value for o in Outcome}
    assert {r.get("sex") for r in people} >= {s.value for s in Sex}
    assert {r.get("age_group") for r in people} >= {a.value for a in AgeGroup}

    # Ten unidentified deceased recorded together where bodies were found.
    by_call = {id(r): c.data for c in plan for r, _ in c.recoveries}
    groups = [r for r in people if r["count"] == 10 and r["outcome"] == "deceased"]
    assert groups and all(r["identified"] is False for r in groups)
    assert any(by_call[id(r)]["incident_type"] == "bodies_found" for r in groups)

    identified = [r for r in people if r.get("identified") is True and r.get("name")]
    assert identified
    assert all(re.fullmatch(r"Demo Name \d+ · اسم تجريبي \d+", r["name"]) for r in people if "name" in r)
    assert all(r.get("tag") for r in people if r["outcome"] == "deceased")
    assert all(re.fullmatch(r"[A-Z]{3}-2026-\d{4}-[DCG]\d{2}", r["tag"]) for r in people if "tag" in r)
    tags = [r["tag"] for r in people if "tag" in r]
    assert len(tags) == len(set(tags))  # unique within the team
    assert all("handed_to" not in r for r in people)  # the app writes schema 2: a structured handover
    handovers = [r["handover"] for r in people if "handover" in r]
    assert {"family", "hospital", "morgue", "forensic_team"} <= {h["to"] for h in handovers}
    assert any("Hospital - مشفى" in h.get("place", "") for h in handovers if h["to"] == "hospital")
    assert any("morgue" in h.get("place", "") for h in handovers if h["to"] == "morgue")
    assert any(re.fullmatch(r"Demo Receiver \d+ · مستلم تجريبي \d+", h.get("receiver", "")) for h in handovers)


def test_places_are_real_towns_in_both_scripts():
    plan = demo_plan(200, seed=11, now=NOW)
    towns = {p.latin for p in PLACES}
    seen = set()
    for item in plan:
        location = item.data["location"]
        if "place" in location:
            latin, arabic = location["place"].split(" - ")
            assert latin.split(",")[0] in towns
            assert re.search(r"[\u0600-\u06FF]", arabic)
            seen.add(latin.split(",")[0])
        if "lat" in location:
            # The coast and Idlib: roughly 34.7-36.3 N, 35.7-36.9 E.
            assert 34.7 < location["lat"] < 36.3 and 35.7 < location["lon"] < 36.9
    assert {"Latakia", "Jableh", "Idlib", "Jisr al-Shughur"} <= seen
    assert any("place" not in i.data["location"] for i in plan)  # a GPS fix without a name
    assert any("lat" not in i.data["location"] for i in plan)  # a name without a GPS fix


@pytest.mark.parametrize("seed", range(10))
def test_times_are_consistent_and_never_in_the_future(seed):
    plan = demo_plan(40, seed=seed, now=NOW)
    days = set()
    received = [parse_time(c.data["received_at"]) for c in plan]
    assert received == sorted(received)  # oldest first
    for item in plan:
        data = item.data
        log = [(e["status"], parse_time(e["at"])) for e in data["status_log"]]
        statuses = [s for s, _ in log]
        times = [t for _, t in log]
        assert log[0] == ("received", parse_time(data["received_at"]))
        assert times == sorted(times) and times[-1] <= NOW
        assert statuses[-1] == data["status"]
        if data["status"] == "cancelled":
            assert statuses[:-1] in (["received"], ["received", "dispatched"])
        else:
            assert statuses == ORDER[: len(statuses)]
        assert times[0] <= item.at <= NOW
        assert all(s.endswith("+03:00") for s in [data["received_at"], *(e["at"] for e in data["status_log"])])
        days.add(data["received_at"][:10])

        steps = dict(log)
        if "on_scene" not in steps:
            assert item.recoveries == []
        for rdata, at in item.recoveries:
            recovered = parse_time(rdata["recovered_at"])
            assert steps["on_scene"] <= recovered <= steps.get("completed", NOW)
            assert recovered <= at <= NOW
    assert len(days) >= 2 and max(days) == "2026-11-25"


def test_deterministic_for_a_seed():
    def flat(plan):
        return [(c.data, c.at, c.recoveries, c.recorded_by) for c in plan]

    assert flat(demo_plan(30, seed=5, now=NOW)) == flat(demo_plan(30, seed=5, now=NOW))
    assert flat(demo_plan(30, seed=5, now=NOW)) != flat(demo_plan(30, seed=6, now=NOW))


def test_times_follow_nows_offset():
    utc_now = NOW.astimezone(UTC)
    plan = demo_plan(10, seed=1, now=utc_now)
    assert all(c.data["received_at"].endswith("+00:00") for c in plan)
    with pytest.raises(ValueError):
        demo_plan(3, now=datetime(2026, 11, 25, 12, 0))  # no offset
    assert demo_plan(0, now=NOW) == []


def test_populate_saves_through_the_real_store(tmp_path):
    store = RecordStore.open(tmp_path / "device")
    echoed: list[str] = []
    try:
        saved = populate(store, 12, seed=3, now=NOW, echo=echoed.append)
        plan = demo_plan(12, seed=3, now=NOW)
        assert saved == len(echoed) == 12 + sum(len(c.recoveries) for c in plan)
        assert len(set(echoed)) == saved
        assert store.counts() == {"pending": saved, "sent": 0, "rejected": 0, "conflict": 0, "total": saved}
        calls = [store.get(i).record for i in echoed if store.get(i).type == "call"]
        assert len(calls) == 12
        for call, item in zip(calls, plan):
            assert call["data"] == item.data
            assert call["created_at"].startswith(item.at.isoformat(timespec="seconds")[:19])
            assert len(store.recoveries_of(call["id"])) == len(item.recoveries)
        assert store.days()[-1] == "2026-11-25"
    finally:
        store.close()


def test_echo_follows_each_save():
    """Each id is echoed right after its own save returns, before the next save starts."""
    events: list[tuple[str, str]] = []

    class Recorder:
        def _save(self, kind, data):
            record = {"id": str(uuid.uuid4()), "type": kind, "data": data}
            events.append(("saved", record["id"]))
            return record

        def create_call(self, data, *, recorded_by=None, now=None):
            return self._save("call", data)

        def create_recovery(self, data, *, recorded_by=None, now=None):
            return self._save("recovery", data)

    saved = populate(Recorder(), 6, seed=2, now=NOW, echo=lambda i: events.append(("echo", i)))
    assert len(events) == 2 * saved
    for (first, id1), (second, id2) in zip(events[::2], events[1::2]):
        assert (first, second) == ("saved", "echo") and id1 == id2


def test_the_evidence_fields_are_used_as_a_team_would():
    """Conditions, age estimates, times of death, handovers with their times, missing people, a site's own point."""
    from fieldapp.core.records import AgeGroup as Group
    from fieldapp.core.records import age_group_of, schema_version

    plan = demo_plan(120, seed=9, now=NOW)
    records = plan_records(plan)
    people = [r["data"] for r in records if r["type"] == "recovery"]
    calls = [r["data"] for r in records if r["type"] == "call"]
    assert all(validate_record(r) == [] for r in records)

    grave = next(p for p in people if p["count"] == 10 and p["outcome"] == "deceased")
    assert {"bound", "blindfolded"} <= set(grave["conditions"])
    assert grave["handover"]["to"] == "forensic_team" and "lat" in grave["location"]
    assert parse_time(grave["death_estimated_at"]) < parse_time(grave["recovered_at"])

    with_conditions = [p for p in people if p.get("conditions")]
    assert len(with_conditions) > 20
    assert {c for p in with_conditions for c in p["conditions"]} >= {"blast_injuries", "crush_injuries", "burns"}
    aged = [p for p in people if "age_years" in p]
    assert aged and all(p["count"] == 1 and age_group_of(p["age_years"]) == Group(p["age_group"]) for p in aged)
    dead_at = [p for p in people if "death_estimated_at" in p]
    assert dead_at and all(p["outcome"] == "deceased" for p in dead_at)
    for p in people:
        if "handover" in p:
            handed = parse_time(p["handover"]["at"])
            assert parse_time(p["recovered_at"]) <= handed <= NOW
    assert sum("missing_people" in c for c in calls) >= 5
    assert any(c.get("missing_people", 0) > 0 for c in calls)
    assert all(schema_version(r) == 2 for r in records if r["type"] == "recovery" and "handover" in r["data"])


def test_tags_never_repeat_across_plans_of_other_days():
    """Weekly plans (as the benchmarks build a year) share no tag: a team's tags stay unique."""
    seen: set[str] = set()
    for week in range(6):
        for item in demo_plan(60, seed=100 + week, now=NOW - timedelta(weeks=week)):
            for rdata, _ in item.recoveries:
                if "tag" in rdata:
                    assert rdata["tag"] not in seen
                    seen.add(rdata["tag"])
    assert len(seen) > 100
