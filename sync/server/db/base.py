"""The server's storage: one interface, the same SQL on SQLite and PostgreSQL.

Tables (see migrations.py):
    devices    enrolled devices: team, role, sha256 of the token, revoked time
    teams      one row per team: the last change sequence number handed out
    revisions  every version ever received, append-only, keyed by
               (team, id, version, content hash); `seq` orders a team's pulls
    records    the current version of each record and whether it is in conflict

A push runs in one transaction. Record rows are locked (PostgreSQL: FOR
UPDATE, in id order) before the verdicts are decided, so two pushes of the
same records take turns and each version is stored once. The team row is
locked last, just before commit, to hand out sequence numbers: so they follow
commit order, and a pull cursor never steps past a revision that commits later
with a lower number.
"""

from __future__ import annotations

import hashlib
import json
from abc import ABC, abstractmethod
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Iterator, Sequence

from ..verdicts import Current, Outcome, decide


@dataclass(frozen=True)
class Device:
    device_id: str
    team: str
    role: str


@dataclass(frozen=True)
class Stored:
    """What became of one pushed record."""

    outcome: Outcome
    server_record: dict | None = None


@dataclass(frozen=True)
class Page:
    records: list[dict]
    cursor: int
    more: bool
    conflicts: dict[str, dict]  # id -> the server's current version, for records in conflict


# Columns as the inserts write them, with their SQL types (PostgreSQL sends them as typed arrays).
RECORD_COLUMNS = (("team", "text"), ("id", "text"), ("version", "int"), ("hash", "text"), ("type", "text"),
                  ("record", "text"), ("in_conflict", "bool"), ("seq", "bigint"))
REVISION_COLUMNS = (("team", "text"), ("id", "text"), ("version", "int"), ("hash", "text"), ("seq", "bigint"),
                    ("losing", "bool"), ("device_id", "text"), ("sent_by", "text"), ("received_at", "text"), ("record", "text"))


def _dumps(record: dict) -> str:
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


def content_hash(record: dict) -> str:
    canonical = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def now_utc() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


