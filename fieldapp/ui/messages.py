"""Refusals in the user's words, and numbers as people type them: no Flet here.

The schema (fieldapp.core.records) and the server say why a field was refused
in English: pydantic's own message for a type of error ("String should have at
most 200 characters" is `string_too_long`) or the schema's words for a shape
("must be a phone number: ..."). `describe` reads those messages back to their
kind and says them again in the user's language, naming the field by the label
the form shows. A reason the app does not know (a server's own words) is kept,
after the field's label and a translated lead-in ("not accepted: ..."), isolated, so
nothing is hidden; a field path no form shows is named from the catalogs' field table
(`Translator.field`), never as a raw path such as `base_version`.

A sync or linking failure is named by its class (fieldapp.sync.errors), never by its
English: SERVER_PROBLEMS and ENROLL_PROBLEMS map classes to translation keys.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

from fieldapp.sync import errors

# Arabic-Indic (U+0660..) and Eastern Arabic-Indic (Persian/Urdu keyboards, U+06F0..) digits,
# and the Arabic decimal and thousands separators.
_DIGITS = {ord(c): str(i) for i, c in enumerate("٠١٢٣٤٥٦٧٨٩")}
_DIGITS.update({ord(c): str(i) for i, c in enumerate("۰۱۲۳۴۵۶۷۸۹")})
_DIGITS.update({ord("٫"): ".", ord("٬"): ",", ord("٪"): "%", ord("\u066b"): "."})


def ascii_digits(text: str) -> str:
    """The text with every Arabic-Indic digit written as 0-9 (what the schema accepts)."""
    return (text or "").translate(_DIGITS)


def local_digits(text: str, language: str) -> str:
    """Numbers as the app writes them in either language: 0-9, as the times, tags and phone numbers beside them.

    (Arabic-Indic digits are read everywhere, see `ascii_digits`; one set of digits on a screen is easier.)
    """
    return text


# The record field each refusal names -> the translation key of the label the form shows.
LABELS = {
    "data.location": "label.place", "data.location.place": "label.place", "data.location.lat": "label.place",
    "data.location.lon": "label.place", "data.location.accuracy_m": "label.place",
    "data.received_at": "label.received_at", "data.incident_type": "label.incident_type",
    "data.status": "label.status", "data.status_log": "label.status",
    "data.reported_people": "label.reported_people", "data.caller_phone": "label.caller_phone",
    "data.notes": "label.notes", "data.outcome": "label.outcome", "data.count": "label.count",
    "data.recovered_at": "label.recovered_at", "data.sex": "label.sex", "data.age_group": "label.age_group",
    "data.identified": "label.identified", "data.name": "label.name", "data.tag": "label.tag",
    "data.handed_to": "label.handed_to", "data.call_id": "label.call", "data.withdrawn": "label.withdrawn",
    "review": "label.review", "review.state": "label.review", "review.note": "label.review",
    "recorded_by": "label.callsign",
    "data.conditions": "label.conditions", "data.age_years": "label.age_years",
    "data.death_estimated_at": "label.death_estimated_at", "data.handover": "label.handover",
    "data.handover.to": "label.handover", "data.handover.receiver": "label.handover_receiver",
    "data.handover.place": "label.handover_place", "data.handover.at": "label.handover_at",
    "data.missing_people": "label.missing_people",
}

# pydantic's messages by error type, and the schema's own words -> a translation key and its numbers.
_KNOWN: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^String should have at most (?P<n>\d+) characters?$"), "error.too_long"),
    (re.compile(r"^String should have at least (?P<n>\d+) characters?$"), "error.too_short"),
    (re.compile(r"^List should have at most (?P<n>\d+) items?"), "error.too_many"),
    (re.compile(r"^Input should be greater than or equal to (?P<n>[-\d.]+)$"), "error.at_least"),
    (re.compile(r"^Input should be greater than (?P<n>[-\d.]+)$"), "error.more_than"),
    (re.compile(r"^Input should be less than or equal to (?P<n>[-\d.]+)$"), "error.at_most"),
    (re.compile(r"^Input should be less than (?P<n>[-\d.]+)$"), "error.less_than"),
    (re.compile(r"^Input should be a valid integer"), "error.number"),
    (re.compile(r"^Input should be a valid number"), "error.decimal"),
    (re.compile(r"^Input should be a valid boolean"), "error.yes_no"),
    (re.compile(r"^Input should be a valid (string|dictionary|list)"), "error.shape"),
    (re.compile(r"^(is required|Field required)$"), "error.required"),
    (re.compile(r"^must be one of"), "error.choice"),
    (re.compile(r"^Input should be "), "error.choice"),
    (re.compile(r"^must be a phone number"), "error.phone"),
    (re.compile(r"^must be an RFC 3339 time"), "error.time"),
    (re.compile(r"^is not a real date and time"), "error.time"),
    (re.compile(r"^lat and lon go together"), "error.place"),
    (re.compile(r"^(at least one of|give place|place or)"), "error.place"),
    (re.compile(r"^unknown field"), "error.unknown_field"),
    (re.compile(r"^must be a UUID"), "error.shape"),
    # The evidence fields (schema 2) and the server's verdict on a team's tags.
    (re.compile(r"^tag '(?P<tag>.*)' is already used by record (?P<holder>[0-9a-fA-F-]+)"), "error.tag_used"),
    (re.compile(r"^is the age of one person"), "error.age_one_person"),
    (re.compile(r"^\d+ does not fit age_group"), "error.age_group_fit"),
    (re.compile(r"^lists \w+ twice"), "error.condition_twice"),
    (re.compile(r"^no_visible_injuries cannot go with"), "error.no_visible_injuries"),
    (re.compile(r"^is only for a deceased outcome"), "error.deceased_only"),
    (re.compile(r"^must not be after recovered_at"), "error.after_recovery"),
    (re.compile(r"^takes the place of handed_to"), "error.handover_or_handed_to"),
]


# Why a sync pass or a linking failed, by the failure's class (fieldapp.sync.errors) -> the
# translation key that says it to a volunteer. The first class the failure is an instance of wins:
# the more special kinds come first. A kind not listed is said in the failure's own words.
SERVER_PROBLEMS: tuple[tuple[type[errors.SyncError], str], ...] = (
    (errors.TokenRefused, "server.token"),
    (errors.CertificateRefused, "server.certificate"),
    (errors.Unreachable, "server.unreachable"),
    (errors.OddAnswer, "server.odd_answer"),
    (errors.ServerError, "server.failed"),
)
ENROLL_PROBLEMS: tuple[tuple[type[errors.SyncError], str], ...] = (
    (errors.Unreachable, "enroll.unreachable"),
    (errors.AuthError, "enroll.token_refused"),
    (errors.ServerError, "enroll.server_error"),
    (errors.BadAddress, "enroll.address"),
    (errors.PlainHttp, "enroll.http"),
    (errors.EmptyToken, "enroll.token_empty"),
    (errors.DataLocked, "enroll.locked"),
)


def problem_key(kind: type[BaseException] | None, table=SERVER_PROBLEMS) -> str | None:
    """The translation key of a failure's class in a table, None for a kind the app does not name."""
    for known, key in table:
        if kind is not None and issubclass(kind, known):
            return key
    return None


