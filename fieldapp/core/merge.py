"""Three-way merge of two versions of one record against their common base.

One pure function, on plain records (as `fieldapp.core.records.to_plain` gives them),
so the server (a push built on an older version than its current one) and the phone
(a pulled version meeting an edit not yet sent) merge alike. As version control does:
a field changed on one side only is taken; a field changed on both sides to the same
value is taken; a field changed on both sides to different values is a conflict, and
then nothing is merged (both versions are kept for a team lead, as before).

What is one field (docs/design.md, "Merging two versions"):
- the envelope's content fields (`type`, `created_at`, `recorded_by`) and each key of
  `data`; a `location` and a `handover` are one field each (a place and its
  coordinates, a handover and its receiver, belong together);
- `data.status_log` is merged by time: both sides' changes, each once, ordered by `at`;
  when both sides moved `data.status`, the merged status is the last change's;
- `data.conditions` is a set of observations: what either side added is added, what
  either side removed is removed (never a conflict);
- a change of `type` takes the whole record's content as one field;
- the review belongs to the content it approved: a side's review carries into the
  merge only when the other side left the content as the base had it; when both
  changed the content, the merge is unreviewed;
- personal fields are fields like the others; `withheld` (the fields a device was not
  shown) is bookkeeping, kept for the paths the merge leaves absent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

# Not content: which version this is, who saved it, when, and what it carried for the
# server. Two versions that differ only in these say the same thing. The review is
# not content either: it is what a lead said of the content.
BOOKKEEPING = frozenset({"version", "base_version", "device_id", "updated_at", "withheld", "merged_from", "review"})

STATUS_LOG = "status_log"
STATUS = "status"
CONDITIONS = "conditions"
MAX_STATUS_LOG = 100  # the schema's bound on a call's status log


@dataclass(frozen=True)
class Merged:
    """A merge's answer: the merged content and review (`record`), or the fields in conflict."""

    record: dict[str, Any]
    conflicts: tuple[str, ...] = ()

    @property
    def clean(self) -> bool:
        return not self.conflicts


def content(record: Mapping[str, Any]) -> dict[str, Any]:
    """What a version says, without its bookkeeping and its review."""
    return {k: v for k, v in record.items() if k not in BOOKKEEPING}


