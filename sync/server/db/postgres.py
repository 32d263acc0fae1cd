"""PostgreSQL: the production database, shared by several server processes."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator

from psycopg_pool import ConnectionPool

from .base import Database


class PostgresDatabase(Database):
    placeholder = "%s"
    lock_rows = " FOR UPDATE"

    def __init__(self, url: str, *, max_connections: int = 16):
        self.url = url
        self._pool = ConnectionPool(url, min_size=1, max_size=max_connections, open=True, timeout=30)

    @contextmanager
    def transaction(self, *, write: bool) -> Iterator[Any]:
        with self._pool.connection() as conn:
            with conn.transaction():
                with conn.cursor() as cur:
                    yield cur

    def insert_rows(self, cur, table, columns, rows, tail="") -> None:
        # COPY is several times faster than a VALUES list or unnest() here. An
        # ON CONFLICT clause needs INSERT, so such rows go through a staging table.
        if not rows:
            return
        names = ", ".join(name for name, _ in columns)
        target = table
        if tail:
            target = f"staging_{table}"
            cur.execute(f"CREATE TEMP TABLE IF NOT EXISTS {target} (LIKE {table}) ON COMMIT DELETE ROWS")
        with cur.copy(f"COPY {target} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        if tail:
            cur.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM {target}{tail}")
            cur.execute(f"DELETE FROM {target}")

    def close(self) -> None:
        self._pool.close()
