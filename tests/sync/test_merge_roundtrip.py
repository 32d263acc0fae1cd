"""Two real phones and a real server: a correction and a stale approval end merged on both phones (issue 23).

A volunteer corrects a call's place and count; the lead, not yet synced, approves the old version.
They changed different fields: the server merges (no conflict), the volunteer's place and count kept,
the record unreviewed; both phones end with the merged version, nothing waiting, nothing in conflict.
The other way round (the lead syncs first), the volunteer's phone merges the pulled approval into its
waiting correction with the same function, and the server takes the result as a plain edit.
"""

from __future__ import annotations

import httpx

from fieldapp.sync import enrollment
from fieldapp.sync.client import SyncClient
from fieldapp.sync.pull import pull_team
from fieldapp.sync.session import run_pass
from tests.records_factory import call_data

PLACE = {"place": "Jableh, the old market", "lat": 35.36, "lon": 35.93}


def synced(store, folder) -> None:
    assert run_pass(store, folder).error is None


def test_the_server_merges_a_correction_and_a_stale_approval_and_both_phones_pull_it(link, tmp_path):
    volunteer = link.device(tmp_path / "v", direct=True)
    lead = link.device(tmp_path / "l", role="lead", direct=True)
    call = volunteer.create_call(call_data(reported_people=3))
    synced(volunteer, tmp_path / "v")
    synced(lead, tmp_path / "l")

    volunteer.edit(call["id"], data={**call["data"], "location": PLACE, "reported_people": 5})
    lead.edit(call["id"], review={"state": "approved"})
    synced(volunteer, tmp_path / "v")
    synced(lead, tmp_path / "l")  # the stale approval: merged on the server
    synced(volunteer, tmp_path / "v")

    for store in (volunteer, lead):
        held = store.get(call["id"])
        assert held.state == "sent", held.state
        record = held.record
        assert record["data"]["location"] == PLACE and record["data"]["reported_people"] == 5
        assert "review" not in record and len(record["merged_from"]) == 2
    assert volunteer.get(call["id"]).record == lead.get(call["id"]).record


def test_the_phone_merges_a_pulled_approval_into_its_waiting_correction(link, tmp_path):
    volunteer = link.device(tmp_path / "v", direct=True)
    lead = link.device(tmp_path / "l", role="lead", direct=True)
    call = volunteer.create_call(call_data(reported_people=3))
    synced(volunteer, tmp_path / "v")
    synced(lead, tmp_path / "l")

    lead.edit(call["id"], review={"state": "approved"})
    synced(lead, tmp_path / "l")
    volunteer.edit(call["id"], data={**call["data"], "location": PLACE, "reported_people": 5})
    linked = enrollment.load(tmp_path / "v")
    assert linked is not None
    with SyncClient(linked.server_url, linked.token) as client:
        pull_team(volunteer, client)  # the approval meets the waiting edit: merged here
    waiting = volunteer.get(call["id"])
    assert waiting.state == "pending" and waiting.record["base_version"] == 2 and "review" not in waiting.record
    assert waiting.record["merged_from"] == [{"version": 2, "device_id": lead.device_id},
                                             {"version": 2, "device_id": volunteer.device_id}]
    synced(volunteer, tmp_path / "v")  # sends the merge: a plain edit on the server's current version
    synced(lead, tmp_path / "l")

    for store in (volunteer, lead):
        held = store.get(call["id"])
        assert held.state == "sent", held.state
        assert held.record["data"]["location"] == PLACE and held.record["data"]["reported_people"] == 5
        assert "review" not in held.record
    assert volunteer.get(call["id"]).record == lead.get(call["id"]).record


def test_an_edit_of_a_merged_version_does_not_say_it_merges(link, tmp_path):
    volunteer = link.device(tmp_path / "v", direct=True)
    lead = link.device(tmp_path / "l", role="lead", direct=True)
    call = volunteer.create_call(call_data(reported_people=3))
    synced(volunteer, tmp_path / "v")
    synced(lead, tmp_path / "l")
    volunteer.edit(call["id"], data={**call["data"], "reported_people": 5})
    lead.edit(call["id"], review={"state": "approved"})
    synced(volunteer, tmp_path / "v")
    synced(lead, tmp_path / "l")
    merged = lead.get(call["id"]).record
    assert "merged_from" in merged
    edited = lead.edit(call["id"], data={**merged["data"], "notes": "checked"})
    assert "merged_from" not in edited and edited["base_version"] == merged["version"]


def test_the_leads_phone_keeps_which_records_a_volunteer_settled_until_a_lead_reviews_them(link, tmp_path):
    from fieldapp.sync.pull import SETTLED
    from tests.records_factory import call_record

    one, two = link.server.enroll(link.team, "vol-one"), link.server.enroll(link.team, "vol-two")
    call = call_record(device_id="inst-one")
    ours = {**call, "version": 2, "base_version": 1, "data": {**call["data"], "reported_people": 5}}
    theirs = {**call, "version": 2, "base_version": 1, "device_id": "inst-two",
              "data": {**call["data"], "reported_people": 9}}
    assert link.server.statuses(one, [call, ours]) == ["accepted", "accepted"]
    assert link.server.statuses(two, [theirs]) == ["conflict"]
    settle = {**ours, "version": 3, "base_version": 2, "data": {**call["data"], "reported_people": 9}}
    assert link.server.statuses(one, [settle]) == ["accepted"]

    lead = link.device(tmp_path / "l", role="lead", direct=True)
    synced(lead, tmp_path / "l")
    assert lead.get_meta(SETTLED) == {call["id"]: "vol-one"}
    lead.edit(call["id"], review={"state": "approved"})
    synced(lead, tmp_path / "l")
    assert lead.get_meta(SETTLED) == {}  # its own approval, sent: no longer waiting
    page = httpx.get(link.server.url + "/api/v1/pull", params={"since": "0"},
                     headers={"Authorization": f"Bearer {one}"}, timeout=30).json()
    assert page["settled"] == []


def test_the_same_change_on_two_phones_makes_no_new_version(link, tmp_path):
    """Both phones dispatch the same call from the same version: the second finds it on the server already."""
    first = link.device(tmp_path / "a", direct=True)
    second = link.device(tmp_path / "b", direct=True)
    call = first.create_call(call_data())
    synced(first, tmp_path / "a")
    synced(second, tmp_path / "b")
    for store in (first, second):
        store.edit(call["id"], data={**call["data"], "status": "dispatched"})
    synced(first, tmp_path / "a")
    synced(second, tmp_path / "b")  # stale, and nothing in it the server lacks
    synced(first, tmp_path / "a")

    assert max(version for rid, version in link.stored_versions() if rid == call["id"]) == 2
    for store in (first, second):
        assert store.counts()["pending"] == 0 and store.counts()["conflict"] == 0
        held = store.get(call["id"])
        assert held.state == "sent" and held.record["data"]["status"] == "dispatched", held
        assert "merged_from" not in held.record
