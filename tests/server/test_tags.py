"""A recovery's tag is unique among its team's recoveries, over HTTP on SQLite and PostgreSQL.

A second use is `rejected` on `data.tag`, naming the record that holds it; a new
version of the holder keeps it; a record that changes or drops its tag, or is withdrawn, frees it;
two pushes at once cannot both take one tag (the check runs under the team's lock).
"""

from __future__ import annotations

import json
import threading
from contextlib import contextmanager

import pytest

from sync.server.db import Device, migrations, open_database
from sync.server.verdicts import Refusal, tag_refusal
from tests.records_factory import call_record, recovery_record


def tagged(tag: str | None, call_id: str | None = None, **changes) -> dict:
    record = recovery_record(call_id, **changes)
    if tag is not None:
        record["data"]["tag"] = tag
    return record


def edit(record: dict, **data) -> dict:
    return {**record, "version": record["version"] + 1, "base_version": record["version"],
            "data": {k: v for k, v in {**record["data"], **data}.items() if v is not None}}


def test_the_rule_alone():
    assert tag_refusal(record_id="a", tag=None, holder="b") is None
    assert tag_refusal(record_id="a", tag="T1", holder=None) is None
    assert tag_refusal(record_id="a", tag="T1", holder="a") is None
    refusal = tag_refusal(record_id="a", tag="T1", holder="b")
    assert isinstance(refusal, Refusal) and refusal.field == "data.tag" and "record b" in refusal.message


def test_a_second_use_of_a_tag_is_rejected_naming_the_record_that_holds_it(server, team):
    token = server.enroll(team)
    first, second = tagged("JBL-001"), tagged("JBL-001")
    assert server.statuses(token, [first]) == ["accepted"]
    [result] = server.push(token, [second]).json()["results"]
    assert result["status"] == "rejected" and result["id"] == second["id"]
    [error] = result["errors"]
    assert error["field"] == "data.tag" and first["id"] in error["message"] and "JBL-001" in error["message"]
    # another team may use the same tag
    other = server.enroll(f"{team}-other")
    assert server.statuses(other, [tagged("JBL-001")]) == ["accepted"]


def test_within_one_push_the_second_record_with_a_tag_is_rejected_and_the_rest_stored(server, team):
    token = server.enroll(team)
    a, b, c = tagged("JBL-002"), tagged("JBL-002"), tagged("JBL-003")
    results = server.push(token, [a, b, c]).json()["results"]
    assert [r["status"] for r in results] == ["accepted", "rejected", "accepted"]
    assert a["id"] in results[1]["errors"][0]["message"]


def test_a_new_version_keeps_its_tag_and_a_changed_tag_frees_the_old_one(server, team):
    token = server.enroll(team)
    holder = tagged("JBL-010")
    assert server.statuses(token, [holder]) == ["accepted"]
    kept = edit(holder, outcome="injured")
    assert server.statuses(token, [kept]) == ["accepted"]  # the same record may keep its tag
    moved = edit(kept, tag="JBL-011")
    # in one push: the holder moves to a new tag, then another record takes the freed one
    taker = tagged("JBL-010")
    assert server.statuses(token, [moved, taker]) == ["accepted", "accepted"]
    [late] = server.push(token, [tagged("JBL-011")]).json()["results"]
    assert late["status"] == "rejected" and holder["id"] in late["errors"][0]["message"]
    dropped = edit(moved, tag=None)
    assert server.statuses(token, [dropped, tagged("JBL-011")]) == ["accepted", "accepted"]


def test_a_recovery_withdrawn_as_entered_in_error_frees_its_tag(server, team):
    token = server.enroll(team)
    wrong = tagged("JBL-030")  # recorded under the wrong call
    assert server.statuses(token, [wrong]) == ["accepted"]
    right = tagged("JBL-030")
    assert server.statuses(token, [right]) == ["rejected"]
    withdrawn = edit(wrong, withdrawn=True)
    # withdrawn, then the right record takes the tag, in one push
    assert server.statuses(token, [withdrawn, right]) == ["accepted", "accepted"]
    # taken back out of withdrawal, it may not hold a tag the other record holds now
    [back] = server.push(token, [edit(withdrawn, withdrawn=False)]).json()["results"]
    assert back["status"] == "rejected" and back["errors"][0]["field"] == "data.tag" and right["id"] in back["errors"][0]["message"]
    assert server.statuses(token, [edit(withdrawn, withdrawn=False, tag=None)]) == ["accepted"]


def test_a_conflicting_version_may_not_take_another_records_tag(server, team):
    token = server.enroll(team)
    holder, other = tagged("JBL-020"), tagged("JBL-021")
    assert server.statuses(token, [holder, other]) == ["accepted", "accepted"]
    assert server.statuses(token, [edit(other, outcome="injured")]) == ["accepted"]
    stale = edit(other, tag="JBL-020")  # built on version 1: a conflict, were its tag free
    [result] = server.push(token, [stale]).json()["results"]
    assert result["status"] == "rejected" and result["errors"][0]["field"] == "data.tag"
    # Its tag free, the same stale edit merges (another field than the outcome changed); one that changes the
    # outcome too is a conflict.
    assert server.statuses(token, [edit(other, outcome="rescued")]) == ["conflict"]


