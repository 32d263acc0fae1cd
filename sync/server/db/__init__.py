"""Storage of the server: `open_database(url)` gives SQLite or PostgreSQL behind one interface."""

from __future__ import annotations

from .base import Database, Device, Page, Stored, content_hash


def open_database(url: str) -> Database:
    """`sqlite:///path/to/file.db` (or a plain path) or `postgresql://...`; migrated, ready."""
    if url.startswith(("postgresql://", "postgres://")):
        from .postgres import PostgresDatabase

        db: Database = PostgresDatabase(url)
    else:
        from .sqlite import SQLiteDatabase

        path = url[len("sqlite:///"):] if url.startswith("sqlite:///") else url
        db = SQLiteDatabase(path)
    db.migrate()
    return db


__all__ = ["Database", "Device", "Page", "Stored", "content_hash", "open_database"]