def server_problem(kind: type[BaseException] | None, why: str | None, t: Callable[..., str]) -> str:
    """What went wrong with the server, in the user's language; a kind the app does not name, in its own words."""
    key = problem_key(kind)
    return t(key) if key else (why or t("server.unknown"))


def enroll_problem(exc: BaseException, t: Callable[..., str]) -> str:
    """Why linking failed, in the user's language; a kind the app does not name (a damaged link), in its
    own words after a translated lead-in, isolated."""
    key = problem_key(type(exc), ENROLL_PROBLEMS)
    return t(key) if key else t("refusal.unknown", reason=str(exc))


def reason(message: str, t: Callable[..., str]) -> str:
    """One refusal's reason in the user's language; a reason the app does not know, as it came."""
    for pattern, key in _KNOWN:
        match = pattern.search(message or "")
        if match:
            params = match.groupdict()
            if "n" in params:
                params["n"] = local_digits(params["n"], getattr(t, "language", "en"))
            if "holder" in params:
                params["holder"] = params["holder"][:8]  # enough to find it; a whole UUID is noise on a phone
            return t(key, **params)
    return t("refusal.unknown", reason=message) if message else t("error.shape")


def label(field: str, t: Callable[..., str]) -> str:
    key = LABELS.get(field)
    if key is None:  # a deeper path (data.location.place) or one the form does not show
        parent = field.rsplit(".", 1)[0]
        key = LABELS.get(parent)
    if key:
        return t(key)
    name = getattr(t, "field", None)  # Translator.field: the catalogs' name for any record field
    return name(field) if name else field


def describe(field: str, message: str, t: Callable[..., str]) -> str:
    """'Place: must be at most 200 characters', in the user's language."""
    return t("error.field", label=label(field, t), reason=reason(message, t))


MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


def long_date(day: str, t: Callable[..., str]) -> str:
    """2026-11-25 -> '25 November 2026' / '25 تشرين الثاني 2026'."""
    try:
        d = date.fromisoformat(day)
    except ValueError:
        return day
    language = getattr(t, "language", "en")
    return local_digits(t("date.long", d=d.day, month=t(f"month.{MONTHS[d.month - 1]}"), y=d.year), language)
