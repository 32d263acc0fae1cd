"""Which recovery on this phone holds a body or casualty tag: the app's warning before a save.

A `data.tag` is unique among a team's recoveries. The server's verdict is the
one that counts: a second use is `rejected` on `data.tag`, naming the record
that holds it. The phone can only warn, and only about what it knows: its
own recoveries and those its pulls brought from the rest of the team. A tag
a teammate used on a phone that has not synced yet is found by the server,
not here.

    tag_holder(store, "JBL-2026-0142")                  # -> the id of a recovery holding it, or None
    tag_holder(store, "JBL-2026-0142", editing=rec_id)  # the record being corrected keeps its own tag

Tags are compared as the schema stores them (surrounding spaces stripped,
case kept), the way the server compares them; every current version of a
recovery counts, whatever its sync state (a version still waiting holds its
tag as soon as it is sent), except one withdrawn as entered in error: it holds
none (`fieldapp.core.records.held_tag`, the server's rule too).

For now this is a linear scan over `store.iter_current()`, which reads every
day page of the store: fine for a form's save on a phone's few thousand
records, a few hundred milliseconds at a year of history (50,000 records). An
index of tags in the store, kept with its other caches, would make it one
lookup; the store's internals are being reworked, so that waits.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from fieldapp.core.records import held_tag


class _Stored(Protocol):
    @property
    def record(self) -> Mapping[str, Any]: ...


class TagSource(Protocol):
    """What the scan needs of a store: its current records (RecordStore has it)."""

    def iter_current(self) -> Iterable[_Stored]: ...


def normal_tag(tag: str | None) -> str | None:
    """A tag as the schema stores it (surrounding spaces stripped); None when empty."""
    if not isinstance(tag, str):
        return None
    return tag.strip() or None


def tag_holder(store: TagSource, tag: str | None, *, editing: str | None = None) -> str | None:
    """The id of a recovery on this phone whose current version holds `tag`, other than `editing`; None if none."""
    wanted = normal_tag(tag)
    if wanted is None:
        return None
    for stored in store.iter_current():
        record = stored.record
        if record.get("id") != editing and normal_tag(held_tag(record)) == wanted:
            return str(record["id"])
    return None
