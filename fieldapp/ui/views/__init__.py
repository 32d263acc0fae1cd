"""The screens: one thin Flet layer per screen over its model (fieldapp/ui/models/).

Each builder makes one screen's `ft.View` from the state and wires its controls to the
models' actions through a `Navigator` (widgets.py): `ui.go(route)` opens a screen,
`ui.redraw()` draws the current one again. The views never import the app (fieldapp/ui/app.py).
"""

from __future__ import annotations

from collections.abc import Callable

import flet as ft

from fieldapp.ui.routing import Screen
from fieldapp.ui.state import AppState
from fieldapp.ui.views.call import call, new_call
from fieldapp.ui.views.conflict import conflict
from fieldapp.ui.views.figures import figures
from fieldapp.ui.views.frame import patch
from fieldapp.ui.views.home import home, outbox
from fieldapp.ui.views.queue import queue
from fieldapp.ui.views.record import record
from fieldapp.ui.views.recovery import recovery
from fieldapp.ui.views.settings import settings
from fieldapp.ui.views.widgets import FONT, Navigator

__all__ = ["BUILDERS", "FONT", "Navigator", "build", "call", "home", "patch", "queue"]

BUILDERS: dict[Screen, Callable[[AppState, Navigator], ft.View]] = {
    Screen.HOME: home, Screen.OUTBOX: outbox, Screen.NEW_CALL: new_call, Screen.RECOVERY: recovery,
    Screen.SETTINGS: settings, Screen.QUEUE: queue, Screen.CONFLICT: conflict, Screen.FIGURES: figures,
    Screen.RECORD: record,
}


def build(state: AppState, ui: Navigator, route: str, *, top: bool) -> ft.View:
    """The screen on top (the current place), or one under it that Back returns to (by its route)."""
    if top:
        if state.screen is Screen.CALL:
            return call(state, ui, state.place.call_id or "")
        return BUILDERS.get(state.screen, home)(state, ui)
    if route.startswith("/call/"):
        return call(state, ui, route.split("/")[2], top=False)
    return queue(state, ui) if route == "/queue" else home(state, ui)
