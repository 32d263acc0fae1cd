"""`verify` covers the operator's tables too: devices, installations, teams' settings, schema_migrations.

An attacker with SQL access flips a role, un-revokes a device, swaps a token hash,
moves a device or an installation, opens a team's personal fields, or edits the
migrations' record; each is named by `fieldapp-server verify` (table, key, column)
with exit 1, on SQLite and PostgreSQL (sync/server/acts.py). The operator's own acts,
through the command line or the storage, keep it whole.
"""

from __future__ import annotations

import pytest

from sync.server import acts, chain, personal
from sync.server.db import Device, migrations, open_database
from tests.records_factory import call_record
from tests.server.test_chain import TEAM, db, edit, execute, run, url  # noqa: F401  (fixtures)

OTHER = "team-acts-other"
SET = "team-acts-set"
NOW = "2026-12-05T00:00:00.000+00:00"


def db_url(database) -> str:
    return getattr(database, "url", None) or f"sqlite:///{database.path}"


def acted(database) -> None:
    """Acts of every kind and a push: dev-a lead, dev-b volunteer (its phone inst-b bound by its push),
    dev-c revoked in another team, inst-x bound by the operator, a team whose volunteers see personal fields."""
    database.enroll(team=TEAM, device_id="dev-a", role="lead", token_hash="hash-a")
    database.enroll(team=TEAM, device_id="dev-b", role="volunteer", token_hash="hash-b")
    database.enroll(team=OTHER, device_id="dev-c", role="volunteer", token_hash="hash-c")
    database.enroll(team=SET, device_id="dev-s", role="volunteer", token_hash="hash-s")
    call = call_record(device_id="inst-b")
    assert [s.outcome.value for s in database.push(Device("dev-b", TEAM, "volunteer"),
                                                   [call, edit(call, status="dispatched")])] == ["accepted"] * 2
    assert database.revoke("dev-c")
    database.bind_installations(team=TEAM, device_id="dev-a", installations=["inst-x"])
    personal.set_volunteers_see_personal(database, TEAM, False)
    personal.set_volunteers_see_personal(database, SET, True)
    code, out = run("verify", "--database", db_url(database))
    assert code == 0, out


def test_an_untouched_database_verifies_whole_with_its_acts(db):  # noqa: F811
    acted(db)
    code, out = run("verify", "--database", db_url(db))
    assert code == 0 and out.count("whole:") == 2, out
    # A migration each (8 seeded, any later applied), 4 enrollments, a revoke, a binding, 2 settings.
    assert f"acts: {len(migrations.MIGRATIONS) + 8} operator acts" in out and "agree with them" in out, out


def named(database, *words: str) -> str:
    code, out = run("verify", "--database", db_url(database))
    assert code == 1, out
    assert "BROKEN" in out, out
    for word in words:
        assert word in out, out
    return out


# --- devices ----------------------------------------------------------------------------------


@pytest.mark.parametrize("sql, params, words", [
    ("UPDATE devices SET role = 'lead' WHERE device_id = ?", ("dev-b",), ("devices row dev-b, column role", "'lead'")),
    ("UPDATE devices SET revoked_at = NULL WHERE device_id = ?", ("dev-c",), ("devices row dev-c, column revoked_at",)),
    ("UPDATE devices SET token_hash = 'forged' WHERE device_id = ?", ("dev-b",),
     ("devices row dev-b, column token_hash",)),
    ("UPDATE devices SET team = ? WHERE device_id = ?", (OTHER, "dev-b"), ("devices row dev-b, column team",)),
    ("UPDATE devices SET revoked_at = ? WHERE device_id = ?", (NOW, "dev-a"), ("devices row dev-a, column revoked_at",)),
    ("INSERT INTO devices (device_id, team, role, token_hash, created_at) VALUES ('dev-z', ?, 'lead', 'h', ?)",
     (TEAM, NOW), ("devices row dev-z", "added")),
    ("DELETE FROM devices WHERE device_id = ?", ("dev-a",), ("devices row dev-a", "deleted")),
])
def test_an_sql_edit_of_devices_is_named(db, sql, params, words):  # noqa: F811
    acted(db)
    execute(db, sql, *params)
    out = named(db, *words)
    assert "hash-b" not in out and "forged" not in out  # a token's hash is never printed


def test_verify_of_one_team_names_its_devices(db):  # noqa: F811
    acted(db)
    execute(db, "UPDATE devices SET role = 'lead' WHERE device_id = 'dev-b'")
    code, out = run("verify", "--database", db_url(db), "--team", TEAM)
    assert code == 1 and "devices row dev-b, column role" in out, out
    code, out = run("verify", "--database", db_url(db), "--team", OTHER)
    assert code == 0, out


