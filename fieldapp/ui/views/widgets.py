"""What every screen is made of: the frame (title bar, sync badge, list, bottom bar) and its controls.

Every view has the same frame: a title bar (with Back on a sub-screen), the sync badge fixed
under it, the screen's own list (which scrolls, and starts at its top), and the bottom
navigation bar. Touch targets are at least 48 px, primary actions 56 px, and every control a
test or a screen reader needs has a semantics identifier.

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
from fieldapp.ui import routing
from fieldapp.ui.state import AppState
from fieldapp.ui.views.adopt import adopt, adopt_all
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


def col(span: int, control: ft.Control) -> ft.Control:
    control.col = {"xs": span}  # of 12: a ResponsiveRow reads it on its direct child
    return control


def reach(primary: bool, horizontal: int = 16) -> ft.Padding:
    """A button's padding: 56 px (primary) or 48 px high at normal text size, and taller, never cut, as text grows.

    A fixed height would cut a second line of large text; Flet's buttons take no minimum height, so the
    padding around one line of text (about 23 px at 16 px, 26 at 18) makes it.
    """
    return ft.Padding.symmetric(horizontal=horizontal, vertical=15 if primary else 13)


def big_button(text: str, on_click, *, identifier: str, icon=None, filled: bool = True, selected: bool | None = None,
               primary: bool = True, expand: bool = False, fill: bool = False) -> ft.Control:
    """A button of words. `selected` makes it one of a set of choices (a status step, Approve, a language):
    filled when chosen, and a screen reader says whether it is (see `selectable`); `fill` spreads it over its cell."""
    if selected is not None:
        return selectable(text, on_click, identifier=identifier, selected=selected, icon=icon, size=18 if primary else 16,
                          primary=primary, fill=fill)
    kind = ft.FilledButton if filled else ft.OutlinedButton
    button = kind(content=ft.Text(text, size=18 if primary else 16, font_family=FONT, text_align=ft.TextAlign.CENTER),
                  icon=icon, on_click=on_click, expand=expand, style=ft.ButtonStyle(padding=reach(primary)))
    return tagged(identifier, button)


def selectable(text: str, on_click, *, identifier: str, selected: bool, icon=None, size: int = 16, primary: bool = False,
               tonal: bool = False, fill: bool = False) -> ft.Control:
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
    # loose: as wide as its words, and wrapping within the screen's width rather than running past it
    words = ft.Text(text, size=size, font_family=FONT, color=fg, text_align=ft.TextAlign.CENTER, expand_loose=True)
    row = ft.Row(tight=True, spacing=8, controls=[*([ft.Icon(mark, color=fg, size=20)] if mark else []), words])
    pad = reach(primary)
    box = ft.Container(content=row, on_click=on_click, ink=True, bgcolor=bg, border=edge, border_radius=24,
                       padding=ft.Padding.symmetric(horizontal=14, vertical=pad.top - EDGE_WIDTH),
                       alignment=ft.Alignment.CENTER if fill else None)
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
        ft.Icon(icon, color=ft.Colors.PRIMARY, size=20), ft.Text(text, size=16, color=ft.Colors.PRIMARY, expand_loose=True)]),
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


def frame(state: AppState, ui: Navigator, route: str, title: str, controls: list[ft.Control], *,
          back: bool = False, fab: bool = False, lazy: bool = False, footer: ft.Control | None = None) -> ft.View:
    """One screen: title bar, the fixed badge, its own scrolling list, the bottom navigation.

    A long list (`lazy`: home's calls, the queue) is built as it scrolls; a form is built whole.
    A form's `footer` (its Save) is fixed between the list and the navigation: in reach however far
    down the form is scrolled, on the smallest phone. The list ends with room for the New call button
    (`fab`), so the last card's words are never under it.
    """
    t = state.t
    tabs = [("/", ft.Icons.LIST_ALT, t("nav.home")), ("/queue", ft.Icons.FACT_CHECK, t("nav.queue")),
            ("/settings", ft.Icons.SETTINGS, t("nav.settings"))]
    if not state.shows_queue():
        tabs.pop(1)
    section = routing.section(route)
    tab = next((i for i, (r, _, _) in enumerate(tabs) if r == section), 0)

    def change_tab(e):
        ui.go(tabs[e.control.selected_index][0])

    leading = icon_button(ft.Icons.ARROW_BACK, t("call.back"), lambda _: ui.back(), identifier="back") if back else None
    # Every line of the badge, however large the text (no max_lines: a cut line would hide the news).
    badge_text = ft.Text(state.badge(), size=15, expand=True)
    badge = tagged("sync-badge", live=True, control=ft.Container(  # its news is announced as it changes
        content=ft.Row(controls=[ft.Icon(ft.Icons.SYNC, size=20), badge_text, ft.Icon(ft.Icons.CHEVRON_RIGHT, size=20)]),
        padding=ft.Padding.symmetric(horizontal=12, vertical=12), border_radius=24,
        border=ft.Border.all(EDGE_WIDTH, EDGE),
        bgcolor=ft.Colors.SECONDARY_CONTAINER, on_click=lambda _: ui.go(routing.route(routing.Place(routing.Screen.OUTBOX))),
    ))
    problems = [ft.Text(p, color=ft.Colors.ERROR, size=14) for p in state.problems]
    rtl = state.t.rtl  # each part mirrors for Arabic: a View's own rtl does not reach its bars
    end = 120 if fab else 24  # the list's end: a 56 px button and its margins, or a little room
    bar = [ft.Container(content=ft.Column([footer], horizontal_alignment=ft.CrossAxisAlignment.STRETCH), rtl=rtl, bgcolor=ft.Colors.SURFACE_CONTAINER,
                        padding=ft.Padding.symmetric(horizontal=12, vertical=8),
                        border=ft.Border.only(top=ft.BorderSide(1, ft.Colors.OUTLINE_VARIANT)))] if footer else []
    return ft.View(
        route=route, rtl=rtl, padding=0, spacing=0, data=badge_text,
        appbar=ft.AppBar(title=ft.Text(title, size=20, weight=ft.FontWeight.BOLD), leading=leading, rtl=rtl,
                         automatically_imply_leading=False, bgcolor=ft.Colors.SURFACE_CONTAINER),
        floating_action_button_location=ft.FloatingActionButtonLocation.START_FLOAT if rtl else None,
        navigation_bar=ft.NavigationBar(
            selected_index=tab, on_change=change_tab, rtl=rtl,
            # The chosen tab's pill is 1.1:1 against the bar: edged in the primary colour, as a chosen chip is.
            indicator_shape=ft.StadiumBorder(side=ft.BorderSide(EDGE_WIDTH, ft.Colors.PRIMARY)),
            destinations=[ft.NavigationBarDestination(icon=icon, label=label) for _, icon, label in tabs],
        ),
        # Typed as the button itself; Flutter takes any widget there, and the tag is how tests find it.
        # In the primary colour: Material's own light fill is 1.2:1 against the page, a button hard to see.
        floating_action_button=tagged("new-call", ft.FloatingActionButton(  # type: ignore[arg-type]
            icon=ft.Icons.ADD_ALERT, content=t("home.new_call"), on_click=lambda _: ui.go("/new"), height=PRIMARY,
            bgcolor=ft.Colors.PRIMARY, foreground_color=ft.Colors.ON_PRIMARY,
        )) if fab else None,
        controls=[
            ft.Container(padding=ft.Padding.only(left=12, right=12, top=8, bottom=4), content=badge, rtl=rtl),
            ft.ListView(expand=True, spacing=10, padding=ft.Padding.only(left=12, right=12, top=4, bottom=end),
                        controls=[*problems, *controls], rtl=rtl, scroll_interval=0,
                        on_scroll=_remember_offset(state, route)) if lazy else
            ft.Column(expand=True, spacing=10, scroll=ft.ScrollMode.AUTO, rtl=rtl, controls=[ft.Container(
                padding=ft.Padding.only(left=12, right=12, top=4, bottom=end),
                content=ft.Column(spacing=10, horizontal_alignment=ft.CrossAxisAlignment.STRETCH,
                                  controls=[*problems, *controls]))]),
            *bar,
        ],
    )


def _remember_offset(state: AppState, route: str):
    """Where a long list was left, for its screen drawn anew on the way back (app.py's restore_scroll).

    Every scroll event, not Flet's throttled few: its throttle drops the events that come within the interval
    of the last one of their kind and sends none at the end, so a list scrolled back to its top quickly was
    remembered where it had been before. The page is not diffed after each (nothing on it changed).
    """
    def remember(e: ft.OnScrollEvent) -> None:
        ft.context.disable_auto_update()
        state.scrolled[route] = e.pixels
    return remember


def patch(old: ft.View, new: ft.View) -> bool:
    """Give a drawn screen the parts of its new drawing, keeping its scrolling list (and its position) and every
    part of the same kind in its place (views/adopt.py: a tap half made as the screen is drawn again still taps)."""
    if len(old.controls) not in (2, 3) or len(new.controls) != len(old.controls) \
            or type(old.controls[1]) is not type(new.controls[1]):
        return False
    old.appbar, old.navigation_bar = adopt(old.appbar, new.appbar), adopt(old.navigation_bar, new.navigation_bar)
    old.floating_action_button = adopt(old.floating_action_button, new.floating_action_button)
    old.floating_action_button_location = new.floating_action_button_location
    old.rtl = new.rtl
    top = old.controls[0] = adopt(old.controls[0], new.controls[0])
    if len(new.controls) == 3:
        old.controls[2] = adopt(old.controls[2], new.controls[2])  # the fixed Save bar
    if top is new.controls[0]:
        old.data = new.data  # its badge (adopted, the one shown stays, with its text)
    before, after = old.controls[1], new.controls[1]
    if isinstance(before, ft.ListView) and isinstance(after, ft.ListView):
        before.rtl, before.controls = after.rtl, adopt_all(before.controls, after.controls)
    elif isinstance(before, ft.Column) and isinstance(after, ft.Column):
        shown, drawn = before.controls[0], after.controls[0]
        assert isinstance(shown, ft.Container) and isinstance(drawn, ft.Container)
        before.rtl, shown.content = after.rtl, adopt(shown.content, drawn.content)
    return True
