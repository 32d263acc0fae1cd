"""What every screen is made of: its controls (the frame they sit in is frame.py).

Touch targets are at least 48 px, primary actions 56 px, every control a test or a screen
reader needs has a semantics identifier, and no words are cut at any text size.

A view reads its screen's model (fieldapp/ui/models/) and moves through a `Navigator`
(fieldapp/ui/app.py's Shell), never importing the app itself.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable
from pathlib import Path
from typing import Protocol

import flet as ft

from fieldapp.store.document import SyncState
from fieldapp.ui.state import AppState
from fieldapp.ui.views.landing import scroll_key


class Navigator(Protocol):
    """What a view asks of the app around it: move, draw again, and the platform's services."""

    def go(self, route: str) -> None: ...  # open the screen a route names (a tap)
    def back(self) -> None: ...  # the screen under this one
    def redraw(self) -> None: ...  # draw the current screen again after an action
    def restyle(self) -> None: ...  # the language or the theme changed: draw everything anew
    def restart(self) -> None: ...  # after a wipe: the app again, on an empty store
    def locate(self, _=None) -> Awaitable[None]: ...  # the phone's position into the call's form
    def offer_file(self, path: Path) -> Awaitable[None]: ...  # a save dialog for an export


PRIMARY = 56  # px: primary actions, for gloved hands
TOUCH = 48  # px: every other target
# Shipped in assets/fonts (the web client would fetch Arabic glyphs from a CDN).
FONT = "Noto Sans Arabic"

INCIDENT_ICONS = {
    "airstrike": ft.Icons.FLIGHT, "shelling": ft.Icons.GPS_FIXED, "explosion": ft.Icons.FLARE,
    "building_collapse": ft.Icons.DOMAIN_DISABLED, "fire": ft.Icons.LOCAL_FIRE_DEPARTMENT,
    "armed_violence": ft.Icons.REPORT, "bodies_found": ft.Icons.SEARCH, "traffic_accident": ft.Icons.CAR_CRASH,
    "flood": ft.Icons.WATER, "earthquake": ft.Icons.LANDSLIDE, "other": ft.Icons.HELP_OUTLINE,
}
# A record's sync state: an icon and a colour beside its words.
SYNC_LOOK = {
    SyncState.PENDING: (ft.Icons.SCHEDULE_SEND, ft.Colors.ON_SURFACE_VARIANT),
    SyncState.SENT: (ft.Icons.CLOUD_DONE, ft.Colors.PRIMARY),
    SyncState.REJECTED: (ft.Icons.ERROR, ft.Colors.ERROR),
    SyncState.CONFLICT: (ft.Icons.SYNC_PROBLEM, ft.Colors.TERTIARY),
}



# Colours a control's edge is drawn in: OUTLINE is at least 3:1 against the page in both themes (a fill such
# as SURFACE_CONTAINER_HIGHEST or SECONDARY_CONTAINER is not), so a control shown by a fill alone also gets one.
EDGE = ft.Colors.OUTLINE
EDGE_WIDTH = 2


def tagged(identifier: str, control: ft.Control, label: str | None = None, *, selected: bool | None = None,
           live: bool | None = None) -> ft.Control:
    """The node a test and a screen reader find: its identifier, and the state a screen reader says.

    `label` only where the control shows no words of its own (the words shown are its name already: a label
    as well makes a screen reader read it twice). `selected` for a choice (said "selected" or not);
    `live` for a part whose news is announced as it changes (a notice, the sync badge, an error).
    """
    return ft.Semantics(identifier=identifier, label=label, selected=selected, live_region=live, content=control)


def heading(text: str, *, size: int = 17, key: ft.ScrollKey | None = None) -> ft.Control:
    """A section's title: a heading a screen reader can jump between (`key`: where a refused save scrolls to)."""
    return ft.Semantics(header=True, key=key, content=ft.Text(text, size=size, weight=ft.FontWeight.BOLD))


def edged(radius: float = 12) -> ft.RoundedRectangleBorder:
    """The shape of a card that opens something: its edge visible against the page (see EDGE)."""
    return ft.RoundedRectangleBorder(radius=radius, side=ft.BorderSide(EDGE_WIDTH, EDGE))


def card(identifier: str, on_click, content: ft.Control, *, padding: int = 12) -> ft.Control:
    """A tappable card: a button whose name is the words on it, with an edge at least 3:1 against the page."""
    return tagged(identifier, ft.Card(shape=edged(), content=ft.Container(
        padding=padding, on_click=on_click, border_radius=12, content=content)))


