"""What the user is told when a store file would not open."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

# The store's reasons (fieldapp.store.durable and vault word them in English, for the log and the
# command line) -> the translation key that says the same to a volunteer, in the app's language.
_WHY = (
    ("cannot be read", "store.why.unreadable"),
    ("is not sealed", "store.why.not_sealed"),
    ("fails its authentication", "store.why.not_authentic"),
)


@dataclass(frozen=True)
class StoreProblem:
    """A file that would not open: where it was moved, and what replaced it."""

    path: Path
    moved_to: Path
    reason: str
    restored_from: Path | None

    def describe(self) -> str:
        """In English, with the whole paths: for the log and the command line."""
        after = (
            f"the last good copy ({self.restored_from.name}) is in use"
            if self.restored_from
            else "no good copy was found; its records are missing from the app until it is repaired"
        )
        return f"{self.path.name} {self.reason}; moved aside to {self.moved_to}; {after}."

    @property
    def why_key(self) -> str:
        """The translation key of the reason: unreadable, not sealed, not authentic, or damaged (the rest)."""
        return next((key for start, key in _WHY if self.reason.startswith(start)), "store.why.damaged")

    def message(self, t: Callable[..., str]) -> str:
        """What the app shows, in the user's language: file names only, each reading left to right."""
        ltr = getattr(t, "ltr", str)
        after = t("store.restored", copy=ltr(self.restored_from.name)) if self.restored_from else t("store.lost")
        return t("store.damaged", file=ltr(self.path.name), why=t(self.why_key), moved=ltr(self.moved_to.name), after=after)
