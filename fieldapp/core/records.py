"""The record schema: the one definition of a call and a recovery.

The phone validates with it before a save, the server before it stores, and
FastAPI draws the OpenAPI document from it. Every model forbids unknown fields,
so nothing outside this schema (religion, sect, ethnicity, affiliation) can be
stored by accident or by a hostile client.

Inside the project records travel as plain dicts (JSON-ready, as `to_plain`
returns them); the models are the boundary.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    StrictBool,
    StrictInt,
    ValidationError,
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


class ReviewState(StrEnum):
    UNREVIEWED = "unreviewed"
    APPROVED = "approved"
    FLAGGED = "flagged"


# --- scalar types ----------------------------------------------------------------

# Shapes are checked by pydantic's compiled core (a `pattern`); only what a
# pattern cannot say (that the date exists) is checked here in Python.
_RFC3339 = r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$"


def _check_real_time(value: str) -> str:
    try:
        datetime.fromisoformat(value.replace("z", "Z").replace("t", "T"))
    except ValueError:
        raise ValueError("is not a real date and time") from None
    return value


_DEVICE_ID = r"^[A-Za-z0-9._:-]{1,64}$"
_PHONE = r"^\+?[0-9 ()\-]{3,32}$"

Timestamp = Annotated[str, Field(max_length=40, pattern=_RFC3339), AfterValidator(_check_real_time)]
# A UUID, hyphenated or not, in either case (or as {...} or urn:uuid:...), with no
# surrounding spaces; stored and sent in the canonical lower-case hyphenated form.
RecordId = Annotated[uuid.UUID, PlainSerializer(str, return_type=str, when_used="json")]
DeviceId = Annotated[str, Field(max_length=64, pattern=_DEVICE_ID)]
Phone = Annotated[str, Field(max_length=32, pattern=_PHONE)]
ShortText = Annotated[str, Field(min_length=1, max_length=200)]
LongText = Annotated[str, Field(max_length=4000)]

# Bounds that keep a hostile or mistyped number out of the day's figures.
MAX_GROUP = 10_000
MAX_REPORTED = 100_000


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
    notes: LongText | None = None


class RecoveryData(_Strict):
    call_id: RecordId
    outcome: Outcome
    count: StrictInt = Field(ge=1, le=MAX_GROUP)
    recovered_at: Timestamp
    sex: Sex | None = None
    age_group: AgeGroup | None = None
    identified: StrictBool | None = None
    name: ShortText | None = None
    tag: ShortText | None = None
    handed_to: ShortText | None = None
    # True: withdrawn as entered in error. A new version says so; the record is never erased.
    withdrawn: StrictBool | None = None
    location: Location | None = None
    notes: LongText | None = None


# --- the envelope ------------------------------------------------------------------


class _Envelope(_Strict):
    id: RecordId
    version: StrictInt = Field(ge=1, le=1_000_000)
    base_version: StrictInt = Field(ge=0, le=1_000_000)
    device_id: DeviceId
    created_at: Timestamp
    updated_at: Timestamp
    recorded_by: ShortText | None = None
    review: Review | None = None


class CallRecord(_Envelope):
    """A call for help: one incident."""

    type: Literal["call"]
    data: CallData


class RecoveryRecord(_Envelope):
    """One person, or a group recorded together, brought out at a call."""

    type: Literal["recovery"]
    data: RecoveryData


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
}


def _message(error: Mapping[str, Any]) -> str:
    kind = error["type"]
    if kind == "string_pattern_mismatch":
        pattern = error.get("ctx", {}).get("pattern")
        if pattern in _PATTERN_MESSAGES:
            return _PATTERN_MESSAGES[pattern]
    if kind in ("uuid_parsing", "uuid_type", "uuid_version"):
        return "must be a UUID"
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


def _errors(exc: ValidationError) -> list[FieldError]:
    out = []
    for error in exc.errors(include_url=False):
        field = ".".join(str(part) for part in error["loc"]) or "record"
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
