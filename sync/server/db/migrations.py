"""Numbered schema migrations, recorded in the database as they are applied.

A tiny runner rather than Alembic: the schema is a few tables written in SQL
both databases speak, and the server has no ORM for Alembic to build on.
Add a migration by appending to MIGRATIONS; never edit an applied one.
"""

from __future__ import annotations

from .base import Database, now_utc

MIGRATIONS: list[tuple[int, str, list[str]]] = [
    (1, "devices, teams, revisions, records", [
        """CREATE TABLE devices (
            device_id TEXT PRIMARY KEY,
            team TEXT NOT NULL,
            role TEXT NOT NULL,
            token_hash TEXT NOT NULL UNIQUE,
            created_at TEXT NOT NULL,
            revoked_at TEXT
        )""",
        """CREATE TABLE teams (
            team TEXT PRIMARY KEY,
            seq BIGINT NOT NULL DEFAULT 0
        )""",
        """CREATE TABLE revisions (
            team TEXT NOT NULL,
            id TEXT NOT NULL,
            version INTEGER NOT NULL,
            hash TEXT NOT NULL,
            seq BIGINT NOT NULL,
            losing BOOLEAN NOT NULL,
            device_id TEXT NOT NULL,
            sent_by TEXT NOT NULL,
            received_at TEXT NOT NULL,
            record TEXT NOT NULL,
            PRIMARY KEY (team, id, version, hash)
        )""",
        "CREATE UNIQUE INDEX revisions_by_seq ON revisions (team, seq)",
        """CREATE TABLE records (
            team TEXT NOT NULL,
            id TEXT NOT NULL,
            version INTEGER NOT NULL,
            hash TEXT NOT NULL,
            type TEXT NOT NULL,
            record TEXT NOT NULL,
            in_conflict BOOLEAN NOT NULL,
            seq BIGINT NOT NULL,
            PRIMARY KEY (team, id)
        )""",
    ]),
    (2, "installations: which enrolled device each installation sends through", [
        # One row per (team, installation device_id): the enrolled device (its name,
        # not its token) that first sent it. A push checks and binds under its team's lock.
        """CREATE TABLE installations (
            team TEXT NOT NULL,
            device_id TEXT NOT NULL,
            enrolled_device TEXT NOT NULL,
            bound_at TEXT NOT NULL,
            PRIMARY KEY (team, device_id)
        )""",
        # What is stored already: the first sender of each installation wins.
        """INSERT INTO installations (team, device_id, enrolled_device, bound_at)
        SELECT r.team, r.device_id, r.sent_by, r.received_at
        FROM revisions r
        JOIN (SELECT team, device_id, MIN(seq) AS seq FROM revisions GROUP BY team, device_id) earliest
          ON earliest.team = r.team AND earliest.seq = r.seq""",
    ]),
]


def apply(db: Database) -> list[int]:
    """Apply what is missing, each in its own transaction; return the numbers applied."""
    with db.transaction(write=True) as cur:
        cur.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )
    applied = []
    for number, name, statements in MIGRATIONS:
        with db.transaction(write=True) as cur:
            # Several servers may start at once: the insert claims the number first.
            cur.execute(db.sql("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING"),
                        (number, name, now_utc()))
            if cur.rowcount == 0:
                continue
            for statement in statements:
                cur.execute(statement)
            applied.append(number)
    return applied
