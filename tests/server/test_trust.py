"""Who may send what, and odd input, over real HTTP on SQLite and on PostgreSQL.

- A review is a team lead's act: a volunteer's version keeps or drops the review of
  the version it builds on; one that sets its own is `rejected` on `review`.
- A device speaks only for itself: an installation `device_id` is bound to the
  enrolled device that first sent it; another enrolled device naming it is
  `rejected` on `device_id`. Pull says which enrolled device delivered each version.
- Odd input is a 4xx with a reason, never a 500.
"""

from __future__ import annotations

import json
import threading
import uuid

import httpx
import pytest

from fieldapp.core.protocol import VerdictStatus
from sync.server.db import migrations, open_database
from tests.records_factory import call_record, recovery_record

ACCEPTED, DUPLICATE, CONFLICT, REJECTED = (VerdictStatus.ACCEPTED.value, VerdictStatus.DUPLICATE.value,
                                           VerdictStatus.CONFLICT.value, VerdictStatus.REJECTED.value)
APPROVED = {"state": "approved"}
FLAGGED = {"state": "flagged", "note": "count of injured?"}


def edit(record: dict, **changes) -> dict:
    """The next version, built on `record`."""
    return {**record, "version": record["version"] + 1, "base_version": record["version"], **changes}


def unreviewed(record: dict) -> dict:
    return {k: v for k, v in record.items() if k != "review"}


def pull_page(server, token: str, since: str = "0", limit: int = 1000) -> httpx.Response:
    return httpx.get(server.url + "/api/v1/pull", params={"since": since, "limit": limit},
                     headers={"Authorization": f"Bearer {token}"}, timeout=30)


def current(server, team: str) -> dict[str, dict]:
    db = open_database(server.database_url)
    try:
        return {r["id"]: r for r in db.current_records(team)}
    finally:
        db.close()


# --- a review is a team lead's act ---------------------------------------------------------


def test_a_volunteers_new_record_with_a_review_of_its_own_is_rejected_on_review(server, team):
    volunteer = server.enroll(team)
    approved, plain, emptied = call_record(review=APPROVED), call_record(), call_record(review={"state": "unreviewed"})
    results = server.push(volunteer, [approved, plain, emptied]).json()["results"]
    assert [r["status"] for r in results] == [REJECTED, ACCEPTED, ACCEPTED]
    assert (results[0]["id"], results[0]["version"]) == (approved["id"], 1)
    assert [e["field"] for e in results[0]["errors"]] == ["review"] and "lead" in results[0]["errors"][0]["message"]
    assert results[1]["errors"] == []
    assert approved["id"] not in current(server, team)  # nothing stored
    # pushed again: still rejected, never stored
    assert server.statuses(volunteer, [approved]) == [REJECTED]
    assert approved["id"] not in current(server, team)


def test_a_volunteer_keeps_or_drops_a_leads_review_but_never_sets_another(server, team):
    lead, volunteer = server.enroll(team, role="lead"), server.enroll(team)
    call = call_record(device_id="phone-v")
    assert server.statuses(volunteer, [call]) == [ACCEPTED]
    approved = edit(call, device_id="phone-l", review=APPROVED)
    assert server.statuses(lead, [approved]) == [ACCEPTED]  # a lead may set any review

    kept = edit(approved, device_id="phone-v", data={**call["data"], "notes": "two more inside"})
    assert server.statuses(volunteer, [kept]) == [ACCEPTED]
    flagged = edit(kept, review=FLAGGED)
    results = server.push(volunteer, [flagged]).json()["results"]
    assert results[0]["status"] == REJECTED and [e["field"] for e in results[0]["errors"]] == ["review"]
    dropped = unreviewed(edit(kept))
    assert server.statuses(volunteer, [dropped]) == [ACCEPTED]  # back to the lead
    assert "review" not in current(server, team)[call["id"]]
    # a lead flags it; a volunteer keeping the flag, note and all, is fine
    flagged_by_lead = edit(dropped, device_id="phone-l", review=FLAGGED)
    assert server.statuses(lead, [flagged_by_lead]) == [ACCEPTED]
    assert server.statuses(volunteer, [edit(flagged_by_lead, device_id="phone-v")]) == [ACCEPTED]
    assert current(server, team)[call["id"]]["review"] == FLAGGED


