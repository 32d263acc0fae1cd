"""Exports for the operations room: CSV with an HXL hashtag row, GeoJSON, JSON lines.

    to_csv(records, *, include_personal=False, day=None, provenance=None) -> str
    to_geojson(records, *, include_personal=False, day=None, provenance=None) -> dict
    to_jsonl(records, *, include_personal=False, day=None, provenance=None) -> str

CSV and GeoJSON are summaries, one row (or map point) per call with its
recoveries' people added up onto it, and one per recovery that has a place
of its own (coordinates). JSON lines is the record export
(`fieldapp export`, `fieldapp-server export --format jsonl`): every record
whole, with the personal fields removed. All three leave personal fields
(`PERSONAL_DATA_FIELDS`) out unless asked with include_personal=True: this is
the one place that rule lives, for the phone and the server alike.
docs/exports.md is the reader's guide: columns, hashtags, what is personal.

Provenance
    Exports say which team each record belongs to and which enrolled device
    delivered its current version to the server. The records themselves do
    not hold either, so the caller passes them beside the records, as plain
    data: `provenance` maps a record id to (team, delivered_by), either None
    when unknown. The server builds it from its rows (`from_deliveries`), the
    phone from the team it learnt at its last pull (`one_team`).

Rows (`call_rows`)
    - kind "call": a call of the export, with the people of its recoveries.
    - kind "recoveries_only": recoveries whose call is not one of the export's
      calls (it has not arrived on this device or server yet, or, with `day`,
      it was received on another day), one row per call_id. The call's
      descriptive columns are filled when its record is at hand;
      reported_people stays empty so that it is counted on the call's own day.
    - kind "recovery": one recovery whose location has coordinates of its
      own, at that place, right after its call's row; its people are not in
      the call's row. So every person is counted once, where they were found.
    A recovery withdrawn as entered in error is in no row (JSON lines still
    carries it, marked).
    With `day`, calls and recoveries are chosen by `fieldapp.core.figures`'s rule
    (received_at / recovered_at, in their own offset), so the people columns
    add up to that day's figures and the "call" rows are its calls.
"""

from __future__ import annotations

import copy
import csv
import io
import json
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote

from fieldapp.core.figures import age_group_for, check_day, counted, current_versions, parse_time, record_day, sex_of

# (team, delivered_by) of a record; either None when unknown.
Provenance = tuple[str | None, str | None]
_UNKNOWN: Provenance = (None, None)

OUTCOME_TAGS = (("rescued", "#affected+rescued"), ("injured", "#affected+injured"), ("deceased", "#affected+killed"))
# The breakdown of each outcome: (column suffix, HXL attribute, what it counts).
# HXL's +f and +m, +children, +adults and +elderly; people whose sex or age is
# unknown are the outcome's column minus these.
BREAKDOWNS = (("female", "+f"), ("male", "+m"), ("children", "+children"), ("adults", "+adults"),
              ("elderly", "+elderly"))
_SEX_COLUMN = {"female": "female", "male": "male"}
_AGE_COLUMN = {"child": "children", "adult": "adults", "elderly": "elderly"}
BREAKDOWN_COLUMNS: tuple[tuple[str, str], ...] = tuple(
    (f"{outcome}_{suffix}", tag + attribute) for outcome, tag in OUTCOME_TAGS for suffix, attribute in BREAKDOWNS)

