"""The day's figures: one function, used by the phone and by the server alike.

`day_figures(records, day)` reads plain record dicts (current versions; calls
and recoveries mixed, in any order) and returns plain JSON-ready data. The
team lead's phone and the operations room call this same code over the same
records, so their numbers agree by construction.

Which day a record belongs to
    A call belongs to the day of its `data.received_at`, a recovery to the day
    of its `data.recovered_at`, each date read in the time's own offset: the
    offset the device wrote, which is the team's local time. A call received
    at 23:40 whose people are brought out at 00:30 is one call on the first
    day and its people on the next. We never convert to UTC or to the reading
    machine's zone, so a server in another zone draws the same days as the
    phone. (The store's own day pages go by `created_at`; the figures go by
    when things happened.)

What counts
    - Every record of the day counts, whatever its review state: a lead flags
      a record to have it corrected, not to delete it. Flagged records are
      also counted apart (`review`).
    - People are counted by `count`: a group record of ten bodies is ten
      deceased.
    - People by sex and by age group, for each outcome: a record's `sex`
      (absent counts as unknown) and its age group: `age_group` when it is
      child, adult or elderly, else the group `age_years` falls in (under 18
      a child, 60 or over elderly), else unknown. A group record of ten
      bodies with sex and age unknown is ten unknown in each breakdown. Each
      breakdown adds up to `people`.
    - `missing_people`: the sum of `missing_people` over the day's calls
      (people reported missing or trapped, by the call's current version).
    - A recovery withdrawn as entered in error (`data.withdrawn` true) counts
      nowhere: not as people, not as a record.
    - Deceased `identified` means `identified` is true; false or absent is
      unidentified.
    - Time to scene: for each call of the day, the first `on_scene` entry of
      its `status_log` (the earliest by time) minus `received_at`, in minutes.
      Calls never on scene, and entries before the call was received (a
      clock mistake), are left out. The median is None when no call has one.
    - If the same record id appears more than once, its highest version is
      the one counted. Records whose time cannot be read are skipped.

The figures dict (keys are stable; every incident type and status is always
present, with 0 when none):

    {
      "day": "2026-11-25",
      "calls_by_incident_type": {"airstrike": 0, ..., "other": 0},   # IncidentType order
      "calls_by_status": {"received": 0, ..., "cancelled": 0},       # CallStatus order
      "people": {"rescued": 0, "injured": 0, "deceased": 0},
      "deceased": {"identified": 0, "unidentified": 0},
      "people_by_sex": {"rescued": {"female": 0, "male": 0, "unknown": 0}, "injured": {...}, "deceased": {...}},
      "people_by_age_group": {"rescued": {"child": 0, "adult": 0, "elderly": 0, "unknown": 0}, ...},
      "missing_people": 0,
      "median_minutes_to_scene": 23.5 | None,   # rounded to 0.1 minute
      "calls_on_scene_measured": 0,             # calls behind that median
      "by_hour": {"calls": [24 ints], "people": [24 ints]},   # hour 0..23, local
      "review": {"unreviewed": 0, "approved": 0, "flagged": 0},  # records of the day
      "totals": {"calls": 0, "recoveries": 0, "people": 0, "records": 0},
    }

`totals.recoveries` counts recovery records, `totals.people` the people in
them (the sum of `count`).
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

from fieldapp.core.records import AgeGroup, CallStatus, IncidentType, Outcome, ReviewState, Sex, age_group_of

HOURS = 24


def parse_time(value: Any) -> datetime | None:
    """An RFC 3339 time as an aware datetime in its own offset; None if unreadable."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("z", "Z").replace("t", "T"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def check_day(day: str) -> str:
    """The day as YYYY-MM-DD, or ValueError."""
    try:
        return date.fromisoformat(day).isoformat()
    except (TypeError, ValueError):
        raise ValueError(f"{day!r} is not a day such as 2026-11-25") from None


def event_time(record: Mapping[str, Any]) -> datetime | None:
    """When the record's event happened: a call's received_at, a recovery's recovered_at."""
    data = record.get("data") or {}
    if record.get("type") == "call":
        return parse_time(data.get("received_at"))
    if record.get("type") == "recovery":
        return parse_time(data.get("recovered_at"))
    return None


def record_day(record: Mapping[str, Any]) -> str | None:
    """The day (YYYY-MM-DD, in the time's own offset) the record belongs to."""
    moment = event_time(record)
    return moment.date().isoformat() if moment else None


