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

from .. import acts, chain, derived, planner
from ..verdicts import Current, Refusal, VerdictKind
from . import migrations
from .clock import now_utc


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

    def hold_schema(self, cur) -> None:
        """Keep other servers' schema changes out until this transaction ends.

        SQLite's write transaction already holds the whole file; PostgreSQL's does not.
        """
        return None

    # --- devices ----------------------------------------------------------------------------

    def enroll(self, *, team: str, device_id: str, role: str, token_hash: str) -> None:
        """Add a device, or give an enrolled one a new token (the old one stops working)."""
        at = now_utc()
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
                    (device_id, team, role, token_hash, at),
                )
            self.record_act(cur, acts.ActKind.ENROLL, {"device_id": device_id, "team": team, "role": str(role),
                                                       "token_hash": token_hash}, at)

    def revoke(self, device_id: str) -> bool:
        at = now_utc()
        with self.transaction(write=True) as cur:
            cur.execute(
                self.sql("UPDATE devices SET revoked_at = ? WHERE device_id = ? AND revoked_at IS NULL"),
                (at, device_id),
            )
            if cur.rowcount <= 0:
                return False
            self.record_act(cur, acts.ActKind.REVOKE, {"device_id": device_id}, at)
            return True

    def set_team_settings(self, team: str, *, volunteers_see_personal: bool) -> None:
        """The operator's setting of a team (sync/server/personal.py reads it), with its act."""
        with self.transaction(write=True) as cur:
            cur.execute(self.sql("INSERT INTO teams (team, seq) VALUES (?, 0) ON CONFLICT DO NOTHING"), (team,))
            cur.execute(self.sql("UPDATE teams SET volunteers_see_personal = ? WHERE team = ?"),
                        (volunteers_see_personal, team))
            self.record_act(cur, acts.ActKind.TEAM_SETTINGS, {"team": team,
                                                              "volunteers_see_personal": bool(volunteers_see_personal)},
                            now_utc())

    def record_act(self, cur, kind: acts.ActKind, body: dict, at: str) -> None:
        """Append one operator act to the acts log, in the caller's transaction (sync/server/acts.py).

        `acts_head` is locked last, after any row the act itself changes, so acts follow
        commit order and no two transactions wait on each other in a circle.
        """
        cur.execute(self.sql(f"SELECT seq, head FROM acts_head WHERE id = 1{self.lock_rows}"))
        seq, head = cur.fetchone()
        seq += 1
        made = acts.link(head, seq, kind, at, body)
        cur.execute(self.sql("INSERT INTO acts (seq, kind, at, body, link) VALUES (?, ?, ?, ?, ?)"),
                    (seq, str(kind), at, canonical_json(body), made))
        cur.execute(self.sql("UPDATE acts_head SET seq = ?, head = ? WHERE id = 1"), (seq, made))

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
        at, installations = now_utc(), list(dict.fromkeys(installations))
        with self.transaction(write=True) as cur:
            self._lock_team(cur, team)  # as a push binds: never beside one
            for installation in installations:
                cur.execute(self.sql("DELETE FROM installations WHERE team = ? AND device_id = ?"), (team, installation))
            self.insert_rows(cur, "installations", INSTALLATION_COLUMNS,
                             [(team, installation, device_id, at) for installation in installations])
            self.record_act(cur, acts.ActKind.INSTALLATIONS_BOUND, {"team": team, "enrolled_device": device_id,
                                                                    "installations": list(installations)}, at)

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

    def chain_rows(self, team: str, *, upto: int | None = None,
                   checked: derived.FirstPass | None = None) -> Iterator[chain.Row]:
        """The team's revisions as a chain walk sees them (sync/server/chain.py); each fed to `checked` too."""
        for seq, rid, version, sent_by, received_at, record, salt, link, hash_, _, device_id, form in \
                self.revision_rows(team, upto=upto):
            day, parsed = None, None
            plain = chain.is_plain(record)
            if plain and form != 2:
                # No personal field, no day: the digests without parsing (as chain.digests_of_stored gives them).
                public, personal = _sha256(record), chain.personal_digest(salt or "", {})
            else:
                try:
                    parsed = json.loads(record)
                    public, personal = chain.digests_of_stored(parsed, record, salt or "")
                    if form == 2:
                        day = chain.version_day(parsed)
                except (ValueError, TypeError, AttributeError):  # not JSON any more: its digest is of the text
                    public, personal = _sha256(record), ""
            if checked is not None:
                # Without personal fields the public digest is the SHA-256 of the text: not hashed twice.
                checked.add(seq, rid, version, record, parsed, public if plain else _sha256(record), hash_, device_id,
                            sent_by, received_at)
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

    def verify_chains(self, team: str | None = None,
                      walks: derived.Walks | None = None) -> Iterator[chain.Walked | chain.Break]:
        """Walk each team's chain (or one team's) up to the head its row holds; one result per team.

        `walks`: given, it is told each team's head and the first version of each of its
        installations (what verify_acts holds `installations` against), or that it broke.
        """
        heads = self.chain_heads(team)
        if team is not None and team not in heads:
            heads[team] = (0, chain.GENESIS)
        settlement: tuple[derived.RoleAt | None, str | None] | None = None
        for name, (seq, head) in heads.items():
            if not head:
                if walks is not None:
                    walks.broken.add(name)
                yield chain.Break(name, 0, None, None, "head mismatch", "the team has stored versions but no teams row")
                continue
            # Up to the head read first: a push committing meanwhile is not a break.
            checked = derived.FirstPass()
            walked = chain.walk(name, self.chain_rows(name, upto=seq, checked=checked), head=(seq, head))
            if isinstance(walked, chain.Break) and walked.record_id is not None:
                walked = dataclasses.replace(walked, detail=walked.detail + self._hash_note(name, walked.seq))
            if isinstance(walked, chain.Walked):
                with self.transaction(write=False) as cur:
                    cur.execute(self.sql("SELECT seq FROM teams WHERE team = ?"), (name,))
                    now = (cur.fetchone() or (0,))[0]  # a team with devices only has no row yet
                    cur.execute(self.sql("SELECT MAX(seq) FROM revisions WHERE team = ?"), (name,))
                    stored = cur.fetchone()[0] or 0
                if stored > now:
                    walked = chain.Break(name, now + 1, None, None, "head mismatch",
                                         f"rows up to seq {stored} are stored past the head on the teams row (seq {now})")
            if isinstance(walked, chain.Walked):
                if settlement is None:  # read once for every team
                    settlement = self._settlement_inputs()
                mismatch = checked.problem or self._derived_rows(name, seq, settlement)
                if mismatch is not None:
                    walked = chain.Break(name, mismatch.seq or 0, mismatch.record_id, mismatch.version,
                                         f"{mismatch.table} row edited", mismatch.detail)
            if walks is not None:
                if isinstance(walked, chain.Walked):
                    walks.heads[name] = seq
                    walks.firsts[name] = checked.installations
                else:
                    walks.broken.add(name)
            yield walked

    VERIFY_BATCH = 5000  # record ids a step of verify's second pass reads

    def json_member(self, column: str, key: str) -> str:
        """SQL for a top-level member of a JSON text column (SQLite's JSON functions; PostgreSQL overrides)."""
        return f"json_extract({column}, '$.{key}')"

    def _derived_rows(self, team: str, head_seq: int,
                      settlement: tuple[derived.RoleAt | None, str | None]) -> derived.Mismatch | None:
        """The team's `revisions` (their `losing`), `records` and `tags` rows against the replay of its chain up to
        `head_seq`, a batch of record ids at a time in id order (sync/server/derived.py: bounded memory).

        A records row a push changed after the head was read (its seq past it) is left
        for the next verify, unless its seq is past the team's seq now too (no push gave it).
        """
        # A version 1 is never built on anything the verdict rule compares: its base_version is not read,
        # nor what the settlement rule reads (a record's first version settles nothing).
        base = self.json_member("record", "base_version")
        review, merged_from = self.json_member("record", "review"), self.json_member("record", "merged_from")
        role_at, settled_since = settlement  # _settlement_inputs
        after = ""
        while True:
            with self.transaction(write=False) as cur:
                # The batch ends at a record id (all of its versions in it); the last batch has no end,
                # so rows of records past the last stored id are read too.
                cur.execute(self.sql("SELECT id FROM revisions WHERE team = ? AND id > ? ORDER BY id LIMIT 1 OFFSET ?"),
                            (team, after, self.VERIFY_BATCH - 1))
                last = cur.fetchone()
                upto: tuple = () if last is None else (last[0],)
                bound = "" if last is None else " AND id <= ?"
                # From the index revisions_by_record alone (`+seq`: not the seq index, whatever SQLite's
                # planner thinks); the base_version of versions above 1 only, from their rows.
                cur.execute(self.sql(f"SELECT id, seq, version, hash, losing FROM revisions WHERE team = ? "
                                     f"AND id > ?{bound} AND +seq <= ? ORDER BY id"), (team, after, *upto, head_seq))
                versions = cur.fetchall()
                cur.execute(self.sql(f"SELECT seq, {base}, sent_by, received_at, {review}, {merged_from} "
                                     f"FROM revisions WHERE team = ? AND id > ?{bound} "
                                     f"AND version > 1 AND +seq <= ?"), (team, after, *upto, head_seq))
                bases = {row[0]: row[1:] for row in cur.fetchall()}
                cur.execute(self.sql(f"SELECT id, version, hash, type, record, in_conflict, seq, settled_by FROM records "
                                     f"WHERE team = ? AND id > ?{bound}"), (team, after, *upto))
                rows = {row[0]: row for row in cur.fetchall()}
                # One statement: a tag and the seq of its record's row as they were together.
                cur.execute(self.sql(f"SELECT t.record_id, t.tag, r.seq FROM tags t LEFT JOIN records r "
                                     f"ON r.team = t.team AND r.id = t.record_id WHERE t.team = ? AND t.record_id > ?"
                                     f"{bound.replace('id', 't.record_id')}"), (team, after, *upto))
                tag_rows = cur.fetchall()
                cur.execute(self.sql("SELECT seq FROM teams WHERE team = ?"), (team,))
                now = (cur.fetchone() or (0,))[0]
            stored: dict[str, list[derived.Stored]] = {}
            for rid, seq, version, hash_, losing in versions:
                base_version, sent_by, received_at, review_text, merged = bases.get(seq, (None,) * 5)
                stored.setdefault(rid, []).append(derived.Stored(
                    seq, version, hash_, bool(losing),
                    int(base_version) if base_version is not None else 0 if version <= 1 else None,
                    sent_by, received_at, _review_state(review_text), merged is not None))
            tags: dict[str, list[str]] = {}
            changed = {rid for rid, row in rows.items() if row[6] > head_seq}
            for rid, tag, seq in tag_rows:
                if seq is None or seq <= head_seq:
                    tags.setdefault(rid, []).append(tag)
                else:
                    changed.add(rid)
            unrowed: dict[str, str] = {}  # tag -> the record holding it, with no row of its own
            for rid in sorted(set(stored) | set(rows) | set(tags)):
                row = rows.get(rid)
                if rid in changed:
                    if row is not None and row[6] > now:
                        return derived.Mismatch("records", rid, row[1], None,
                                                f"its seq {row[6]} is past the team's last seq {now} (edited)")
                    continue  # a push changed it after the head: left for the next verify
                current, found = derived.replay_record(rid, stored.get(rid, ()), role_at, settled_since)
                held: str | None = None
                if found is None:
                    found, held = derived.check_record_row(rid, current,
                                                           None if row is None else (*row[1:6], row[7]))
                if found is None:
                    found, alone = derived.check_tags(rid, held, tags.get(rid, ()))
                    if alone and held is not None:
                        unrowed[held] = rid
                if found is not None:
                    return found
            if unrowed:
                found_tag = self._tags_held_elsewhere(team, unrowed)
                if found_tag is not None:
                    return found_tag
            if last is None:
                return None
            after = last[0]

    def _settlement_inputs(self) -> tuple[derived.RoleAt | None, str | None]:
        """What the settlement rule reads beside the versions: each device's role as the operator's acts set it
        (verify_acts checks those acts' links), and when migration 9 began the marks."""
        try:
            history = acts.role_history(self._act_rows(2 ** 62))
        except Exception:  # the log unreadable: verify_acts names it; no settlement is derived
            return None, None
        with self.transaction(write=False) as cur:
            cur.execute("SELECT applied_at FROM schema_migrations WHERE version = 9")
            found = cur.fetchone()
        return (lambda device, when: acts.role_at(history, device, when)), (found[0] if found else None)

    def _tags_held_elsewhere(self, team: str, unrowed: dict[str, str]) -> derived.Mismatch | None:
        """Tags a current version holds with no row of its own: each must have a row (another holder's, from
        before the tag rule), or it was deleted."""
        with self.transaction(write=False) as cur:
            present: set[str] = set()
            for chunk in _chunks(sorted(unrowed), 500):
                cur.execute(self.sql(f"SELECT tag FROM tags WHERE team = ? AND tag IN ({','.join('?' * len(chunk))})"),
                            (team, *chunk))
                present.update(tag for (tag,) in cur.fetchall())
        for tag, rid in sorted(unrowed.items(), key=lambda item: item[1]):
            if tag not in present:
                return derived.tag_row_missing(rid, tag)
        return None

    # --- the operator's acts ----------------------------------------------------------------

    def verify_acts(self, walks: derived.Walks, team: str | None = None) -> acts.Verdict:
        """The acts log replayed (sync/server/acts.py), and `devices`, `installations`, `teams`' settings and
        `schema_migrations` held against it (of one team, or all); `walks`: what verify_chains found, run first."""
        read = self._act_tables()
        try:
            state, last, link, problem = acts.replay(self._act_rows(read.head[0]))
        except Exception as exc:  # the table itself gone or unreadable
            return acts.Verdict(0, 0, chain.GENESIS, None, acts.LogBreak(0, f"the acts log cannot be read "
                                                                            f"({type(exc).__name__})"), [])
        if problem is None and (last, link) != read.head:
            problem = acts.LogBreak(last + 1 if read.head[0] > last else last,
                                    f"acts_head says seq {read.head[0]} link {read.head[1]}, the log ends at seq "
                                    f"{last} link {link} (acts deleted, or the head edited)")
        if problem is not None:
            return acts.Verdict(last, last, link, state.seeded_at, problem, [])
        expected = dict(state.bindings)
        for name, firsts in walks.firsts.items():
            for installation, first in firsts.items():
                expected.setdefault((name, installation), first)
        teams = {row[0] for row in read.installations} | {key[0] for key in expected}
        teams = ({team} if team is not None else teams) - walks.broken
        self._bound_since(read.installations, expected, walks)
        found = (acts.compare_devices(state, read.devices, team)
                 + acts.compare_installations(expected, read.installations, teams)
                 + acts.compare_settings(state, read.settings, team)
                 + acts.compare_migrations(state, read.migrations)
                 + acts.compare_photos(state, read.photos, team))
        return acts.Verdict(last, last, link, state.seeded_at, None, found)

    def stored_photos(self, team: str | None = None) -> list[tuple[str, str]]:
        """The photos rows (team, sha256) of one team or all: the bytes verify checks in the photos' folder."""
        return [(t, sha) for t, sha in self._read("SELECT team, sha256 FROM photos", "team", team)]

    def _act_tables(self) -> acts.Tables:
        """The tables the acts cover, read between two reads of the acts' head that agree (no act committed
        meanwhile: each act writes its rows and the head in one transaction)."""
        for _ in range(10):
            with self.transaction(write=False) as cur:
                cur.execute("SELECT seq, head FROM acts_head WHERE id = 1")
                before = tuple(cur.fetchone() or (0, chain.GENESIS))
            with self.transaction(write=False) as cur:
                cur.execute(f"SELECT {', '.join(acts.DEVICE_COLUMNS)} FROM devices")
                devices = cur.fetchall()
                cur.execute(f"SELECT {', '.join(acts.INSTALLATION_COLUMNS)} FROM installations")
                installations = cur.fetchall()
                cur.execute("SELECT team, volunteers_see_personal FROM teams")
                settings = cur.fetchall()
                cur.execute(f"SELECT {', '.join(acts.MIGRATION_COLUMNS)} FROM schema_migrations")
                migrations = cur.fetchall()
                cur.execute(f"SELECT {', '.join(acts.PHOTO_COLUMNS)} FROM photos")
                photos = cur.fetchall()
            with self.transaction(write=False) as cur:
                cur.execute("SELECT seq, head FROM acts_head WHERE id = 1")
                after = tuple(cur.fetchone() or (0, chain.GENESIS))
            if before == after:
                break
        return acts.Tables((int(before[0]), str(before[1])), devices, installations, settings, migrations, photos)

    def _act_rows(self, upto: int) -> Iterator[tuple]:
        after = 0
        while True:
            with self.transaction(write=False) as cur:
                cur.execute(self.sql("SELECT seq, kind, at, body, link FROM acts WHERE seq > ? AND seq <= ? "
                                     "ORDER BY seq LIMIT 5000"), (after, upto))
                rows = cur.fetchall()
            yield from rows
            if len(rows) < 5000:
                return
            after = rows[-1][0]

    def _bound_since(self, rows: Sequence[tuple], expected: dict, walks: derived.Walks) -> None:
        """An installation first sent after its team's head was walked (a push meanwhile): bound by that version."""
        for team_, installation, *_ in rows:
            if (team_, installation) in expected or team_ not in walks.heads:
                continue
            with self.transaction(write=False) as cur:
                cur.execute(self.sql("SELECT sent_by, received_at FROM revisions WHERE team = ? AND +seq > ? "
                                     "AND device_id = ? ORDER BY seq LIMIT 1"),
                            (team_, walks.heads[team_], installation))
                first = cur.fetchone()
            if first is not None:
                expected[(team_, installation)] = (first[0], first[1])


def _review_state(text: Any) -> str | None:
    """The state of a stored version's review, from its JSON member as the database gives it (text or object)."""
    try:
        review = json.loads(text) if isinstance(text, str) else text
    except ValueError:
        return None
    state = review.get("state") if isinstance(review, dict) else None
    return str(state) if state is not None else None


def _chunks(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]
