"""Realistic demo data: a few days of a regional team's calls and recoveries.

    plan = demo_plan(30, seed=7)                # list[DemoCall], no store needed
    saved = populate(store, 30, seed=7, echo=print)

Calls of every incident type and every status (given at least 11 calls)
around real places of the Syrian coast (Latakia, Jableh, Baniyas, Tartus,
Qardaha, Slenfeh, Kessab, Haffeh...) and Idlib (Idlib, Ariha, Jisr
al-Shughur, Saraqib, Maarrat al-Nu'man, Sarmada, Harem, Atarib...), place
names in Latin and Arabic letters, coordinates jittered around each town.
Their recoveries have all three outcomes, both sexes and unknown, every age
group, names (fictional and plainly so: "Demo Name 12 · اسم تجريبي 12"),
body and casualty tags, and group records: at least one site where ten
unidentified deceased are recorded together, bound and blindfolded, at a
point of their own off the road. Phone numbers are in an unassigned block
(+963 900 ...).

The evidence fields (schema 2) are used as a team would: conditions from the
fixed list that fit the incident (blast injuries after an airstrike, burns
after a fire, decomposed remains in a ravine), an age estimate for some
single people (within their age group), an estimated time of death for some
of the dead (days before for bodies found, around the call otherwise), a
handover for most people (hospital, morgue, family, a forensic team; the
hospital's name as its place, a fictional receiver "Demo Receiver 3 · مستلم
تجريبي 3"), and `missing_people` on some calls. Tags are unique within a
team's records: town code, year, month and day, D (body), C (casualty) or G
(group) and a number, such as "JBL-2026-1125-D03". The evidence draws come
from a second random stream, so the plan's calls, times and people are the
same as without them.

Times: spread over several days ending at `now`, in `now`'s offset (the
team's local time); nothing lies in the future. Each status log runs
received -> dispatched -> on_scene -> completed (or -> cancelled), and the
calls still open are the most recent ones. Each call is saved once, a minute
or two after it was received (so the device's day pages and the day's
figures put it on the same day), holding the status log as it stands at
`now`; each recovery is saved a few minutes after it was brought out.

The same `calls`, `seed` and `now` give the same plan. Nothing here stores
religion, sect, ethnicity or affiliation: the schema has no place for it.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, Protocol

from fieldapp.core.records import AgeGroup, CallStatus, Condition, HandoverTarget, IncidentType, Outcome, Sex


@dataclass(frozen=True)
class Place:
    latin: str
    arabic: str
    lat: float
    lon: float
    code: str  # prefix of tags and callsigns
    hospital: tuple[str, str]  # (Latin, Arabic) where the injured of this town are taken
    weight: int = 1  # bigger towns call more


_LATAKIA_HOSP = ("Latakia National Hospital", "مشفى اللاذقية الوطني")
_TARTUS_HOSP = ("Tartus National Hospital", "مشفى طرطوس الوطني")
_IDLIB_HOSP = ("Idlib University Hospital", "مشفى إدلب الجامعي")
_BAB_AL_HAWA = ("Bab al-Hawa Hospital", "مشفى باب الهوى")

PLACES: tuple[Place, ...] = (
    # The coast
    Place("Latakia", "اللاذقية", 35.5317, 35.7901, "LTK", _LATAKIA_HOSP, 3),
    Place("Jableh", "جبلة", 35.3609, 35.9256, "JBL", ("Jableh National Hospital", "مشفى جبلة الوطني"), 2),
    Place("Baniyas", "بانياس", 35.1822, 35.9403, "BNS", ("Baniyas National Hospital", "مشفى بانياس الوطني"), 2),
    Place("Tartus", "طرطوس", 34.8890, 35.8866, "TRT", _TARTUS_HOSP, 2),
    Place("Qardaha", "القرداحة", 35.4556, 36.0589, "QRD", ("Qardaha National Hospital", "مشفى القرداحة الوطني")),
    Place("Slenfeh", "صلنفة", 35.5917, 36.1875, "SLN", _LATAKIA_HOSP),
    Place("Kessab", "كسب", 35.9275, 35.9867, "KSB", _LATAKIA_HOSP),
    Place("Haffeh", "الحفة", 35.6000, 36.0333, "HFH", ("Haffeh National Hospital", "مشفى الحفة الوطني")),
    Place("Safita", "صافيتا", 34.8206, 36.1172, "SFT", _TARTUS_HOSP),
    Place("Qadmus", "القدموس", 35.1008, 36.1606, "QDM", ("Baniyas National Hospital", "مشفى بانياس الوطني")),
    # Idlib and its countryside
    Place("Idlib", "إدلب", 35.9306, 36.6339, "IDL", _IDLIB_HOSP, 3),
    Place("Ariha", "أريحا", 35.8133, 36.6097, "ARH", ("Ariha Surgical Hospital", "مشفى أريحا الجراحي")),
    Place("Jisr al-Shughur", "جسر الشغور", 35.8122, 36.3183, "JSR", ("Jisr al-Shughur Hospital", "مشفى جسر الشغور"), 2),
    Place("Saraqib", "سراقب", 35.8644, 36.8006, "SRQ", _IDLIB_HOSP),
    Place("Maarrat al-Nu'man", "معرة النعمان", 35.6481, 36.6733, "MRN", _IDLIB_HOSP),
    Place("Sarmada", "سرمدا", 36.1794, 36.7222, "SRM", _BAB_AL_HAWA, 2),
    Place("Harem", "حارم", 36.2072, 36.5189, "HRM", ("Harem Hospital", "مشفى حارم")),
    Place("Atarib", "الأتارب", 36.1389, 36.8300, "ATR", ("Atarib Hospital", "مشفى الأتارب")),
    Place("Binnish", "بنش", 35.9500, 36.7139, "BNH", _IDLIB_HOSP),
    Place("Salqin", "سلقين", 36.1378, 36.4517, "SLQ", ("Salqin Hospital", "مشفى سلقين")),
    Place("Dana", "الدانا", 36.2167, 36.7667, "DNA", _BAB_AL_HAWA),
)

# Parts of a town a call may come from: (Latin, Arabic).
QUARTERS = (
    ("old town", "البلدة القديمة"),
    ("city centre", "وسط المدينة"),
    ("northern outskirts", "الأطراف الشمالية"),
    ("southern outskirts", "الأطراف الجنوبية"),
    ("industrial zone", "المنطقة الصناعية"),
    ("main road", "الطريق الرئيسي"),
    ("vegetable market", "سوق الخضار"),
    ("near the school", "قرب المدرسة"),
    ("farmland", "الأراضي الزراعية"),
    ("bus station", "الكراج"),
)
REMOTE_QUARTERS = (("ravine", "الوادي"), ("forest edge", "طرف الحرش"), ("dry riverbed", "مجرى السيل"))

# Incident type -> (weight among calls, recovery records (min, max), outcome weights
# (rescued, injured, deceased), hours of work on scene (min, max)).
INCIDENTS: dict[str, tuple[float, tuple[int, int], tuple[float, float, float], tuple[float, float]]] = {
    IncidentType.AIRSTRIKE: (0.18, (1, 6), (0.2, 0.45, 0.35), (1.0, 6.0)),
    IncidentType.SHELLING: (0.14, (0, 4), (0.15, 0.5, 0.35), (0.5, 3.0)),
    IncidentType.EXPLOSION: (0.07, (0, 4), (0.15, 0.5, 0.35), (0.5, 3.0)),
    IncidentType.BUILDING_COLLAPSE: (0.11, (1, 6), (0.35, 0.4, 0.25), (2.0, 10.0)),
    IncidentType.FIRE: (0.1, (0, 3), (0.55, 0.35, 0.1), (0.5, 3.0)),
    IncidentType.ARMED_VIOLENCE: (0.06, (1, 3), (0.05, 0.55, 0.4), (0.3, 1.5)),
    IncidentType.BODIES_FOUND: (0.1, (1, 4), (0.0, 0.0, 1.0), (1.0, 5.0)),
    IncidentType.TRAFFIC_ACCIDENT: (0.12, (1, 3), (0.2, 0.65, 0.15), (0.3, 1.5)),
    IncidentType.FLOOD: (0.04, (0, 4), (0.7, 0.2, 0.1), (1.0, 4.0)),
    IncidentType.EARTHQUAKE: (0.02, (2, 8), (0.3, 0.35, 0.35), (3.0, 10.0)),
    IncidentType.OTHER: (0.06, (0, 2), (0.6, 0.3, 0.1), (0.3, 1.5)),
}

# Status of calls beyond the first few, which cover every status.
STATUS_WEIGHTS = {
    CallStatus.COMPLETED: 0.82,
    CallStatus.CANCELLED: 0.08,
    CallStatus.ON_SCENE: 0.04,
    CallStatus.DISPATCHED: 0.03,
    CallStatus.RECEIVED: 0.03,
}

CALL_NOTES: dict[str, tuple[str, ...]] = {
    IncidentType.AIRSTRIKE: ("Residential building hit; people under the rubble. / استهداف بناء سكني، عالقون تحت الأنقاض",
                             "Second strike on the same site reported: approach with care. / بلاغ عن ضربة ثانية على الموقع نفسه"),
    IncidentType.SHELLING: ("Shells fell near the market. / سقوط قذائف قرب السوق",),
    IncidentType.EXPLOSION: ("Explosion in a workshop, smoke visible. / انفجار في ورشة، دخان كثيف",),
    IncidentType.BUILDING_COLLAPSE: ("Four-storey building collapsed; families inside. / انهيار بناء من أربعة طوابق وفيه عائلات",),
    IncidentType.FIRE: ("Fire in a flat on the third floor. / حريق في شقة في الطابق الثالث",
                        "Fire in farmland spreading towards houses. / حريق أراض زراعية يقترب من المنازل"),
    IncidentType.ARMED_VIOLENCE: ("Gunfire reported; wounded in the street. / إطلاق نار وجرحى في الشارع",),
    IncidentType.BODIES_FOUND: ("Shepherd reports bodies in the ravine. / راعٍ يبلغ عن جثث في الوادي",),
    IncidentType.TRAFFIC_ACCIDENT: ("Truck and minibus collided on the main road. / تصادم شاحنة وميكروباص على الطريق الرئيسي",),
    IncidentType.FLOOD: ("Water rising in the lower streets; people on rooftops. / ارتفاع المياه في الشوارع المنخفضة وأشخاص على الأسطح",),
    IncidentType.EARTHQUAKE: ("Aftershock; cracked buildings, people trapped. / هزة ارتدادية، تصدع أبنية وعالقون",),
    IncidentType.OTHER: ("Person fell into a well. / سقوط شخص في بئر", "Child trapped in a lift. / طفل عالق في مصعد"),
}
CANCEL_NOTES = ("False alarm: nobody at the address. / بلاغ كاذب: لا أحد في العنوان",
                "Handled by a neighbouring team. / تولّاه فريق مجاور",
                "Caller says the fire is out. / المتصل أفاد بإخماد الحريق")

# Conditions a team would note, by incident type: (on the dead, on the injured).
_C = Condition
CONDITIONS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    IncidentType.AIRSTRIKE: ((_C.BLAST_INJURIES, _C.CRUSH_INJURIES, _C.BURNS, _C.AMPUTATION, _C.INCOMPLETE_REMAINS),
                             (_C.BLAST_INJURIES, _C.FRACTURES, _C.BURNS, _C.CRUSH_INJURIES)),
    IncidentType.SHELLING: ((_C.BLAST_INJURIES, _C.AMPUTATION, _C.INCOMPLETE_REMAINS), (_C.BLAST_INJURIES, _C.FRACTURES)),
    IncidentType.EXPLOSION: ((_C.BLAST_INJURIES, _C.BURNS, _C.CHARRED), (_C.BLAST_INJURIES, _C.BURNS)),
    IncidentType.BUILDING_COLLAPSE: ((_C.CRUSH_INJURIES, _C.FRACTURES), (_C.CRUSH_INJURIES, _C.FRACTURES, _C.BRUISING)),
    IncidentType.FIRE: ((_C.BURNS, _C.CHARRED), (_C.BURNS,)),
    IncidentType.ARMED_VIOLENCE: ((_C.GUNSHOT_WOUNDS,), (_C.GUNSHOT_WOUNDS, _C.FRACTURES)),
    IncidentType.BODIES_FOUND: ((_C.BOUND, _C.BLINDFOLDED, _C.GUNSHOT_WOUNDS, _C.DECOMPOSED, _C.SKELETAL_REMAINS,
                                 _C.PARTIALLY_BURIED, _C.UNCLOTHED), ()),
    IncidentType.TRAFFIC_ACCIDENT: ((_C.CRUSH_INJURIES, _C.FRACTURES), (_C.FRACTURES, _C.BRUISING)),
    IncidentType.FLOOD: ((_C.FOUND_IN_WATER, _C.NO_VISIBLE_INJURIES), (_C.BRUISING,)),
    IncidentType.EARTHQUAKE: ((_C.CRUSH_INJURIES, _C.FRACTURES), (_C.CRUSH_INJURIES, _C.FRACTURES)),
    IncidentType.OTHER: ((_C.FRACTURES, _C.NO_VISIBLE_INJURIES), (_C.FRACTURES, _C.BRUISING)),
}
# Where people may still be under the rubble or the water: calls that report some missing.
TRAPPING = frozenset({IncidentType.AIRSTRIKE, IncidentType.SHELLING, IncidentType.BUILDING_COLLAPSE,
                      IncidentType.EARTHQUAKE, IncidentType.FLOOD, IncidentType.BODIES_FOUND})
AGE_YEARS = {AgeGroup.CHILD: (1, 17), AgeGroup.ADULT: (18, 59), AgeGroup.ELDERLY: (60, 92)}
CIVIL_DEFENCE_CENTRE = "Civil defence centre - مركز الدفاع المدني"
FORENSIC_TEAM = "Forensic medicine team - فريق الطب الشرعي"

SEX_WEIGHTS = {Sex.MALE: 0.5, Sex.FEMALE: 0.38, Sex.UNKNOWN: 0.12}
AGE_WEIGHTS = {AgeGroup.ADULT: 0.55, AgeGroup.CHILD: 0.22, AgeGroup.ELDERLY: 0.15, AgeGroup.UNKNOWN: 0.08}
RESCUED_HANDED_TO = ("family", "treated at the scene", "civil defence centre")
HOUR_WEIGHTS = [0.35] * 6 + [0.8] * 3 + [1.0] * 12 + [0.7] * 3  # fewer calls at night
ACCURACIES = (4.0, 6.0, 8.0, 12.0, 18.0, 25.0, 40.0, 65.0, 120.0)


@dataclass
class DemoCall:
    """One call to save: its data (no ids), when it is saved, and its recoveries.

    `recoveries` holds (recovery data without call_id, when it is saved).
    """

    data: dict[str, Any]
    at: datetime
    recoveries: list[tuple[dict[str, Any], datetime]] = field(default_factory=list)
    recorded_by: str | None = None


class CallStore(Protocol):
    def create_call(self, data: dict, *, recorded_by: str | None = None, now: datetime | None = None) -> dict: ...

    def create_recovery(self, data: dict, *, recorded_by: str | None = None, now: datetime | None = None) -> dict: ...


def populate(
    store: CallStore,
    calls: int,
    *,
    seed: int | None = None,
    now: datetime | None = None,
    echo: Callable[[str], None] | None = None,
) -> int:
    """Save a demo plan through the store; `echo(id)` right after each save returns. Returns records saved."""
    saved = 0
    # Tags are unique within a team: a plan's own numbering, marked with this device and this run,
    # so two phones of one team, or two runs on one phone, never use the same tag.
    run = f"{getattr(store, 'device_id', '')[-4:]}{store.counts()['total']:x}" if hasattr(store, "counts") else ""
    for item in demo_plan(calls, seed=seed, now=now):
        call = store.create_call(item.data, recorded_by=item.recorded_by, now=item.at)
        saved += 1
        if echo:
            echo(call["id"])
        for rdata, at in item.recoveries:
            if run and rdata.get("tag"):
                rdata = {**rdata, "tag": f"{rdata['tag']}-{run}"}
            recovery = store.create_recovery({**rdata, "call_id": call["id"]}, recorded_by=item.recorded_by, now=at)
            saved += 1
            if echo:
                echo(recovery["id"])
    return saved


def demo_plan(calls: int, *, seed: int | None = None, now: datetime | None = None) -> list[DemoCall]:
    """`calls` demo calls with their recoveries, oldest first; deterministic for (calls, seed, now)."""
    if calls < 0:
        raise ValueError("calls must be 0 or more")
    now = _fixed_offset(now)
    rng = random.Random(seed)
    # The evidence fields draw from a stream of their own: the rest of the plan stays as it was.
    evidence = random.Random(f"evidence-{seed}") if seed is not None else random.Random()
    builder = _Builder(rng, now, _day_count(calls), evidence)
    plan = [builder.call(kind, status, script) for kind, status, script in _call_kinds(calls, rng)]
    plan.sort(key=lambda item: item.data["received_at"])
    builder.label(plan)
    return plan


# --- the plan's shape ------------------------------------------------------------


def _fixed_offset(now: datetime | None) -> datetime:
    now = now or datetime.now(UTC).astimezone()
    offset = now.utcoffset()
    if now.tzinfo is None or offset is None:
        raise ValueError("now must carry an offset")
    # A fixed offset: plain arithmetic, no daylight-saving jumps inside the plan.
    return now.astimezone(timezone(offset)).replace(microsecond=0)


def _day_count(calls: int) -> int:
    # About 30 calls a day at the peak of a crisis; a small sample still spans a few days.
    if calls <= 3:
        return 1
    return min(7, max(3, math.ceil(calls / 30)))


def _pick(rng: random.Random, weights: dict) -> Any:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _call_kinds(calls: int, rng: random.Random) -> list[tuple[str, str, str]]:
    """(incident type, status, script) per call: the first ones cover every type and status."""
    kinds = [
        (IncidentType.BODIES_FOUND, CallStatus.COMPLETED, "mass_grave"),
        (IncidentType.BUILDING_COLLAPSE, CallStatus.COMPLETED, "every_outcome"),
    ][:calls]
    types = [t for t in IncidentType if t not in (IncidentType.BODIES_FOUND, IncidentType.BUILDING_COLLAPSE)]
    rng.shuffle(types)
    statuses = [CallStatus.ON_SCENE, CallStatus.CANCELLED, CallStatus.DISPATCHED, CallStatus.RECEIVED]
    type_weights = {t: w[0] for t, w in INCIDENTS.items()}
    for _ in range(len(kinds), calls):
        kind = types.pop() if types else _pick(rng, type_weights)
        status = statuses.pop(0) if statuses else _pick(rng, STATUS_WEIGHTS)
        kinds.append((kind, status, "random"))
    return [(str(k), str(s), script) for k, s, script in kinds]


class _Builder:
    def __init__(self, rng: random.Random, now: datetime, days: int, evidence: random.Random):
        self.rng = rng
        self.ev = evidence
        self.now = now
        self.days = days
        self.midnight = now.replace(hour=0, minute=0, second=0)
        self.codes: dict[int, str] = {}  # id(DemoCall) -> its town's code, for tags

    # -- one call --------------------------------------------------------------

    def call(self, kind: str, status: str, script: str) -> DemoCall:
        rng = self.rng
        place = rng.choices(PLACES, weights=[p.weight for p in PLACES])[0]
        steps = self._steps(kind, status)  # [(status, seconds after received)]
        received = self._received_at(status, steps[-1][1])
        log = [(s, received + timedelta(seconds=off)) for s, off in steps]

        data: dict[str, Any] = {
            "received_at": _stamp(received),
            "incident_type": kind,
            "location": self._location(place, kind, coordinates=script != "random" or rng.random() > 0.1,
                                       name=script != "random" or rng.random() > 0.05),
            "status": status,
            "status_log": [{"status": s, "at": _stamp(at)} for s, at in log],
        }
        if rng.random() < 0.5:
            data["caller_phone"] = f"+963 900 {rng.randrange(1000):03d} {rng.randrange(1000):03d}"
        if status == CallStatus.CANCELLED:
            data["notes"] = rng.choice(CANCEL_NOTES)
        elif rng.random() < 0.4:
            data["notes"] = rng.choice(CALL_NOTES[kind])

        recoveries: list[tuple[dict[str, Any], datetime]] = []
        times = dict(log)
        if CallStatus.ON_SCENE in times:
            start = times[CallStatus.ON_SCENE]
            end = times.get(CallStatus.COMPLETED, self.now - timedelta(minutes=1))
            people = {"mass_grave": self._mass_grave, "every_outcome": self._every_outcome}.get(script, self._random_people)
            for rdata in people(kind, place, data["location"]):
                at = start + (end - start) * rng.uniform(0.05, 0.95)
                at = at.replace(microsecond=0)
                rdata["recovered_at"] = _stamp(at)
                saved = min(at + timedelta(seconds=rng.randrange(60, 900)), self.now)
                self._evidence(kind, rdata, data["location"], received, at, saved)
                recoveries.append((rdata, saved))
            recoveries.sort(key=lambda pair: pair[1])
        if rng.random() < 0.6:
            data["reported_people"] = self._reported(kind, status, sum(r["count"] for r, _ in recoveries))
        if kind in TRAPPING and status != CallStatus.CANCELLED and self.ev.random() < 0.45:
            # Still missing or trapped, by the caller's or the neighbours' word.
            data["missing_people"] = self.ev.randint(0, 2) if status == CallStatus.COMPLETED else self.ev.randint(1, 6)

        saved_at = min(received + timedelta(seconds=rng.randrange(30, 180)), self.now)
        item = DemoCall(data=data, at=saved_at, recoveries=recoveries,
                        recorded_by=f"{place.code}-{rng.randint(1, 12):02d}")
        self.codes[id(item)] = place.code
        return item

    def _reported(self, kind: str, status: str, brought_out: int) -> int:
        """How many people the caller spoke of: a guess, near what the team found."""
        rng = self.rng
        if status == CallStatus.CANCELLED:
            return rng.randint(0, 2)
        if status != CallStatus.COMPLETED:  # not all brought out yet
            return brought_out + rng.randint(1, INCIDENTS[kind][1][1] + 2)
        return max(0, brought_out + rng.randint(-1, 3))

    def _steps(self, kind: str, status: str) -> list[tuple[str, int]]:
        rng = self.rng
        steps = [(CallStatus.RECEIVED.value, 0)]
        t = 0
        if status == CallStatus.RECEIVED:
            return steps
        if status == CallStatus.CANCELLED:
            if rng.random() < 0.5:
                t += rng.randrange(60, 480)
                steps.append((CallStatus.DISPATCHED.value, t))
            t += rng.randrange(180, 1500)
            return steps + [(CallStatus.CANCELLED.value, t)]
        t += rng.randrange(60, 480)
        steps.append((CallStatus.DISPATCHED.value, t))
        if status == CallStatus.DISPATCHED:
            return steps
        t += rng.randrange(360, 2100)
        steps.append((CallStatus.ON_SCENE.value, t))
        if status == CallStatus.ON_SCENE:
            return steps
        low, high = INCIDENTS[kind][3]
        t += int(rng.uniform(low, high) * 3600)
        return steps + [(CallStatus.COMPLETED.value, t)]

    def _received_at(self, status: str, duration_s: int) -> datetime:
        """When the call came in: the still open ones lately, the others any time in the span."""
        rng = self.rng
        if status in (CallStatus.RECEIVED, CallStatus.DISPATCHED, CallStatus.ON_SCENE):
            # Still open: the last step came minutes ago (on scene: long enough to bring people out).
            if status == CallStatus.RECEIVED:  # waiting for a team: came in today, minutes ago
                today = int((self.now - self.midnight).total_seconds())
                since = rng.randint(min(60, today), min(1200, today))
            elif status == CallStatus.DISPATCHED:
                since = rng.randrange(120, 1200)
            else:
                since = rng.randrange(1800, 7200)
            return self.now - timedelta(seconds=duration_s + since)
        latest = self.now - timedelta(seconds=duration_s + rng.randrange(300, 3600))
        for _ in range(5):  # a time later today than the call could have ended: draw again
            day = rng.randrange(self.days)
            hour = rng.choices(range(24), weights=HOUR_WEIGHTS)[0]
            moment = self.midnight - timedelta(days=day) + timedelta(hours=hour, seconds=rng.randrange(3600))
            if moment <= latest:
                return moment
        return latest

    def _location(self, place: Place, kind: str, *, coordinates: bool, name: bool) -> dict[str, Any]:
        rng = self.rng
        quarters = REMOTE_QUARTERS if kind == IncidentType.BODIES_FOUND else QUARTERS
        q_latin, q_arabic = rng.choice(quarters)
        location: dict[str, Any] = {}
        if name or not coordinates:
            location["place"] = f"{place.latin}, {q_latin} - {place.arabic}، {q_arabic}"
        if coordinates:
            location["lat"] = round(place.lat + rng.uniform(-0.02, 0.02), 5)
            location["lon"] = round(place.lon + rng.uniform(-0.02, 0.02), 5)
            location["accuracy_m"] = rng.choice(ACCURACIES)
        return location

    # -- the people brought out --------------------------------------------------

    def _mass_grave(self, kind: str, place: Place, location: dict) -> list[dict[str, Any]]:
        site = dict(location)
        if "lat" in site:  # the bodies lie a little off the road where the call was placed
            site["lat"] = round(site["lat"] + 0.0012, 5)
            site["lon"] = round(site["lon"] - 0.0009, 5)
            site["accuracy_m"] = 8.0
        group = {
            "outcome": Outcome.DECEASED.value, "count": 10, "sex": Sex.UNKNOWN.value,
            "age_group": AgeGroup.UNKNOWN.value, "identified": False,
            "conditions": [Condition.BOUND.value, Condition.BLINDFOLDED.value, Condition.DECOMPOSED.value,
                           Condition.PARTIALLY_BURIED.value],
            "handover": self._handover(HandoverTarget.FORENSIC_TEAM, FORENSIC_TEAM),
            "location": site, "tag": "G",
            "notes": "Ten bodies recovered together; not identified at the site. / عشر جثث انتُشلت معًا ولم يُتعرّف عليها في الموقع",
        }
        return [group, self._person(Outcome.DECEASED.value, place)]

    def _every_outcome(self, kind: str, place: Place, location: dict) -> list[dict[str, Any]]:
        child = self._person(Outcome.RESCUED.value, place, sex=Sex.FEMALE, age=AgeGroup.CHILD, named=True)
        child["handover"] = self._handover(HandoverTarget.FAMILY)
        return [
            child,
            self._person(Outcome.INJURED.value, place, sex=Sex.MALE, age=AgeGroup.ELDERLY, named=True),
            self._person(Outcome.DECEASED.value, place, sex=Sex.MALE, age=AgeGroup.ADULT, named=True),
            self._person(Outcome.DECEASED.value, place, sex=Sex.UNKNOWN, age=AgeGroup.UNKNOWN, named=False),
        ]

    def _random_people(self, kind: str, place: Place, location: dict) -> list[dict[str, Any]]:
        rng = self.rng
        _, (low, high), outcomes, _ = INCIDENTS[kind]
        people = []
        for _ in range(rng.randint(low, high)):
            outcome = rng.choices([o.value for o in Outcome], weights=outcomes)[0]
            if rng.random() < 0.06:
                people.append(self._group(outcome, place))
            else:
                people.append(self._person(outcome, place))
        return people

    def _group(self, outcome: str, place: Place) -> dict[str, Any]:
        """A few people recorded together: a family brought out alive, or bodies not yet told apart."""
        rng = self.rng
        record = {"outcome": outcome, "count": rng.randint(2, 6), "sex": Sex.UNKNOWN.value, "age_group": AgeGroup.UNKNOWN.value}
        if outcome == Outcome.DECEASED:
            record.update(identified=False, tag="G", handover=self._handover(HandoverTarget.MORGUE, _morgue(place)))
        elif outcome == Outcome.INJURED:
            record["handover"] = self._handover(HandoverTarget.HOSPITAL, _hospital(place))
        else:
            record["handover"] = self._handover(HandoverTarget.FAMILY)
        return record

    def _person(self, outcome: str, place: Place, *, sex=None, age=None, named: bool | None = None) -> dict[str, Any]:
        rng = self.rng
        record: dict[str, Any] = {
            "outcome": outcome,
            "count": 1,
            "sex": str(sex or _pick(rng, SEX_WEIGHTS)),
            "age_group": str(age or _pick(rng, AGE_WEIGHTS)),
        }
        if outcome == Outcome.DECEASED:
            identified = named if named is not None else rng.random() < 0.4
            record["identified"] = identified
            if identified:
                record["name"] = "N"
            record["tag"] = "D"
            to_family = identified and rng.random() < 0.4
            record["handover"] = (self._handover(HandoverTarget.FAMILY) if to_family
                                  else self._handover(HandoverTarget.MORGUE, _morgue(place)))
        else:
            identified = named if named is not None else rng.random() < 0.7
            if identified or rng.random() < 0.5:  # sometimes nobody wrote it down
                record["identified"] = identified
            if identified and (named or rng.random() < 0.5):
                record["name"] = "N"
            if outcome == Outcome.INJURED:
                if rng.random() < 0.5:
                    record["tag"] = "C"
                record["handover"] = self._handover(HandoverTarget.HOSPITAL, _hospital(place))
            else:
                went = rng.choice(RESCUED_HANDED_TO)  # drawn as before, so the plan stays the same
                if went == "family":
                    record["handover"] = self._handover(HandoverTarget.FAMILY)
                elif went == "civil defence centre":
                    record["handover"] = self._handover(HandoverTarget.OTHER, CIVIL_DEFENCE_CENTRE)
                # treated at the scene: nobody to hand over to
        return record

    # -- the evidence fields ---------------------------------------------------------------

    def _handover(self, to: HandoverTarget, place: str | None = None) -> dict[str, Any]:
        """A handover; its receiver is numbered by `label`, its time set once recovered_at is known."""
        handover: dict[str, Any] = {"to": to.value}
        if self.ev.random() < 0.8:  # sometimes nobody wrote the receiver's name down
            handover["receiver"] = "R"
        if place:
            handover["place"] = place
        return handover

    def _evidence(self, kind: str, rdata: dict[str, Any], call_location: dict[str, Any], received: datetime,
                  recovered: datetime, saved: datetime) -> None:
        """Conditions, an age estimate, a time of death, the handover's time and a site of its own, where they fit."""
        ev = self.ev
        outcome = rdata["outcome"]
        dead, hurt = CONDITIONS[kind]
        pool = dead if outcome == Outcome.DECEASED else hurt if outcome == Outcome.INJURED else ()
        chance = {Outcome.DECEASED: 0.75, Outcome.INJURED: 0.5}.get(Outcome(outcome), 0.0)
        if "conditions" not in rdata and pool and ev.random() < chance:
            picked = ev.sample(pool, k=min(len(pool), ev.randint(1, 2)))
            if Condition.NO_VISIBLE_INJURIES in picked and len(picked) > 1:
                picked = [Condition.NO_VISIBLE_INJURIES]
            rdata["conditions"] = [str(c) for c in picked]
        group = rdata.get("age_group")
        if rdata["count"] == 1 and group in AGE_YEARS and ev.random() < 0.4:
            rdata["age_years"] = ev.randint(*AGE_YEARS[group])
        if outcome == Outcome.DECEASED:
            if kind == IncidentType.BODIES_FOUND:  # dead for days before they were found
                died = recovered - timedelta(days=ev.randint(2, 12), hours=ev.randint(0, 23))
                rdata["death_estimated_at"] = _stamp(died.replace(minute=0, second=0))
            elif ev.random() < 0.5:  # around the incident
                rdata["death_estimated_at"] = _stamp(min(received - timedelta(minutes=ev.randint(0, 30)), recovered))
            if (kind == IncidentType.BODIES_FOUND and "location" not in rdata and "lat" in call_location
                    and ev.random() < 0.4):  # found a little way off where the call placed them
                rdata["location"] = {"lat": round(call_location["lat"] + ev.uniform(-0.002, 0.002), 5),
                                     "lon": round(call_location["lon"] + ev.uniform(-0.002, 0.002), 5),
                                     "accuracy_m": ev.choice(ACCURACIES[:4])}
        if "handover" in rdata:
            handed = recovered + (saved - recovered) * ev.uniform(0.2, 0.9)
            rdata["handover"]["at"] = _stamp(handed.replace(microsecond=0))

    # -- names and tags, numbered in time order ----------------------------------------

    def label(self, plan: list[DemoCall]) -> None:
        """Give names and tags their numbers in the order people were brought out."""
        people: list[tuple[str, str, dict]] = []
        for item in plan:
            code = self.codes[id(item)]
            people.extend((rdata["recovered_at"], code, rdata) for rdata, _ in item.recoveries)
        people.sort(key=lambda p: p[0])
        seq: dict[tuple[str, str, str], int] = {}
        names = receivers = 0
        for recovered_at, code, rdata in people:
            if rdata.get("name") == "N":
                names += 1
                rdata["name"] = f"Demo Name {names} · اسم تجريبي {names}"
            if (rdata.get("handover") or {}).get("receiver") == "R":
                receivers += 1
                rdata["handover"]["receiver"] = f"Demo Receiver {receivers} · مستلم تجريبي {receivers}"
            if rdata.get("tag") in ("D", "C", "G"):
                # Unique within a team: the town, the day (so plans of other days never repeat one), a number.
                day = recovered_at[:4] + "-" + recovered_at[5:7] + recovered_at[8:10]
                key = (code, day, rdata["tag"])
                seq[key] = seq.get(key, 0) + 1
                rdata["tag"] = f"{code}-{day}-{rdata['tag']}{seq[key]:02d}"


def _hospital(place: Place) -> str:
    return f"{place.hospital[0]} - {place.hospital[1]}"


def _morgue(place: Place) -> str:
    return f"{place.hospital[0]} morgue - براد {place.hospital[1]}"


def _stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")
