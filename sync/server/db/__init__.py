"""Storage of the server: `open_database(url)` gives SQLite or PostgreSQL behind one interface."""

from __future__ import annotations

import re
from pathlib import Path

from .base import Database, Device, Page, Stored, content_hash
from .errors import DatabaseUnreachable, NoDatabase, StorageError

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def open_database(url: str, *, create: bool = True) -> Database:
    """`sqlite:///path/to/file.db` (or a plain path) or `postgresql://...`; migrated, ready.

    `create=False`: a SQLite file that is not there is NoDatabase, not a new empty
    database (a typo in a path must not make one). A URL of another kind, or a
    PostgreSQL server that cannot be reached, is a StorageError naming it.
    """
    if url.startswith(("postgresql://", "postgres://")):
        from .postgres import PostgresDatabase

        db: Database = PostgresDatabase(url)
    else:
        if _SCHEME.match(url) and not url.startswith("sqlite:///"):
            raise StorageError(f"{url.split('://')[0]}:// is not a database URL the server takes: "
                               "give sqlite:///file.db or postgresql://...")
        from .sqlite import SQLiteDatabase

        path = url[len("sqlite:///"):] if url.startswith("sqlite:///") else url
        if not create and path != ":memory:" and not Path(path).is_file():
            raise NoDatabase(f"no database at {path}: check the path (only serve and enroll create one)")
        db = SQLiteDatabase(path)
    try:
        db.migrate()
    except BaseException:
        db.close()
        raise
    return db


__all__ = ["Database", "DatabaseUnreachable", "Device", "NoDatabase", "Page", "StorageError", "Stored", "content_hash",
           "open_database"]
