"""Personal fields only where needed, on SQLite and PostgreSQL, over real HTTP.

A volunteer's pull carries names, phone numbers, receivers and notes only of the
records its own device made; a lead's carries everything. A version from a device
that was never shown those fields keeps the server's values, whatever it sends.
"""

from __future__ import annotations

import httpx

from fieldapp.core.records import normalize
from sync.server.db import open_database
from tests.records_factory import call_data, call_record, recovery_data, recovery_record

PHONE = "+963 933 111 222"
NAME = "Ahmad Test - أحمد"
RECEIVER = "Dr. Receiver"
NOTES = "neighbour Samir called it in"


def pull_text(server, token: str) -> tuple[str, list[dict], dict]:
    """Every page from 0: (the raw answers, the records, the conflicts' server records)."""
    texts, records, conflicts, cursor = [], [], {}, "0"
    while True:
        response = httpx.get(server.url + "/api/v1/pull", params={"since": cursor, "limit": 500},
                             headers={"Authorization": f"Bearer {token}"}, timeout=30)
        assert response.status_code == 200, response.text
        texts.append(response.text)
        page = response.json()
        records += page["records"]
        conflicts.update({c["id"]: c["server_record"] for c in page["conflicts"]})
        cursor = page["cursor"]
        if not page["more"]:
            return "".join(texts), records, conflicts


def latest(records: list[dict]) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for record in records:
        if record["id"] not in out or record["version"] >= out[record["id"]]["version"]:
            out[record["id"]] = record
    return out


def edit(record: dict, device_id: str, **data) -> dict:
    return {**record, "version": record["version"] + 1, "base_version": record["version"], "device_id": device_id,
            "data": {**record["data"], **data}}


def made_by_a(server, team: str) -> tuple[str, dict, dict]:
    """Volunteer a's call (with a caller's phone and notes) and its recovery (a name and a receiver)."""
    a = server.enroll(team, "a-" + team)
    call = call_record(device_id="inst-a", data=call_data(caller_phone=PHONE, notes=NOTES))
    recovery = recovery_record(call["id"], device_id="inst-a", data=recovery_data(
        call["id"], name=NAME, handover={"to": "hospital", "receiver": RECEIVER, "place": "Jableh hospital"}))
    assert server.statuses(a, [call, recovery]) == ["accepted", "accepted"]
    return a, normalize(call), normalize(recovery)


def stored(server, team: str) -> dict[str, dict]:
    db = open_database(server.database_url)
    try:
        return {r["id"]: r for r in db.current_records(team)}
    finally:
        db.close()


def test_a_volunteers_pull_carries_no_other_devices_names_or_phone_numbers_and_a_leads_does(server, team):
    a, call, recovery = made_by_a(server, team)
    b = server.enroll(team, "b-" + team)
    own = recovery_record(call["id"], device_id="inst-b", data=recovery_data(call["id"], name="B's own name"))
    assert server.statuses(b, [own]) == ["accepted"]
    own = normalize(own)

    text, records, _ = pull_text(server, b)
    for private in (PHONE, NAME, RECEIVER, NOTES, "+963"):
        assert private not in text
    got = latest(records)
    assert got[call["id"]]["withheld"] == ["data.caller_phone", "data.notes"]
    assert "caller_phone" not in got[call["id"]]["data"] and "notes" not in got[call["id"]]["data"]
    assert got[recovery["id"]]["withheld"] == ["data.name", "data.handover.receiver"]
    assert got[recovery["id"]]["data"]["handover"] == {"to": "hospital", "place": "Jableh hospital"}
    assert got[own["id"]]["data"]["name"] == "B's own name" and "withheld" not in got[own["id"]]

    # a sees its own records whole; a lead sees everything, with no marker
    _, mine, _ = pull_text(server, a)
    assert latest(mine)[recovery["id"]]["data"]["name"] == NAME
    lead = server.enroll(team, "lead-" + team, "lead")
    text, records, _ = pull_text(server, lead)
    got = latest(records)
    assert got[call["id"]] == call and got[recovery["id"]] == recovery and got[own["id"]] == own
    assert "withheld" not in text


