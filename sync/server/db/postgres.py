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

    def close(self) -> None:
        self._pool.close()
