"""Servers starting at once on one database: each starts, on SQLite and PostgreSQL.

`migrations.apply` reads which migrations are applied (schema_migrations) and which
the operator acts log records (from migration 8 on). Another server may apply a
migration between those two reads; that must not read as a deleted row.
"""

from __future__ import annotations

import multiprocessing

import pytest

from sync.server import acts
from sync.server.db import migrations, open_database
from tests.server.test_chain import url  # noqa: F401  (fixture)

STARTERS = 4


def at_migration_7(url: str, monkeypatch) -> None:  # noqa: F811
    """A database as a server before the acts log left it."""
    with monkeypatch.context() as m:
        m.setattr(migrations, "MIGRATIONS", [mig for mig in migrations.MIGRATIONS if mig[0] < 8])
        m.setattr(acts, "SINCE_MIGRATION", 99)
        open_database(url).close()


@pytest.mark.parametrize("when", ["before", "after"])
def test_a_server_migrating_between_the_other_ones_reads_does_not_stop_it(url, monkeypatch, when):  # noqa: F811
    """Server A applies migration 8 (which seeds the acts log) just before or just after B reads the acts log."""
    at_migration_7(url, monkeypatch)
    read_acts = migrations.recorded_migrations
    ran: list[list[int]] = []

    def a_migrates_in_between(db):
        if ran:  # A's own read, or B's after A ran
            return read_acts(db)
        ran.append([])
        if when == "after":
            found = read_acts(db)
        a = open_database(url)  # server A starts, all of it, here
        a.close()
        return found if when == "after" else read_acts(db)

    monkeypatch.setattr(migrations, "recorded_migrations", a_migrates_in_between)
    b = open_database(url)  # server B: raised StorageError "schema_migrations row 8 ... (deleted)" before the fix
    try:
        assert ran, "A never ran inside B's start"
        with b.transaction(write=False) as cur:
            cur.execute("SELECT version FROM schema_migrations ORDER BY version")
            assert [v for (v,) in cur.fetchall()] == [n for n, _, _ in migrations.MIGRATIONS]
            cur.execute(b.sql("SELECT COUNT(*) FROM acts WHERE kind = ?"), (str(acts.ActKind.MIGRATION),))
            assert cur.fetchone()[0] == len([n for n, _, _ in migrations.MIGRATIONS if n > acts.SINCE_MIGRATION])
    finally:
        b.close()


def start(url: str, go, results) -> None:  # noqa: F811
    go.wait()
    try:
        open_database(url).close()
        results.put("started")
    except Exception as e:  # reported to the test, which names it
        results.put(f"{type(e).__name__}: {e}")


@pytest.mark.parametrize("from_", ["fresh", "migration 7"])
def test_several_servers_starting_at_once_all_start(url, monkeypatch, from_):  # noqa: F811
    if from_ == "migration 7":
        at_migration_7(url, monkeypatch)
    ctx = multiprocessing.get_context("spawn")
    go, results = ctx.Event(), ctx.Queue()
    starters = [ctx.Process(target=start, args=(url, go, results)) for _ in range(STARTERS)]
    for p in starters:
        p.start()
    go.set()
    said = [results.get(timeout=120) for _ in starters]
    for p in starters:
        p.join(timeout=60)
    assert said == ["started"] * STARTERS, said
    db = open_database(url)
    try:
        with db.transaction(write=False) as cur:
            cur.execute("SELECT version FROM schema_migrations ORDER BY version")
            assert [v for (v,) in cur.fetchall()] == [n for n, _, _ in migrations.MIGRATIONS]
    finally:
        db.close()
