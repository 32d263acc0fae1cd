"""Where the app is: a screen and the records it shows, its route, and the screens Back steps down.

Pure: no store, no Flet. Every screen has a route, so the browser's Back and Android's
back step through them:

    /  /new  /call/<id>  /call/<id>/edit  /call/<id>/recovery  /recovery/<id>
    /sync  /settings  /queue  /queue/figures  /conflict/<id>  /record/<id>

A route is read into a `Place` as it is written; whether its record exists (and may be
edited here) is the app's question (AppState.open_route), not this module's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Screen(StrEnum):
    HOME = "home"
    OUTBOX = "outbox"  # what the sync badge stands for
    NEW_CALL = "new_call"  # a new call's form, or a call's correction
    CALL = "call"
    RECOVERY = "recovery"  # a new recovery's form, or a recorded one
    SETTINGS = "settings"
    QUEUE = "queue"  # the lead's day
    FIGURES = "figures"  # the day's figures
    CONFLICT = "conflict"
    RECORD = "record"  # one record read whole, with its versions (from the queue)


@dataclass(frozen=True)
class Place:
    """A screen and what it shows: the call (or the conflict's record), the recovery a form corrects."""

    screen: Screen = Screen.HOME
    call_id: str | None = None  # the call shown, corrected or given a recovery; the conflict's record
    recovery_id: str | None = None  # the recovery the form corrects; None for a new one
    editing: bool = False  # NEW_CALL: the correction of call_id, not a new call


HOME = Place()
# Screens without a record, by their route.
_FIXED = {"/": Screen.HOME, "/new": Screen.NEW_CALL, "/sync": Screen.OUTBOX, "/settings": Screen.SETTINGS,
          "/queue": Screen.QUEUE, "/queue/figures": Screen.FIGURES}
_FIXED_ROUTES = {screen: route for route, screen in _FIXED.items()}
TABS = ("/", "/queue", "/settings")  # the bottom bar's destinations
KEPT = ("/", "/queue")  # long lists: a screen kept drawn while nothing it shows changed


def route(place: Place) -> str:
    """The route that names a place; a place that lacks its record is home."""
    screen, call_id = place.screen, place.call_id
    if screen is Screen.NEW_CALL:
        return f"/call/{call_id}/edit" if place.editing and call_id else "/new"
    if screen is Screen.CALL:
        return f"/call/{call_id}" if call_id else "/"
    if screen is Screen.RECOVERY:
        if place.recovery_id:
            return f"/recovery/{place.recovery_id}"
        return f"/call/{call_id}/recovery" if call_id else "/"
    if screen is Screen.CONFLICT:
        return f"/conflict/{call_id}" if call_id else "/"
    if screen is Screen.RECORD:
        return f"/record/{call_id}" if call_id else "/"
    return _FIXED_ROUTES[screen]


def parse(text: str | None) -> Place | None:
    """The place a route names, as written (None for a route the app has not); a query string is ignored."""
    path = (text or "/").split("?")[0].split("#")[0]
    parts = [p for p in path.split("/") if p]
    fixed = _FIXED.get("/" + "/".join(parts))
    if fixed is not None:
        return Place(fixed)
    if len(parts) == 2 and parts[0] == "call":
        return Place(Screen.CALL, parts[1])
    if len(parts) == 3 and parts[0] == "call" and parts[2] == "edit":
        return Place(Screen.NEW_CALL, parts[1], editing=True)
    if len(parts) == 3 and parts[0] == "call" and parts[2] == "recovery":
        return Place(Screen.RECOVERY, parts[1])
    if len(parts) == 2 and parts[0] == "recovery":
        return Place(Screen.RECOVERY, recovery_id=parts[1])
    if len(parts) == 2 and parts[0] == "conflict":
        return Place(Screen.CONFLICT, parts[1])
    if len(parts) == 2 and parts[0] == "record":
        return Place(Screen.RECORD, parts[1])
    return None


def stack(place: Place) -> list[str]:
    """The routes under a place, itself last: what Back steps down through.

    Home is under every screen: Back from a tab returns to it, as on Android, and going back to
    it shows the list as it was, without drawing it again.
    """
    here = route(place)
    screen = place.screen
    if here == "/":
        return [here]
    if screen in (Screen.FIGURES, Screen.CONFLICT, Screen.RECORD):
        return ["/", "/queue", here]
    if screen in (Screen.CALL, Screen.OUTBOX, Screen.SETTINGS, Screen.QUEUE) or (
            screen is Screen.NEW_CALL and not place.editing):
        return ["/", here]
    return ["/", f"/call/{place.call_id}", here]  # a call's correction, a recovery


def section(route_text: str) -> str:
    """The bottom bar's tab a route belongs to."""
    if route_text.startswith(("/queue", "/conflict", "/record")):
        return "/queue"
    return "/settings" if route_text == "/settings" else "/"


@dataclass
class History:
    """Forms a save has left, each with the route under it: the browser's Back steps over them."""

    left: dict[str, str] = field(default_factory=dict)

    def leave(self, routes: list[str]) -> None:
        """The form on top of these routes was saved: coming back to it by history shows the one under it."""
        if len(routes) >= 2:
            self.left[routes[-1]] = routes[-2]

    def resolve(self, route_text: str, *, history: bool) -> str:
        """The route to show: a left form's screen under it when history comes back to it; opened afresh
        (a tap), a form is a form again."""
        if history and route_text in self.left:
            return self.left[route_text]
        self.left.pop(route_text, None)
        return route_text