def test_a_volunteers_edit_of_such_a_record_leaves_the_servers_name_and_phone_as_they_were(server, team):
    _, call, recovery = made_by_a(server, team)
    b = server.enroll(team, "b-" + team)
    got = latest(pull_text(server, b)[1])
    # b's phone keeps the marker on its copy and sends it back with its edit
    call_edit = edit(got[call["id"]], "inst-b", status="dispatched")
    recovery_edit = edit(got[recovery["id"]], "inst-b", count=2)
    assert call_edit["withheld"] and recovery_edit["withheld"]
    assert server.statuses(b, [call_edit, recovery_edit]) == ["accepted", "accepted"]

    now = stored(server, team)
    assert now[call["id"]]["data"] == {**call["data"], "status": "dispatched"}
    assert now[recovery["id"]]["data"] == {**recovery["data"], "count": 2}
    assert "withheld" not in now[call["id"]] and "withheld" not in now[recovery["id"]]
    lead = server.enroll(team, "lead-" + team, "lead")
    assert latest(pull_text(server, lead)[1])[recovery["id"]]["data"]["name"] == NAME
    # the chain links the whole stored versions
    checked = server.cli("verify", "--team", team)
    assert checked.returncode == 0, checked.stdout + checked.stderr

    # b's own edit, pulled again from 0 (a phone installed again), still comes without them
    text, records, _ = pull_text(server, b)
    assert NAME not in text and PHONE not in text
    assert latest(records)[recovery["id"]]["version"] == 2


def test_no_marker_or_a_forged_one_erases_nothing_a_device_was_not_shown(server, team):
    a, call, recovery = made_by_a(server, team)
    b = server.enroll(team, "b-" + team)
    got = latest(pull_text(server, b)[1])
    dropped = edit(got[call["id"]], "inst-b", status="on_scene")
    del dropped["withheld"]  # as if the phone never knew: its version simply lacks them
    replaced = edit(got[recovery["id"]], "inst-b", name="Someone Else")
    del replaced["withheld"]
    assert server.statuses(b, [dropped, replaced]) == ["accepted", "accepted"]
    now = stored(server, team)
    assert now[call["id"]]["data"]["caller_phone"] == PHONE and now[call["id"]]["data"]["notes"] == NOTES
    assert now[recovery["id"]]["data"]["name"] == NAME

    # a field the server lacks may be added by anyone
    addition = edit(latest(pull_text(server, b)[1])[call["id"]], "inst-b", reported_people=3)
    addition["data"].pop("caller_phone", None)
    assert server.statuses(b, [addition]) == ["accepted"]
    other = call_record(device_id="inst-a")
    assert server.statuses(a, [other]) == ["accepted"]
    other = normalize(other)
    given = edit(latest(pull_text(server, b)[1])[other["id"]], "inst-b", caller_phone="+963 999")
    assert server.statuses(b, [given]) == ["accepted"]
    assert stored(server, team)[other["id"]]["data"]["caller_phone"] == "+963 999"


def test_what_cannot_be_kept_is_refused_naming_the_field(server, team):
    _, call, recovery = made_by_a(server, team)
    b = server.enroll(team, "b-" + team)
    got = latest(pull_text(server, b)[1])

    both = edit(got[recovery["id"]], "inst-b", name="Typed Anyway")
    no_handover = edit(got[recovery["id"]], "inst-b")
    del no_handover["data"]["handover"]
    unknown_base = {**edit(got[call["id"]], "inst-b"), "version": 9, "base_version": 8}
    new_record = {**call_record(device_id="inst-b"), "withheld": ["data.caller_phone"]}
    response = server.push(b, [both, no_handover, unknown_base, new_record])
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["rejected"] * 4
    assert results[0]["errors"] == [{"field": "withheld", "message": "names data.name, which this version carries too: "
                                                                  "a field withheld from this device keeps the server's value"}]
    assert results[1]["errors"][0]["field"] == "data.handover" and "receiver" in results[1]["errors"][0]["message"]
    assert results[2]["errors"][0]["field"] == "withheld" and "version 8" in results[2]["errors"][0]["message"]
    assert "new record withholds nothing" in results[3]["errors"][0]["message"]
    assert stored(server, team)[recovery["id"]] == recovery


def test_a_conflicts_server_record_is_shown_to_a_volunteer_without_them(server, team):
    a, call, _ = made_by_a(server, team)
    b = server.enroll(team, "b-" + team)
    got = latest(pull_text(server, b)[1])
    assert server.statuses(a, [edit(call, "inst-a", status="dispatched")]) == ["accepted"]
    stale = edit(got[call["id"]], "inst-b", status="completed")  # builds on version 1: a conflict
    response = server.push(b, [stale])
    verdict, = response.json()["results"]
    assert verdict["status"] == "conflict"
    assert verdict["server_record"]["withheld"] == ["data.caller_phone", "data.notes"]
    assert PHONE not in response.text and NOTES not in response.text
    text, _, conflicts = pull_text(server, b)
    assert conflicts[call["id"]]["withheld"] and PHONE not in text
    # the losing version is stored whole too: the lead resolving it sees every field
    lead = server.enroll(team, "lead-" + team, "lead")
    _, records, _ = pull_text(server, lead)
    assert all(r["data"]["caller_phone"] == PHONE for r in records if r["id"] == call["id"])


