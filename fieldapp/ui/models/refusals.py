"""A refusal (the server's or the schema's) shown where the volunteer fixes it: beside its form field."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fieldapp.i18n import Translator
from fieldapp.ui import messages

# Which form field shows a refusal of a record field (the server's or the schema's).
FORM_FIELD = {
    "data.location": "place", "data.location.place": "place", "data.location.lat": "place", "data.location.lon": "place",
    "data.received_at": "received_at", "data.reported_people": "reported_people", "data.caller_phone": "caller_phone",
    "data.notes": "notes", "data.incident_type": "incident_type", "data.count": "count", "data.name": "name",
    "data.tag": "tag", "data.handed_to": "handed_to", "data.outcome": "outcome",
    "data.recovered_at": "recovered_at", "data.sex": "sex", "data.age_group": "age_group",
    "data.conditions": "conditions", "data.age_years": "age_years", "data.death_estimated_at": "death_estimated_at",
    "data.handover": "handover_to", "data.handover.to": "handover_to", "data.handover.receiver": "handover_receiver",
    "data.handover.place": "handover_place", "data.handover.at": "handover_at",
}


def withheld_fields(record: Mapping[str, Any]) -> frozenset[str]:
    """The form fields of a record's personal fields the server withheld from this phone."""
    return frozenset(FORM_FIELD[path] for path in record.get("withheld") or () if path in FORM_FIELD)


def form_errors(errors, t: Translator | None = None) -> dict[str, str]:
    """Refusals keyed by the form field that shows them; with a translator, in the user's language.

    Beside its field a reason needs no label; one the form has no field for
    ("form") names the field by its label.
    """
    out: dict[str, str] = {}
    for error in errors:
        field_path = error["field"] if isinstance(error, dict) else error.field
        message = error["message"] if isinstance(error, dict) else error.message
        where = _form_field(field_path)
        if t is not None:
            message = messages.reason(message, t) if where != "form" else messages.describe(field_path, message, t)
        out.setdefault(where, message)
    return out


def _form_field(path: str) -> str:
    """The form field showing a record field; a list item (data.conditions.0) shows by its list."""
    while path not in FORM_FIELD and path.rsplit(".", 1)[-1].isdigit():
        path = path.rsplit(".", 1)[0]
    return FORM_FIELD.get(path, "form")


def refusal_lines(errors, t: Translator) -> list[str]:
    """Each refusal as a line: the field's label and the reason, in the user's language."""
    return [messages.describe(e["field"] if isinstance(e, dict) else e.field,
                              e["message"] if isinstance(e, dict) else e.message, t) for e in errors]
