"""The team lead's day, without a client: the queue, reviews, conflicts, figures, exports.

The figures and the review/conflict flows also go through a real server: the
phone's figures equal the server's for the same records, and equal a count
done by hand here.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from fieldapp.core.figures import record_day
from fieldapp.store import NotInConflict, RecordStore
from fieldapp.sync import enrollment
from fieldapp.sync.session import run_pass
from fieldapp.ui.lead import LeadDay
from tests.records_factory import call_data, call_in_conflict, recovery_data
from tests.sync.conftest import link  # noqa: F401  (fixture: a real server on loopback)

TZ = timezone(timedelta(hours=3))
DAY = "2026-11-25"


def at(hour: int, minute: int = 0, day: int = 25) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=TZ)


def stamp(hour: int, minute: int = 0, day: int = 25) -> str:
    return at(hour, minute, day).isoformat()


def known_day(store: RecordStore) -> dict[str, str]:
    """A day counted by hand: 3 calls, 10 unidentified dead in one group, and so on."""
    collapse = store.create_call(call_data(
        incident_type="building_collapse", received_at=stamp(8), status="completed", missing_people=2,
        status_log=[{"status": "dispatched", "at": stamp(8, 5)}, {"status": "on_scene", "at": stamp(8, 20)},
                    {"status": "completed", "at": stamp(11)}]), now=at(8, 1))
    fire = store.create_call(call_data(
        incident_type="fire", received_at=stamp(13), status="on_scene",
        location={"place": "Ariha market", "lat": 35.81, "lon": 36.61},
        status_log=[{"status": "on_scene", "at": stamp(13, 40)}]), now=at(13, 1))
    store.create_call(call_data(incident_type="bodies_found", received_at=stamp(16), status="received"), now=at(16, 1))
    store.create_call(call_data(received_at=stamp(9, day=24), missing_people=5), now=at(9, day=24))  # another day
    store.create_recovery(recovery_data(collapse["id"], outcome="rescued", count=2, sex="female", age_group="child",
                                        recovered_at=stamp(9)), now=at(9))
    # a group of ten, sex and age not recorded: ten unknown in each breakdown
    store.create_recovery(recovery_data(collapse["id"], outcome="deceased", count=10, identified=False,
                                        tag="G-1", conditions=["crush_injuries"], recovered_at=stamp(10)), now=at(10))
    store.create_recovery(recovery_data(collapse["id"], outcome="deceased", count=1, identified=True, sex="male",
                                        age_years=45, name="Demo Name 1", recovered_at=stamp(10, 30),
                                        handover={"to": "family", "receiver": "Demo Receiver", "at": stamp(12)}),
                          now=at(10, 30))
    store.create_recovery(recovery_data(fire["id"], outcome="injured", count=3, age_group="elderly",
                                        handover={"to": "hospital"}, recovered_at=stamp(14)), now=at(14))
    return {"collapse": collapse["id"], "fire": fire["id"]}


HAND = {
    "calls": 3, "rescued": 2, "injured": 3, "deceased": 11, "identified": 1, "unidentified": 10,
    "median_to_scene": 30.0,  # 20 and 40 minutes
    "missing": 2,  # the collapse's 2; the 5 of the 24th's call are not this day's
    "by_sex": {"rescued": {"female": 2, "male": 0, "unknown": 0},
               "injured": {"female": 0, "male": 0, "unknown": 3},
               "deceased": {"female": 0, "male": 1, "unknown": 10}},
    "by_age": {"rescued": {"child": 2, "adult": 0, "elderly": 0, "unknown": 0},
               "injured": {"child": 0, "adult": 0, "elderly": 3, "unknown": 0},
               "deceased": {"child": 0, "adult": 1, "elderly": 0, "unknown": 10}},  # 45 years: an adult
}


def check_against_hand_count(figures: dict) -> None:
    assert figures["totals"]["calls"] == HAND["calls"]
    assert figures["people"] == {"rescued": HAND["rescued"], "injured": HAND["injured"], "deceased": HAND["deceased"]}
    assert figures["deceased"] == {"identified": HAND["identified"], "unidentified": HAND["unidentified"]}
    assert figures["median_minutes_to_scene"] == HAND["median_to_scene"]
    assert figures["calls_by_incident_type"]["building_collapse"] == 1
    assert figures["calls_by_status"]["on_scene"] == 1
    assert figures["by_hour"]["people"][10] == 11 and figures["by_hour"]["calls"][13] == 1
    assert figures["missing_people"] == HAND["missing"]
    assert figures["people_by_sex"] == HAND["by_sex"]
    assert figures["people_by_age_group"] == HAND["by_age"]


@pytest.fixture
def lead(data_dir):
    store = RecordStore.open(data_dir)
    yield LeadDay(store, data_dir)
    store.close()


def test_the_queue_filters_and_searches(lead):
    ids = known_day(lead.store)
    assert len(lead.queue(DAY)) == 3
    assert [i.call.id for i in lead.queue(DAY, incident_type="fire")] == [ids["fire"]]
    assert [i.call.id for i in lead.queue(DAY, search="G-1")] == [ids["collapse"]]  # by tag
    assert [i.call.id for i in lead.queue(DAY, search="ariha")] == [ids["fire"]]  # by place
    lead.store.record_verdicts([{"id": ids["fire"], "version": 1, "status": "rejected",
                                 "errors": [{"field": "data.location", "message": "x"}]}])
    assert [i.call.id for i in lead.queue(DAY, flt="refused")] == [ids["fire"]]
    # a call shows under a filter when it or any of its recoveries matches
    assert len(lead.queue(DAY, flt="waiting")) == 3 and len(lead.queue(DAY, flt="unreviewed")) == 3


def test_reviews_are_new_versions_and_approve_all_skips_the_flagged(lead):
    ids = known_day(lead.store)
    flagged = lead.review(ids["fire"], "flagged", "count of injured?")
    assert flagged["review"] == {"state": "flagged", "note": "count of injured?"} and flagged["version"] == 2
    approved = lead.approve_all_unflagged(DAY)
    assert approved == 6  # 2 calls and 4 recoveries; the flagged call waits for its correction
    assert lead.store.get(ids["fire"]).record["review"]["state"] == "flagged"
    assert lead.queue(DAY, flt="unreviewed") == []


def test_the_phones_figures_match_a_count_by_hand(lead):
    known_day(lead.store)
    check_against_hand_count(lead.figures(DAY))


def test_exports_saved_for_sharing_match_the_figures_and_leave_names_out(lead):
    known_day(lead.store)
    path = lead.export(DAY, "csv")
    text = path.read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows[0]["id"].startswith("#")  # the HXL row under the header
    data = [r for r in rows[1:] if r["kind"] == "call"]
    assert sum(int(r["deceased"] or 0) for r in data) == HAND["deceased"]
    assert sum(int(r["deceased_male"] or 0) for r in data) == HAND["by_sex"]["deceased"]["male"]
    assert sum(int(r["rescued_children"] or 0) for r in data) == HAND["by_age"]["rescued"]["child"]
    assert sum(int(r["injured_elderly"] or 0) for r in data) == HAND["by_age"]["injured"]["elderly"]
    assert sum(int(r["missing_people"] or 0) for r in data) == HAND["missing"]
    assert "Demo Name 1" not in text and "+963" not in text and "Demo Receiver" not in text
    geo = json.loads(lead.export(DAY, "geojson").read_text())
    [point] = [f for f in geo["features"] if f["geometry"]["coordinates"] == [36.61, 35.81]]  # lon, lat
    assert point["geometry"]["type"] == "Point"


def test_the_apps_export_asks_before_names_and_phone_numbers_leave(lead, data_dir, monkeypatch):
    """The queue's switch, off by default, is passed through to the export, and goes back to off after."""
    from fieldapp.ui.state import AppState

    monkeypatch.setenv("FIELDAPP_LANG", "en")
    known_day(lead.store)
    lead.store.create_call(call_data(received_at=stamp(18), caller_phone="+963 944 555 666"), now=at(18, 1))
    state = AppState(lead.store, data_dir, now=lambda: at(20))
    assert state.queue.day == DAY and state.queue.include_personal is False

    plain = state.queue.export("csv")
    text = plain.read_text(encoding="utf-8-sig")
    assert "Demo Name 1" not in text and "944 555 666" not in text and "caller_phone" not in text
    assert state.notice == f"Saved to {plain.name}"

    state.queue.set_export_personal(True)
    personal = state.queue.export("csv")
    rows = list(csv.DictReader(io.StringIO(personal.read_text(encoding="utf-8-sig"))))
    assert any(r["names"] == "Demo Name 1" for r in rows) and any("944 555" in r["caller_phone"] for r in rows)
    assert "with names and phone numbers" in state.notice
    assert state.queue.include_personal is False  # each export asks again
    geo = state.queue.export("geojson").read_text(encoding="utf-8")
    assert "Demo Name 1" not in geo and "944 555 666" not in geo

    state.queue.set_export_personal(True)
    geo = json.loads(state.queue.export("geojson").read_text(encoding="utf-8"))
    assert any(f["properties"].get("names") == "Demo Name 1" for f in geo["features"])