def test_in_one_push_a_volunteers_edit_may_not_approve_the_version_before_it(server, team):
    volunteer = server.enroll(team)
    call = call_record()
    second = edit(call, review=APPROVED)
    assert server.statuses(volunteer, [call, second, recovery_record(call["id"])]) == [ACCEPTED, REJECTED, ACCEPTED]
    assert current(server, team)[call["id"]]["version"] == 1


def test_on_a_stale_base_a_volunteer_keeps_the_review_of_that_base(server, team):
    lead, volunteer = server.enroll(team, role="lead"), server.enroll(team)
    call = call_record(device_id="phone-l", review=APPROVED)
    assert server.statuses(lead, [call, edit(call, review=FLAGGED)]) == [ACCEPTED, ACCEPTED]
    stale = edit(call, device_id="phone-v", data={**call["data"], "notes": "late"})  # built on version 1: approved
    # Not refused: it keeps its base's review. Its content changed, so it is stored unreviewed and merged
    # with the lead's flag (which only the review changed): the note taken, the merge back with the lead.
    assert server.statuses(volunteer, [stale]) == [ACCEPTED]
    now = current(server, team)[call["id"]]
    assert now["data"]["notes"] == "late" and "review" not in now and now["version"] == 3
    wrong = edit(call, device_id="phone-v", version=3, review=FLAGGED)  # the base's review was approved
    assert server.statuses(volunteer, [wrong]) == [REJECTED]


# --- a device speaks only for itself --------------------------------------------------------


def test_a_device_may_not_send_as_an_installation_another_device_sent_first(server, team):
    a, b = server.enroll(team, device="ph-a-" + team), server.enroll(team, device="ph-b-" + team)
    mine = call_record(device_id="inst-a")
    assert server.statuses(a, [mine]) == [ACCEPTED]
    forged = call_record(device_id="inst-a")
    results = server.push(b, [forged, call_record(device_id="inst-b")]).json()["results"]
    assert [r["status"] for r in results] == [REJECTED, ACCEPTED]
    assert [e["field"] for e in results[0]["errors"]] == ["device_id"]
    assert forged["id"] not in current(server, team)
    # editing a's record is fine, as b's own installation; a's exact version again is a duplicate
    assert server.statuses(b, [edit(mine, device_id="inst-b")]) == [ACCEPTED]
    assert server.statuses(b, [mine]) == [DUPLICATE]
    # and b may not write an edit as a's installation either
    assert server.statuses(b, [edit(mine, device_id="inst-a", version=3, base_version=2)]) == [REJECTED]


def test_both_refusals_together(server, team):
    a, b = server.enroll(team), server.enroll(team)
    assert server.statuses(a, [call_record(device_id="inst-a")]) == [ACCEPTED]
    results = server.push(b, [call_record(device_id="inst-a", review=APPROVED)]).json()["results"]
    assert results[0]["status"] == REJECTED
    assert sorted(e["field"] for e in results[0]["errors"]) == ["device_id", "review"]


def test_an_installation_is_bound_within_its_team_only(server, team):
    here, there = server.enroll(team), server.enroll(team + "-x")
    assert server.statuses(here, [call_record(device_id="inst-shared")]) == [ACCEPTED]
    assert server.statuses(there, [call_record(device_id="inst-shared")]) == [ACCEPTED]