def reach(primary: bool, horizontal: int = 16) -> ft.Padding:
    """A button's padding: 56 px (primary) or 48 px high at normal text size, and taller, never cut, as text grows.

    A fixed height would cut a second line of large text; Flet's buttons take no minimum height, so the
    padding around one line of text (about 23 px at 16 px, 26 at 18) makes it.
    """
    return ft.Padding.symmetric(horizontal=horizontal, vertical=15 if primary else 13)


def big_button(text: str, on_click, *, identifier: str, icon=None, filled: bool = True, selected: bool | None = None,
               primary: bool = True, expand: bool = False) -> ft.Control:
    """A button of words. `selected` makes it one of a set of choices (a status step, Approve, a language):
    filled when chosen, and a screen reader says whether it is (see `selectable`)."""
    if selected is not None:
        return selectable(text, on_click, identifier=identifier, selected=selected, icon=icon, size=18 if primary else 16,
                          primary=primary)
    kind = ft.FilledButton if filled else ft.OutlinedButton
    button = kind(content=ft.Text(text, size=18 if primary else 16, font_family=FONT, text_align=ft.TextAlign.CENTER),
                  icon=icon, on_click=on_click, expand=expand, style=ft.ButtonStyle(padding=reach(primary)))
    return tagged(identifier, button)


def selectable(text: str, on_click, *, identifier: str, selected: bool, icon=None, size: int = 16, primary: bool = False,
               tonal: bool = False) -> ft.Control:
    """One of a set of choices, drawn as a tappable box rather than a Material button.

    A Material button is a screen reader's node of its own, so a selected state set around it lands on another
    node; a tappable box is one node with its words as its name and its state said ("current"). Chosen: filled
    (`tonal`: the lighter fill with a primary edge, a chip's look); not chosen: an outline at least 3:1 against
    the page.
    """
    if selected:
        fg = ft.Colors.ON_SECONDARY_CONTAINER if tonal else ft.Colors.ON_PRIMARY
        bg = ft.Colors.SECONDARY_CONTAINER if tonal else ft.Colors.PRIMARY
        edge = ft.Border.all(EDGE_WIDTH, ft.Colors.PRIMARY)
    else:
        fg, bg, edge = ft.Colors.PRIMARY, None, ft.Border.all(EDGE_WIDTH, EDGE)
    mark = ft.Icons.CHECK if tonal and selected else icon
    # loose: as wide as its words, and wrapping within the screen's width rather than running past it (Flet
    # applies expand_loose only to a control that also expands; alone it left long words on one clipped line)
    words = ft.Text(text, size=size, font_family=FONT, color=fg, text_align=ft.TextAlign.CENTER, expand=True,
                    expand_loose=True)
    row = ft.Row(tight=True, spacing=8, controls=[*([ft.Icon(mark, color=fg, size=20)] if mark else []), words])
    pad = reach(primary)
    box = ft.Container(content=row, on_click=on_click, ink=True, bgcolor=bg, border=edge, border_radius=24,
                       padding=ft.Padding.symmetric(horizontal=14, vertical=pad.top - EDGE_WIDTH))
    return tagged(identifier, box, selected=selected)


def icon_button(icon, name: str, on_click, *, identifier: str) -> ft.Control:
    """A 48 px icon that does something, named for a screen reader (an IconButton's tooltip names no node on the web)."""
    return tagged(identifier, ft.Container(content=ft.Icon(icon), on_click=on_click, ink=True, width=TOUCH, height=TOUCH,
                                           border_radius=TOUCH / 2, alignment=ft.Alignment.CENTER), label=name)


def confirmation(state: AppState, ui: Navigator, confirm_text: str, on_confirm, *, identifier: str) -> list[ft.Control]:
    """A harmful tap's question, in view where it was tapped: what will happen, the confirming button in the
    error colour (never like a primary action), and No. Nothing is done until the confirming tap."""
    asked = state.session.confirming
    if asked is None:
        return []
    t = state.t

    def no(_):
        state.session.dismiss()
        ui.redraw()

    confirm = ft.FilledButton(content=ft.Text(confirm_text, size=16, font_family=FONT, text_align=ft.TextAlign.CENTER),
                              icon=ft.Icons.WARNING_AMBER, on_click=on_confirm,
                              style=ft.ButtonStyle(bgcolor=ft.Colors.ERROR, color=ft.Colors.ON_ERROR, padding=reach(False)))
    return [tagged(f"{identifier}-question", live=True, control=ft.Container(
        padding=12, border_radius=8, bgcolor=ft.Colors.ERROR_CONTAINER, border=ft.Border.all(2, ft.Colors.ERROR),
        content=ft.Column(spacing=8, horizontal_alignment=ft.CrossAxisAlignment.STRETCH, controls=[
            ft.Row(spacing=8, controls=[
                ft.Icon(ft.Icons.WARNING_AMBER, color=ft.Colors.ON_ERROR_CONTAINER),
                ft.Text(t("confirm.title"), size=16, weight=ft.FontWeight.BOLD, color=ft.Colors.ON_ERROR_CONTAINER),
            ]),
            ft.Text(asked.message, size=16, color=ft.Colors.ON_ERROR_CONTAINER),
            tagged(identifier, confirm),
            big_button(t("confirm.no"), no, identifier=f"{identifier}-no", filled=False, primary=False),
        ]),
    ))]


