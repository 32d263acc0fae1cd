"""Where a refused save lands: the first refused field of the form, and the words said aloud there."""

from __future__ import annotations

from collections.abc import Mapping

from fieldapp.i18n import Translator
from fieldapp.ui import messages

# A form's field name -> the record field it writes (for its name in the user's language).
_PATHS = {"place": "data.location", "lat": "data.location", "lon": "data.location", "handover_to": "data.handover",
          "handover_at": "data.handover.at", "handover_place": "data.handover.place",
          "handover_receiver": "data.handover.receiver", "death_estimated_at": "data.death_estimated_at"}


def first_refused(errors: Mapping[str, str]) -> str | None:
    """The first refused field in the form's order (the models fill `errors` top to bottom); None if none."""
    return next((name for name in errors if name != "form"), None)


def announcement(t: Translator, errors: Mapping[str, str]) -> str | None:
    """'Not saved. How many people: enter a number' — what a screen reader says where the save lands."""
    name = first_refused(errors)
    if name is None:
        return errors.get("form") or None
    label = messages.label(_PATHS.get(name, f"data.{name}"), t)
    return t("form.refused_at", label=label, message=errors[name])
