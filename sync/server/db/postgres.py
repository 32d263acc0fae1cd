"""PostgreSQL: the production database, shared by several server processes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool

from .base import Database
from .errors import DatabaseUnreachable

# The advisory lock key every fieldapp server takes to change the schema (any fixed bigint).
SCHEMA_LOCK = 0x6669656C64617070  # "fieldapp"


class PostgresDatabase(Database):
    placeholder = "%s"
    lock_rows = " FOR UPDATE"

    def __init__(self, url: str, *, max_connections: int = 16):
        self.url = url
        # One connection first, at once: a wrong host or database is said now, in a line,
        # not after the pool's 30 s of retries.
        try:
            psycopg.connect(url, connect_timeout=10).close()
        except psycopg.Error as exc:
            reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
            raise DatabaseUnreachable(f"cannot reach the PostgreSQL database: {reason}") from None
        # No server-side prepared statements: a plan cached while the tables were
        # small (a new server's first pushes) would scan them whole once they grow.
        self._pool = ConnectionPool(url, min_size=1, max_size=max_connections, open=True, timeout=30,
                                    kwargs={"prepare_threshold": None})

    @contextmanager
    def transaction(self, *, write: bool) -> Iterator[Any]:
        with self._pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
            yield cur

    def hold_schema(self, cur) -> None:
        # `CREATE TABLE IF NOT EXISTS` is not safe against itself: two servers starting at
        # once both find no table, and the second fails on the catalogue's unique index.
        cur.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))

    def rows_for_ids(self, cur, table, columns, team, ids, where=""):
        # One statement for any count, and one index probe per id whatever the
        # table's statistics say: `team = ? AND id = ANY(?)` is planned as a scan
        # of the whole team while the statistics still think the team small
        # (a new server's first busy minutes), and slows down as the team grows.
        # OFFSET 0 keeps the subquery from being flattened into a join.
        if not ids:
            return []
        cur.execute(
            f"SELECT found.* FROM unnest(%s::text[]) AS wanted(key) CROSS JOIN LATERAL "
            f"(SELECT {columns} FROM {table} WHERE team = %s AND id = wanted.key{where} OFFSET 0) AS found",
            (list(ids), team),
        )
        return cur.fetchall()

    def json_member(self, column: str, key: str) -> str:
        return f"({column}::json ->> '{key}')"

    def insert_rows(self, cur, table, columns, rows) -> None:
        # COPY is several times faster than a VALUES list or unnest() here.
        if not rows:
            return
        names = ", ".join(columns)
        with cur.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    def close(self) -> None:
        self._pool.close()
