"""One record read whole (opened from a queue card): every field, and every version with who sent it and what changed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fieldapp.store import StoredRecord
from fieldapp.ui import messages
from fieldapp.ui.models import reading
from fieldapp.ui.models.session import Session


@dataclass(frozen=True)
class Version:
    """One version of the record as this phone holds it, and what it changed from the version it was built on."""

    number: int
    device: str
    callsign: str
    at: str  # updated_at
    changes: list[reading.FieldChange] = field(default_factory=list)
    merged_from: list[dict[str, Any]] = field(default_factory=list)
    current: bool = False

    def heading(self, t) -> str:
        who = t.join([self.callsign, self.device])
        return t("record.version_by", number=self.number, who=who, at=reading.when(t, self.at))


def versions(stored: StoredRecord) -> list[Version]:
    """Every version held here, oldest first: this phone's history, the current one, the server's side of a conflict."""
    held: dict[tuple, dict] = {}
    for record in (*stored.history, stored.record, *([stored.server_record] if stored.server_record else [])):
        key = (record.get("version"), record.get("device_id"), record.get("updated_at"))
        held.setdefault(key, record)
    ordered = sorted(held.values(), key=lambda r: (r.get("version") or 0, r.get("updated_at") or ""))
    by_number: dict[int, dict] = {}
    out: list[Version] = []
    for record in ordered:
        # The version it was built on, where held; else the one before it here.
        before = by_number.get(record.get("base_version") or 0) or (out and by_number.get(out[-1].number)) or None
        out.append(Version(
            number=record.get("version") or 0, device=record.get("device_id") or "",
            callsign=record.get("recorded_by") or "", at=record.get("updated_at") or "",
            changes=reading.changes(before, record), merged_from=list(record.get("merged_from") or []),
            current=record is stored.record or record == stored.record,
        ))
        by_number.setdefault(record.get("version") or 0, record)
    return out


class RecordModel:
    """The record screen: what the route names, its fields as read, its versions."""

    def __init__(self, session: Session):
        self.s = session

    @property
    def record_id(self) -> str:
        return self.s.routed_id

    def stored(self) -> StoredRecord | None:
        return self.s.routed_record()

    def lines(self) -> list[tuple[str, str]]:
        """Every field of the current version: (its name, its value), in the user's language."""
        stored = self.stored()
        if stored is None:
            return []
        t, record = self.s.t, stored.record
        out = [(messages.label(path, t), self._value(path, reading.field_of(record, path)))
               for path in reading.fields(record)]
        out.append((t("record.recorded_by"), t.join([record.get("recorded_by") or "", record.get("device_id") or ""])))
        out.append((t("fieldname.updated_at"), reading.when(t, record.get("updated_at"))))
        return out

    def _value(self, path: str, raw: Any) -> str:
        if path.endswith("call_id") and isinstance(raw, str):
            # A recovery's call by what a lead knows it as, not its id (while the call is on this phone).
            call = self.s.store.get(raw)
            if call is not None:
                return reading.headline(self.s.t, call.record)
        return reading.value(self.s.t, path, raw)

    def history(self) -> list[Version]:
        """Every version, newest first."""
        stored = self.stored()
        return list(reversed(versions(stored))) if stored else []