def test_an_operator_can_let_a_teams_volunteers_see_everything(server, team):
    _, _, recovery = made_by_a(server, team)
    b = server.enroll(team, "b-" + team)
    shown = server.cli("team", team)
    assert shown.returncode == 0 and "only the records their own device made" in shown.stdout
    opened = server.cli("team", team, "--volunteers-see-personal")
    assert opened.returncode == 0 and "every record of the team" in opened.stdout, opened.stderr
    assert latest(pull_text(server, b)[1])[recovery["id"]] == recovery
    closed = server.cli("team", team, "--volunteers-own-personal-only")
    assert closed.returncode == 0, closed.stderr
    assert NAME not in pull_text(server, b)[0]


def test_the_team_command_names_an_unknown_team_in_one_line(server):
    done = server.cli("team", "no-such-team", "--volunteers-see-personal")
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.strip() == "fieldapp-server: no device is enrolled in team 'no-such-team'"


def test_the_withheld_fields_are_the_personal_fields_the_schema_has():
    from fieldapp.core.exports import PERSONAL_DATA_FIELDS
    from fieldapp.core.records import CallData, PersonalField, RecoveryData
    from sync.server import chain

    paths = {field.value for field in PersonalField}
    assert paths <= set(chain.PERSONAL_PATHS)  # what a bundle leaves out covers what a pull withholds
    in_schema = {f"data.{name}" for name in PERSONAL_DATA_FIELDS
                 if name.split(".")[0] in CallData.model_fields or name.split(".")[0] in RecoveryData.model_fields}
    assert in_schema <= paths and "data.photos" in in_schema  # every personal field a record can hold


def test_a_leads_review_note_is_withheld_and_kept_through_a_volunteers_edit(server, team):
    _, _, recovery = made_by_a(server, team)
    lead = server.enroll(team, "lead-" + team, "lead")
    reviewed = {**recovery, "version": 2, "base_version": 1, "device_id": "inst-lead",
                "review": {"state": "flagged", "note": "ask the family of Ahmad again"}}
    assert server.statuses(lead, [reviewed]) == ["accepted"]
    b = server.enroll(team, "b-" + team)
    text, records, _ = pull_text(server, b)
    copy = latest(records)[recovery["id"]]
    assert "ask the family" not in text and copy["review"] == {"state": "flagged"}
    assert copy["withheld"] == ["data.name", "data.handover.receiver", "review.note"]
    # the volunteer keeps the lead's review, as it may; the server puts the note back
    same = edit(copy, "inst-b")  # its content unchanged: the review stays (an approval belongs to its content)
    assert server.statuses(b, [same]) == ["accepted"]
    assert stored(server, team)[recovery["id"]]["review"] == reviewed["review"]
    # a change of content goes back to the lead: stored unreviewed, note and all
    results = server.push(b, [edit({**same, "withheld": copy["withheld"]}, "inst-b", count=4)]).json()["results"]
    assert results[0]["status"] == "accepted" and results[0]["review_cleared"] is True
    assert "review" not in stored(server, team)[recovery["id"]]


# --- the maker is fixed by the first accepted version: a later push cannot claim a record ---------


def test_a_version_1_pushed_after_a_phones_first_version_2_does_not_make_its_sender_the_maker(server, team):
    # A phone that created and edited a call before syncing sends only its current version: 2, base 0.
    a = server.enroll(team, "a-" + team)
    call = {**call_record(device_id="inst-a", data=call_data(caller_phone=PHONE, notes=NOTES)), "version": 2}
    assert server.statuses(a, [call]) == ["accepted"]
    b = server.enroll(team, "b-" + team)
    seen = latest(pull_text(server, b)[1])[call["id"]]
    assert seen["withheld"] == ["data.caller_phone", "data.notes"]

    # b claims the id with its own version 1: stored, as a losing conflict version
    claim = call_record(id=call["id"], device_id="inst-b", data=call_data(status="completed"))
    response = server.push(b, [claim])
    verdict, = response.json()["results"]
    assert verdict["status"] == "conflict"
    assert PHONE not in response.text and NOTES not in response.text
    assert verdict["server_record"]["withheld"] == ["data.caller_phone", "data.notes"]
    text, records, conflicts = pull_text(server, b)
    assert PHONE not in text and NOTES not in text
    assert conflicts[call["id"]]["withheld"] == ["data.caller_phone", "data.notes"]

    # nor may b's edits change or erase them
    erased = edit(latest(records)[call["id"]], "inst-b", status="on_scene")
    del erased["withheld"]
    assert server.statuses(b, [erased]) == ["accepted"]
    changed = edit(erased, "inst-b", caller_phone="+963 000 000 000", notes="mine")
    assert server.statuses(b, [changed]) == ["accepted"]
    now = stored(server, team)[call["id"]]
    assert now["version"] == 4 and now["data"]["caller_phone"] == PHONE and now["data"]["notes"] == NOTES
    # a, the maker, still sees them
    assert latest(pull_text(server, a)[1])[call["id"]]["data"]["caller_phone"] == PHONE


