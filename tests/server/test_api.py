"""The sync API over real HTTP on loopback, on SQLite and on PostgreSQL."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import httpx

from fieldapp.core.protocol import MAX_PUSH_BYTES, MAX_RECORDS_PER_PUSH, MAX_UNPACKED_BYTES
from fieldapp.core.records import normalize
from tests.records_factory import call_record, recovery_record


def edit(record: dict, *, base: int, device: str = "dev-test", **data) -> dict:
    return {**record, "version": record["version"] + 1, "base_version": base, "device_id": device,
            "data": {**record["data"], **data}}


def test_health_needs_no_token(server):
    assert httpx.get(server.url + "/api/v1/health").json()["status"] == "ok"


def test_the_same_batch_twice_is_stored_once(server, team):
    token = server.enroll(team)
    call = call_record()
    batch = [call, recovery_record(call["id"]), recovery_record(call["id"])]
    assert server.statuses(token, batch) == ["accepted"] * 3
    assert server.statuses(token, batch) == ["duplicate"] * 3
    records, _ = server.pull_all(token)
    assert len(records) == 3


def test_a_recovery_whose_call_has_not_arrived_is_accepted(server, team):
    assert server.statuses(server.enroll(team), [recovery_record()]) == ["accepted"]


def test_an_edit_on_the_acknowledged_version_is_accepted(server, team):
    token = server.enroll(team)
    call = call_record()
    server.statuses(token, [call])
    second = edit(call, base=1, status="dispatched")
    third = edit(second, base=2, status="on_scene")
    assert server.statuses(token, [second, third]) == ["accepted", "accepted"]
    records, conflicts = server.pull_all(token)
    assert [r["version"] for r in records] == [1, 2, 3] and conflicts == {}


def test_two_devices_editing_the_same_version_make_a_conflict_that_keeps_both(server, team):
    a, b = server.enroll(team), server.enroll(team)
    call = call_record()
    server.statuses(a, [call])
    mine = edit(call, base=1, device="dev-a", status="completed")
    theirs = edit(call, base=1, device="dev-b", status="cancelled")
    assert server.statuses(a, [mine]) == ["accepted"]
    response = server.push(b, [theirs]).json()["results"][0]
    assert response["status"] == "conflict"
    assert response["server_record"] == normalize(mine)
    # pushed again (its answer lost): still a conflict, still stored once
    assert server.statuses(b, [theirs]) == ["conflict"]
    records, conflicts = server.pull_all(a)
    assert sorted(r["data"]["status"] for r in records if r["version"] == 2) == ["cancelled", "completed"]
    assert conflicts == {call["id"]: normalize(mine)}


def test_a_stale_base_is_a_conflict_and_a_resolution_on_the_servers_version_closes_it(server, team):
    token = server.enroll(team)
    call = call_record()
    second = edit(call, base=1, status="dispatched")
    server.statuses(token, [call, second])
    stale = edit(call, base=1, device="dev-late", status="cancelled")  # built on version 1
    stale["version"] = 5
    assert server.statuses(token, [stale]) == ["conflict"]
    resolved = {**edit(second, base=2, status="cancelled"), "version": 6}
    assert server.statuses(token, [resolved]) == ["accepted"]
    _, conflicts = server.pull_all(token)
    assert conflicts == {}


def test_religion_inside_data_is_refused_by_name_and_the_rest_accepted(server, team):
    token = server.enroll(team)
    bad = call_record()
    bad["data"]["religion"] = "x"
    top = call_record(sect="y")
    results = server.push(token, [call_record(), bad, top, "not a record", call_record()]).json()["results"]
    assert [r["status"] for r in results] == ["accepted", "rejected", "rejected", "rejected", "accepted"]
    assert results[1]["errors"] == [{"field": "data.religion", "message": "unknown field: not part of the record and not accepted"}]
    assert results[1]["id"] == bad["id"]
    assert [e["field"] for e in results[2]["errors"]] == ["sect"]
    assert results[3]["id"] is None and results[3]["errors"][0]["field"] == "record"


def test_another_teams_token_sees_nothing(server, team):
    mine = server.enroll(team)
    server.statuses(mine, [call_record()])
    other = server.enroll(team + "-other")
    assert server.pull_all(other)[0] == []


def test_the_same_id_from_another_team_never_touches_this_teams_record(server, team):
    mine, other = server.enroll(team), server.enroll(team + "-x")
    call = call_record()
    server.statuses(mine, [call])
    hostile = edit(call, base=1, status="cancelled")
    assert server.statuses(other, [hostile]) == ["accepted"]  # a record of its own team
    records, _ = server.pull_all(mine)
    assert [r["version"] for r in records] == [1]


def test_no_unknown_or_revoked_token_gets_401(server, team):
    assert httpx.post(server.url + "/api/v1/push", json={"records": []}).status_code == 401
    assert server.push("not-a-token", []).status_code == 401
    token = server.enroll(team, device="dev-revoked", via_cli=True)
    assert server.push(token, []).status_code == 200
    revoked = server.cli("revoke", "--device", "dev-revoked")
    assert revoked.returncode == 0 and "revoked" in revoked.stdout
    assert server.push(token, []).status_code == 401
    assert httpx.get(server.url + "/api/v1/pull", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_tokens_are_random_and_stored_only_as_hashes(server, team):
    first, second = server.enroll(team, via_cli=True), server.enroll(team)
    assert first != second and len(first) >= 40
    if server.database_url.startswith("sqlite"):
        raw = Path(server.database_url[len("sqlite:///"):]).read_bytes()
        assert first.encode() not in raw


def test_a_gzip_body_is_read(server, team):
    token = server.enroll(team)
    assert server.push(token, [call_record()], compress=True).json()["results"][0]["status"] == "accepted"


def test_a_gzip_bomb_is_refused_with_the_limit(server, team):
    bomb = gzip.compress(b'{"records": [' + b" " * (MAX_UNPACKED_BYTES + 1024) + b"]}")
    assert len(bomb) < 100_000
    response = server.push(server.enroll(team), [], raw=bomb, headers={"Content-Encoding": "gzip"})
    assert response.status_code == 413 and str(MAX_UNPACKED_BYTES) in response.json()["detail"]


def test_too_many_records_or_bytes_are_refused_with_the_limit(server, team):
    token = server.enroll(team)
    response = server.push(token, [{}] * (MAX_RECORDS_PER_PUSH + 1))
    assert response.status_code == 413 and str(MAX_RECORDS_PER_PUSH) in response.json()["detail"]
    big = json.dumps({"records": [{"notes": "x" * (MAX_PUSH_BYTES + 10)}]}).encode()
    response = server.push(token, [], raw=big)
    assert response.status_code == 413 and str(MAX_PUSH_BYTES) in response.json()["detail"]


def test_broken_json_and_wrong_shapes_get_a_readable_reason(server, team):
    token = server.enroll(team)
    response = server.push(token, [], raw=b'{"records": [')
    assert response.status_code == 400 and "not JSON" in response.json()["detail"]
    for body in (b"[1, 2]", b'{"records": 5}', b'{"items": []}', b'{"records": [], "extra": 1}'):
        response = server.push(token, [], raw=body)
        assert response.status_code == 422, body
        assert "records" in response.json()["detail"] or "unknown field" in response.json()["detail"]
    response = server.push(token, [], raw=b"not gzip", headers={"Content-Encoding": "gzip"})
    assert response.status_code == 400
    deep = b'{"records": [' + b"[" * 200_000 + b"]" * 200_000 + b"]}"  # 400 kB, past any parser's depth
    response = server.push(token, [], raw=deep)
    assert response.status_code == 400 and "nested too deeply" in response.json()["detail"]


def test_pull_pages_through_everything_once(server, team):
    token = server.enroll(team)
    batch = [call_record() for _ in range(25)]
    server.statuses(token, batch)
    records, _ = server.pull_all(token, limit=7)
    assert [r["id"] for r in records] == [r["id"] for r in batch]
    bad = httpx.get(server.url + "/api/v1/pull", params={"since": "abc"}, headers={"Authorization": f"Bearer {token}"})
    assert bad.status_code == 400


def test_a_leads_summary_and_exports_and_a_volunteer_refused(server, team):
    lead, volunteer = server.enroll(team, role="lead"), server.enroll(team)
    call = call_record()
    call["data"]["caller_phone"] = "+963 933 471 925"
    server.statuses(volunteer, [call, recovery_record(call["id"])])
    auth = {"Authorization": f"Bearer {lead}"}
    figures = httpx.get(server.url + "/api/v1/summary", params={"day": "2026-11-25"}, headers=auth).json()
    assert figures["totals"]["calls"] == 1 and figures["people"]["deceased"] == 1
    csv_text = httpx.get(server.url + "/api/v1/export", params={"format": "csv"}, headers=auth).text
    # the whole number, spaces and all: a short piece of it could be part of a random id
    assert csv_text.splitlines()[1].startswith("#") and "933 471 925" not in csv_text
    geo = httpx.get(server.url + "/api/v1/export", params={"format": "geojson"}, headers=auth).json()
    assert geo["type"] == "FeatureCollection"
    refused = httpx.get(server.url + "/api/v1/summary", params={"day": "2026-11-25"}, headers={"Authorization": f"Bearer {volunteer}"})
    assert refused.status_code == 403


def test_export_command_lists_each_current_version_once(server, team):
    token = server.enroll(team)
    call = call_record()
    server.statuses(token, [call, edit(call, base=1, status="dispatched")])
    out = server.cli("export", "--format", "jsonl", "--team", team)
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    assert [(r["id"], r["version"]) for r in lines] == [(call["id"], 2)]


def test_the_openapi_page_shows_the_record_schema(server):
    schema = httpx.get(server.url + "/openapi.json").json()
    components = schema["components"]["schemas"]
    assert {"CallRecord", "RecoveryRecord", "CallData", "PushBody"} <= set(components)
    assert components["CallData"]["additionalProperties"] is False
    assert httpx.get(server.url + "/docs").status_code == 200


def test_the_summary_command_gives_the_same_figures_as_the_route(server, team):
    lead = server.enroll(team, role="lead")
    call = call_record()
    server.statuses(lead, [call, recovery_record(call["id"])])
    route = httpx.get(server.url + "/api/v1/summary", params={"day": "2026-11-25"},
                      headers={"Authorization": f"Bearer {lead}"}).json()
    printed = server.cli("summary", "--day", "2026-11-25", "--team", team)
    assert printed.returncode == 0 and json.loads(printed.stdout) == route