def test_the_apps_export_names_the_team_once_pulled(lead, data_dir):
    known_day(lead.store)
    path = lead.export(DAY, "csv")
    assert path.name == f"fieldapp-{DAY}.csv"
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))[1:]
    assert rows and all(r["team"] == "" for r in rows)  # not known before the first pull
    lead.store.set_meta("team", "team-idlib")
    path = lead.export(DAY, "csv")
    assert path.name == f"fieldapp-team-idlib-{DAY}.csv"
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))[1:]
    assert {r["team"] for r in rows} == {"team-idlib"}
    geo = json.loads(lead.export(DAY, "geojson").read_text(encoding="utf-8"))
    assert {f["properties"]["team"] for f in geo["features"]} == {"team-idlib"}


def test_conflict_side_by_side_and_a_combined_resolution(lead):
    call = call_in_conflict(lead.store, notes="ours", their_notes="all out", their_device="dev-b")
    fields = {d.field: (d.ours, d.theirs) for d in lead.differences(call["id"])}
    assert fields == {"data.status": ("cancelled", "completed"), "data.notes": ("false alarm", "all out")}
    assert lead.plan(call["id"]).changes == []  # nothing kept: the server's version as it is
    resolved = lead.resolve(call["id"], keep="theirs", take_ours={"data.notes"})
    assert resolved["data"]["status"] == "completed" and resolved["data"]["notes"] == "false alarm"
    assert (resolved["version"], resolved["base_version"]) == (3, 2)
    # pressed again (a second tap, or a pull closed it meanwhile): said, and nothing saved
    with pytest.raises(NotInConflict):
        lead.resolve(call["id"], keep="theirs")
    assert lead.store.get(call["id"]).record["version"] == 3