# (column, HXL hashtag). `+rescued`, `+identified`, `+unidentified`,
# `+review`, `+kind`, `+device` and `+recovery` are our documented extension
# attributes; every hashtag is the HXL dictionary's. The CSV passes libhxl's
# validator (tests/test_exports.py): #affected and #inneed hold numbers only,
# and `+reported` is left to #date, the one hashtag the dictionary gives it to.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("id", "#event+code"),
    ("received_at", "#date+occurred"),
    ("incident_type", "#event+type"),
    ("status", "#status"),
    ("place", "#loc+name"),
    ("lat", "#geo+lat"),
    ("lon", "#geo+lon"),
    ("reported_people", "#inneed"),
    ("missing_people", "#affected+missing"),
    ("rescued", "#affected+rescued"),
    ("injured", "#affected+injured"),
    ("deceased", "#affected+killed"),
    ("deceased_identified", "#affected+killed+identified"),
    ("deceased_unidentified", "#affected+killed+unidentified"),
    *BREAKDOWN_COLUMNS,
    ("review", "#meta+review"),
    ("kind", "#meta+kind"),
    ("recovery_id", "#meta+recovery"),
    ("team", "#org+name"),
    ("delivered_by", "#meta+device"),
)
PERSONAL_COLUMNS: tuple[tuple[str, str], ...] = (
    ("caller_phone", "#contact+phone"),
    ("names", "#description+name"),
)
# Fields of a record's `data` that name, show or reach a person, as dotted
# paths. `notes` is free text, where people write names too; a handover's
# receiver and photos are named by docs/design.md, for the schema versions that
# carry them.
PERSONAL_DATA_FIELDS: tuple[str, ...] = ("caller_phone", "name", "notes", "photos", "handover.receiver")
# Keys an export adds beside a record's own in JSON lines: not record fields
# (the schema refuses them), so an export line is not pushed back as is.
EXPORT_ONLY_KEYS: tuple[str, ...] = ("team", "delivered_by")

KIND_CALL = "call"
KIND_RECOVERIES_ONLY = "recoveries_only"
KIND_RECOVERY = "recovery"

# A cell a spreadsheet would read as a formula (or DDE) starts with one of these.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def one_team(records: Iterable[Mapping[str, Any]], team: str | None) -> dict[str, Provenance]:
    """Provenance for records all of one team (a phone's), delivering device unknown."""
    return {r["id"]: (team or None, None) for r in records if r.get("id")}


def from_deliveries(rows: Iterable[tuple[Mapping[str, Any], str | None, str | None]]) -> tuple[list[Mapping[str, Any]], dict[str, Provenance]]:
    """Records and their provenance from (record, team, delivered_by) rows, as the server reads them."""
    records: list[Mapping[str, Any]] = []
    provenance: dict[str, Provenance] = {}
    for record, team, delivered_by in rows:
        records.append(record)
        provenance[record["id"]] = (team or None, delivered_by or None)
    return records, provenance


def export_filename(team: str | None, day: str | None, extension: str) -> str:
    """`fieldapp-<team>-<day or all>.<extension>`; without a team, `fieldapp-<day or all>.<extension>`.

    A file name of one folder: in the team, what is not a letter, digit, `.` or `-` becomes `_`.
    """
    parts = ["fieldapp", *([re.sub(r"[^\w.-]+", "_", team)] if team else []), day or "all"]
    return "-".join(parts) + "." + extension


def content_disposition(filename: str) -> str:
    """An attachment header: an ASCII `filename`, and the UTF-8 name too when it is not plain ASCII."""
    plain = re.sub(r"[^A-Za-z0-9._-]+", "_", filename)
    header = f'attachment; filename="{plain}"'
    if plain != filename:
        header += "; filename*=UTF-8''" + quote(filename, safe="")
    return header