# --- installations ---------------------------------------------------------------------------


@pytest.mark.parametrize("sql, params, words", [
    # rebound to another enrolled device of the team: the push's binding, and the operator's
    ("UPDATE installations SET enrolled_device = 'dev-a' WHERE device_id = 'inst-b'", (),
     (f"installations row {TEAM}/inst-b, column enrolled_device", "'dev-b'")),
    ("UPDATE installations SET enrolled_device = 'dev-b' WHERE device_id = 'inst-x'", (),
     (f"installations row {TEAM}/inst-x, column enrolled_device",)),
    ("UPDATE installations SET bound_at = ? WHERE device_id = 'inst-b'", (NOW,),
     (f"installations row {TEAM}/inst-b, column bound_at",)),
    ("INSERT INTO installations (team, device_id, enrolled_device, bound_at) VALUES (?, 'inst-q', 'dev-b', ?)",
     (TEAM, NOW), (f"installations row {TEAM}/inst-q", "added")),
    ("DELETE FROM installations WHERE device_id = 'inst-b'", (), (f"installations row {TEAM}/inst-b", "deleted")),
    ("DELETE FROM installations WHERE device_id = 'inst-x'", (), (f"installations row {TEAM}/inst-x", "deleted")),
])
def test_an_sql_edit_of_installations_is_named(db, sql, params, words):  # noqa: F811
    acted(db)
    execute(db, sql, *params)
    named(db, *words)


# --- teams' settings -------------------------------------------------------------------------


@pytest.mark.parametrize("sql, params, words", [
    ("UPDATE teams SET volunteers_see_personal = ? WHERE team = ?", (True, TEAM),
     (f"teams row {TEAM}, column volunteers_see_personal", "True, the acts give False")),
    ("UPDATE teams SET volunteers_see_personal = ? WHERE team = ?", (False, SET),
     (f"teams row {SET}, column volunteers_see_personal",)),
    ("INSERT INTO teams (team, seq, head, volunteers_see_personal) VALUES ('team-forged', 0, ?, ?)",
     (chain.GENESIS, True), ("teams row team-forged, column volunteers_see_personal",)),
    ("DELETE FROM teams WHERE team = ?", (SET,), (f"teams row {SET}", "deleted")),
])
def test_an_sql_edit_of_a_team_setting_is_named(db, sql, params, words):  # noqa: F811
    acted(db)
    execute(db, sql, *params)
    named(db, *words)


# --- schema_migrations -----------------------------------------------------------------------


@pytest.mark.parametrize("sql, words", [
    ("UPDATE schema_migrations SET name = 'nothing here' WHERE version = 5", ("schema_migrations row 5, column name",)),
    ("UPDATE schema_migrations SET applied_at = '2020-01-01' WHERE version = 8",
     ("schema_migrations row 8, column applied_at",)),
    ("INSERT INTO schema_migrations (version, name, applied_at) VALUES (99, 'forged', '2026-01-01')",
     ("schema_migrations row 99", "added")),
])
def test_an_sql_edit_of_schema_migrations_is_named(db, sql, words):  # noqa: F811
    acted(db)
    execute(db, sql)
    named(db, *words)


@pytest.mark.parametrize("which", [7, 8, "last"])
def test_a_deleted_schema_migrations_row_is_named_and_nothing_is_applied_again(db, which, capsys):  # noqa: F811
    acted(db)
    version = migrations.MIGRATIONS[-1][0] if which == "last" else which
    execute(db, "DELETE FROM schema_migrations WHERE version = ?", version)
    capsys.readouterr()
    code, out = run("verify", "--database", db_url(db))
    err = capsys.readouterr().err
    assert code == 1, (out, err)
    assert f"schema_migrations row {version}" in err and "deleted" in err and "Traceback" not in err, err
    with db.transaction(write=False) as cur:  # the refusal changed nothing
        cur.execute("SELECT COUNT(*) FROM schema_migrations")
        assert cur.fetchone()[0] == len(migrations.MIGRATIONS) - 1


# --- the acts log itself ---------------------------------------------------------------------


def test_an_edited_or_deleted_act_is_named(db):  # noqa: F811
    acted(db)
    execute(db, "UPDATE acts SET body = replace(body, '\"lead\"', '\"volunteer\"') WHERE kind = 'enroll'")
    named(db, "operator acts, seq", "no longer gives its link")


