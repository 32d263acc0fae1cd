"""Personal fields only where needed: what a volunteer's device is shown, and what its versions keep.

A phone seized at a checkpoint should give up the names and phone numbers of
the records that phone made, not its whole team's. So:

- A lead's device sees every personal field (`fieldapp.core.records.PersonalField`).
- A volunteer's device sees them on the records its own device made: those whose
  first accepted version came from an installation bound to it (`installations`),
  or on every record of its team when an operator allows it
  (`fieldapp-server team TEAM --volunteers-see-personal`).
- Everywhere else a version leaves the server (a pull page, its conflicts, a push's
  conflict verdict) without the personal fields it holds, and names them in
  `withheld`.

A phone keeps `withheld` on its copy and sends it back in its next version. The
server never stores it: it stores the whole version, each withheld field taken
from the version it builds on (`base_version`), present or absent, so what the
chain links is what the team recorded. A device without access to the record's
personal fields cannot change one it was never shown, marker or not: a field the
base version holds keeps the base's value (a forged or dropped `withheld` erases
nothing); a field the base lacks may be added. A version that drops the object
holding a withheld field (a handover with its receiver) is refused on it; one with fields to
keep that changes the record's type is refused on `type` (a call cannot hold a recovery's name);
and a version made whole is checked against the schema again before it is stored.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from fieldapp.core.protocol import Role, VerdictStatus
from fieldapp.core.records import PersonalField, parse_record, personal_value

from .db import Database, Device
from .verdicts import Refusal

WITHHELD = "withheld"
PATHS = tuple(field.value for field in PersonalField)


# --- the team's setting -------------------------------------------------------------------


def volunteers_see_personal(db: Database, team: str) -> bool:
    with db.transaction(write=False) as cur:
        cur.execute(db.sql("SELECT volunteers_see_personal FROM teams WHERE team = ?"), (team,))
        row = cur.fetchone()
    return bool(row and row[0])


def has_devices(db: Database, team: str) -> bool:
    with db.transaction(write=False) as cur:
        cur.execute(db.sql("SELECT 1 FROM devices WHERE team = ? LIMIT 1"), (team,))
        return cur.fetchone() is not None


def set_volunteers_see_personal(db: Database, team: str, allowed: bool) -> None:
    with db.transaction(write=True) as cur:
        cur.execute(db.sql("INSERT INTO teams (team, seq) VALUES (?, 0) ON CONFLICT DO NOTHING"), (team,))
        cur.execute(db.sql("UPDATE teams SET volunteers_see_personal = ? WHERE team = ?"), (allowed, team))


# --- who sees what ----------------------------------------------------------------------


def makers(db: Database, team: str, ids: Iterable[str]) -> dict[str, str]:
    """record id -> the enrolled device bound to the installation that sent its first accepted version.

    First by `seq`, among versions that did not lose a conflict: the version that
    created the record on the server. Versions are never removed or relabelled, so
    nothing pushed later (a version 1 of its own for a seen id, stored as a
    losing conflict version) can change who made a record.
    """
    first: dict[str, tuple[int, str]] = {}  # id -> (seq, installation) of its first accepted version
    with db.transaction(write=False) as cur:
        for rid, seq, installation in db.rows_for_ids(cur, "revisions", "id, seq, device_id", team, sorted(set(ids)),
                                                      where=" AND NOT losing"):
            if rid not in first or seq < first[rid][0]:
                first[rid] = (seq, installation)
        installations = sorted({installation for _, installation in first.values()})
        bound: dict[str, str] = {}
        for start in range(0, len(installations), 500):
            chunk = installations[start:start + 500]
            cur.execute(db.sql(f"SELECT device_id, enrolled_device FROM installations WHERE team = ? "
                               f"AND device_id IN ({','.join('?' * len(chunk))})"), (team, *chunk))
            bound.update(cur.fetchall())
    return {rid: bound[installation] for rid, (_, installation) in first.items() if installation in bound}


@dataclass(frozen=True)
class Access:
    """Which records' personal fields one device may see."""

    everything: bool
    own: frozenset[str] = frozenset()

    def sees(self, record_id: str) -> bool:
        return self.everything or record_id in self.own


def access(db: Database, device: Device, ids: Iterable[str]) -> Access:
    if device.role == Role.LEAD or volunteers_see_personal(db, device.team):
        return Access(True)
    made = makers(db, device.team, ids)
    return Access(False, frozenset(rid for rid, maker in made.items() if maker == device.device_id))


# --- what leaves the server -----------------------------------------------------------------


def withhold(record: Mapping[str, Any]) -> dict:
    """A copy without the personal fields it holds, named in `withheld` (the record itself when it holds none)."""
    shown = copy.deepcopy(dict(record))
    withheld = []
    for path in PATHS:
        holder, value = personal_value(shown, path)
        if holder is not None and value is not None:
            del holder[path.rsplit(".", 1)[-1]]
            withheld.append(path)
    if withheld:
        shown[WITHHELD] = withheld
    return shown