def call_rows(records: Iterable[Mapping[str, Any]], *, day: str | None = None,
              provenance: Mapping[str, Provenance] | None = None) -> list[dict[str, Any]]:
    """One plain row per call (and per absent call with recoveries), every column, personal ones too."""
    provenance = provenance or {}
    if day is not None:
        day = check_day(day)
    records = current_versions(records)
    calls = {r["id"]: r for r in records if r.get("type") == "call"}
    exported = [c for c in calls.values() if day is None or record_day(c) == day]
    exported.sort(key=lambda c: _time_key(c["data"].get("received_at"), c["id"]))
    exported_ids = {c["id"] for c in exported}

    people: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for record in records:
        if record.get("type") == "recovery" and counted(record) and (day is None or record_day(record) == day):
            people[record["data"]["call_id"]].append(record)
    for group in people.values():
        group.sort(key=lambda r: _time_key(r["data"].get("recovered_at"), r["id"]))

    rows = []
    for call in exported:
        group = people.get(call["id"], [])
        rows.append(_row(call, [r for r in group if not has_own_point(r)], KIND_CALL, provenance))
        rows.extend(_recovery_row(call, call["id"], r, provenance) for r in group if has_own_point(r))
    orphans = [call_id for call_id in people if call_id not in exported_ids]
    orphans.sort(key=lambda cid: _time_key(people[cid][0]["data"].get("recovered_at"), cid))
    for call_id in orphans:
        absent = calls.get(call_id)
        rest = [r for r in people[call_id] if not has_own_point(r)]
        if rest:
            row = _row(absent, rest, KIND_RECOVERIES_ONLY, provenance)
            row["id"] = call_id
            row["reported_people"] = row["missing_people"] = None  # counted on the call's own day
            rows.append(row)
        rows.extend(_recovery_row(absent, call_id, r, provenance) for r in people[call_id] if has_own_point(r))
    return rows


def has_own_point(recovery: Mapping[str, Any]) -> bool:
    """True when a recovery's own location has coordinates: it is placed there, not at its call."""
    location = (recovery.get("data") or {}).get("location") or {}
    return location.get("lat") is not None and location.get("lon") is not None


def _recovery_row(call: Mapping[str, Any] | None, call_id: str, recovery: Mapping[str, Any],
                  provenance: Mapping[str, Provenance]) -> dict[str, Any]:
    """A row of one recovery at its own coordinates; the call's descriptive columns when it is at hand."""
    row = _row(call, [recovery], KIND_RECOVERY, provenance, origins_of=[recovery])
    location = recovery["data"]["location"]
    row.update(
        id=call_id, recovery_id=recovery["id"], lat=location["lat"], lon=location["lon"],
        place=location.get("place") or row["place"],  # the site's own name, else the call's
        reported_people=None, missing_people=None, caller_phone=None,  # the call's, on the call's row
        review=(recovery.get("review") or {}).get("state") or "unreviewed",
    )
    return row


def _row(call: Mapping[str, Any] | None, recoveries: list[Mapping[str, Any]], kind: str,
         provenance: Mapping[str, Provenance], origins_of: list[Mapping[str, Any]] | None = None) -> dict[str, Any]:
    data = (call or {}).get("data") or {}
    location = data.get("location") or {}
    row: dict[str, Any] = {
        "id": call["id"] if call else None,
        "received_at": data.get("received_at"),
        "incident_type": data.get("incident_type"),
        "status": data.get("status"),
        "place": location.get("place"),
        "lat": location.get("lat"),
        "lon": location.get("lon"),
        "reported_people": data.get("reported_people"),
        "missing_people": data.get("missing_people"),
        "rescued": 0,
        "injured": 0,
        "deceased": 0,
        "deceased_identified": 0,
        "deceased_unidentified": 0,
        **{name: 0 for name, _ in BREAKDOWN_COLUMNS},
        "review": ((call.get("review") or {}).get("state") or "unreviewed") if call else None,
        "kind": kind,
        "recovery_id": None,
        "team": None,
        "delivered_by": None,
        "caller_phone": data.get("caller_phone"),
        "names": None,
    }
    names = []
    for recovery in recoveries:
        rdata = recovery["data"]
        count = rdata.get("count") or 1
        outcome = rdata.get("outcome")
        if outcome in ("rescued", "injured", "deceased"):
            row[outcome] += count
            for column in (_SEX_COLUMN.get(sex_of(rdata)), _AGE_COLUMN.get(age_group_for(rdata))):
                if column:
                    row[f"{outcome}_{column}"] += count
        if outcome == "deceased":
            side = "deceased_identified" if rdata.get("identified") is True else "deceased_unidentified"
            row[side] += count
        if rdata.get("name"):
            names.append(rdata["name"])
    row["names"] = "; ".join(names) or None
    # The row's team is its call's (or, the call absent, its recoveries');
    # delivered_by names every device that delivered one of its records.
    holders = origins_of if origins_of is not None else ([call] if call else []) + recoveries
    origins = [provenance.get(r["id"], _UNKNOWN) for r in holders]
    row["team"] = next((team for team, _ in origins if team), None)
    devices = list(dict.fromkeys(device for _, device in origins if device))
    row["delivered_by"] = "; ".join(devices) or None
    return row


