"""Numbered schema migrations, recorded in the database as they are applied.

A tiny runner rather than Alembic: the schema is a few tables written in SQL
both databases speak, and the server has no ORM for Alembic to build on.
Add a migration by appending to MIGRATIONS; never edit an applied one. A step is
an SQL statement, or a Python callable given the migration's cursor and the
database (`step(cur, db)`): for work SQL alone cannot do both dialects' way, such
as hashing what is stored. A step works in batches: a migration may meet a
million rows.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, Protocol

from fieldapp.core.records import held_tag

from .. import acts, chain
from .clock import now_utc
from .errors import StorageError


class Database(Protocol):
    """What the runner needs of the storage (db/base.py's Database): no import of it, so no cycle."""

    def sql(self, text: str) -> str: ...

    def transaction(self, *, write: bool) -> AbstractContextManager[Any]: ...

    def hold_schema(self, cur: Any) -> None: ...

    def record_act(self, cur: Any, kind: acts.ActKind, body: dict, at: str) -> None: ...


Step = str | Callable[[Any, Database], None]

BATCH = 5000  # rows a Python step reads and writes at a time


def link_existing(cur, db: Database) -> None:
    """Each team's stored versions, in seq order, linked into its chain; the head on its row.

    Batches of BATCH rows by seq (keyset), so memory stays flat whatever the team holds.
    """
    cur.execute("SELECT team FROM teams UNION SELECT DISTINCT team FROM revisions ORDER BY 1")
    teams = [team for (team,) in cur.fetchall()]
    for team in teams:
        cur.execute(db.sql("INSERT INTO teams (team, seq) VALUES (?, 0) ON CONFLICT DO NOTHING"), (team,))
        previous, last = chain.GENESIS, 0
        while True:
            cur.execute(db.sql("SELECT seq, id, version, sent_by, received_at, record FROM revisions "
                               "WHERE team = ? AND seq > ? ORDER BY seq LIMIT ?"), (team, last, BATCH))
            rows = cur.fetchall()
            if not rows:
                break
            updates = []
            for seq, rid, version, sent_by, received_at, record in rows:
                salt = chain.new_salt()
                public, personal = chain.digests(record, salt)
                previous = chain.link_from_digests(previous, team=team, seq=seq, record_id=rid, version=version,
                                                   sent_by=sent_by, received_at=received_at,
                                                   public_digest=public, personal_digest=personal)
                updates.append((salt, previous, team, seq))
            cur.executemany(db.sql("UPDATE revisions SET salt = ?, link = ? WHERE team = ? AND seq = ?"), updates)
            last = rows[-1][0]
        cur.execute(db.sql("UPDATE teams SET head = ? WHERE team = ?"), (previous, team))


def fill_tags(cur, db: Database) -> None:
    """The tags the current recoveries hold (fieldapp.core.records.held_tag: a withdrawn one holds none);
    of two records holding one, the first by (seq, id) keeps it."""
    import json

    cur.execute("SELECT DISTINCT team FROM records ORDER BY team")
    for (team,) in cur.fetchall():
        after: tuple[int, str] = (-1, "")
        while True:
            cur.execute(db.sql("SELECT seq, id, record FROM records WHERE team = ? AND type = 'recovery' AND version > 0 "
                               "AND (seq > ? OR (seq = ? AND id > ?)) ORDER BY seq, id LIMIT ?"),
                        (team, after[0], after[0], after[1], BATCH))
            rows = cur.fetchall()
            if not rows:
                break
            held = []
            for _, rid, record in rows:
                tag = held_tag(json.loads(record))
                if tag is not None:
                    held.append((team, tag, rid))
            if held:
                cur.executemany(db.sql("INSERT INTO tags (team, tag, record_id) VALUES (?, ?, ?) ON CONFLICT DO NOTHING"),
                                held)
            after = (rows[-1][0], rows[-1][1])


def release_tags(cur, db: Database) -> None:
    """Free each tag whose holder's current version no longer holds it (withdrawn); every other holder stays."""
    import json

    after = ("", "")
    while True:
        cur.execute(db.sql("SELECT t.team, t.tag, r.record FROM tags t JOIN records r ON r.team = t.team AND r.id = t.record_id "
                           "WHERE t.team > ? OR (t.team = ? AND t.tag > ?) ORDER BY t.team, t.tag LIMIT ?"),
                    (after[0], after[0], after[1], BATCH))
        rows = cur.fetchall()
        if not rows:
            break
        gone = [(team, tag) for team, tag, record in rows if held_tag(json.loads(record)) != tag]
        if gone:
            cur.executemany(db.sql("DELETE FROM tags WHERE team = ? AND tag = ?"), gone)
        after = (rows[-1][0], rows[-1][1])


def start_acts(cur, db: Database) -> None:
    """The acts log begins: one `seeded` act for each row of the tables it covers, as stored now.

    What those rows say is taken as found (nothing attested it before); every act from
    here on is written with the act itself. Small tables (devices, bindings, teams), read whole.
    """
    cur.execute(db.sql("INSERT INTO acts_head (id, seq, head) VALUES (1, 0, ?)"), (chain.GENESIS,))
    at = now_utc()
    for table, columns, order in (
        (acts.MIGRATIONS, acts.MIGRATION_COLUMNS, "version"),
        (acts.DEVICES, acts.DEVICE_COLUMNS, "device_id"),
        (acts.INSTALLATIONS, acts.INSTALLATION_COLUMNS, "team, device_id"),
        (acts.TEAMS, ("team", "volunteers_see_personal"), "team"),
    ):
        cur.execute(f"SELECT {', '.join(columns)} FROM {table} ORDER BY {order}")
        for row in cur.fetchall():
            found = dict(zip(columns, row))
            if table == acts.TEAMS:
                found["volunteers_see_personal"] = bool(found["volunteers_see_personal"])
            db.record_act(cur, acts.ActKind.SEEDED, {"table": table, "row": found}, at)


def recorded_migrations(db: Database) -> dict[int, tuple[str, str]]:
    """version -> (name, applied_at) of the migrations the acts log records ({} before migration 8)."""
    import json

    try:
        with db.transaction(write=False) as cur:
            cur.execute(db.sql("SELECT kind, body FROM acts WHERE kind IN (?, ?)"),
                        (str(acts.ActKind.MIGRATION), str(acts.ActKind.SEEDED)))
            found = cur.fetchall()
    except Exception:  # no acts table: the log has not begun
        return {}
    recorded: dict[int, tuple[str, str]] = {}
    for kind, body in found:
        try:
            parsed = json.loads(body)
            row = parsed["row"] if kind == acts.ActKind.SEEDED else parsed
            if kind == acts.ActKind.SEEDED and parsed["table"] != acts.MIGRATIONS:
                continue
            recorded[int(row["version"])] = (row["name"], row["applied_at"])
        except (ValueError, TypeError, KeyError):
            continue  # an act edited: verify names it
    return recorded


MIGRATIONS: list[tuple[int, str, list[Step]]] = [
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
    (3, "tamper evidence: each team's hash chain over its stored versions", [
        # salt: 32 random hex digits per version, in its personal digest (sync/server/chain.py);
        # link: the version's link; teams.head: the team's last link, GENESIS before any.
        "ALTER TABLE revisions ADD COLUMN salt TEXT",
        "ALTER TABLE revisions ADD COLUMN link TEXT",
        f"ALTER TABLE teams ADD COLUMN head TEXT NOT NULL DEFAULT '{chain.GENESIS}'",
        link_existing,
    ]),
    (4, "tags: which record of a team holds each recovery tag", [
        """CREATE TABLE tags (
            team TEXT NOT NULL,
            tag TEXT NOT NULL,
            record_id TEXT NOT NULL,
            PRIMARY KEY (team, tag)
        )""",
        "CREATE INDEX tags_by_record ON tags (team, record_id)",
        fill_tags,
    ]),
    # Holders are kept, not chosen again: a record's seq moves with each edit, so a refill
    # by seq could hand a tag held twice before migration 4 to the other record.
    (5, "tags: a recovery withdrawn as entered in error frees its tag", [
        release_tags,
        fill_tags,
    ]),
    # Each row says its link's format: those stored so far keep format 1 (a head written
    # down stays valid); a push writes format 2, which commits to the version's day.
    (6, "tamper evidence: chain format 2, whose links commit to the version's day", [
        "ALTER TABLE revisions ADD COLUMN chain_format SMALLINT NOT NULL DEFAULT 1",
    ]),
    # Off by default: a volunteer's pull carries personal fields only for the records
    # its own device made (sync/server/personal.py); an operator may open them.
    (7, "teams: whether volunteers see the personal fields of every record of the team", [
        "ALTER TABLE teams ADD COLUMN volunteers_see_personal BOOLEAN NOT NULL DEFAULT FALSE",
    ]),
    # Operator acts (sync/server/acts.py): enroll, revoke, team settings, installations
    # bound, migrations, each logged and linked in its own transaction, so verify covers
    # devices, installations, teams' settings and schema_migrations. Seeded from what is
    # stored: acts before this migration are attested from it on.
    (8, "operator acts: a hash-chained log of enrollments, revocations, bindings, settings and migrations", [
        """CREATE TABLE acts (
            seq BIGINT PRIMARY KEY,
            kind TEXT NOT NULL,
            at TEXT NOT NULL,
            body TEXT NOT NULL,
            link TEXT NOT NULL
        )""",
        """CREATE TABLE acts_head (
            id INTEGER PRIMARY KEY,
            seq BIGINT NOT NULL,
            head TEXT NOT NULL
        )""",
        start_acts,
        # verify's replay reads each record's versions in id order (sync/server/derived.py): from the
        # index alone, not a row fetch each across the table.
        "CREATE INDEX revisions_by_record ON revisions (team, id, seq, version, hash, losing)",
    ]),
    # A conflict a volunteer's device settled stays in the lead's queue until a lead's version
    # approves or flags it (sync/server/verdicts.py, settled_by); NULL: not waiting for that.
    (9, "records: the volunteer's device that settled the record's conflict, until a lead reviews it", [
        "ALTER TABLE records ADD COLUMN settled_by TEXT",
    ]),
    # The bytes are in the photos' folder by hash (sync/server/photos.py); these say which team
    # holds which photo, who sent it, and the uploads under way (their offsets are the part files' sizes).
    (10, "photos: which team holds which photograph, and the uploads under way", [
        """CREATE TABLE photos (
            team TEXT NOT NULL,
            sha256 TEXT NOT NULL,
            size BIGINT NOT NULL,
            media_type TEXT NOT NULL,
            sent_by TEXT NOT NULL,
            received_at TEXT NOT NULL,
            PRIMARY KEY (team, sha256)
        )""",
        """CREATE TABLE photo_uploads (
            upload_id TEXT PRIMARY KEY,
            team TEXT NOT NULL,
            device TEXT NOT NULL,
            sha256 TEXT NOT NULL,
            length BIGINT NOT NULL,
            media_type TEXT NOT NULL,
            created_at TEXT NOT NULL
        )""",
        "CREATE UNIQUE INDEX photo_uploads_by_sender ON photo_uploads (team, device, sha256)",
    ]),
]


def apply(db: Database) -> list[int]:
    """Apply what is missing, each in its own transaction; return the numbers applied.

    From migration 8 on each is an operator act too (sync/server/acts.py). A migration
    the acts log records as applied but whose row is gone is not applied again: the
    row was deleted, and that is said in one line.
    """
    with db.transaction(write=True) as cur:
        db.hold_schema(cur)
        cur.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )
    # The acts log first, schema_migrations after it: a migration's act and its row commit
    # together, so a row whose act was read is there when read, whatever another server
    # starting at once applied between the two reads.
    recorded = recorded_migrations(db)
    with db.transaction(write=False) as cur:
        cur.execute("SELECT version FROM schema_migrations")
        present = {int(version) for (version,) in cur.fetchall()}
    missing = [number for number, _, _ in MIGRATIONS if number not in present]
    if missing and present:
        gone = [number for number in missing if number in recorded]
        if gone:
            name, applied_at = recorded[gone[0]]
            raise StorageError(f"schema_migrations row {gone[0]} ({name}) is missing, though the operator acts record "
                               f"it applied at {applied_at} (deleted): not applied again; run fieldapp-server verify "
                               f"once the row is back")
    applied = []
    for number, name, statements in MIGRATIONS:
        stamp = now_utc()
        with db.transaction(write=True) as cur:
            # Several servers may start at once: the insert claims the number first.
            cur.execute(db.sql("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING"),
                        (number, name, stamp))
            if cur.rowcount == 0:
                continue
            for step in statements:
                if callable(step):
                    step(cur, db)
                else:
                    cur.execute(step)
            if number > acts.SINCE_MIGRATION:
                db.record_act(cur, acts.ActKind.MIGRATION, {"version": number, "name": name, "applied_at": stamp},
                              stamp)
            applied.append(number)
    return applied
