"""The store's exceptions: one tree, caught by meaning.

    StoreError
    ├── DamagedFile       a file that would not open; it is moved aside, never overwritten
    ├── RecordNotFound    no record with that id here (also a KeyError)
    └── NotInConflict     a resolution for a record that is not in conflict

Operating-system failures (a full disk, a read-only folder) pass through as
OSError: a save that raised saved nothing.
"""

from __future__ import annotations

from pathlib import Path


class StoreError(Exception):
    """Base of the store's own errors."""


class DamagedFile(StoreError):
    """A store file that cannot be read or parsed. It is never overwritten."""

    def __init__(self, path: Path, reason: str):
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class RecordNotFound(StoreError, KeyError):
    """No record with this id in the store."""

    def __init__(self, record_id: str):
        self.record_id = record_id
        super().__init__(record_id)

    def __str__(self) -> str:
        return f"no record {self.record_id} on this device"


class NotInConflict(StoreError):
    """A lead's resolution was asked for a record that is not in conflict."""
