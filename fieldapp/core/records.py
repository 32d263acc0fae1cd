"""The record schema: the one definition of a call and a recovery.

The phone validates with it before a save, the server before it stores, and
FastAPI draws the OpenAPI document from it. Every model forbids unknown fields,
so nothing outside this schema (religion, sect, ethnicity, affiliation) can be
stored by accident or by a hostile client.

Inside the project records travel as plain dicts (JSON-ready, as `to_plain`
returns them); the models are the boundary.

Schema versions
    Version 2 adds the evidence fields (recovery `conditions`, `age_years`,
    `death_estimated_at`, `handover`; call `missing_people`). The version is
    not a field of the envelope: it is derived from the record's content by
    `schema_version(record)` (2 when the record carries any version 2 field,
    1 otherwise), here, in the one definition both ends import, so the phone
    and the server cannot disagree on it. Every version 1 record is a valid
    version 2 record, unchanged, byte for byte. docs/evidence.md, "What is
    recorded", says why.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

# --- vocabularies -------------------------------------------------------------


class RecordType(StrEnum):
    CALL = "call"
    RECOVERY = "recovery"


class IncidentType(StrEnum):
    AIRSTRIKE = "airstrike"
    SHELLING = "shelling"
    EXPLOSION = "explosion"
    BUILDING_COLLAPSE = "building_collapse"
    FIRE = "fire"
    ARMED_VIOLENCE = "armed_violence"
    BODIES_FOUND = "bodies_found"
    TRAFFIC_ACCIDENT = "traffic_accident"
    FLOOD = "flood"
    EARTHQUAKE = "earthquake"
    OTHER = "other"


class CallStatus(StrEnum):
    RECEIVED = "received"
    DISPATCHED = "dispatched"
    ON_SCENE = "on_scene"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class Outcome(StrEnum):
    RESCUED = "rescued"
    INJURED = "injured"
    DECEASED = "deceased"


class Sex(StrEnum):
    FEMALE = "female"
    MALE = "male"
    UNKNOWN = "unknown"


class AgeGroup(StrEnum):
    CHILD = "child"
    ADULT = "adult"
    ELDERLY = "elderly"
    UNKNOWN = "unknown"


class Condition(StrEnum):
    """What the team saw on a person or a body: physical observations only.

    Never a cause of death, an interpretation, or who did it. On a group
    record, a condition is one seen on at least one person of the group.
    """

    BOUND = "bound"  # hands or feet tied
    BLINDFOLDED = "blindfolded"
    GAGGED = "gagged"
    UNCLOTHED = "unclothed"
    GUNSHOT_WOUNDS = "gunshot_wounds"
    BLAST_INJURIES = "blast_injuries"
    STAB_OR_CUT_WOUNDS = "stab_or_cut_wounds"
    BURNS = "burns"
    CHARRED = "charred"
    CRUSH_INJURIES = "crush_injuries"
    FRACTURES = "fractures"
    AMPUTATION = "amputation"  # a limb or part of one missing
    BRUISING = "bruising"
    INCOMPLETE_REMAINS = "incomplete_remains"  # parts of a body, not a whole one
    DECOMPOSED = "decomposed"
    SKELETAL_REMAINS = "skeletal_remains"
    BURIED = "buried"
    PARTIALLY_BURIED = "partially_buried"
    FOUND_IN_WATER = "found_in_water"
    NO_VISIBLE_INJURIES = "no_visible_injuries"


# Conditions that are injuries: none of them goes with no_visible_injuries.
INJURIES = frozenset({
    Condition.GUNSHOT_WOUNDS, Condition.BLAST_INJURIES, Condition.STAB_OR_CUT_WOUNDS, Condition.BURNS,
    Condition.CHARRED, Condition.CRUSH_INJURIES, Condition.FRACTURES, Condition.AMPUTATION, Condition.BRUISING,
})


class HandoverTarget(StrEnum):
    """To whom the team handed a person or a body."""

    FAMILY = "family"
    HOSPITAL = "hospital"
    MORGUE = "morgue"
    FORENSIC_TEAM = "forensic_team"
    BURIAL = "burial"
    OTHER = "other"


class PhotoKind(StrEnum):
    """What a photograph shows: the views the ICRC/PAHO/WHO/IFRC field manual asks for of a body, and the scene."""

    FACE = "face"
    MARKS = "marks"  # distinguishing marks: scars, tattoos
    CLOTHING = "clothing"
    EFFECTS = "effects"  # personal effects found with the body
    TAG = "tag"  # the body's tag in the frame
    DOCUMENTS = "documents"
    SCENE = "scene"
    OTHER = "other"


class PersonalField(StrEnum):
    """A field that names or reaches a person, as a path in the record: what a pull may withhold.

    A volunteer's pull carries these only for the records its own device made
    (sync/server/personal.py); the others come with the ones they hold removed
    and named in `withheld`.
    """

    CALLER_PHONE = "data.caller_phone"
    NAME = "data.name"
    NOTES = "data.notes"
    PHOTOS = "data.photos"  # a photograph shows a person: withheld like a name
    RECEIVER = "data.handover.receiver"
    REVIEW_NOTE = "review.note"


def personal_value(record: Mapping[str, Any], path: str) -> tuple[dict[str, Any] | None, Any]:
    """(the object holding `path`'s last key or None, the value there or None), in a plain record."""
    *parents, name = path.split(".")
    holder: Any = record
    for parent in parents:
        holder = holder.get(parent) if isinstance(holder, Mapping) else None
    if not isinstance(holder, dict):
        return None, None
    return holder, holder.get(name)


class ReviewState(StrEnum):
    UNREVIEWED = "unreviewed"
    APPROVED = "approved"
    FLAGGED = "flagged"


# --- scalar types ----------------------------------------------------------------

# Shapes are checked by pydantic's compiled core (a `pattern`); only what a
# pattern cannot say (that the date exists) is checked here in Python.
_RFC3339 = r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$"


# The plausible window of every time in a record, in UTC: from the Unix epoch, where a
# phone whose clock was reset starts, to the end of 2099. Outside it a time is a
# broken clock or a hostile client (year 1, year 9999), and a time the databases and
# the figures' date arithmetic cannot all hold. A phone clock that is merely wrong
# (a reset to 1970 or 1980, a year out) still saves: the record is evidence either way.
EARLIEST_TIME = datetime(1970, 1, 1, tzinfo=UTC)
LATEST_TIME = datetime(2100, 1, 1, tzinfo=UTC)  # exclusive
_OUTSIDE_WINDOW = "must fall from 1970-01-01 to 2099-12-31 (UTC): no phone or event lies outside that"


def _check_real_time(value: str) -> str:
    # Called for every time of every record the server takes in: the usual
    # upper-case form goes straight to the parser.
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        try:
            moment = _moment(value)
        except ValueError:
            raise ValueError("is not a real date and time") from None
    # The year first: year 1 with an offset would overflow the comparison in UTC.
    if not EARLIEST_TIME.year - 1 <= moment.year <= LATEST_TIME.year or not EARLIEST_TIME <= moment < LATEST_TIME:
        raise ValueError(_OUTSIDE_WINDOW)
    return value


_DEVICE_ID = r"^[A-Za-z0-9._:-]{1,64}$"
_PHONE = r"^\+?[0-9 ()\-]{3,32}$"

Timestamp = Annotated[str, Field(max_length=40, pattern=_RFC3339), AfterValidator(_check_real_time)]
# A UUID, hyphenated or not, in either case (or as {...} or urn:uuid:...), with no
# surrounding spaces; stored and sent in the canonical lower-case hyphenated form.
RecordId = uuid.UUID  # serialized by pydantic's core as the canonical lower-case hyphenated text
DeviceId = Annotated[str, Field(max_length=64, pattern=_DEVICE_ID)]
Phone = Annotated[str, Field(max_length=32, pattern=_PHONE)]
# No NUL character in any text: PostgreSQL cannot store one, and no one types it. (An
# unpaired surrogate is refused by pydantic itself: it is not a string UTF-8 can carry.)
_NO_NUL = r"^[^\x00]*$"
ShortText = Annotated[str, Field(min_length=1, max_length=200, pattern=_NO_NUL)]
LongText = Annotated[str, Field(max_length=4000, pattern=_NO_NUL)]

# Bounds that keep a hostile or mistyped number out of the day's figures.
MAX_GROUP = 10_000
MAX_REPORTED = 100_000
MAX_AGE = 120

# The age groups in years, as humanitarian disaggregation usually draws them:
# a child is under 18, an elderly person 60 or over.
CHILD_UNTIL = 17
ELDERLY_FROM = 60

# The schema this code writes; `schema_version` tells which one a record uses.
SCHEMA_VERSION = 3
# The fields each version added, by record type (paths inside `data`).
VERSION_2_FIELDS: dict[str, tuple[str, ...]] = {
    "call": ("missing_people",),
    "recovery": ("conditions", "age_years", "death_estimated_at", "handover"),
}
VERSION_3_FIELDS: dict[str, tuple[str, ...]] = {
    "call": ("photos",),
    "recovery": ("photos",),
}

# A photograph: at most this many bytes (a phone camera's JPEG is 2 to 8 MB), this many a version.
MAX_PHOTO_BYTES = 50 * 1024 * 1024
MAX_PHOTOS = 50
SHA256_HEX = r"^[0-9a-f]{64}$"
_MEDIA_TYPE = r"^image/[a-z0-9][a-z0-9.+-]{0,39}$"
PREVIEW_MEDIA_TYPE = "image/jpeg"


def age_group_of(years: int) -> AgeGroup:
    """The age group an age in years falls in."""
    if years <= CHILD_UNTIL:
        return AgeGroup.CHILD
    if years >= ELDERLY_FROM:
        return AgeGroup.ELDERLY
    return AgeGroup.ADULT


_AGE_RANGES = {
    AgeGroup.CHILD: f"0 to {CHILD_UNTIL}",
    AgeGroup.ADULT: f"{CHILD_UNTIL + 1} to {ELDERLY_FROM - 1}",
    AgeGroup.ELDERLY: f"{ELDERLY_FROM} or over",
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


# --- parts -----------------------------------------------------------------------


class Location(_Strict):
    """A place name, coordinates, or both."""

    place: ShortText | None = None
    lat: float | None = Field(default=None, ge=-90, le=90, strict=True)
    lon: float | None = Field(default=None, ge=-180, le=180, strict=True)
    accuracy_m: float | None = Field(default=None, ge=0, le=1_000_000, strict=True)

    @model_validator(mode="after")
    def _place_or_coordinates(self) -> Location:
        if (self.lat is None) != (self.lon is None):
            raise ValueError("lat and lon go together: give both or neither")
        if self.place is None and self.lat is None:
            raise ValueError("needs a place, or lat and lon, or both")
        return self


class StatusChange(_Strict):
    status: CallStatus
    at: Timestamp


class Handover(_Strict):
    """Who took a person or a body from the team, and when: the first link of the chain of custody.

    `receiver` is the person who took them (personal: left out of exports
    unless asked); `place` is the hospital, morgue or site (not personal).
    """

    to: HandoverTarget
    receiver: ShortText | None = None
    place: ShortText | None = None
    at: Timestamp | None = None


Sha256 = Annotated[str, Field(pattern=SHA256_HEX)]


class PhotoFile(_Strict):
    """One stored file of a photograph: its bytes' SHA-256 (lower-case hex), size and media type."""

    sha256: Sha256
    size: StrictInt = Field(ge=1, le=MAX_PHOTO_BYTES)
    media_type: str = Field(max_length=46, pattern=_MEDIA_TYPE)


class Photo(PhotoFile):
    """A photograph of the record (schema 3): the original, never altered, and the preview the phone made.

    `sha256` is the original's: its bytes are the evidence. The preview (long edge
    about 1280 px, JPEG, location metadata removed) is what a lead looks at.
    """

    taken_at: Timestamp
    kind: PhotoKind
    preview: PhotoFile | None = None

    @field_validator("preview")
    @classmethod
    def _preview_is_jpeg(cls, preview: PhotoFile | None) -> PhotoFile | None:
        if preview is not None and preview.media_type != PREVIEW_MEDIA_TYPE:
            raise ValueError(f"a preview is a JPEG ({PREVIEW_MEDIA_TYPE}), not {preview.media_type}")
        return preview


def _photos_once(photos: list[Photo] | None) -> list[Photo] | None:
    if photos is None:
        return photos
    seen: set[str] = set()
    for photo in photos:
        if photo.sha256 in seen:
            raise ValueError(f"lists the photo {photo.sha256} twice: give each photo once")
        seen.add(photo.sha256)
    return photos


Photos = Annotated[list[Photo], Field(max_length=MAX_PHOTOS), AfterValidator(_photos_once)]


class Review(_Strict):
    state: ReviewState
    note: LongText | None = None


class CallData(_Strict):
    received_at: Timestamp
    incident_type: IncidentType
    location: Location
    status: CallStatus
    status_log: list[StatusChange] = Field(default_factory=list, max_length=100)
    caller_phone: Phone | None = None
    reported_people: StrictInt | None = Field(default=None, ge=0, le=MAX_REPORTED)
    # Schema 2: people reported missing or trapped, not (yet) brought out.
    missing_people: StrictInt | None = Field(default=None, ge=0, le=MAX_REPORTED)
    notes: LongText | None = None
    # Schema 3: photographs of the scene (personal: withheld like a name).
    photos: Photos | None = None


class RecoveryData(_Strict):
    # Field order matters: a check reads the fields declared before it.
    call_id: RecordId
    outcome: Outcome
    count: StrictInt = Field(ge=1, le=MAX_GROUP)
    recovered_at: Timestamp
    sex: Sex | None = None
    age_group: AgeGroup | None = None
    # Schema 2: the estimated age of one person in whole years (not of a group).
    age_years: StrictInt | None = Field(default=None, ge=0, le=MAX_AGE)
    identified: StrictBool | None = None
    name: ShortText | None = None
    tag: ShortText | None = None
    # Schema 2: what the team saw, from a fixed list; each condition once.
    conditions: list[Condition] | None = Field(default=None, max_length=len(Condition))
    # Schema 2: when the person died, as estimated at the scene (deceased only).
    death_estimated_at: Timestamp | None = None
    # Schema 1's free text, still read; a record holds it or `handover`, not both.
    handed_to: ShortText | None = None
    # Schema 2: the handover, in place of `handed_to`.
    handover: Handover | None = None
    # True: withdrawn as entered in error. A new version says so; the record is never erased.
    withdrawn: StrictBool | None = None
    location: Location | None = None
    notes: LongText | None = None
    # Schema 3: photographs of the person or body, tag, effects, documents (personal).
    photos: Photos | None = None

    @field_validator("age_years")
    @classmethod
    def _age_fits(cls, years: int | None, info: ValidationInfo) -> int | None:
        if years is None:
            return years
        if (info.data.get("count") or 1) > 1:
            raise ValueError("is the age of one person: leave it out of a group record (count above 1)")
        group = info.data.get("age_group")
        if group in _AGE_RANGES and age_group_of(years) != group:
            raise ValueError(f"{years} does not fit age_group {group.value} ({_AGE_RANGES[group]} years)")
        return years

    @field_validator("conditions")
    @classmethod
    def _conditions_once(cls, conditions: list[Condition] | None) -> list[Condition] | None:
        if conditions is None:
            return conditions
        seen: set[Condition] = set()
        for condition in conditions:
            if condition in seen:
                raise ValueError(f"lists {condition.value} twice: give each condition once")
            seen.add(condition)
        if Condition.NO_VISIBLE_INJURIES in seen and seen & INJURIES:
            injuries = ", ".join(c.value for c in conditions if c in INJURIES)
            raise ValueError(f"no_visible_injuries cannot go with {injuries}")
        return conditions

    @field_validator("death_estimated_at")
    @classmethod
    def _death_before_recovery(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return value
        if "outcome" in info.data and info.data["outcome"] != Outcome.DECEASED:
            raise ValueError("is only for a deceased outcome")
        recovered = info.data.get("recovered_at")
        if recovered is not None and _moment(value) > _moment(recovered):
            raise ValueError("must not be after recovered_at")
        return value

    @field_validator("handover")
    @classmethod
    def _not_both(cls, value: Handover | None, info: ValidationInfo) -> Handover | None:
        if value is not None and info.data.get("handed_to") is not None:
            raise ValueError("takes the place of handed_to: a record holds one or the other, not both")
        return value


def _moment(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("z", "Z").replace("t", "T"))


# --- the envelope ------------------------------------------------------------------


def _each_once_in_order(fields: list[PersonalField]) -> list[PersonalField]:
    if len(set(fields)) != len(fields):
        raise ValueError("names a field twice: give each withheld field once")
    order = list(PersonalField)
    return sorted(fields, key=order.index)


# The personal fields the server holds but did not show this device (a volunteer's
# copy of another device's record). Kept on the copy and sent back in its next
# version: the server keeps its own values of these fields, so a version from a
# phone that never saw them cannot erase them. Never stored on the server: it
# stores the whole version.
Withheld = Annotated[list[PersonalField], Field(max_length=len(PersonalField)), AfterValidator(_each_once_in_order)]


class MergedFrom(_Strict):
    """One of the two versions a merged version was made from (fieldapp.core.merge)."""

    version: StrictInt = Field(ge=1, le=1_000_000)
    device_id: DeviceId


class _Envelope(_Strict):
    id: RecordId
    version: StrictInt = Field(ge=1, le=1_000_000)
    base_version: StrictInt = Field(ge=0, le=1_000_000)
    device_id: DeviceId
    created_at: Timestamp
    updated_at: Timestamp
    recorded_by: ShortText | None = None
    review: Review | None = None
    # Set on a version made by merging two versions built on one base: which two.
    merged_from: list[MergedFrom] | None = Field(default=None, min_length=2, max_length=2)

    # Declared after `data` in each record type (`withheld`), so its check reads the fields it names.
    @field_validator("withheld", check_fields=False)
    @classmethod
    def _withheld_means_absent(cls, withheld: list[PersonalField] | None, info: ValidationInfo) -> list[PersonalField] | None:
        if not withheld:
            return withheld
        plain = {name: value.model_dump(mode="json", exclude_none=True)
                 for name in ("data", "review") if isinstance(value := info.data.get(name), BaseModel)}
        both = [path.value for path in withheld if personal_value(plain, path.value)[1] is not None]
        if both:
            raise ValueError(f"names {', '.join(both)}, which this version carries too: a field withheld "
                             "from this device keeps the server's value")
        return withheld


class CallRecord(_Envelope):
    """A call for help: one incident."""

    type: Literal["call"]
    data: CallData
    withheld: Withheld | None = None


class RecoveryRecord(_Envelope):
    """One person, or a group recorded together, brought out at a call."""

    type: Literal["recovery"]
    data: RecoveryData
    withheld: Withheld | None = None


Record = Annotated[CallRecord | RecoveryRecord, Field(discriminator="type")]

_MODELS: dict[str, type[_Envelope]] = {"call": CallRecord, "recovery": RecoveryRecord}


# --- validation as the app and the API report it ------------------------------------


class FieldError(BaseModel):
    """One refusal: which field (a dotted path such as `data.incident_type`) and why."""

    field: str
    message: str


# Our words for the shapes pydantic checks by pattern or type.
_PATTERN_MESSAGES = {
    _RFC3339: "must be an RFC 3339 time with an offset, such as 2026-11-25T14:05:00+03:00",
    _DEVICE_ID: "must be 1 to 64 letters, digits or . _ : -",
    _PHONE: "must be a phone number: digits, spaces, ( ) - and an optional leading +",
    _NO_NUL: "must not contain the NUL character (U+0000)",
}


def _message(error: Mapping[str, Any]) -> str:
    kind = error["type"]
    if kind == "string_pattern_mismatch":
        pattern = error.get("ctx", {}).get("pattern")
        if pattern in _PATTERN_MESSAGES:
            return _PATTERN_MESSAGES[pattern]
    if kind in ("uuid_parsing", "uuid_type", "uuid_version"):
        return "must be a UUID"
    if kind == "string_unicode":
        return "is not text UTF-8 can carry (an unpaired surrogate, such as \\ud800)"
    if kind == "extra_forbidden":
        return "unknown field: not part of the record and not accepted"
    if kind == "missing":
        return "is required"
    if kind == "literal_error" or kind == "enum":
        expected = error.get("ctx", {}).get("expected")
        return f"must be one of {expected}" if expected else error["msg"]
    message = str(error["msg"])
    # Pydantic prefixes messages of our own validators; the field name says enough.
    for prefix in ("Value error, ", "Assertion failed, "):
        if message.startswith(prefix):
            message = message[len(prefix):]
    return message


def _utf8(text: str) -> str:
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _errors(exc: ValidationError) -> list[FieldError]:
    out = []
    for error in exc.errors(include_url=False):
        # A key that is not UTF-8 (an unpaired surrogate) is named escaped: the answer must be UTF-8.
        field = _utf8(".".join(str(part) for part in error["loc"])) or "record"
        out.append(FieldError(field=field, message=_message(error)))
    return out


def parse_record(obj: Any) -> tuple[CallRecord | RecoveryRecord | None, list[FieldError]]:
    """Validate one record; return the model, or None and every error found.

    The type is read first so that errors name `data.incident_type`, not the
    union branch pydantic tried.
    """
    if not isinstance(obj, dict):
        return None, [FieldError(field="record", message="must be a JSON object")]
    kind = obj.get("type")
    model = _MODELS.get(kind) if isinstance(kind, str) else None
    if model is None:
        return None, [FieldError(field="type", message='must be "call" or "recovery"')]
    try:
        record = model.model_validate(obj)
    except ValidationError as exc:
        return None, _errors(exc)
    if record.base_version >= record.version:
        # An edit builds on an earlier, acknowledged version, never on itself.
        return None, [FieldError(field="base_version", message="must be lower than version")]
    return record, []  # type: ignore[return-value]  # model is CallRecord or RecoveryRecord


def schema_version(record: Mapping[str, Any] | CallRecord | RecoveryRecord) -> int:
    """The schema version a record uses: 3 with photos, 2 with any other field version 2 added, else 1.

    Read from the record's content (a plain dict or a model), so the phone
    and the server, importing this one function, always agree.
    """
    plain: Mapping[str, Any] = to_plain(record) if isinstance(record, BaseModel) else record
    data = plain.get("data")
    if not isinstance(data, Mapping):
        return 1
    kind = str(plain.get("type"))
    for version, added in ((3, VERSION_3_FIELDS.get(kind, ())), (2, VERSION_2_FIELDS.get(kind, ()))):
        if any(data.get(name) is not None for name in added):
            return version
    return 1


def photos_of(record: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The photos a plain record's version lists (none when it lists none, or they were withheld)."""
    data = record.get("data")
    photos = data.get("photos") if isinstance(data, Mapping) else None
    return [p for p in photos if isinstance(p, dict)] if isinstance(photos, list) else []


def photo_hashes(record: Mapping[str, Any]) -> set[str]:
    """Every SHA-256 a version names: each photo's original and its preview."""
    found: set[str] = set()
    for photo in photos_of(record):
        found.add(str(photo.get("sha256")))
        preview = photo.get("preview")
        if isinstance(preview, Mapping):
            found.add(str(preview.get("sha256")))
    return found


def held_tag(record: Mapping[str, Any]) -> str | None:
    """The body or casualty tag this version holds among its team's recoveries, if any.

    A recovery's `data.tag`, unless the version withdraws the recovery as entered in
    error: withdrawn, it frees its tag for the record that should carry it. The server's
    verdict and the phone's warning both ask here, so they cannot disagree.
    """
    if record.get("type") != RecordType.RECOVERY:
        return None
    data = record.get("data")
    if not isinstance(data, Mapping) or data.get("withdrawn") is True:
        return None
    tag = data.get("tag")
    return tag if isinstance(tag, str) else None


def validate_record(obj: Any) -> list[FieldError]:
    """The errors of one record; an empty list when it is valid."""
    return parse_record(obj)[1]


def to_plain(record: CallRecord | RecoveryRecord) -> dict[str, Any]:
    """The record as plain JSON-ready data, absent optional fields left out."""
    return record.model_dump(mode="json", exclude_none=True)


def normalize(obj: dict[str, Any]) -> dict[str, Any]:
    """Validate and return the plain form; raise InvalidRecord on any error."""
    model, errors = parse_record(obj)
    if model is None:
        raise InvalidRecord(errors)
    return to_plain(model)


class InvalidRecord(ValueError):
    """A record that the schema refuses; `errors` names each field and reason."""

    def __init__(self, errors: list[FieldError]):
        self.errors = errors
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in errors))