def test_revoked_and_enrolled_again_under_its_name_a_device_keeps_its_installations(server, team):
    name = "phone-" + uuid.uuid4().hex[:8]
    old = server.enroll(team, device=name, via_cli=True)
    other = server.enroll(team)
    call = call_record(device_id="inst-revoked")
    assert server.statuses(old, [call]) == [ACCEPTED]
    assert server.cli("revoke", "--device", name).returncode == 0
    assert server.push(old, [edit(call)]).status_code == 401
    new = server.enroll(team, device=name, via_cli=True)
    assert server.statuses(new, [edit(call), call_record(device_id="inst-revoked")]) == [ACCEPTED, ACCEPTED]
    assert server.statuses(other, [call_record(device_id="inst-revoked")]) == [REJECTED]


def test_two_devices_naming_one_new_installation_at_once_one_wins(server, team):
    tokens = [server.enroll(team, device=f"race-{n}-{team}") for n in range(2)]
    for round_ in range(8):
        installation = f"inst-race-{round_}"
        batches = [[call_record(device_id=installation) for _ in range(20)] for _ in tokens]
        start = threading.Barrier(len(tokens))
        answers: list = [None] * len(tokens)

        def push(n: int) -> None:
            start.wait()
            answers[n] = server.statuses(tokens[n], batches[n])

        threads = [threading.Thread(target=push, args=(n,)) for n in range(len(tokens))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        outcomes = sorted(tuple(set(a)) for a in answers)
        assert outcomes == [(ACCEPTED,), (REJECTED,)], (round_, answers)
    db = open_database(server.database_url)
    try:
        with db.transaction(write=False) as cur:
            cur.execute(db.sql("SELECT device_id, COUNT(*) FROM installations WHERE team = ? GROUP BY device_id"), (team,))
            assert sorted(cur.fetchall()) == [(f"inst-race-{r}", 1) for r in range(8)]
    finally:
        db.close()


def test_pull_names_the_team_and_the_enrolled_device_that_delivered_each_version(server, team):
    a_name, b_name = "deliver-a-" + team, "deliver-b-" + team
    a, b = server.enroll(team, device=a_name), server.enroll(team, device=b_name)
    call = call_record(device_id="inst-a")
    server.statuses(a, [call, recovery_record(call["id"], device_id="inst-a")])
    server.statuses(b, [edit(call, device_id="inst-b"), call_record(device_id="inst-b", review=APPROVED)])
    page = pull_page(server, b).json()
    assert page["team"] == team
    assert page["delivered_by"] == [a_name, a_name, b_name]
    assert len(page["delivered_by"]) == len(page["records"])
    # page by page too
    first = pull_page(server, a, limit=2).json()
    rest = pull_page(server, a, since=first["cursor"], limit=2).json()
    assert (first["delivered_by"], rest["delivered_by"]) == ([a_name, a_name], [b_name])


def test_the_phone_client_reads_the_new_page(server, team):
    from fieldapp.sync.client import SyncClient

    token = server.enroll(team, device="client-" + team)
    server.statuses(token, [call_record()])
    client = SyncClient(server.url, token)
    try:
        page = client.pull("0", 10)
    finally:
        client.close()
    assert page.team == team and page.delivered_by == ["client-" + team] and len(page.records) == 1


# --- the migration binds what is stored already ----------------------------------------------


@pytest.fixture
def fresh_url(request, tmp_path, database_url):
    if database_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'fresh.db'}"
    return request.getfixturevalue("postgres_database")()


