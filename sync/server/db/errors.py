"""The storage's exceptions, apart from db/base.py so the migrations runner can raise them without importing it."""

from __future__ import annotations


class StorageError(Exception):
    """The server's storage cannot be used as asked; the message says why, in one line."""


class NoDatabase(StorageError):
    """A command that only reads was pointed at a database that is not there."""


class DatabaseUnreachable(StorageError):
    """The database server cannot be reached, or refuses the connection."""
