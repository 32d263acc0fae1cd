"""A screen drawn again keeps its controls: the parts shown take what the new drawing says, in place.

A screen is drawn anew after an action and when the sync's news comes (a record sent: its line
changes). Put on the page as new controls, every button would be a new control to Flutter, which
drops the old one and with it a tap half made: a finger on Add recovery as the news redraws the
call taps nothing. So a part of the new drawing of the same kind as the part shown in its place
is not put on the page: the part shown takes its values (Flet then sends only what changed) and
stays the control under the finger.
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
    """A list of parts drawn again, each adopted by the part shown at its place."""
    return [adopt(shown[i], part) if i < len(shown) else part for i, part in enumerate(drawn)]


def _equal(before: Any, after: Any) -> bool:
    try:
        return bool(before == after)
    except Exception:  # a value that cannot be compared is taken as changed
        return False
