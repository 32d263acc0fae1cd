"""The server's exports over real HTTP and from its command line, on SQLite and on PostgreSQL.

Personal fields leave only when asked, in every format; every row, feature or
line names its team and the enrolled device that delivered its current version;
an HTTP export is an attachment named for the team and the day.
"""

from __future__ import annotations

import csv
import io
import json
import uuid

import httpx

from tests.records_factory import call_data, call_record, recovery_data, recovery_record

PHONE = "+963 933 000 111"
NAME = "Demo Name 3 · اسم تجريبي 3"


def _pushed(server, team: str) -> dict:
    """A volunteer's call and named recovery; a second volunteer's later version of the call."""
    first, second = f"dev-{uuid.uuid4().hex[:8]}", f"dev-{uuid.uuid4().hex[:8]}"
    a = server.enroll(team, device=first)
    b = server.enroll(team, device=second)
    call = call_record(device_id="inst-" + first, data=call_data(caller_phone=PHONE, notes="upstairs"))
    named = recovery_record(call["id"], device_id="inst-" + first,
                            data=recovery_data(call["id"], identified=True, name=NAME))
    assert server.statuses(a, [call, named]) == ["accepted", "accepted"]
    edited = {**call, "version": 2, "base_version": 1, "device_id": "inst-" + second,
              "data": {**call["data"], "status": "dispatched"}}
    assert server.statuses(b, [edited]) == ["accepted"]
    return {"call": call["id"], "named": named["id"], "first": first, "second": second,
            "lead": server.enroll(team, role="lead")}


def _rows(text: str) -> list[dict]:
    rows = list(csv.reader(io.StringIO(text, newline="")))
    return [dict(zip(rows[0], row)) for row in rows[2:]]


def test_route_exports_leave_personal_fields_out_and_name_team_and_device(server, team):
    made = _pushed(server, team)
    auth = {"Authorization": f"Bearer {made['lead']}"}
    url = server.url + "/api/v1/export"

    answer = httpx.get(url, params={"format": "csv"}, headers=auth)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    assert answer.headers["content-disposition"] == f'attachment; filename="fieldapp-{team}-all.csv"'
    assert "933 000 111" not in answer.text and "Demo Name" not in answer.text and "upstairs" not in answer.text
    [row] = _rows(answer.text)
    # the call's current version came from the second device, its recovery from the first
    assert (row["team"], row["delivered_by"]) == (team, f"{made['second']}; {made['first']}")

    personal = httpx.get(url, params={"format": "csv", "include_personal": "true", "day": "2026-11-25"}, headers=auth)
    assert personal.headers["content-disposition"] == f'attachment; filename="fieldapp-{team}-2026-11-25.csv"'
    [row] = _rows(personal.text)
    assert row["caller_phone"] == "'" + PHONE and row["names"] == NAME

    geo = httpx.get(url, params={"format": "geojson"}, headers=auth)
    assert geo.headers["content-type"].startswith("application/geo+json")
    assert geo.headers["content-disposition"] == f'attachment; filename="fieldapp-{team}-all.geojson"'
    [feature] = geo.json()["features"]
    assert feature["properties"]["team"] == team and "caller_phone" not in feature["properties"]
    assert "933 000 111" not in geo.text

    lines = httpx.get(url, params={"format": "jsonl"}, headers=auth)
    assert lines.headers["content-type"] == "application/x-ndjson; charset=utf-8"
    assert lines.headers["content-disposition"] == f'attachment; filename="fieldapp-{team}-all.jsonl"'
    by_id = {r["id"]: r for r in map(json.loads, lines.text.splitlines())}
    assert (by_id[made["call"]]["team"], by_id[made["call"]]["delivered_by"]) == (team, made["second"])
    assert (by_id[made["named"]]["team"], by_id[made["named"]]["delivered_by"]) == (team, made["first"])
    assert by_id[made["call"]]["version"] == 2
    assert "caller_phone" not in by_id[made["call"]]["data"] and "notes" not in by_id[made["call"]]["data"]
    assert "name" not in by_id[made["named"]]["data"] and "933 000 111" not in lines.text

    whole = httpx.get(url, params={"format": "jsonl", "include_personal": "true"}, headers=auth).text
    by_id = {r["id"]: r for r in map(json.loads, whole.splitlines())}
    assert by_id[made["call"]]["data"]["caller_phone"] == PHONE and by_id[made["named"]]["data"]["name"] == NAME


def test_the_export_command_names_each_records_team_and_asks_for_personal_fields(server, team):
    other = team + "-other"
    made, theirs = _pushed(server, team), _pushed(server, other)

    lines = [json.loads(x) for x in server.cli("export", "--format", "jsonl").stdout.splitlines()]
    mine = {r["id"]: r for r in lines if r["team"] == team}
    assert set(mine) == {made["call"], made["named"]}
    assert {r["id"] for r in lines if r["team"] == other} == {theirs["call"], theirs["named"]}
    assert mine[made["call"]]["delivered_by"] == made["second"]
    assert not any("caller_phone" in r["data"] or "name" in r["data"] for r in lines)

    for fmt in ("csv", "geojson", "jsonl"):
        plain = server.cli("export", "--format", fmt, "--team", team)
        assert plain.returncode == 0 and "933 000 111" not in plain.stdout and "Demo Name" not in plain.stdout, fmt
        asked = server.cli("export", "--format", fmt, "--team", team, "--include-personal")
        assert "933 000 111" in asked.stdout and NAME in asked.stdout, fmt

    rows = _rows(server.cli("export", "--format", "csv").stdout)
    assert {r["team"] for r in rows} >= {team, other}  # an all-teams export splits again by team
    assert [r["team"] for r in _rows(server.cli("export", "--format", "csv", "--team", team).stdout)] == [team]

    bad = server.cli("export", "--day", "yesterday")
    assert bad.returncode == 2 and "'yesterday' is not a day" in bad.stderr and "Traceback" not in bad.stderr