def shown(records: Sequence[dict], device_access: Access) -> list[dict]:
    return [r if device_access.sees(r["id"]) else withhold(r) for r in records]


def shown_verdicts(db: Database, device: Device, stored: list) -> list:
    """A push's outcomes with each conflict's server_record, and each merged version, as this device may see them."""
    ids = [r["id"] for s in stored for r in (s.server_record, s.merged_record) if r is not None]
    if not ids:
        return stored
    device_access = access(db, device, ids)

    def seen(record: dict | None) -> dict | None:
        return record if record is None or device_access.sees(record["id"]) else withhold(record)

    return [replace(s, server_record=seen(s.server_record), merged_record=seen(s.merged_record)) for s in stored]


# --- what comes in ----------------------------------------------------------------------------


def _base_versions(db: Database, team: str, keys: set[tuple[str, int]]) -> dict[tuple[str, int], dict]:
    """(id, version) -> that stored version; of two stored under one number, the one not losing a conflict."""
    found: dict[tuple[str, int], tuple[bool, dict]] = {}
    with db.transaction(write=False) as cur:
        rows = db.rows_for_ids(cur, "revisions", "id, version, losing, record", team, sorted({rid for rid, _ in keys}))
    for rid, version, losing, body in rows:
        if (rid, version) in keys and ((rid, version) not in found or found[(rid, version)][0]):
            found[(rid, version)] = (bool(losing), json.loads(body))
    return {key: record for key, (_, record) in found.items()}


def _keep(record: dict, base: Mapping[str, Any], path: str) -> Refusal | None:
    """Give `record` the base's value of `path` (or none, when the base has none)."""
    holder, _ = personal_value(record, path)
    _, value = personal_value(base, path)
    parent, name = path.rsplit(".", 1)
    if holder is None:
        if value is None or parent == "review":
            return None  # nothing to keep, or the review dropped whole, as a volunteer may
        return Refusal(parent, f"holds {name}, which this device was not shown: a version cannot drop it")
    if value is None:
        holder.pop(name, None)
    else:
        holder[name] = copy.deepcopy(value)
    return None


def restore(db: Database, device: Device, rejections: list[dict | None], valid: list[dict]) -> tuple[list[dict | None], list[dict]]:
    """Pushed versions made whole: each withheld field, and each one this device may not see, as its base holds it.

    Returns the push's slots and good records again, a version whose fields cannot be
    kept moved to `rejected` (naming the field).
    """
    # The marker is never stored, whoever sends it and whatever it holds (an empty one too).
    markers = [record.pop(WITHHELD, None) or [] for record in valid]
    if not any(markers) and (device.role == Role.LEAD or not any(r["base_version"] for r in valid)):
        return rejections, valid
    edits = [r for r in valid if r["base_version"] > 0]
    device_access = access(db, device, [r["id"] for r in edits])
    bases = _base_versions(db, device.team, {(r["id"], r["base_version"]) for r in edits})
    slots: list[dict | None] = []
    kept: list[dict] = []
    records = iter(zip(valid, markers))
    for slot in rejections:
        if slot is not None:
            slots.append(slot)
            continue
        record, withheld = next(records)
        refusal = _restore_one(record, withheld, device_access, bases)
        if refusal is None:
            slots.append(None)
            kept.append(record)
        else:
            slots.append({"id": record["id"], "version": record["version"], "status": VerdictStatus.REJECTED.value,
                          "errors": [{"field": refusal.field, "message": refusal.message}]})
    return slots, kept


def _restore_one(record: dict, withheld: list[str], device_access: Access, bases: Mapping[tuple[str, int], dict]) -> Refusal | None:
    if record["base_version"] == 0:
        # A pulled first version carries the marker too, but a phone never sends it back as it is.
        return Refusal(WITHHELD, "a new record withholds nothing: send the fields it has") if withheld else None
    base = bases.get((record["id"], record["base_version"]))
    if base is None:
        if withheld:
            return Refusal(WITHHELD, f"builds on version {record['base_version']}, which the server does not hold: "
                                     "the withheld fields cannot be kept")
        return None
    blind = not device_access.sees(record["id"])
    paths = [path for path in PATHS if path in withheld or (blind and personal_value(base, path)[1] is not None)]
    if not paths:
        return None
    if record["type"] != base["type"]:
        # A call cannot hold a recovery's name, nor a recovery a call's caller: the fields could not be kept.
        return Refusal("type", f"changes the record from {base['type']} to {record['type']}, but {', '.join(paths)} "
                               "withheld from this device cannot be kept in it: a record keeps its type")
    for path in paths:
        refusal = _keep(record, base, path)
        if refusal is not None:
            return refusal
    # What is stored is what the schema allows, kept fields and all.
    _, errors = parse_record(record)
    if errors:
        return Refusal(errors[0].field, errors[0].message)
    return None