def test_the_migration_binds_each_stored_installation_to_its_first_sender(fresh_url, monkeypatch):
    with monkeypatch.context() as m:
        m.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS[:1])
        db = open_database(fresh_url)
    try:
        rows = [  # (team, id, version, seq, installation, sent by)
            ("t1", "r1", 1, 1, "inst-x", "enrolled-late"),  # seq 1 is first, though another row is older in id
            ("t1", "r2", 1, 2, "inst-x", "enrolled-other"),
            ("t1", "r3", 1, 3, "inst-y", "enrolled-other"),
            ("t2", "r1", 1, 1, "inst-x", "enrolled-t2"),
        ]
        with db.transaction(write=True) as cur:
            for team_, rid, version, seq, inst, sender in rows:
                cur.execute(db.sql("INSERT INTO revisions (team, id, version, hash, seq, losing, device_id, sent_by, "
                                   "received_at, record) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
                            (team_, rid, version, f"h{seq}", seq, False, inst, sender, f"2026-11-25T10:0{seq}:00", "{}"))
        assert db.migrate() == [n for n, *_ in migrations.MIGRATIONS[1:]]  # 2 and any later
        with db.transaction(write=False) as cur:
            cur.execute("SELECT team, device_id, enrolled_device FROM installations ORDER BY team, device_id")
            assert [tuple(r) for r in cur.fetchall()] == [
                ("t1", "inst-x", "enrolled-late"), ("t1", "inst-y", "enrolled-other"), ("t2", "inst-x", "enrolled-t2")]
        assert db.migrate() == []
    finally:
        db.close()


# --- odd input: a 4xx with a reason, never a 500 ---------------------------------------------


@pytest.mark.parametrize("since", [
    "²", "٣", "１", "³⁴", "٠", "-1", "", " 1", "1 ", "+1", "1e3", "0x10", "1.0", "１２", "1_000",
])
def test_an_odd_cursor_is_a_400_with_a_reason(server, since):
    token = server.enroll("team-odd-cursor")
    response = pull_page(server, token, since=since)
    assert response.status_code == 400, (since, response.status_code, response.text)
    assert "since" in response.json()["detail"]


@pytest.mark.parametrize("since", [str(2**63), str(2**64), "9" * 20, "1" * 5000])
def test_a_cursor_too_long_to_be_one_is_a_4xx_naming_since(server, since):
    token = server.enroll("team-odd-cursor")
    response = pull_page(server, token, since=since)
    assert 400 <= response.status_code < 500, (since, response.status_code, response.text)
    assert "since" in response.text


def test_the_largest_cursor_the_route_takes_is_an_empty_page(server):
    token = server.enroll("team-odd-cursor")
    page = pull_page(server, token, since="9" * 18).json()
    assert page["records"] == [] and page["cursor"] == "9" * 18 and page["more"] is False
    assert pull_page(server, token, since="0" * 17 + "7").status_code == 200


def test_a_cursor_past_the_databases_integers_is_refused_before_it_reaches_them():
    from fastapi import HTTPException

    from sync.server.routes.pull import MAX_CURSOR, _cursor

    assert _cursor(str(MAX_CURSOR)) == 2**63 - 1
    with pytest.raises(HTTPException) as refused:
        _cursor(str(MAX_CURSOR + 1))
    assert refused.value.status_code == 400 and "out of range" in refused.value.detail


@pytest.mark.parametrize("limit", ["9" * 5000, str(2**63), "-1", "0", "²", "abc", "1.5"])
def test_an_odd_limit_is_a_4xx_with_a_reason(server, limit):
    token = server.enroll("team-odd-cursor")
    response = httpx.get(server.url + "/api/v1/pull", params={"since": "0", "limit": limit},
                         headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert 400 <= response.status_code < 500, (limit, response.status_code, response.text)
    assert "limit" in response.text


@pytest.mark.parametrize("compress", [False, True])
@pytest.mark.parametrize("field", ["version", "reported_people"])
def test_an_integer_literal_too_long_for_python_is_refused_for_that_reason(server, team, compress, field):
    token = server.enroll(team)
    record = call_record()
    if field == "version":
        record["version"] = 123454321
    else:
        record["data"]["reported_people"] = 123454321
    raw = json.dumps({"records": [call_record(), record]}).replace("123454321", "7" * 5000).encode()
    response = server.push(token, [], raw=raw, compress=compress)
    assert response.status_code == 400, response.text
    detail = response.json()["detail"]
    assert "number" in detail and "too long" in detail and "UTF-8" not in detail
    assert server.pull_all(token)[0] == []  # nothing stored


def test_a_large_number_a_field_cannot_hold_is_a_rejected_verdict_on_that_field(server, team):
    token = server.enroll(team)
    big = call_record(version=10**30)
    results = server.push(token, [big, call_record()]).json()["results"]
    assert [r["status"] for r in results] == [REJECTED, ACCEPTED]
    assert [e["field"] for e in results[0]["errors"]] == ["version"]


def test_a_lone_surrogate_anywhere_in_a_record_is_a_rejected_verdict_never_a_500(server, team):
    token = server.enroll(team)
    as_id = b'{"records": [{"id": "\\ud800", "type": "call"}, {"id": "\\udfff"}]}'
    response = server.push(token, [], raw=as_id)
    assert response.status_code == 200, response.text
    assert [(r["id"], r["status"]) for r in response.json()["results"]] == [(None, REJECTED), (None, REJECTED)]
    record = call_record()
    record["data"]["notes"] = "SURROGATE"
    raw = json.dumps({"records": [record]}).replace("SURROGATE", "\\udc80").encode()
    results = server.push(token, [], raw=raw).json()["results"]
    assert results[0]["status"] == REJECTED and [e["field"] for e in results[0]["errors"]] == ["data.notes"]


@pytest.mark.parametrize("query", ["since=%ED%A0%80", "since=%FF", "since=%00", "limit=%FF",
                                   "since=" + "%FF" * 30])
def test_odd_bytes_in_the_query_are_a_4xx(server, query):
    token = server.enroll("team-odd-cursor")
    response = httpx.get(server.url + "/api/v1/pull?" + query, headers={"Authorization": f"Bearer {token}"})
    assert 400 <= response.status_code < 500, (query, response.status_code, response.text)


def test_the_phone_reads_a_page_from_a_server_older_than_the_new_fields_and_refuses_a_misaligned_one():
    from pydantic import ValidationError

    from fieldapp.core.protocol import PullResponse

    old = PullResponse.model_validate({"records": [{"id": "x"}], "cursor": "3", "more": False})
    assert (old.team, old.delivered_by) == ("", [])
    with pytest.raises(ValidationError):
        PullResponse.model_validate({"team": "t", "records": [{"id": "x"}], "delivered_by": ["a", "b"],
                                     "cursor": "3", "more": False})


def test_a_phone_enrolled_again_under_a_new_name_moves_its_binding_only_by_the_operator(server, team):
    old_name, new_name = ("phone-" + uuid.uuid4().hex[:8] for _ in range(2))
    old = server.enroll(team, device=old_name, via_cli=True)
    call = call_record(device_id="inst-moved")
    assert server.statuses(old, [call]) == [ACCEPTED]
    assert server.cli("revoke", "--device", old_name).returncode == 0
    # a teammate cannot take the revoked device's installation
    teammate = server.enroll(team)
    assert server.statuses(teammate, [edit(call, notes="forged")]) == [REJECTED]
    # the operator enrolls the phone again under a new name, naming its installation
    made = server.cli("enroll", "--team", team, "--device", new_name, "--installation", "inst-moved")
    assert made.returncode == 0, made.stderr
    new = made.stdout.strip().splitlines()[-1]
    assert server.statuses(new, [edit(call)]) == [ACCEPTED]
    # and it stays with the new device: the old name enrolled again does not take it back
    again = server.enroll(team, device=old_name, via_cli=True)
    assert server.statuses(again, [call_record(device_id="inst-moved")]) == [REJECTED]


def test_a_token_never_starts_with_a_dash():
    """A token starting with "-" would be read as an option by a command line (`fieldapp enroll URL TOKEN`)."""
    from sync.server.auth import new_token

    assert not any(new_token().startswith("-") for _ in range(2000))  # about 31 of 2000 did before
