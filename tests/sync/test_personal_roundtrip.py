"""Two real phones and a real server: the withheld marker goes round and erases nothing.

Phone a records a call with the caller's phone number and a recovery with a name.
Phone b (another volunteer) pulls them without those, its copy keeping `withheld`;
b's edit goes back with the marker and the server keeps a's values. b's own export
says the fields were withheld; a lead's phone gets everything.
"""

from __future__ import annotations

import json

from fieldapp.core import exports
from fieldapp.sync.session import run_pass
from sync.server.db import open_database
from tests.records_factory import call_data, recovery_data

PHONE = "+963 944 555 666"
NAME = "Khaled Test - خالد"


def test_a_phone_that_was_never_shown_a_name_keeps_the_marker_and_the_server_keeps_the_name(link, tmp_path):
    a = link.device(tmp_path / "a", direct=True)
    call = a.create_call(call_data(caller_phone=PHONE))
    recovery = a.create_recovery(recovery_data(call["id"], name=NAME))
    assert run_pass(a, tmp_path / "a").error is None

    b = link.device(tmp_path / "b", direct=True)
    assert run_pass(b, tmp_path / "b").error is None
    copy = b.get(recovery["id"]).record
    assert "name" not in copy["data"] and copy["withheld"] == ["data.name"]
    held = b"".join(path.read_bytes() for path in (tmp_path / "b").rglob("*") if path.is_file())
    assert NAME.encode() not in held and PHONE.encode() not in held  # nowhere on b's disk
    assert b.get(call["id"]).record["withheld"] == ["data.caller_phone"]

    # b's export says the name was withheld, not that there is none
    line = json.loads(exports.to_jsonl([copy], include_personal=True))
    assert line["withheld"] == ["data.name"]

    edited = b.edit(recovery["id"], data={**copy["data"], "count": 3})
    assert edited["withheld"] == ["data.name"] and "name" not in edited["data"]
    assert run_pass(b, tmp_path / "b").error is None
    assert b.get(recovery["id"]).state == "sent"

    db = open_database(link.server.database_url)
    try:
        now = {r["id"]: r for r in db.current_records(link.team)}
    finally:
        db.close()
    assert now[recovery["id"]]["version"] == 2
    assert now[recovery["id"]]["data"]["name"] == NAME and now[recovery["id"]]["data"]["count"] == 3
    assert "withheld" not in now[recovery["id"]]

    # a, who made it, pulls b's edit whole; so does a lead
    assert run_pass(a, tmp_path / "a").error is None
    assert a.get(recovery["id"]).record["data"] == {**recovery["data"], "count": 3}
    lead = link.device(tmp_path / "lead", role="lead", direct=True)
    assert run_pass(lead, tmp_path / "lead").error is None
    assert lead.get(recovery["id"]).record["data"]["name"] == NAME
    assert lead.get(call["id"]).record["data"]["caller_phone"] == PHONE
    for store in (a, b, lead):
        store.close()