class Database(ABC):
    """The storage interface. Subclasses supply connections and a little dialect."""

    placeholder = "?"
    lock_rows = ""  # " FOR UPDATE" where the database has row locks

    # --- what a subclass provides -------------------------------------------------------

    @abstractmethod
    @contextmanager
    def transaction(self, *, write: bool) -> Iterator[Any]:
        """A cursor inside one transaction, committed on success, rolled back on error."""

    @abstractmethod
    def close(self) -> None: ...

    def sql(self, text: str) -> str:
        return text if self.placeholder == "?" else text.replace("?", self.placeholder)

    def _in(self, n: int) -> str:
        return "(" + ",".join("?" * n) + ")"

    # --- schema -----------------------------------------------------------------------------

    def migrate(self) -> list[int]:
        from .migrations import apply

        return apply(self)

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
        """Store valid, normalized records; one outcome each, in order."""
        if not records:
            return []
        team = device.team
        hashes = [content_hash(r) for r in records]
        ids = sorted({r["id"] for r in records})
        received = now_utc()
        with self.transaction(write=True) as cur:
            # Placeholder rows (version 0) for new records, so that two pushes of a
            # new record wait for each other on the row like any other.
            self.insert_rows(cur, "records", RECORD_COLUMNS, [(team, i, 0, "", "", "{}", False, 0) for i in ids],
                             " ON CONFLICT DO NOTHING")
            current: dict[str, Current | None] = {}
            kept: dict[str, tuple[str, str]] = {}  # id -> (type, body) of the current version
            for chunk in _chunks(ids, 500):
                cur.execute(
                    self.sql(f"SELECT id, version, hash, in_conflict, type, record FROM records "
                             f"WHERE team = ? AND id IN {self._in(len(chunk))} ORDER BY id{self.lock_rows}"),
                    (team, *chunk),
                )
                for rid, version, h, in_conflict, kind, body in cur.fetchall():
                    current[rid] = Current(version, h, bool(in_conflict)) if version else None
                    kept[rid] = (kind, body)
            stored: dict[tuple[str, int], dict[str, bool]] = {}  # (id, version) -> hash -> lost
            for chunk in _chunks(ids, 500):
                cur.execute(
                    self.sql(f"SELECT id, version, hash, losing FROM revisions WHERE team = ? AND id IN {self._in(len(chunk))}"),
                    (team, *chunk),
                )
                for rid, version, h, losing in cur.fetchall():
                    stored.setdefault((rid, version), {})[h] = bool(losing)

            results: list[Stored] = []
            new_revisions: list[tuple] = []
            changed: dict[str, tuple] = {}
            for record, h in zip(records, hashes):
                rid, version = record["id"], record["version"]
                same = stored.setdefault((rid, version), {})
                outcome = decide(
                    version=version, base_version=record["base_version"], content_hash=h,
                    current=current.get(rid), same_version_hashes=set(same),
                    losing_hashes={k for k, lost in same.items() if lost},
                )
                if outcome is Outcome.ACCEPTED:
                    body = _dumps(record)
                    same[h] = False
                    current[rid] = Current(version, h, False)
                    kept[rid] = (record["type"], body)
                    changed[rid] = (version, h, False)
                    new_revisions.append((rid, version, h, body, False, record["device_id"]))
                elif outcome is Outcome.CONFLICT:
                    same[h] = True
                    now = current[rid]
                    current[rid] = Current(now.version, now.hash, True)
                    changed[rid] = (now.version, now.hash, True)
                    new_revisions.append((rid, version, h, _dumps(record), True, record["device_id"]))
                server = json.loads(kept[rid][1]) if outcome in (Outcome.CONFLICT, Outcome.CONFLICT_AGAIN) else None
                results.append(Stored(outcome, server))

            if new_revisions:
                # The team row last: sequence numbers follow commit order.
                cur.execute(self.sql("INSERT INTO teams (team, seq) VALUES (?, 0) ON CONFLICT DO NOTHING"), (team,))
                cur.execute(self.sql("UPDATE teams SET seq = seq + ? WHERE team = ? RETURNING seq"), (len(new_revisions), team))
                last = cur.fetchone()[0]
                first = last - len(new_revisions) + 1
                self.insert_rows(
                    cur, "revisions", REVISION_COLUMNS,
                    [
                        (team, rid, version, h, first + n, losing, made_by, device.device_id, received, body)
                        for n, (rid, version, h, body, losing, made_by) in enumerate(new_revisions)
                    ],
                )
                self.insert_rows(
                    cur, "records", RECORD_COLUMNS,
                    [(team, rid, v, h, kept[rid][0], kept[rid][1], conflict, last) for rid, (v, h, conflict) in changed.items()],
                    " ON CONFLICT (team, id) DO UPDATE SET version = excluded.version, hash = excluded.hash, type = excluded.type, "
                    "record = excluded.record, in_conflict = excluded.in_conflict, seq = excluded.seq",
                )
        return results

    def insert_rows(self, cur, table: str, columns: Sequence[tuple[str, str]], rows: list[tuple], tail: str = "") -> None:
        """Many rows in a few statements: one per 500 rows, not one per row."""
        names = ", ".join(name for name, _ in columns)
        row = "(" + ", ".join("?" * len(columns)) + ")"
        for chunk in _chunks(rows, 500):
            cur.execute(self.sql(f"INSERT INTO {table} ({names}) VALUES " + ",".join([row] * len(chunk)) + tail),
                        [v for r in chunk for v in r])

    # --- pull and reading -------------------------------------------------------------------

    def pull(self, team: str, since: int, limit: int) -> Page:
        with self.transaction(write=False) as cur:
            cur.execute(
                self.sql("SELECT seq, id, record FROM revisions WHERE team = ? AND seq > ? ORDER BY seq LIMIT ?"),
                (team, since, limit + 1),
            )
            rows = cur.fetchall()
            more = len(rows) > limit
            rows = rows[:limit]
            conflicts: dict[str, dict] = {}
            ids = sorted({rid for _, rid, _ in rows})
            for chunk in _chunks(ids, 500):
                cur.execute(
                    self.sql(f"SELECT id, record FROM records WHERE team = ? AND in_conflict = ? AND id IN {self._in(len(chunk))}"),
                    (team, True, *chunk),
                )
                conflicts.update({rid: json.loads(body) for rid, body in cur.fetchall()})
        cursor = rows[-1][0] if rows else since
        return Page([json.loads(body) for _, _, body in rows], cursor, more, conflicts)

    def current_records(self, team: str | None = None) -> list[dict]:
        """Every record's current version (of one team, or of all)."""
        query = "SELECT record FROM records WHERE version > 0"
        params: tuple = ()
        if team is not None:
            query += " AND team = ?"
            params = (team,)
        with self.transaction(write=False) as cur:
            cur.execute(self.sql(query + " ORDER BY team, id"), params)
            return [json.loads(body) for (body,) in cur.fetchall()]

    def revision_keys(self, team: str | None = None) -> list[tuple[str, int, str]]:
        """(id, version, hash) of every stored revision: what a check of exactly-once reads."""
        query = "SELECT id, version, hash FROM revisions"
        params: tuple = ()
        if team is not None:
            query += " WHERE team = ?"
            params = (team,)
        with self.transaction(write=False) as cur:
            cur.execute(self.sql(query), params)
            return [tuple(row) for row in cur.fetchall()]


def _chunks(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]