def test_two_pushes_at_once_cannot_both_take_one_tag(server, team):
    tokens = [server.enroll(team) for _ in range(6)]
    records = [tagged("JBL-RACE", device_id=f"inst-race-{n}") for n in range(6)]
    barrier = threading.Barrier(len(tokens))
    outcomes: list[str] = []

    def push(n: int) -> None:
        barrier.wait()
        outcomes.extend(server.statuses(tokens[n], [records[n]]))

    threads = [threading.Thread(target=push, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["accepted"] + ["rejected"] * 5


@pytest.fixture
def fresh_url(request, tmp_path, database_url):
    if database_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'fresh.db'}"
    return request.getfixturevalue("postgres_database")()


# Migrations the push of this version needs whatever came before (6: the link's format on each row;
# 7: whether the team's volunteers see personal fields, read for the conflicts a push answers with;
# 9: who settled a record's conflict, read and written with each current version).
PUSH_NEEDS = (6, 7, 9)


@contextmanager
def migrations_up_to(last: int, *, pushing: bool = False):
    """Within the block, the migrations a server of an earlier version knew: up to `last`
    (`pushing`: and those this version's push needs, to push into that schema)."""
    also = PUSH_NEEDS if pushing else ()
    with pytest.MonkeyPatch.context() as m:
        m.setattr(migrations, "MIGRATIONS", [step for step in migrations.MIGRATIONS if step[0] <= last or step[0] in also])
        yield


def store_as_before_the_rule(db, team: str, stored) -> None:
    """(seq, record) rows written straight into `records`, as a server before migration 4 could leave them."""
    with db.transaction(write=True) as cur:
        for seq, record in stored:
            cur.execute(db.sql("INSERT INTO records (team, id, version, hash, type, record, in_conflict, seq) "
                               "VALUES (?, ?, ?, ?, ?, ?, ?, ?)"),
                        (team, record["id"], record["version"], f"h{seq}", record["type"], json.dumps(record), False, seq))


def held_tags(db) -> list[tuple[str, str]]:
    with db.transaction(write=False) as cur:
        cur.execute("SELECT tag, record_id FROM tags ORDER BY tag")
        return [tuple(r) for r in cur.fetchall()]


def test_the_migration_fills_the_tags_of_current_recoveries(fresh_url, monkeypatch):
    with migrations_up_to(3):
        db = open_database(fresh_url)
    try:
        # Before the rule a tag could be used twice: the first stored (by seq) keeps it.
        # A withdrawn recovery holds none.
        first, twice, changed, call = tagged("M-1"), tagged("M-1"), edit(tagged("M-2"), tag="M-3"), call_record()
        withdrawn = edit(tagged("M-4"), withdrawn=True)
        store_as_before_the_rule(db, "t-m", ((2, twice), (1, first), (3, changed), (3, call), (4, withdrawn)))
        monkeypatch.setattr(migrations, "BATCH", 1)
        with migrations_up_to(5, pushing=True):  # the tag migrations, and those the push below needs
            assert db.migrate() == [4, 5, *PUSH_NEEDS]
        assert held_tags(db) == [("M-1", first["id"]), ("M-3", changed["id"])]
        who = Device("dev-m", "t-m", "volunteer")
        db.enroll(team="t-m", device_id="dev-m", role="volunteer", token_hash="hash-t-m")
        results = db.push(who, [tagged("M-2"), tagged("M-3")])
        assert [s.outcome.value for s in results] == ["accepted", "rejected"]
        assert changed["id"] in results[1].refusals[0].message
    finally:
        db.close()


def test_the_migration_frees_the_tags_that_withdrawn_recoveries_held(fresh_url):
    with migrations_up_to(4, pushing=True):
        db = open_database(fresh_url)
    try:
        who = Device("dev-w", "t-w", "volunteer")
        db.enroll(team="t-w", device_id="dev-w", role="volunteer", token_hash="hash-t-w")
        wrong, kept = tagged("W-1"), tagged("W-2")
        assert [s.outcome.value for s in db.push(who, [wrong, kept, edit(wrong, withdrawn=True)])] == ["accepted"] * 3
        with db.transaction(write=True) as cur:  # as a server before the rule left it: the withdrawn one holds W-1
            cur.execute(db.sql("INSERT INTO tags (team, tag, record_id) VALUES (?, ?, ?)"), ("t-w", "W-1", wrong["id"]))
        with migrations_up_to(5):  # the tag migrations, not those after them
            assert db.migrate() == [5]
        assert held_tags(db) == [("W-2", kept["id"])]
        assert [s.outcome.value for s in db.push(who, [tagged("W-1"), tagged("W-2")])] == ["accepted", "rejected"]
    finally:
        db.close()


def test_the_migration_keeps_a_tags_holder_when_the_other_of_a_pair_was_stored_earlier(fresh_url):
    """A tag held twice before migration 4 stays with the record migration 4 gave it to, whatever edits came after."""
    with migrations_up_to(3):
        db = open_database(fresh_url)
    try:
        first, second = tagged("P-1"), tagged("P-1")
        store_as_before_the_rule(db, "t-p", ((1, first), (2, second)))
        with db.transaction(write=True) as cur:
            cur.execute(db.sql("INSERT INTO teams (team, seq) VALUES (?, ?)"), ("t-p", 2))
        with migrations_up_to(4, pushing=True):
            assert db.migrate() == [4, *PUSH_NEEDS]
        who = Device("dev-p", "t-p", "volunteer")
        db.enroll(team="t-p", device_id="dev-p", role="volunteer", token_hash="hash-t-p")
        edited = edit(first, outcome="injured")  # its seq now after the other's
        assert [s.outcome.value for s in db.push(who, [edited])] == ["accepted"]
        with migrations_up_to(5):  # the tag migrations, not those after them
            assert db.migrate() == [5]
        assert [s.outcome.value for s in db.push(who, [edit(edited, outcome="deceased")])] == ["accepted"]
        [refused] = db.push(who, [edit(second, outcome="injured")])
        assert refused.outcome.value == "rejected" and first["id"] in refused.refusals[0].message
    finally:
        db.close()
