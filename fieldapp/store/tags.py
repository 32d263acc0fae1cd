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

Finding the holder reads only the partitions that may hold the tag: each
partition's summary in the store's manifest carries a 4-byte mark of every tag
its records hold (`held_mark`); a partition whose marks do not include the
tag's is never read. A mark shared by chance costs one more read, never a
wrong answer: the records read are compared by their tags (`holding_tag`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from fieldapp.core.records import held_tag


class _Stored(Protocol):
    @property
    def record(self) -> Mapping[str, Any]: ...


class TagSource(Protocol):
    """What the lookup needs of a store (RecordStore has it)."""

    def holding_tag(self, tag: str) -> Iterable[_Stored]:
        """The records whose current version holds `tag` (a normal tag)."""
        ...


def normal_tag(tag: str | None) -> str | None:
    """A tag as the schema stores it (surrounding spaces stripped); None when empty."""
    if not isinstance(tag, str):
        return None
    return tag.strip() or None


def tag_mark(tag: str) -> str:
    """8 hex digits standing for a normal tag in a partition's summary."""
    return hashlib.blake2b(tag.encode("utf-8"), digest_size=4).hexdigest()


def held_mark(record: Mapping[str, Any]) -> str | None:
    """The mark of the tag this version holds, or None."""
    tag = normal_tag(held_tag(record))
    return None if tag is None else tag_mark(tag)


def tag_holder(store: TagSource, tag: str | None, *, editing: str | None = None) -> str | None:
    """The id of a recovery on this phone whose current version holds `tag`, other than `editing`; None if none."""
    wanted = normal_tag(tag)
    if wanted is None:
        return None
    for stored in store.holding_tag(wanted):
        if stored.record.get("id") != editing:
            return str(stored.record["id"])
    return None