def test_another_version_1_of_a_record_does_not_make_its_sender_the_maker(server, team):
    # Two version-1 rows of one record: the accepted one decides, whichever order the database reads them in.
    a = server.enroll(team, "a-" + team)
    calls = [call_record(device_id="inst-a", data=call_data(caller_phone=PHONE, notes=NOTES)) for _ in range(4)]
    assert server.statuses(a, calls) == ["accepted"] * 4
    b = server.enroll(team, "b-" + team)
    pull_text(server, b)
    # several of its own version 1 for each: one of them sorts before a's by hash
    claims = [call_record(id=c["id"], device_id="inst-b", data=call_data(status="completed", reported_people=n))
              for c in calls for n in range(1, 9)]
    response = server.push(b, claims)
    assert [r["status"] for r in response.json()["results"]] == ["conflict"] * len(claims)
    assert PHONE not in response.text and NOTES not in response.text
    text, records, conflicts = pull_text(server, b)
    assert PHONE not in text and NOTES not in text
    edits = []
    for call in calls:
        copy = conflicts[call["id"]]  # the server's version: a's
        assert copy["device_id"] == "inst-a"
        assert copy["withheld"] == ["data.caller_phone", "data.notes"]
        edits.append({**edit(copy, "inst-b", caller_phone="+963 000 000 000"), "withheld": ["data.notes"]})
    assert server.statuses(b, edits) == ["accepted"] * len(edits)
    assert all(r["data"]["caller_phone"] == PHONE and r["data"]["notes"] == NOTES
               for rid, r in stored(server, team).items())


# --- a version that changes the record's type ------------------------------------------------------


def test_a_version_that_turns_a_record_of_withheld_fields_into_another_type_is_refused_naming_type(server, team):
    a = server.enroll(team, "a-" + team)
    call = call_record(device_id="inst-a")
    recoveries = [recovery_record(call["id"], device_id="inst-a", data=recovery_data(call["id"], name=NAME))
                  for _ in range(2)]
    assert server.statuses(a, [call, *recoveries]) == ["accepted"] * 3
    b = server.enroll(team, "b-" + team)
    got = latest(pull_text(server, b)[1])
    turned = []
    for recovery, marked in zip(recoveries, (True, False)):
        copy = got[recovery["id"]]
        assert copy["withheld"] == ["data.name"]
        as_call = {**edit(copy, "inst-b"), "type": "call", "data": call_data(status="completed")}
        if not marked:
            del as_call["withheld"]  # blind either way: the base's name would be put back
        turned.append(as_call)
    response = server.push(b, turned)
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["rejected", "rejected"]
    assert all(r["errors"][0]["field"] == "type" for r in results), results
    assert NAME not in response.text
    now = stored(server, team)
    assert all(now[r["id"]] == normalize(r) for r in recoveries)


# --- the marker is never stored ---------------------------------------------------------------------


def test_an_empty_withheld_is_not_stored(server, team):
    lead = server.enroll(team, "lead-" + team, "lead")
    a = server.enroll(team, "a-" + team)
    call = {**call_record(device_id="inst-lead"), "withheld": []}
    own = {**call_record(device_id="inst-a"), "withheld": []}
    assert server.statuses(lead, [call]) == ["accepted"]
    assert server.statuses(a, [own]) == ["accepted"]
    edited = {**edit(normalize(call), "inst-lead", status="dispatched"), "withheld": []}
    assert server.statuses(lead, [edited]) == ["accepted"]
    now = stored(server, team)
    assert "withheld" not in now[call["id"]] and "withheld" not in now[own["id"]]
    assert "withheld" not in pull_text(server, lead)[0]