def test_the_leads_own_change_is_listed_against_the_servers_version_and_is_what_is_saved(lead):
    store = lead.store
    call = store.create_call(call_data(notes="ours"))
    store.record_verdicts([{"id": call["id"], "version": 1, "status": "accepted"}])
    store.edit(call["id"], data=call_data(status="cancelled", notes="false alarm"), review={"state": "flagged", "note": "check"})
    theirs = {**call, "version": 2, "base_version": 1, "device_id": "dev-b",
              "data": {**call["data"], "status": "completed", "notes": "all out"}}
    store.record_verdicts([{"id": call["id"], "version": 2, "status": "conflict", "server_record": theirs}])
    # nothing kept from this phone: the server's data as it is, and this phone's values that go
    # (the server's version has no review: the lead's flag on this phone stays, and is listed)
    flag = ("review", {}, {"state": "flagged", "note": "check"}, {"state": "flagged", "note": "check"})
    plan = lead.plan(call["id"])
    assert [(c.field, c.server, c.result, c.phone) for c in plan.changes] == [flag]
    assert plan.dropped == ["data.notes", "data.status"]
    # one field kept: that field is the lead's change, server's value beside the one saved
    plan = lead.plan(call["id"], take_ours={"data.notes"})
    assert [(c.field, c.server, c.result, c.phone) for c in plan.changes] == [
        ("data.notes", "all out", "false alarm", "false alarm"), flag]
    assert plan.dropped == ["data.status"]
    # all of this phone's: every difference, the review included
    everything = lead.plan(call["id"], keep="ours")
    assert {c.field: (c.server, c.result) for c in everything.changes} == {
        "data.notes": ("all out", "false alarm"), "data.status": ("completed", "cancelled"),
        "review": ({}, {"state": "flagged", "note": "check"})}
    assert everything.dropped == []
    # what is listed is what is saved
    resolved = lead.resolve(call["id"], take_ours={"data.notes"})
    assert resolved["data"] == plan.data and resolved.get("review") == plan.review
    assert lead.plan(call["id"]) is None  # no conflict left to list