def current_versions(records: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """One record per id, the highest version; first-seen order kept (records without an id all kept)."""
    best: dict[Any, Mapping[str, Any]] = {}
    for index, record in enumerate(records):
        key = record.get("id") or ("no id", index)
        held = best.get(key)
        if held is None or (record.get("version") or 0) > (held.get("version") or 0):
            best[key] = record
    return list(best.values())


def counted(record: Mapping[str, Any]) -> bool:
    """False for a recovery withdrawn as entered in error: kept, but counted nowhere."""
    return not (record.get("type") == "recovery" and (record.get("data") or {}).get("withdrawn") is True)


def sex_of(data: Mapping[str, Any]) -> str:
    """A recovery's sex for the breakdowns: female, male, or unknown (also when not recorded)."""
    sex = data.get("sex")
    return sex if sex in (Sex.FEMALE, Sex.MALE) else Sex.UNKNOWN.value


def age_group_for(data: Mapping[str, Any]) -> str:
    """A recovery's age group for the breakdowns: `age_group`, else the one `age_years` falls in, else unknown."""
    group = data.get("age_group")
    if group in (AgeGroup.CHILD, AgeGroup.ADULT, AgeGroup.ELDERLY):
        return str(group)
    years = data.get("age_years")
    if isinstance(years, int) and not isinstance(years, bool) and years >= 0:
        return age_group_of(years).value
    return AgeGroup.UNKNOWN.value


def minutes_to_scene(call: Mapping[str, Any]) -> float | None:
    """Minutes from the call received to the first on_scene; None when never on scene."""
    data = call.get("data") or {}
    received = parse_time(data.get("received_at"))
    if received is None:
        return None
    arrivals = [
        moment
        for entry in data.get("status_log") or ()
        if entry.get("status") == CallStatus.ON_SCENE
        and (moment := parse_time(entry.get("at"))) is not None
    ]
    if not arrivals:
        return None
    minutes = (min(arrivals) - received).total_seconds() / 60
    return minutes if minutes >= 0 else None


@dataclass
class DayFigures:
    day: str
    calls_by_incident_type: dict[str, int] = field(default_factory=lambda: {t.value: 0 for t in IncidentType})
    calls_by_status: dict[str, int] = field(default_factory=lambda: {s.value: 0 for s in CallStatus})
    people: dict[str, int] = field(default_factory=lambda: {o.value: 0 for o in Outcome})
    deceased: dict[str, int] = field(default_factory=lambda: {"identified": 0, "unidentified": 0})
    people_by_sex: dict[str, dict[str, int]] = field(
        default_factory=lambda: {o.value: {s.value: 0 for s in Sex} for o in Outcome})
    people_by_age_group: dict[str, dict[str, int]] = field(
        default_factory=lambda: {o.value: {a.value: 0 for a in AgeGroup} for o in Outcome})
    missing_people: int = 0
    median_minutes_to_scene: float | None = None
    calls_on_scene_measured: int = 0
    by_hour: dict[str, list[int]] = field(default_factory=lambda: {"calls": [0] * HOURS, "people": [0] * HOURS})
    review: dict[str, int] = field(default_factory=lambda: {s.value: 0 for s in ReviewState})
    totals: dict[str, int] = field(default_factory=lambda: {"calls": 0, "recoveries": 0, "people": 0, "records": 0})

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def compute(records: Iterable[Mapping[str, Any]], day: str) -> DayFigures:
    """The figures of one day as a DayFigures (see the module's docstring)."""
    figures = DayFigures(day=check_day(day))
    waits: list[float] = []
    for record in current_versions(records):
        moment = event_time(record)
        if moment is None or moment.date().isoformat() != figures.day or not counted(record):
            continue
        data = record["data"]
        state = (record.get("review") or {}).get("state") or ReviewState.UNREVIEWED.value
        if state in figures.review:
            figures.review[state] += 1
        figures.totals["records"] += 1
        if record["type"] == "call":
            figures.totals["calls"] += 1
            _bump(figures.calls_by_incident_type, data.get("incident_type"), 1)
            _bump(figures.calls_by_status, data.get("status"), 1)
            figures.by_hour["calls"][moment.hour] += 1
            missing = data.get("missing_people")
            if isinstance(missing, int) and not isinstance(missing, bool) and missing > 0:
                figures.missing_people += missing
            wait = minutes_to_scene(record)
            if wait is not None:
                waits.append(wait)
        else:
            people = data.get("count") or 1
            figures.totals["recoveries"] += 1
            figures.totals["people"] += people
            outcome = data.get("outcome")
            _bump(figures.people, outcome, people)
            if outcome == Outcome.DECEASED:
                side = "identified" if data.get("identified") is True else "unidentified"
                figures.deceased[side] += people
            if outcome in figures.people_by_sex:
                figures.people_by_sex[outcome][sex_of(data)] += people
                figures.people_by_age_group[outcome][age_group_for(data)] += people
            figures.by_hour["people"][moment.hour] += people
    if waits:
        figures.median_minutes_to_scene = round(statistics.median(waits), 1)
    figures.calls_on_scene_measured = len(waits)
    return figures


def day_figures(records: Iterable[Mapping[str, Any]], day: str) -> dict[str, Any]:
    """The figures of `day` ("YYYY-MM-DD") over plain records, as a JSON-ready dict."""
    return compute(records, day).to_dict()


def _bump(counts: dict[str, int], key: Any, by: int) -> None:
    # An unknown value cannot come out of a validated record; never invent a key for it.
    if key in counts:
        counts[key] += by