def _time_key(value: Any, tiebreak: str) -> tuple:
    moment = parse_time(value)
    return (moment is None, moment.timestamp() if moment else 0.0, tiebreak or "")


def _columns(include_personal: bool) -> tuple[tuple[str, str], ...]:
    return COLUMNS + PERSONAL_COLUMNS if include_personal else COLUMNS


def safe_cell(value: Any) -> str:
    """A CSV cell: text a spreadsheet would run as a formula gets a leading apostrophe."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)  # our own numbers: a negative longitude stays a number
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def to_csv(records: Iterable[Mapping[str, Any]], *, include_personal: bool = False, day: str | None = None,
           provenance: Mapping[str, Provenance] | None = None) -> str:
    """CSV text: the header, the HXL hashtag row, then one row per call (see `call_rows`)."""
    columns = _columns(include_personal)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([name for name, _ in columns])
    writer.writerow([tag for _, tag in columns])
    for row in call_rows(records, day=day, provenance=provenance):
        writer.writerow([safe_cell(row[name]) for name, _ in columns])
    return buffer.getvalue()


def to_geojson(records: Iterable[Mapping[str, Any]], *, include_personal: bool = False, day: str | None = None,
               provenance: Mapping[str, Provenance] | None = None) -> dict[str, Any]:
    """A GeoJSON FeatureCollection: a Point ([lon, lat]) per row with coordinates.

    A call's row is at the call's point; a recovery with coordinates of its
    own is its own feature (its `id` the recovery's, `properties.id` its call's).
    """
    names = [name for name, _ in _columns(include_personal) if name not in ("lat", "lon")]
    features = []
    for row in call_rows(records, day=day, provenance=provenance):
        if row["lat"] is None or row["lon"] is None:
            continue
        features.append({
            "type": "Feature",
            "id": row["recovery_id"] or row["id"],
            "geometry": {"type": "Point", "coordinates": [row["lon"], row["lat"]]},
            "properties": {name: row[name] for name in names},
        })
    return {"type": "FeatureCollection", "features": features}


def without_personal(record: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of the record with the personal fields of its `data`, and a review's note, removed."""
    plain = copy.deepcopy(dict(record))
    if isinstance(plain.get("review"), dict):
        plain["review"].pop("note", None)  # a lead's free text, where names get written too
    for path in PERSONAL_DATA_FIELDS:
        *parents, name = path.split(".")
        holder = plain.get("data")
        for parent in parents:
            holder = holder.get(parent) if isinstance(holder, dict) else None
        if isinstance(holder, dict):
            holder.pop(name, None)
    return plain


def to_jsonl(records: Iterable[Mapping[str, Any]], *, include_personal: bool = False, day: str | None = None,
             provenance: Mapping[str, Provenance] | None = None) -> str:
    """One JSON object per line per record (in the order given), with `team` and `delivered_by` added.

    Each record is whole but for its personal fields, kept only with
    include_personal=True. With `day`, only the records of that day (a call's
    received_at, a recovery's recovered_at, as in the figures). UTF-8 text,
    Arabic kept.
    """
    if day is not None:
        day = check_day(day)
    provenance = provenance or {}
    lines = []
    for record in records:
        if day is not None and record_day(record) != day:
            continue
        obj = dict(record) if include_personal else without_personal(record)
        team, delivered_by = provenance.get(str(record.get("id")), _UNKNOWN)
        obj["team"], obj["delivered_by"] = team, delivered_by
        lines.append(json.dumps(obj, ensure_ascii=False, separators=(",", ":")))
    return "".join(line + "\n" for line in lines)