def test_phone_and_server_figures_agree_and_reviews_and_resolutions_reach_the_server(link, tmp_path):
    lead_store = link.device(tmp_path / "lead", role="lead", direct=True)
    volunteer = link.device(tmp_path / "volunteer", direct=True)
    ids = known_day(volunteer)
    assert run_pass(volunteer, tmp_path / "volunteer").error is None
    assert run_pass(lead_store, tmp_path / "lead").error is None
    lead = LeadDay(lead_store, tmp_path / "lead")

    token = enrollment.load(tmp_path / "lead").token
    server = httpx.get(link.server.url + "/api/v1/summary", params={"day": DAY},
                       headers={"Authorization": f"Bearer {token}"}).json()
    phone = lead.figures(DAY)
    # every figure the phone draws, the server's summary gives the same (it adds its own, such as the chain's head)
    assert {key: server[key] for key in phone} == phone
    check_against_hand_count(server)

    # an approval, and a conflict resolved by the lead, reach the server
    lead.review(ids["collapse"], "approved")
    volunteer.edit(ids["fire"], data={**volunteer.get(ids["fire"]).record["data"], "notes": "volunteer"})
    lead_store.edit(ids["fire"], data={**lead_store.get(ids["fire"]).record["data"], "notes": "lead"})
    assert run_pass(volunteer, tmp_path / "volunteer").error is None
    assert run_pass(lead_store, tmp_path / "lead").push.conflicts == 1
    lead.resolve(ids["fire"], keep="theirs", take_ours={"data.notes"})
    assert run_pass(lead_store, tmp_path / "lead").error is None
    exported = httpx.get(link.server.url + "/api/v1/export", params={"format": "jsonl", "include_personal": "true"},
                         headers={"Authorization": f"Bearer {token}"}).text
    current = {r["id"]: r for r in map(json.loads, exported.splitlines())}
    assert current[ids["collapse"]]["review"] == {"state": "approved"}
    assert current[ids["fire"]]["data"]["notes"] == "lead"
    page = httpx.get(link.server.url + "/api/v1/pull", params={"since": "0", "limit": 1000},
                     headers={"Authorization": f"Bearer {token}"}).json()
    assert page["conflicts"] == []
    assert all(record_day(r) for r in page["records"])
    volunteer.close()
    lead_store.close()


def _refuse(store: RecordStore, record_id: str) -> None:
    version = store.get(record_id).version
    store.record_verdicts([{"id": record_id, "version": version, "status": "rejected",
                            "errors": [{"field": "data.location", "message": "outside the team's area"}]}])


def test_approve_all_never_approves_a_refused_conflicting_or_withdrawn_record(lead):
    store = lead.store
    ids = known_day(store)
    _refuse(store, ids["fire"])
    in_conflict = call_in_conflict(store, notes="ours", their_notes="all out", their_device="dev-b")
    withdrawn = store.recoveries_of(ids["collapse"])[0]
    store.edit(withdrawn.id, data={**withdrawn.record["data"], "withdrawn": True})
    assert lead.approve_all_unflagged(DAY) == 5  # two calls, the collapse's two other recoveries, the fire's
    for record_id in (ids["fire"], in_conflict["id"], withdrawn.id):
        assert (store.get(record_id).record.get("review") or {}).get("state", "unreviewed") == "unreviewed"


def test_approve_all_counts_what_it_approves_and_says_which_are_left_out_and_why(lead):
    from fieldapp.ui.lead import LeftOut

    store = lead.store
    ids = known_day(store)
    _refuse(store, ids["fire"])
    in_conflict = call_in_conflict(store, notes="ours", their_notes="all out", their_device="dev-b")
    withdrawn = store.recoveries_of(ids["collapse"])[0]
    store.edit(withdrawn.id, data={**withdrawn.record["data"], "withdrawn": True})
    bodies = next(i.call.id for i in lead.queue(DAY, incident_type="bodies_found"))
    lead.review(bodies, "flagged", "which ravine?")
    approval = lead.approval(DAY)
    assert approval.left_out == {LeftOut.REFUSED: 1, LeftOut.CONFLICT: 1, LeftOut.WITHDRAWN: 1, LeftOut.FLAGGED: 1}
    assert len(approval.ids) == 4
    assert not {ids["fire"], in_conflict["id"], withdrawn.id, bodies} & set(approval.ids)
    # what was listed is what is approved: a record refused after the lead was asked is still left out
    _refuse(store, ids["collapse"])
    assert lead.approve(approval.ids) == 3
    assert store.get(ids["collapse"]).record.get("review") is None
    after = lead.approval(DAY)
    assert after.ids == [] and after.left_out[LeftOut.REFUSED] == 2
