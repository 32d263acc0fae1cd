"""A refused save lands on its field: the form scrolls to the first refused field and focuses it.

Flet 1.0: a control carries `key=ft.ScrollKey(...)`, and the scrolling Column's
`scroll_to(scroll_key=...)` brings it into view; a TextField's `focus()` puts the cursor there
(and a screen reader's focus). The words are said by a `Semantics(live_region=True)` the form
shows above its fields (`refusal_said`).

The focus is given once the form has stopped moving: Flutter's web client drops a focus given to
a field while its node moves (the scroll, the refusal and the field's error fading in, all of them
animations on the client's clock), and the screen reader is left on the Save button. Flet's
`scroll_to` answers when the scroll starts, so the landing waits for the animations to end.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import flet as ft

from fieldapp.ui.models.landing import announcement, first_refused
from fieldapp.ui.state import AppState

SCROLL = 0.25  # seconds: the scroll to the refused field
SETTLE = 0.5  # seconds from the scroll's start until the form stands still (Material's error fade is 167 ms)


def scroll_key(name: str) -> ft.ScrollKey:
    return ft.ScrollKey(f"field-{name}")  # type: ignore[call-arg]  # a dataclass mypy does not see


def refusal_said(state: AppState) -> list[ft.Control]:
    """The refusal in words, in a live region: a screen reader says it as the form lands on the field."""
    text = announcement(state.t, state.session.errors)
    if not text:
        return []
    return [ft.Semantics(identifier="refusal", live_region=True, label=text,
                         content=ft.Text(text, color=ft.Colors.ERROR, size=15, weight=ft.FontWeight.BOLD))]


def _walk(control: ft.Control | None) -> Iterator[ft.Control]:
    if control is None:
        return
    yield control
    for name in ("content", "controls"):
        inner = getattr(control, name, None)
        if isinstance(inner, list):
            for child in inner:
                if isinstance(child, ft.Control):
                    yield from _walk(child)
        elif isinstance(inner, ft.Control):
            yield from _walk(inner)


def _holds(control: ft.Control, target: ft.Control) -> bool:
    return any(c is target for c in _walk(control))


async def land(page: ft.Page | None, state: AppState) -> str | None:
    """Scroll the shown form to its first refused field and focus it; return the field's name (None: nothing refused)."""
    name = first_refused(state.session.errors)
    if name is None or page is None or not page.views:
        return name
    view = page.views[-1]
    key = f"field-{name}"
    target = next((c for c in _walk(view) if getattr(c, "key", None) is not None
                   and getattr(c.key, "value", c.key) == key), None)
    if target is None:
        return name
    scroller = next((c for c in _walk(view) if isinstance(c, ft.Column | ft.ListView) and c.scroll and _holds(c, target)),
                    None)
    if scroller is not None:
        await scroller.scroll_to(scroll_key=scroll_key(name), duration=round(SCROLL * 1000))
    field = next((c for c in _walk(target) if isinstance(c, ft.TextField)), None)
    if field is not None:
        await asyncio.sleep(SETTLE)
        await field.focus()
    return name