def test_the_last_act_deleted_is_named(db):  # noqa: F811
    acted(db)
    execute(db, "DELETE FROM acts WHERE seq = (SELECT MAX(seq) FROM acts)")
    named(db, "operator acts", "acts_head says")


def test_an_act_deleted_with_its_row_rolled_back_is_named(db):  # noqa: F811
    """The revoke's act deleted and the device un-revoked: the log no longer reaches its head."""
    acted(db)
    execute(db, "DELETE FROM acts WHERE kind = 'revoke'")
    execute(db, "UPDATE devices SET revoked_at = NULL WHERE device_id = 'dev-c'")
    named(db, "operator acts", "act missing")


# --- the operator's own acts keep it whole ---------------------------------------------------


def test_the_operators_commands_keep_it_whole(db):  # noqa: F811
    acted(db)
    url_ = db_url(db)
    for args in (["enroll", "--team", TEAM, "--device", "dev-b", "--role", "lead"],  # a new token and role
                 ["enroll", "--team", TEAM, "--device", "dev-n", "--installation", "inst-b"],  # a phone's new name
                 ["revoke", "--device", "dev-a"],
                 ["enroll", "--team", TEAM, "--device", "dev-a"],  # enrolled again after a revoke
                 ["enroll", "--team", OTHER, "--device", "dev-c"],
                 ["team", TEAM, "--volunteers-see-personal"],
                 ["team", TEAM, "--volunteers-own-personal-only"],
                 ["team", OTHER, "--volunteers-see-personal"]):
        code, out = run(*args, "--database", url_)
        assert code == 0, (args, out)
    call = call_record(device_id="inst-b")
    assert [s.outcome.value for s in db.push(Device("dev-n", TEAM, "volunteer"), [call])] == ["accepted"]
    call = call_record(device_id="inst-c")
    assert [s.outcome.value for s in db.push(Device("dev-c", OTHER, "volunteer"), [call])] == ["accepted"]
    code, out = run("verify", "--database", url_)
    assert code == 0, out
    assert out.count("whole:") == 3 and "acts:" in out, out


def test_an_existing_database_is_seeded_by_migration_8_and_attested_from_then_on(url, monkeypatch):  # noqa: F811
    """A database from before the acts log: migration 8 takes its rows as found, and says so; edits after it
    are named."""
    # Before migration 8, with 9 too: today's push (used here to store the old rows) writes the column 9 adds;
    # the act 9 would log waits for the log, which 8 then seeds from schema_migrations like any row found.
    monkeypatch.setattr(migrations, "MIGRATIONS", [m for m in migrations.MIGRATIONS if m[0] < 8 or m[0] == 9])
    monkeypatch.setattr(acts, "SINCE_MIGRATION", 99)
    old = open_database(url)
    try:
        with old.transaction(write=True) as cur:  # as the server before migration 8 wrote them
            for device, role, revoked in (("dev-a", "lead", None), ("dev-b", "volunteer", NOW)):
                cur.execute(old.sql("INSERT INTO devices (device_id, team, role, token_hash, created_at, revoked_at) "
                                    "VALUES (?, ?, ?, ?, ?, ?)"), (device, TEAM, role, f"hash-{device}", NOW, revoked))
        call = call_record(device_id="inst-a")
        assert [s.outcome.value for s in old.push(Device("dev-a", TEAM, "lead"), [call])] == ["accepted"]
        with old.transaction(write=True) as cur:
            cur.execute(old.sql("INSERT INTO installations (team, device_id, enrolled_device, bound_at) "
                                "VALUES (?, 'inst-old', 'dev-a', ?)"), (TEAM, NOW))
            cur.execute(old.sql("UPDATE teams SET volunteers_see_personal = ? WHERE team = ?"), (True, TEAM))
    finally:
        old.close()
    monkeypatch.undo()
    new = open_database(url)  # migration 8 (and any after it) applied here
    try:
        code, out = run("verify", "--database", url)
        assert code == 0, out
        assert "from migration 8" in out and "taken as found" in out, out
        new.enroll(team=TEAM, device_id="dev-c", role="volunteer", token_hash="hash-c")
        assert new.revoke("dev-a")
        code, out = run("verify", "--database", url)
        assert code == 0, out
        execute(new, "UPDATE devices SET revoked_at = NULL WHERE device_id = 'dev-b'")
        execute(new, "UPDATE teams SET volunteers_see_personal = ? WHERE team = ?", False, TEAM)
        out = named(new, "devices row dev-b, column revoked_at", f"teams row {TEAM}, column volunteers_see_personal")
    finally:
        new.close()