def choice(text: str, on_click, *, identifier: str, selected: bool) -> ft.Control:
    """A chip-like choice, at least 48 px high: filled with a tick and edged in the primary colour when chosen
    (the tonal fill alone is 1.2:1 against the page); a screen reader says whether it is chosen."""
    return selectable(text, on_click, identifier=identifier, selected=selected, tonal=True)


def fold(text: str, opened: bool, on_click, *, identifier: str) -> ft.Control:
    """One control that shows or hides a part of the screen (the queue's filters), saying what that part holds
    while it is hidden; a screen reader says whether it is open (one node: see `selectable`)."""
    icon = ft.Icons.EXPAND_LESS if opened else ft.Icons.FILTER_LIST
    box = ft.Container(content=ft.Row(tight=True, spacing=8, controls=[
        ft.Icon(icon, color=ft.Colors.PRIMARY, size=20), ft.Text(text, size=16, color=ft.Colors.PRIMARY, expand=True, expand_loose=True)]),
        on_click=on_click, ink=True, border=ft.Border.all(EDGE_WIDTH, EDGE), border_radius=24,
        padding=ft.Padding.symmetric(horizontal=14, vertical=reach(False).top - EDGE_WIDTH))
    return ft.Semantics(identifier=identifier, expanded=opened, content=box)


def switch(text: str, value: bool, on_change, *, identifier: str) -> ft.Control:
    """A switch whose hit area is 48 px high, its words beside it wrapping to the screen's width at any text size.

    Flet's own `Switch(label=...)` lays its words in a row that never wraps them: long words (or large text)
    ran off the screen. This is that row with the words given the rest of the width: one node to a screen
    reader (the switch named by its words), and a tap on the words turns the switch, as on Flet's own.
    """
    toggle = ft.Switch(value=value, on_change=on_change, padding=ft.Padding.symmetric(horizontal=4, vertical=8))

    async def words_tapped(_):
        toggle.value = not toggle.value
        outcome = on_change(ft.ControlEvent(name="change", control=toggle))
        if inspect.isawaitable(outcome):
            await outcome

    words = ft.GestureDetector(content=ft.Text(text, size=16), on_tap=words_tapped, expand=True)
    return tagged(identifier, ft.MergeSemantics(content=ft.Row(
        spacing=4, vertical_alignment=ft.CrossAxisAlignment.CENTER, controls=[toggle, words])))


def field(state: AppState, form, name: str, label: str, *, keyboard=None, multiline: bool = False) -> ft.Control:
    def changed(e):
        setattr(form, name, e.control.value or "")

    s = state.session
    warning = s.warnings.get(name)
    if name in s.withheld:  # the server keeps it; an empty field here would look like none to fill in
        return tagged(f"field-{name}", ft.TextField(label=label, value="", read_only=True, text_size=18,
                                                    helper=state.t("field.withheld"), helper_max_lines=3))
    control = tagged(f"field-{name}", ft.TextField(
        label=label, value=str(getattr(form, name) or ""), on_change=changed, keyboard_type=keyboard,
        multiline=multiline, min_lines=2 if multiline else None, error=s.errors.get(name),
        helper=warning, helper_max_lines=5, text_size=18,
        helper_style=ft.TextStyle(color=ft.Colors.TERTIARY, weight=ft.FontWeight.BOLD, size=15) if warning else None,
    ))
    control.key = scroll_key(name)  # a refused save scrolls here (views/landing.py)
    return control


def sync_line(state: AppState, sync_state: SyncState, *, size: int = 15) -> ft.Control:
    icon, color = SYNC_LOOK[sync_state]
    return ft.Row(spacing=6, tight=True, controls=[
        ft.Icon(icon, color=color, size=20), ft.Text(state.t(f"sync.short.{sync_state}"), color=color, size=size),
    ])


def notice(state: AppState) -> list[ft.Control]:
    if not state.notice:
        return []
    # A live region: a screen reader says it as it appears, wherever the reader's focus is.
    return [tagged("notice", live=True, control=ft.Container(
        padding=10, border_radius=8, bgcolor=ft.Colors.PRIMARY_CONTAINER,
        content=ft.Text(state.notice, color=ft.Colors.ON_PRIMARY_CONTAINER, size=16),
    ))]
