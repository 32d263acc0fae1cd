"""`verify` covers every table a summary, an export or a pull reads, not only the chained revisions.

Each stored row is edited directly in SQL, on SQLite and PostgreSQL; `fieldapp-server
verify` must exit 1 and name the table and the record (sync/server/derived.py).
"""

from __future__ import annotations

import json

import pytest

from sync.server.db import Device
from tests.records_factory import call_record, recovery_record
from tests.server.test_chain import TEAM, db, edit, execute, run, url  # noqa: F401  (fixtures)


def stored(db) -> dict:  # noqa: F811
    """A team with a recovery of count 7 (tagged), an edited call, and a call in conflict."""
    lead, other = Device("dev-a", TEAM, "lead"), Device("dev-b", TEAM, "volunteer")
    db.enroll(team=TEAM, device_id="dev-a", role="lead", token_hash="hash-a")
    db.enroll(team=TEAM, device_id="dev-b", role="volunteer", token_hash="hash-b")
    call = call_record(device_id="inst-a")
    recovery = recovery_record(call["id"], device_id="inst-a")
    recovery["data"].update(count=7, tag="T-1")
    second = recovery_record(call["id"], device_id="inst-a")
    second["data"].update(tag="T-2")
    contested = call_record(device_id="inst-a")
    assert [s.outcome.value for s in db.push(lead, [call, recovery, second, edit(call, status="dispatched"),
                                                     contested])] == ["accepted"] * 5
    theirs = {**edit(contested, status="cancelled"), "device_id": "inst-b"}
    mine = edit(contested, status="completed")
    assert [s.outcome.value for s in db.push(lead, [mine])] == ["accepted"]
    assert [s.outcome.value for s in db.push(other, [theirs])] == ["conflict"]
    code, out = run("verify", "--database", db_url(db))
    assert code == 0, out
    return {"call": call, "recovery": recovery, "second": second, "contested": contested}


def db_url(db) -> str:  # noqa: F811
    return getattr(db, "url", None) or f"sqlite:///{db.path}"


def named(db, *words: str) -> str:  # noqa: F811
    code, out = run("verify", "--database", db_url(db))
    assert code == 1, out
    assert "BROKEN" in out
    for word in words:
        assert word in out, out
    return out


def test_a_count_edited_in_the_records_table_is_named(db):  # noqa: F811
    made = stored(db)
    execute(db, "UPDATE records SET record = replace(record, '\"count\":7', '\"count\":700') WHERE team = ?", TEAM)
    assert 700 in [r["data"].get("count") for r in db.current_records(TEAM)]  # what a summary would read
    named(db, "records row edited", made["recovery"]["id"], "record is not the current version")


def test_a_records_row_rolled_back_to_an_earlier_version_is_named(db):  # noqa: F811
    made = stored(db)
    execute(db, "UPDATE records SET (version, hash, record) = (SELECT version, hash, record FROM revisions v "
                "WHERE v.team = records.team AND v.id = records.id AND v.version = 1) WHERE team = ? AND id = ?",
            TEAM, made["call"]["id"])
    named(db, "records row edited", made["call"]["id"], "version 1, the chain gives 2")


def test_a_conflict_cleared_in_the_records_table_is_named(db):  # noqa: F811
    made = stored(db)
    execute(db, "UPDATE records SET in_conflict = ? WHERE team = ? AND id = ?", False, TEAM, made["contested"]["id"])
    named(db, "records row edited", made["contested"]["id"], "in_conflict False")


def test_a_records_row_deleted_or_added_is_named(db):  # noqa: F811
    made = stored(db)
    execute(db, "DELETE FROM records WHERE team = ? AND id = ?", TEAM, made["second"]["id"])
    named(db, "records row edited", made["second"]["id"], "deleted")


def test_a_records_row_added_is_named(db):  # noqa: F811
    stored(db)
    forged = recovery_record(device_id="inst-a")
    execute(db, "INSERT INTO records (team, id, version, hash, type, record, in_conflict, seq) "
                "VALUES (?, ?, 1, 'x', 'recovery', ?, ?, 1)", TEAM, forged["id"], json.dumps(forged), False)
    named(db, "records row edited", forged["id"], "added")


@pytest.mark.parametrize("column, value, words", [
    ("hash", "0" * 64, "hash column"),
    ("device_id", "inst-z", "device_id column"),
    ("losing", True, "losing column"),
])
def test_a_revisions_column_the_link_does_not_cover_is_named(db, column, value, words):  # noqa: F811
    made = stored(db)
    execute(db, f"UPDATE revisions SET {column} = ? WHERE team = ? AND id = ? AND version = 1", value, TEAM,
            made["call"]["id"])
    named(db, "revisions row edited", made["call"]["id"], words)


def test_a_tag_moved_deleted_or_added_is_named(db):  # noqa: F811
    made = stored(db)
    execute(db, "UPDATE tags SET record_id = ? WHERE team = ? AND tag = 'T-1'", made["second"]["id"], TEAM)
    named(db, "tags row edited", made["second"]["id"], "T-1")


def test_a_tag_row_deleted_is_named(db):  # noqa: F811
    made = stored(db)
    execute(db, "DELETE FROM tags WHERE team = ? AND tag = 'T-2'", TEAM)
    named(db, "tags row edited", made["second"]["id"], "deleted")


def test_a_tag_row_added_is_named(db):  # noqa: F811
    made = stored(db)
    execute(db, "INSERT INTO tags (team, tag, record_id) VALUES (?, 'T-9', ?)", TEAM, made["call"]["id"])
    named(db, "tags row edited", made["call"]["id"], "T-9")


def test_a_records_type_column_edited_is_named(db):  # noqa: F811
    made = stored(db)
    execute(db, "UPDATE records SET type = 'call' WHERE team = ? AND id = ?", TEAM, made["recovery"]["id"])
    named(db, "records row edited", made["recovery"]["id"], "type call, the chain gives recovery")
