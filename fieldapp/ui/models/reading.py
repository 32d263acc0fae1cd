"""A record read by a person: each field's value in the user's language, and what one version changed.

Shared by the queue's cards, the record screen and the conflict screen. A field is what
fieldapp/core/merge.py merges as one: a top-level key of `data` (a location, a handover, the
conditions, the status log are each one field), and the review.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fieldapp.core.records import RecordType
from fieldapp.i18n import Translator
from fieldapp.ui import messages

# A value's key -> the translation prefix naming its values.
_NAMED = {"status": "status", "incident_type": "incident", "outcome": "outcome", "sex": "sex", "age_group": "age"}
# The order a record's fields are read in (the form's order); others follow, sorted.
ORDER = ("incident_type", "received_at", "location", "status", "status_log", "reported_people", "missing_people",
         "caller_phone", "outcome", "count", "recovered_at", "withdrawn", "sex", "age_group", "age_years",
         "identified", "name", "tag", "conditions", "death_estimated_at", "handed_to", "handover", "notes",
         "photos", "call_id")


def headline(t: Translator, record: Mapping[str, Any]) -> str:
    """A record in one line, as a lead names it: a call by its type, place and time; a recovery by its outcome."""
    data = record.get("data") or {}
    if record.get("type") == RecordType.CALL:
        return t.join([t("incident." + data["incident_type"]), (data.get("location") or {}).get("place", ""),
                       when(t, data.get("received_at"))])
    return t.join([f"{t('outcome.' + data['outcome'])} × {t.isolate(data['count'])}", (data.get("recovered_at") or "")[11:16]])


def when(t: Translator, stamp: str | None) -> str:
    """A time as a person reads it: the day and the hour, each isolated."""
    if not stamp:
        return ""
    return t.join([messages.long_date(stamp[:10], t), stamp[11:16]], sep=" ")


def value(t: Translator, path: str, raw: Any) -> str:
    """One field's value as a person reads it: names for enums, a place for a location, (empty) for none."""
    key = path.split(".")[-1]
    if path == "review" and not raw:
        return t("review.unreviewed")
    if path == "review" and isinstance(raw, Mapping):
        state = t("review." + raw.get("state", "unreviewed"))
        return f"{state}: {t.isolate(raw['note'])}" if raw.get("note") else state
    if raw is None or raw == "" or raw == [] or raw == {}:
        return t("conflict.not_set")
    if key == "location" and isinstance(raw, Mapping):
        coords = (t.ltr(f"{raw['lat']:.5f}, {raw['lon']:.5f}")
                  if isinstance(raw.get("lat"), int | float) and isinstance(raw.get("lon"), int | float) else "")
        return t.join([raw.get("place") or "", coords])
    if key == "handover" and isinstance(raw, Mapping):
        return t.join([t("handover." + raw["to"]) if raw.get("to") else "", raw.get("place") or "",
                       raw.get("receiver") or "", when(t, raw.get("at"))])
    if key == "conditions" and isinstance(raw, list):
        return t.list(t(f"condition.{c}") for c in raw)
    if key == "status_log" and isinstance(raw, list):
        return t.join(t.join([t("status." + e["status"]), (e.get("at") or "")[11:16]], sep=" ")
                      for e in raw if isinstance(e, Mapping) and "status" in e)
    if key == "photos" and isinstance(raw, list):
        return t("record.photos", n=len(raw))
    prefix = _NAMED.get(key)
    if prefix and isinstance(raw, str):
        return t(f"{prefix}.{raw}")
    if isinstance(raw, bool):
        return t("record.yes") if raw else t("record.no")
    if isinstance(raw, str) and len(raw) >= 16 and raw[4:5] == "-" and raw[10:11] == "T":
        return when(t, raw)
    return t.isolate(raw)


def fields(record: Mapping[str, Any]) -> list[str]:
    """The record's fields as paths (data.<key>, then review), in the form's order."""
    keys = list((record.get("data") or {}).keys())
    ordered = [k for k in ORDER if k in keys] + sorted(k for k in keys if k not in ORDER)
    return [f"data.{k}" for k in ordered] + ["review"]


def field_of(record: Mapping[str, Any] | None, path: str) -> Any:
    if record is None:
        return None
    if path == "review":
        return record.get("review") or None
    return (record.get("data") or {}).get(path.split(".", 1)[1])


@dataclass(frozen=True)
class FieldChange:
    path: str
    before: Any
    after: Any

    def line(self, t: Translator) -> str:
        return t("record.change_line", label=messages.label(self.path, t), was=value(t, self.path, self.before),
                 now=value(t, self.path, self.after))


def changes(before: Mapping[str, Any] | None, after: Mapping[str, Any]) -> list[FieldChange]:
    """What a version changed from the one before it, field by field (bookkeeping left out); all of it for the first."""
    paths = fields(after) + [p for p in (fields(before) if before else []) if p not in fields(after)]
    out = []
    for path in dict.fromkeys(paths):
        old, new = field_of(before, path), field_of(after, path)
        if old != new:
            out.append(FieldChange(path, old, new))
    return out
