"""A screen drawn again keeps its controls: the parts shown take what the new drawing says, in place.

A screen is drawn anew after an action and when the sync's news comes (a record sent: its line
changes). Put on the page as new controls, every button would be a new control to Flutter, which
drops the old one and with it a tap half made: a finger on Add recovery as the news redraws the
call taps nothing. So a part of the new drawing of the same kind as the part shown in its place
is not put on the page: the part shown takes its values (Flet then sends only what changed) and
stays the control under the finger.

A part with a key (a form's field, `views/landing.py`) is found by its key, not its place: a refusal
said above the fields moves every field down one place, and a field drawn anew there would be a new
control to Flutter, which drops the focus a refused save then gives it.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import flet as ft


def adopt(shown: Any, drawn: Any) -> Any:
    """What to put in the place of `shown`: `shown` itself given `drawn`'s values, or `drawn` of another kind."""
    if shown is drawn or type(shown) is not type(drawn) or not isinstance(drawn, ft.BaseControl) \
            or shown.key != drawn.key:
        return drawn
    for field in dataclasses.fields(drawn):
        if field.name.startswith("_") or field.name == "data":
            continue
        before, after = getattr(shown, field.name), getattr(drawn, field.name)
        if isinstance(after, ft.BaseControl):
            after = adopt(before, after)
        elif isinstance(after, list) and isinstance(before, list) and any(isinstance(c, ft.BaseControl) for c in after):
            after = adopt_all(before, after)
        elif _equal(before, after):
            continue
        if after is not before:
            setattr(shown, field.name, after)
    shown.data = drawn.data
    return shown


def adopt_all(shown: list, drawn: list) -> list:
    """A list of parts drawn again, each adopted by the part shown with its key, or else at its place."""
    keyed = [part for part in shown if _key(part) is not None]
    adopted = []
    for i, part in enumerate(drawn):
        key = _key(part)
        match = next((old for old in keyed if old.key == key), None) if key is not None else None
        if match is not None:
            keyed.remove(match)
            adopted.append(adopt(match, part))
        elif i < len(shown) and _key(shown[i]) is None:
            adopted.append(adopt(shown[i], part))
        else:
            adopted.append(part)
    return adopted


def _key(part: Any) -> Any:
    return part.key if isinstance(part, ft.BaseControl) else None


def _equal(before: Any, after: Any) -> bool:
    try:
        return bool(before == after)
    except Exception:  # a value that cannot be compared is taken as changed
        return False
