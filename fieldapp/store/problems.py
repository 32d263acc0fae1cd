"""What the user is told when a store file would not open."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class StoreProblem:
    """A file that would not open: where it was moved, and what replaced it."""

    path: Path
    moved_to: Path
    reason: str
    restored_from: Path | None

    def describe(self) -> str:
        after = (
            f"the last good copy ({self.restored_from.name}) is in use"
            if self.restored_from
            else "no good copy was found; its records are missing from the app until it is repaired"
        )
        return f"{self.path.name} {self.reason}; moved aside to {self.moved_to}; {after}."
