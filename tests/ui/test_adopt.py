"""A screen drawn again keeps its controls (fieldapp/ui/views/adopt.py), without a client."""

from __future__ import annotations

import flet as ft

from fieldapp.ui.views.adopt import adopt, adopt_all
from fieldapp.ui.views.landing import scroll_key


def _form(*, refused: bool) -> ft.Column:
    fields = [ft.Container(key=scroll_key(name), content=ft.TextField(label=name, value=""))
              for name in ("place", "count")]
    said = [ft.Text("Not saved. How many people: at least 1")] if refused else []
    return ft.Column(controls=[*said, ft.Text("Outcome"), *fields])


def test_a_part_drawn_again_at_its_place_is_the_part_shown_with_the_new_values():
    shown, drawn = ft.Column(controls=[ft.Text("a"), ft.Button("Save")]), ft.Column(controls=[ft.Text("b"), ft.Button("Save")])
    kept = adopt(shown, drawn)
    assert kept is shown and kept.controls[0].value == "b"


def test_a_refusal_said_above_the_fields_keeps_each_keyed_field_the_same_control():
    """The refusal moves every field down one place; each field is still the control shown (Flutter keeps its
    focus), found by its key."""
    shown = _form(refused=False)
    fields = {c.key.value: c for c in shown.controls if c.key is not None}
    inner = {name: c.content for name, c in fields.items()}
    kept = adopt(shown, _form(refused=True))
    assert kept is shown
    after = {c.key.value: c for c in kept.controls if c.key is not None}
    assert after == fields and all(after[name] is fields[name] for name in fields)
    assert all(after[name].content is inner[name] for name in inner)
    assert isinstance(kept.controls[0], ft.Text) and kept.controls[0].value.startswith("Not saved")


def test_a_keyed_part_is_adopted_once_and_an_unkeyed_part_never_takes_a_keyed_place():
    a, b = ft.Container(key="a"), ft.Container(key="b")
    drawn = [ft.Container(key="b"), ft.Container(), ft.Container(key="a"), ft.Container(key="a")]
    out = adopt_all([a, b], drawn)
    assert out[0] is b and out[2] is a
    assert out[1] is drawn[1] and out[3] is drawn[3]