def same_content(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    return content(a) == content(b)


def _review(record: Mapping[str, Any]) -> Any:
    review = record.get("review")
    # No review and an empty `unreviewed` one say the same: no lead has looked.
    if not review or (review.get("state") == "unreviewed" and not review.get("note")):
        return None
    return review


def _moment(at: Any) -> datetime:
    try:
        moment = datetime.fromisoformat(str(at).upper().replace("Z", "+00:00"))
    except ValueError:
        return datetime.max.replace(tzinfo=UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _status_log(base: list, ours: list, theirs: list) -> list:
    """Both sides' changes, each once, ordered by time (ties: as first seen)."""
    seen: list = []
    for entry in [*base, *ours, *theirs]:
        if entry not in seen:
            seen.append(entry)
    removed = [e for e in base if e not in ours or e not in theirs]
    kept = [e for e in seen if e not in removed]
    return sorted(kept, key=lambda e: _moment(e.get("at") if isinstance(e, Mapping) else None))


def _conditions(base: list | None, ours: list | None, theirs: list | None) -> list | None:
    """What either side added is added, what either side removed is removed; ours' order first."""
    b, o, t = base or [], ours or [], theirs or []
    merged = [c for c in b if c in o and c in t]
    merged += [c for c in dict.fromkeys([*o, *t]) if c not in b]
    return merged or None


def _pick(base: Any, ours: Any, theirs: Any) -> tuple[Any, bool]:
    """The three-way rule for one field: (value, in conflict)."""
    if ours == theirs or theirs == base:
        return ours, False
    if ours == base:
        return theirs, False
    return ours, True


def _merge_data(base: Mapping, ours: Mapping, theirs: Mapping, conflicts: list[str]) -> dict:
    merged: dict[str, Any] = {}
    for key in sorted({*base, *ours, *theirs}):
        b, o, t = base.get(key), ours.get(key), theirs.get(key)
        if key == CONDITIONS:
            value = _conditions(b, o, t) if (o != b and t != b and o != t) else _pick(b, o, t)[0]
        elif key == STATUS_LOG and o != b and t != b and o != t:
            value = _status_log(b or [], o or [], t or [])
            if len(value) > MAX_STATUS_LOG:
                conflicts.append(f"data.{key}")
        elif key == STATUS and o != b and t != b and o != t and ours.get(STATUS_LOG) != base.get(STATUS_LOG) \
                and theirs.get(STATUS_LOG) != base.get(STATUS_LOG):
            log = _status_log(base.get(STATUS_LOG) or [], ours.get(STATUS_LOG) or [], theirs.get(STATUS_LOG) or [])
            value = log[-1].get(STATUS, o) if log else o
        else:
            value, clash = _pick(b, o, t)
            if clash:
                conflicts.append(f"data.{key}")
        if value is not None:
            merged[key] = value
    return merged


def merge(base: Mapping[str, Any], ours: Mapping[str, Any], theirs: Mapping[str, Any]) -> Merged:
    """Merge `ours` and `theirs`, two versions built on `base`, field by field.

    The answer's `record` carries the merged content and review, none of the
    bookkeeping (see `merged_version` for a whole version). The rule is symmetric
    but for the order of a merged list: `ours` first.
    """
    cb, co, ct = content(base), content(ours), content(theirs)
    conflicts: list[str] = []
    if co.get("type") != cb.get("type") or ct.get("type") != cb.get("type"):
        # Another kind of record: its content is one field.
        value, clash = _pick(cb, co, ct)
        merged = dict(value)
        if clash:
            conflicts.append("type")
    else:
        merged = {}
        for key in sorted({*cb, *co, *ct} - {"data"}):
            value, clash = _pick(cb.get(key), co.get(key), ct.get(key))
            if clash:
                conflicts.append(key)
            if value is not None:
                merged[key] = value
        merged["data"] = _merge_data(cb.get("data") or {}, co.get("data") or {}, ct.get("data") or {}, conflicts)
    # The review belongs to the content it approved.
    rb, ro, rt = _review(base), _review(ours), _review(theirs)
    ours_changed, theirs_changed = co != cb, ct != cb
    if ours_changed and theirs_changed:
        review = None  # content neither side's review saw
    elif theirs_changed:
        review = rt  # ours' review, if any, was made on content theirs changed
    elif ours_changed:
        review = ro
    else:
        review, clash = _pick(rb, ro, rt)
        if clash:
            conflicts.append("review")
    if review is not None:
        merged["review"] = review
    return Merged(merged, tuple(conflicts))


def _later(a: str, b: str) -> str:
    return b if _moment(b) > _moment(a) else a


def merged_version(merged: Merged, ours: Mapping[str, Any], theirs: Mapping[str, Any], *, device_id: str,
                   version: int | None = None) -> dict[str, Any]:
    """A whole new version of a clean merge: built on `ours`, numbered past both sides (or `version`), saying which
    two it merges."""
    record = dict(merged.record)
    record["version"] = version or max(int(ours["version"]), int(theirs["version"])) + 1
    record["base_version"] = int(ours["version"])
    record["device_id"] = device_id
    record["updated_at"] = _later(str(ours["updated_at"]), str(theirs["updated_at"]))
    record["merged_from"] = [{"version": int(side["version"]), "device_id": str(side["device_id"])} for side in (ours, theirs)]
    withheld = sorted({*(ours.get("withheld") or []), *(theirs.get("withheld") or [])})
    kept = [path for path in withheld if _absent(record, path)]
    if kept:
        record["withheld"] = kept
    return record


def _absent(record: Mapping[str, Any], path: str) -> bool:
    node: Any = record
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return True
        node = node[part]
    return node is None
