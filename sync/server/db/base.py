"""The server's storage: one interface, the same SQL on SQLite and PostgreSQL.

Tables (see migrations.py):
    devices    enrolled devices: team, role, sha256 of the token, revoked time
    teams      one row per team: the last change sequence number handed out
    revisions  every version ever received, append-only, keyed by
               (team, id, version, content hash); `seq` orders a team's pulls
    records    the current version of each record and whether it is in conflict
    installations  which enrolled device each installation `device_id` of a team
               sends through: the first to send it (a device speaks only for itself)
    tags       which record of a team holds each recovery `data.tag`

Tamper evidence (sync/server/chain.py): each revision carries its `link` in its
team's hash chain (and the `salt` of its personal digest); the team's row keeps
the last link as `head`. A push reads the head under the team's lock and writes
the new head with the revisions, so the chain follows commit order like `seq`.

A push runs in one transaction that first locks its team's row (PostgreSQL:
FOR UPDATE; SQLite has one writer anyway). So one team's pushes take turns
while other teams' run beside them: each version is stored once, and the
sequence numbers handed out follow commit order, so a pull cursor never steps
past a revision that commits later with a lower number. Everything that needs
no lock (validation, encoding, hashing) is done before the transaction.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from fieldapp.core.records import RecordType, held_tag

from .. import chain, derived, planner
from ..verdicts import Current, Refusal, VerdictKind
from . import migrations
from .clock import now_utc


class StorageError(Exception):
    """The server's storage cannot be used as asked; the message says why, in one line."""


class NoDatabase(StorageError):
    """A command that only reads was pointed at a database that is not there."""


class DatabaseUnreachable(StorageError):
    """The database server cannot be reached, or refuses the connection."""


@dataclass(frozen=True)
class Device:
    device_id: str
    team: str
    role: str


@dataclass(frozen=True)
class Stored:
    """What became of one pushed record."""

    outcome: VerdictKind
    server_record: dict | None = None
    refusals: tuple[Refusal, ...] = ()  # with VerdictKind.REJECTED
    review_cleared: bool = False  # stored without the review it carried: its content changed (a volunteer's)
    merged_record: dict | None = None  # with VerdictKind.MERGED: the merged version now current


@dataclass(frozen=True)
class Page:
    records: list[dict]
    delivered_by: list[str]  # the enrolled device that sent each of `records`
    cursor: int
    more: bool
    conflicts: dict[str, dict]  # id -> the server's current version, for records in conflict
    settled: dict[str, str] = dataclasses.field(default_factory=dict)  # id -> the volunteer's device that settled it


# Columns as the inserts write them.
RECORD_COLUMNS = ("team", "id", "version", "hash", "type", "record", "in_conflict", "seq", "settled_by")
REVISION_COLUMNS = ("team", "id", "version", "hash", "seq", "losing", "device_id", "sent_by", "received_at", "record",
                    "salt", "link", "chain_format")
# How a merged version's canonical text names what it merges (a key only the envelope has).
MERGED_MARK = '%"merged_from":[%'
# A pull that leaves a device's own versions out reads at most this many rows an answer.
PULL_SCAN_ROWS = 20_000

INSTALLATION_COLUMNS = ("team", "device_id", "enrolled_device", "bound_at")
TAG_COLUMNS = ("team", "tag", "record_id")


# Sorted keys, no spaces, UTF-8 as is: the same record always gives the same text (the chain's own encoder).
canonical_json = chain.canonical_json


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def content_hash(record: dict) -> str:
    return _sha256(canonical_json(record))


