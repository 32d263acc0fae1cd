"""`verify` covers what the server reads that landed after the chain and the acts: `records.settled_by`.

A conflict a volunteer's device settled waits for a lead (migration 9; sync/server/verdicts.py
settled_by). verify derives each record's mark from the replay of its versions (who sent
each, that device's role as the operator's acts give it, whether it closed an open
conflict, its review) and names a records row whose settled_by was edited, set or cleared
in SQL, on SQLite and PostgreSQL (sync/server/derived.py).
"""

from __future__ import annotations

import pytest

from sync.server.db import Device
from tests.records_factory import call_record
from tests.server.test_chain import TEAM, db, edit, execute, run, url  # noqa: F401  (fixtures)
from tests.server.test_verify_acts import named

LEAD = Device("dev-a", TEAM, "lead")
VOLUNTEER = Device("dev-b", TEAM, "volunteer")
OTHER = Device("dev-c", TEAM, "volunteer")
APPROVED = {"state": "approved"}


def db_url(database) -> str:
    return getattr(database, "url", None) or f"sqlite:///{database.path}"


def statuses(database, device: Device, records: list[dict]) -> list[str]:
    return [s.outcome.value for s in database.push(device, records)]


def contested(database) -> tuple[dict, dict]:
    """A call the lead edited and another volunteer's phone changed the same field of: the conflict open."""
    call = call_record(device_id="inst-a")
    assert statuses(database, LEAD, [call]) == ["accepted"]
    mine = edit(call, status="completed")
    assert statuses(database, LEAD, [mine]) == ["accepted"]
    theirs = {**edit(call, status="cancelled"), "device_id": "inst-c"}
    assert statuses(database, OTHER, [theirs]) == ["conflict"]
    return call, mine


def settled(database) -> dict[str, str]:
    """Three records: one a volunteer settled (waiting for a lead), one settled then approved by the lead (cleared),
    one a volunteer's stale edit merged into (no conflict closed: no mark)."""
    for device in (LEAD, VOLUNTEER, OTHER):
        database.enroll(team=TEAM, device_id=device.device_id, role=device.role, token_hash=f"hash-{device.device_id}")
    assert statuses(database, VOLUNTEER, [call_record(device_id="inst-b")]) == ["accepted"]  # binds inst-b
    waiting, now = contested(database)
    assert statuses(database, VOLUNTEER, [{**edit(now, notes="counted again"), "device_id": "inst-b"}]) == ["accepted"]
    cleared, now = contested(database)
    settle = {**edit(now, notes="counted again"), "device_id": "inst-b"}
    assert statuses(database, VOLUNTEER, [settle]) == ["accepted"]
    assert statuses(database, LEAD, [{**edit(settle), "device_id": "inst-a", "review": APPROVED}]) == ["accepted"]
    merged = call_record(device_id="inst-a")
    assert statuses(database, LEAD, [merged]) == ["accepted"]
    assert statuses(database, LEAD, [edit(merged, status="completed")]) == ["accepted"]
    stale = {**edit(merged, notes="two more under the stairs"), "device_id": "inst-c"}
    assert statuses(database, OTHER, [stale]) == ["merged"]
    with database.transaction(write=False) as cur:
        cur.execute(database.sql("SELECT id, settled_by FROM records WHERE team = ?"), (TEAM,))
        marks = dict(cur.fetchall())
    assert (marks[waiting["id"]], marks[cleared["id"]], marks[merged["id"]]) == ("dev-b", None, None)
    return {"waiting": waiting["id"], "cleared": cleared["id"], "merged": merged["id"]}


def test_an_untouched_database_with_settlements_verifies_whole(db):  # noqa: F811
    settled(db)
    code, out = run("verify", "--database", db_url(db))
    assert code == 0, out


@pytest.mark.parametrize("which, value, says", [
    ("waiting", "dev-c", "settled_by 'dev-c', the chain gives 'dev-b'"),  # edited
    ("cleared", "dev-b", "settled_by 'dev-b', the chain gives None"),  # set after the lead's approval
    ("merged", "dev-c", "settled_by 'dev-c', the chain gives None"),  # set where no conflict was settled
    ("waiting", None, "settled_by None, the chain gives 'dev-b'"),  # cleared without a lead's review
])
def test_an_sql_edit_of_settled_by_is_named(db, which, value, says):  # noqa: F811
    made = settled(db)
    execute(db, "UPDATE records SET settled_by = ? WHERE team = ? AND id = ?", value, TEAM, made[which])
    named(db, "records row edited", made[which], says)