class Database(ABC):
    """The storage interface. Subclasses supply connections and a little dialect."""

    placeholder = "?"
    lock_rows = ""  # " FOR UPDATE" where the database has row locks
    # The hash chain on every push. Off only for bench/bench_chain.py's baseline (the
    # same push without the chain, to measure what it costs): never off in a server.
    chained = True

    # --- what a subclass provides -------------------------------------------------------

    @abstractmethod
    @contextmanager
    def transaction(self, *, write: bool) -> Iterator[Any]:
        """A cursor inside one transaction, committed on success, rolled back on error."""

    @abstractmethod
    def close(self) -> None: ...

    def sql(self, text: str) -> str:
        return text if self.placeholder == "?" else text.replace("?", self.placeholder)

    # --- schema -----------------------------------------------------------------------------

    def migrate(self) -> list[int]:
        return migrations.apply(self)

    # --- devices ----------------------------------------------------------------------------

    def enroll(self, *, team: str, device_id: str, role: str, token_hash: str) -> None:
        """Add a device, or give an enrolled one a new token (the old one stops working)."""
        with self.transaction(write=True) as cur:
            cur.execute(self.sql("SELECT device_id FROM devices WHERE device_id = ?"), (device_id,))
            if cur.fetchone():
                cur.execute(
                    self.sql("UPDATE devices SET team = ?, role = ?, token_hash = ?, revoked_at = NULL WHERE device_id = ?"),
                    (team, role, token_hash, device_id),
                )
            else:
                cur.execute(
                    self.sql("INSERT INTO devices (device_id, team, role, token_hash, created_at) VALUES (?, ?, ?, ?, ?)"),
                    (device_id, team, role, token_hash, now_utc()),
                )

    def revoke(self, device_id: str) -> bool:
        with self.transaction(write=True) as cur:
            cur.execute(
                self.sql("UPDATE devices SET revoked_at = ? WHERE device_id = ? AND revoked_at IS NULL"),
                (now_utc(), device_id),
            )
            return cur.rowcount > 0

    def knows_team(self, team: str) -> bool:
        """Whether the team has an enrolled device or a stored version."""
        with self.transaction(write=False) as cur:
            cur.execute(self.sql("SELECT 1 FROM devices WHERE team = ? UNION SELECT 1 FROM teams WHERE team = ?"),
                        (team, team))
            return cur.fetchone() is not None

    def device_for_token(self, token_hash: str) -> Device | None:
        with self.transaction(write=False) as cur:
            cur.execute(
                self.sql("SELECT device_id, team, role FROM devices WHERE token_hash = ? AND revoked_at IS NULL"),
                (token_hash,),
            )
            row = cur.fetchone()
        return Device(*row) if row else None

    # --- push -------------------------------------------------------------------------------

    def push(self, device: Device, records: Sequence[dict]) -> list[Stored]:
        """Store valid, normalized records; one outcome each, in order.

        The rules are the planner's (sync/server/planner.py); here is what it reads
        and what its plan writes.
        """
        if not records:
            return []
        team = device.team
        # Encoded once, outside the transaction: the canonical text is both what
        # is hashed and what is stored.
        bodies = [canonical_json(r) for r in records]
        hashes = [_sha256(body) for body in bodies]
        ids = sorted({r["id"] for r in records})
        received = now_utc()
        # What a link covers but the previous link: all but one SHA-256 per version
        # is done here, before the lock (a version without personal fields is its hash).
        chained = self.chained
        salts: list = chain.new_salts(len(records)) if chained else [None] * len(records)
        digests = [chain.digests_of_stored(r, body, salt) for r, body, salt in zip(records, bodies, salts)] if chained else []
        days = [chain.version_day(r) for r in records] if chained else []
        with self.transaction(write=True) as cur:
            # The team row first: one team's pushes take turns from here to commit,
            # so each version is stored once, sequence numbers follow commit order,
            # and so do the links of the team's chain.
            seq, head = self._lock_team(cur, team)
            holdings = self._holdings(cur, device, team, records, ids)
            made = planner.plan(sender=device.device_id, role=device.role, records=list(records), hashes=hashes,
                                holdings=holdings)
            if made.bindings:
                # No ON CONFLICT: under the team's lock no other push can have bound one
                # since it was read; if one ever did, this push fails rather than both win.
                self.insert_rows(cur, "installations", INSTALLATION_COLUMNS,
                                 [(team, inst, device.device_id, received) for inst in made.bindings])
            if made.tags_freed:
                cur.executemany(self.sql("DELETE FROM tags WHERE team = ? AND tag = ?"), [(team, t) for t in made.tags_freed])
            if made.tags_taken:
                self.insert_rows(cur, "tags", TAG_COLUMNS, [(team, tag, rid) for tag, rid in made.tags_taken])
            # The text of each version to store: as sent, or (altered or made by the plan) encoded now.
            texts = [bodies[v.incoming] if v.incoming is not None else canonical_json(v.record) for v in made.versions]
            if made.versions:
                first = seq + 1
                last = seq + len(made.versions)
                rows = []
                for k, (version, text) in enumerate(zip(made.versions, texts)):
                    record, n = version.record, version.incoming
                    salt: str | None = None
                    if chained:  # the chain: one SHA-256 per version, over the previous link
                        salt = salts[n] if n is not None else chain.new_salt()
                        public, personal = digests[n] if n is not None else chain.digests_of_stored(record, text, salt)
                        head = chain.link_from_digests(
                            head, team=team, seq=first + k, record_id=record["id"], version=record["version"],
                            sent_by=device.device_id, received_at=received, public_digest=public,
                            personal_digest=personal, chain_format=chain.CURRENT_FORMAT,
                            day=days[n] if n is not None else chain.version_day(record))
                    rows.append((team, record["id"], record["version"], version.hash, first + k, version.losing,
                                 record["device_id"], device.device_id, received, text, salt,
                                 head if chained else None, chain.CURRENT_FORMAT if chained else 1))
                if chained:
                    cur.execute(self.sql("UPDATE teams SET seq = ?, head = ? WHERE team = ?"), (last, head, team))
                else:
                    cur.execute(self.sql("UPDATE teams SET seq = ? WHERE team = ?"), (last, team))
                self.insert_rows(cur, "revisions", REVISION_COLUMNS, rows)
                self._write_rows(cur, team, made, texts, last)
            server_records = self._server_records(cur, team, made, texts)
        return [Stored(v.kind, server_records.get(n), v.refusals, v.review_cleared,
                       json.loads(texts[v.merged]) if v.merged is not None else None)
                for n, v in enumerate(made.verdicts)]

    def _holdings(self, cur, device: Device, team: str, records: Sequence[dict], ids: list[str]) -> planner.Holdings:
        """What the planner reads for a push: current rows, stored versions, bindings, tags."""
        current: dict[str, Current | None] = {}
        for rid, version, h, in_conflict, settled in self.rows_for_ids(
                cur, "records", "id, version, hash, in_conflict, settled_by", team, ids):
            # Version 0: a placeholder row an earlier server wrote as a lock.
            current[rid] = Current(version, h, bool(in_conflict), settled) if version else None
        revisions: dict[tuple[str, int], dict[str, planner.Revision]] = {}
        # A record's row is written with its first revision: ids without one have no revisions.
        for rid, version, h, losing in self.rows_for_ids(cur, "revisions", "id, version, hash, losing", team,
                                                         sorted(current)):
            revisions.setdefault((rid, version), {})[h] = planner.Revision(bool(losing))
        # The content of the versions the rules read: bases of reviews and of stale edits.
        wanted = planner.base_keys(device.role, list(records), current)
        if wanted:
            for rid, version, h, losing, body in self.rows_for_ids(
                    cur, "revisions", "id, version, hash, losing, record", team, sorted({i for i, _ in wanted})):
                if (rid, version) in wanted:
                    revisions.setdefault((rid, version), {})[h] = planner.Revision(bool(losing), json.loads(body))
        stale = sorted(planner.stale_ids(list(records), current))
        current_records = {rid: json.loads(body) for rid, body in self.rows_for_ids(cur, "records", "id, record", team, stale)}
        bound = self._installations(cur, team, sorted({r["device_id"] for r in records}))
        # Tags: tag -> the record holding it, for the tags of this push and those its records hold.
        # Only recoveries hold tags: a push of calls reads nothing here.
        tags = sorted({tag for r in records if (tag := held_tag(r)) is not None})
        held, tag_of = self._tags(cur, team, tags, sorted({r["id"] for r in records if r.get("type") == RecordType.RECOVERY}))
        return planner.Holdings(current, revisions, bound, held, tag_of, current_records)

    def _write_rows(self, cur, team: str, made: planner.Plan, texts: list[str], last: int) -> None:
        """The records rows the plan changed: new ones, new current versions, conflict marks."""
        def current(row: planner.Row) -> tuple:
            record = made.versions[row.current].record
            return (record["version"], made.versions[row.current].hash, record["type"], texts[row.current])

        fresh = [(team, rid, *current(row), row.in_conflict, last, row.settled_by)
                 for rid, row in made.rows.items() if row.new]
        self.insert_rows(cur, "records", RECORD_COLUMNS, fresh)
        edited = [(*current(row), row.in_conflict, last, row.settled_by, team, rid)
                  for rid, row in made.rows.items() if not row.new and row.current >= 0]
        if edited:
            cur.executemany(self.sql("UPDATE records SET version = ?, hash = ?, type = ?, record = ?, "
                                     "in_conflict = ?, seq = ?, settled_by = ? WHERE team = ? AND id = ?"), edited)
        flagged = [(row.in_conflict, last, team, rid) for rid, row in made.rows.items() if row.current < 0]
        if flagged:
            cur.executemany(self.sql("UPDATE records SET in_conflict = ?, seq = ? WHERE team = ? AND id = ?"), flagged)

    def _installations(self, cur, team: str, installations: list[str]) -> dict[str, str]:
        """installation device_id -> the enrolled device it is bound to, for those bound."""
        bound: dict[str, str] = {}
        for chunk in _chunks(installations, 500):
            cur.execute(self.sql(f"SELECT device_id, enrolled_device FROM installations "
                                 f"WHERE team = ? AND device_id IN ({','.join('?' * len(chunk))})"), (team, *chunk))
            bound.update(cur.fetchall())
        return bound

    def bind_installations(self, *, team: str, device_id: str, installations: Sequence[str]) -> None:
        """The operator's move: these installations of the team now send through `device_id`.

        For a phone enrolled again under a new name: read its installation id off
        the phone (`fieldapp status`) and name it when enrolling.
        """
        with self.transaction(write=True) as cur:
            self._lock_team(cur, team)  # as a push binds: never beside one
            for installation in installations:
                cur.execute(self.sql("DELETE FROM installations WHERE team = ? AND device_id = ?"), (team, installation))
            self.insert_rows(cur, "installations", INSTALLATION_COLUMNS,
                             [(team, installation, device_id, now_utc()) for installation in installations])

    def _tags(self, cur, team: str, tags: list[str], ids: list[str]) -> tuple[dict[str, str], dict[str, str | None]]:
        """(tag -> record holding it, record id -> tag it holds), for these tags and these records."""
        held: dict[str, str] = {}
        tag_of: dict[str, str | None] = {}
        for column, keys in (("tag", tags), ("record_id", ids)):
            for chunk in _chunks(keys, 500):
                cur.execute(self.sql(f"SELECT tag, record_id FROM tags WHERE team = ? AND {column} IN "
                                     f"({','.join('?' * len(chunk))})"), (team, *chunk))
                for tag, rid in cur.fetchall():
                    held[tag] = rid
                    tag_of[rid] = tag
        return held, tag_of

    def _lock_team(self, cur, team: str) -> tuple[int, str]:
        """Lock the team's row until commit; return its last sequence number and chain head."""
        for _ in range(2):
            cur.execute(self.sql(f"SELECT seq, head FROM teams WHERE team = ?{self.lock_rows}"), (team,))
            row = cur.fetchone()
            if row is not None:
                return row[0], row[1]
            # A team's first push. Two at once: one inserts, both then lock the row.
            cur.execute(self.sql("INSERT INTO teams (team, seq) VALUES (?, 0) ON CONFLICT DO NOTHING"), (team,))
        raise RuntimeError(f"the row of team {team!r} could not be locked")

    def _server_records(self, cur, team: str, made: planner.Plan, texts: list[str]) -> dict[int, dict]:
        """The server's current version for each conflict verdict: from this push, or as stored."""
        out = {n: json.loads(texts[v.server_record]) for n, v in enumerate(made.verdicts) if isinstance(v.server_record, int)}
        ids = sorted({v.server_record for v in made.verdicts if isinstance(v.server_record, str)})
        stored = {rid: json.loads(body) for rid, body in self.rows_for_ids(cur, "records", "id, record", team, ids)}
        out.update({n: stored[v.server_record] for n, v in enumerate(made.verdicts) if isinstance(v.server_record, str)})
        return out

    def rows_for_ids(self, cur, table: str, columns: str, team: str, ids: Sequence[str], where: str = "") -> list[tuple]:
        """`columns` of the team's rows in `table` with these ids (`where`: a further condition)."""
        rows: list[tuple] = []
        for chunk in _chunks(list(ids), 500):
            cur.execute(self.sql(f"SELECT {columns} FROM {table} WHERE team = ? AND id IN ({','.join('?' * len(chunk))}){where}"),
                        (team, *chunk))
            rows.extend(cur.fetchall())
        return rows

    def insert_rows(self, cur, table: str, columns: Sequence[str], rows: list[tuple]) -> None:
        """Many rows in a few statements: one per 500 rows, not one per row."""
        names = ", ".join(columns)
        row = "(" + ", ".join("?" * len(columns)) + ")"
        for chunk in _chunks(rows, 500):
            cur.execute(self.sql(f"INSERT INTO {table} ({names}) VALUES " + ",".join([row] * len(chunk))),
                        [v for r in chunk for v in r])

    # --- pull and reading -------------------------------------------------------------------

    def pull(self, team: str, since: int, limit: int, *, leave_out_sent_by: str | None = None) -> Page:
        """The team's versions after `since`, at most `limit` of them, in sequence order.

        `leave_out_sent_by`: an enrolled device whose own deliveries are left out
        (it has them already; the route passes none on a pull from cursor 0,
        where a phone installed again recovers its own records). The cursor and `more` follow the rows read, not
        those returned, so no version is skipped (a page may come back empty with
        more=true). `conflicts` covers every record read, left out or not: a
        device still learns that a record it delivered is in conflict.
        """
        leave_out = leave_out_sent_by
        # Rows read at most: `limit`, or, where a device's own are left out, enough of
        # them that a long run of its own pushes is stepped over in one answer.
        cap = limit if leave_out is None else max(limit, min(limit * 20, PULL_SCAN_ROWS))
        with self.transaction(write=False) as cur:
            if leave_out is None:
                cur.execute(
                    self.sql("SELECT seq, id, record, sent_by FROM revisions WHERE team = ? AND seq > ? ORDER BY seq LIMIT ?"),
                    (team, since, cap + 1),
                )
            else:
                # The rows left out are still read (the cursor steps over them), not their bodies.
                # But a merged version (fieldapp.core.merge) the device's push made: the server wrote
                # it, and the device learns the merge from it. Canonical JSON names the key so only.
                cur.execute(
                    self.sql("SELECT seq, id, CASE WHEN sent_by = ? AND record NOT LIKE ? THEN NULL ELSE record END, "
                             "sent_by FROM revisions WHERE team = ? AND seq > ? ORDER BY seq LIMIT ?"),
                    (leave_out, MERGED_MARK, team, since, cap + 1),
                )
            fetched = cur.fetchall()
            rows, kept = [], 0
            for row in fetched[:cap]:
                if row[2] is not None:
                    if kept == limit:
                        break
                    kept += 1
                rows.append(row)
            more = len(rows) < len(fetched)
            ids = sorted({rid for _, rid, _, _ in rows})
            conflicts = {rid: json.loads(body)
                         for rid, body in self.rows_for_ids(cur, "records", "id, record", team, ids, " AND in_conflict")}
            settled = dict(self.rows_for_ids(cur, "records", "id, settled_by", team, ids, " AND settled_by IS NOT NULL"))
        cursor = rows[-1][0] if rows else since
        rows = [row for row in rows if row[2] is not None]
        return Page([json.loads(body) for _, _, body, _ in rows], [sender for *_, sender in rows], cursor, more, conflicts,
                    settled)

    def current_records(self, team: str | None = None) -> list[dict]:
        """Every record's current version (of one team, or of all)."""
        rows = self._read("SELECT record FROM records", "team", team, where="version > 0", order=" ORDER BY team, id")
        return [json.loads(body) for (body,) in rows]

    def current_deliveries(self, team: str | None = None) -> list[tuple[dict, str, str | None]]:
        """(record, team, delivered_by) for every record's current version (of one team, or of all).

        `delivered_by` is the enrolled device whose push stored that version: the
        `sent_by` of the revision with the current (team, id, version, hash).
        """
        rows = self._read("SELECT r.record, r.team, v.sent_by FROM records r LEFT JOIN revisions v"
                          " ON v.team = r.team AND v.id = r.id AND v.version = r.version AND v.hash = r.hash",
                          "r.team", team, where="r.version > 0", order=" ORDER BY r.team, r.id")
        return [(json.loads(body), row_team, sent_by) for body, row_team, sent_by in rows]

    def revision_keys(self, team: str | None = None) -> list[tuple[str, int, str]]:
        """(id, version, hash) of every stored revision: what a check of exactly-once reads."""
        return [tuple(row) for row in self._read("SELECT id, version, hash FROM revisions", "team", team)]

    def _read(self, select: str, team_column: str, team: str | None, *, where: str = "", order: str = "") -> list[tuple]:
        """The rows of `select` (of one team, or of all), in one read transaction."""
        conditions = [where] if where else []
        params: tuple = ()
        if team is not None:
            conditions.append(f"{team_column} = ?")
            params = (team,)
        query = select + (" WHERE " + " AND ".join(conditions) if conditions else "") + order
        with self.transaction(write=False) as cur:
            cur.execute(self.sql(query), params)
            return cur.fetchall()

    # --- the chains -------------------------------------------------------------------------

    def chain_head(self, team: str) -> dict:
        """The team's current chain head: {"seq", "link"} (seq 0 and GENESIS before any version)."""
        heads = self.chain_heads(team)
        seq, link = heads.get(team, (0, chain.GENESIS))
        return {"seq": seq, "link": link}

    def chain_heads(self, team: str | None = None) -> dict[str, tuple[int, str]]:
        """team -> (seq, head) as the teams rows hold them; a team with revisions but no row gets (0, "")."""
        where, params = (" WHERE team = ?", (team,)) if team is not None else ("", ())
        with self.transaction(write=False) as cur:
            cur.execute(self.sql(f"SELECT team, seq, head FROM teams{where}"), params)
            heads = {t: (seq, head) for t, seq, head in cur.fetchall()}
            cur.execute(self.sql(f"SELECT DISTINCT team FROM revisions{where}"), params)
            for (t,) in cur.fetchall():
                heads.setdefault(t, (0, ""))
        return dict(sorted(heads.items()))

    REVISION_READ = "seq, id, version, sent_by, received_at, record, salt, link, hash, losing, device_id, chain_format"

    def revision_rows(self, team: str, *, after: int = 0, upto: int | None = None,
                      batch: int = 5000) -> Iterator[tuple]:
        """The team's revisions in seq order, as (seq, id, version, sent_by, received_at, record, salt, link, hash,
        losing, device_id, chain_format).

        Read in batches by seq, each in a short read transaction: memory stays flat
        and no long transaction holds back writers or SQLite's checkpoints. `upto`:
        the last seq to read (a head read first: later pushes are not walked).
        """
        bound = "" if upto is None else " AND seq <= ?"
        while True:
            params: tuple = (team, after) + (() if upto is None else (upto,)) + (batch,)
            with self.transaction(write=False) as cur:
                cur.execute(self.sql(f"SELECT {self.REVISION_READ} FROM revisions WHERE team = ? AND seq > ?{bound} "
                                     f"ORDER BY seq LIMIT ?"), params)
                rows = cur.fetchall()
            yield from rows
            if len(rows) < batch:
                return
            after = rows[-1][0]

    def chain_rows(self, team: str, *, upto: int | None = None, replay: derived.Replay | None = None) -> Iterator[chain.Row]:
        """The team's revisions as a chain walk sees them (sync/server/chain.py); each fed to `replay` too."""
        for seq, rid, version, sent_by, received_at, record, salt, link, hash_, losing, device_id, form in \
                self.revision_rows(team, upto=upto):
            day, parsed = None, None
            try:
                parsed = json.loads(record)
                public, personal = chain.digests_of_stored(parsed, record, salt or "")
                if form == 2:
                    day = chain.version_day(parsed)
            except (ValueError, TypeError, AttributeError):  # not JSON any more: its digest is of the text
                public, personal = _sha256(record), ""
            if replay is not None:
                replay.add(seq, rid, version, parsed if isinstance(parsed, dict) else None, record, hash_, losing,
                           device_id)
            yield chain.Row(seq, rid, version, sent_by, received_at, public, personal, link,
                            chain_format=form if form in chain.FORMATS else 1, day=day)

    def _hash_note(self, team: str, seq: int) -> str:
        """For a broken row: whether its record still matches the content hash stored beside it."""
        with self.transaction(write=False) as cur:
            cur.execute(self.sql("SELECT record, hash FROM revisions WHERE team = ? AND seq = ?"), (team, seq))
            row = cur.fetchone()
        if row is None or _sha256(row[0]) == row[1]:
            return ""
        return " (its record no longer matches the hash stored beside it)"

    def verify_chains(self, team: str | None = None) -> Iterator[chain.Walked | chain.Break]:
        """Walk each team's chain (or one team's) up to the head its row holds; one result per team."""
        heads = self.chain_heads(team)
        if team is not None and team not in heads:
            heads[team] = (0, chain.GENESIS)
        for name, (seq, head) in heads.items():
            if not head:
                yield chain.Break(name, 0, None, None, "head mismatch", "the team has stored versions but no teams row")
                continue
            # Up to the head read first: a push committing meanwhile is not a break.
            replay = derived.Replay()
            walked = chain.walk(name, self.chain_rows(name, upto=seq, replay=replay), head=(seq, head))
            if isinstance(walked, chain.Break) and walked.record_id is not None:
                walked = dataclasses.replace(walked, detail=walked.detail + self._hash_note(name, walked.seq))
            if isinstance(walked, chain.Walked):
                with self.transaction(write=False) as cur:
                    cur.execute(self.sql("SELECT seq FROM teams WHERE team = ?"), (name,))
                    now = cur.fetchone()[0]
                    cur.execute(self.sql("SELECT MAX(seq) FROM revisions WHERE team = ?"), (name,))
                    stored = cur.fetchone()[0] or 0
                if stored > now:
                    walked = chain.Break(name, now + 1, None, None, "head mismatch",
                                         f"rows up to seq {stored} are stored past the head on the teams row (seq {now})")
            if isinstance(walked, chain.Walked):
                mismatch = replay.problem or self._derived_rows(name, seq, replay)
                if mismatch is not None:
                    walked = chain.Break(name, mismatch.seq or 0, mismatch.record_id, mismatch.version,
                                         f"{mismatch.table} row edited", mismatch.detail)
            yield walked

    def _derived_rows(self, team: str, head_seq: int, replay: derived.Replay) -> derived.Mismatch | None:
        """The team's `records` and `tags` rows against the replay of its chain up to `head_seq`.

        A records row a push changed after the head was read (its seq past it) is left
        for the next verify, unless its seq is past the team's seq now too (no push gave it).
        """
        after = ""
        while True:
            with self.transaction(write=False) as cur:
                cur.execute(self.sql("SELECT id, version, hash, type, record, in_conflict, seq FROM records "
                                     "WHERE team = ? AND id > ? ORDER BY id LIMIT ?"), (team, after, 5000))
                rows = cur.fetchall()
                cur.execute(self.sql("SELECT seq FROM teams WHERE team = ?"), (team,))
                now = cur.fetchone()[0]
            for rid, version, hash_, kind, text, in_conflict, seq in rows:
                if seq > head_seq:
                    if seq > now:
                        return derived.Mismatch("records", rid, version, None,
                                                f"its seq {seq} is past the team's last seq {now} (edited)")
                    replay.skip(rid)
                    continue
                found = replay.check_record_row(rid, version, hash_, kind, text, in_conflict)
                if found is not None:
                    return found
            if len(rows) < 5000:
                break
            after = rows[-1][0]
        missing = replay.missing_records()
        if missing is not None:
            return missing
        return self._tag_rows(team, head_seq, replay)

    def _tag_rows(self, team: str, head_seq: int, replay: derived.Replay) -> derived.Mismatch | None:
        """The team's `tags` rows against the tags the replay's current versions hold.

        Records a push changed after the head (records.seq past it) are left out of the
        replay first: read after the tags, so one changed meanwhile is left out too.
        """
        with self.transaction(write=False) as cur:
            cur.execute(self.sql("SELECT t.tag, t.record_id, r.seq FROM tags t LEFT JOIN records r "
                                 "ON r.team = t.team AND r.id = t.record_id WHERE t.team = ?"), (team,))
            rows = cur.fetchall()
        with self.transaction(write=False) as cur:
            cur.execute(self.sql("SELECT id FROM records WHERE team = ? AND seq > ?"), (team, head_seq))
            for (rid,) in cur.fetchall():
                replay.skip(rid)
        return replay.check_tags([(tag, rid) for tag, rid, seq in rows if seq is None or seq <= head_seq])


def _chunks(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]
