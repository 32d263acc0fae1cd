"""What every screen is made of: the frame (title bar, sync badge, list, bottom bar) and its controls.

Every view has the same frame: a title bar (with Back on a sub-screen), the sync badge fixed
under it, the screen's own list (which scrolls, and starts at its top), and the bottom
navigation bar. Touch targets are at least 48 px, primary actions 56 px, and every control a
test or a screen reader needs has a semantics identifier.

A view reads its screen's model (fieldapp/ui/models/) and moves through a `Navigator`
(fieldapp/ui/app.py's Shell), never importing the app itself.
"""

from __future__ import annotations

from collections.abc import Awaitable
from pathlib import Path
from typing import Protocol

import flet as ft

from fieldapp.store.document import SyncState
from fieldapp.ui import routing
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



def tagged(identifier: str, control: ft.Control, label: str | None = None) -> ft.Control:
    return ft.Semantics(identifier=identifier, label=label, content=control)


def col(span: int, control: ft.Control) -> ft.Control:
    control.col = {"xs": span}  # of 12: a ResponsiveRow reads it on its direct child
    return control


def big_button(text: str, on_click, *, identifier: str, icon=None, filled: bool = True, selected: bool = False,
               primary: bool = True, expand: bool = False) -> ft.Control:
    kind = ft.FilledButton if filled or selected else ft.OutlinedButton
    button = kind(content=ft.Text(text, size=18 if primary else 16, font_family=FONT, text_align=ft.TextAlign.CENTER),
                  icon=icon, on_click=on_click, height=PRIMARY if primary else TOUCH, expand=expand)
    return tagged(identifier, button)


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
                              icon=ft.Icons.WARNING_AMBER, on_click=on_confirm, height=TOUCH,
                              style=ft.ButtonStyle(bgcolor=ft.Colors.ERROR, color=ft.Colors.ON_ERROR))
    return [tagged(f"{identifier}-question", ft.Container(
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
    """A chip-like choice, 48 px high: filled with a tick when chosen."""
    kind = ft.FilledTonalButton if selected else ft.OutlinedButton
    button = kind(content=ft.Text(text, size=16), icon=ft.Icons.CHECK if selected else None, on_click=on_click,
                  height=TOUCH, style=ft.ButtonStyle(padding=ft.Padding.symmetric(horizontal=14)))
    return tagged(identifier, ft.Semantics(selected=selected, content=button), label=text)


def switch(text: str, value: bool, on_change, *, identifier: str) -> ft.Control:
    """A switch whose hit area is 48 px high."""
    return tagged(identifier, ft.Switch(label=ft.Text(text, size=16), value=value, on_change=on_change,
                                        padding=ft.Padding.symmetric(horizontal=4, vertical=8)))


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
    return [tagged("notice", ft.Container(
        padding=10, border_radius=8, bgcolor=ft.Colors.PRIMARY_CONTAINER,
        content=ft.Text(state.notice, color=ft.Colors.ON_PRIMARY_CONTAINER, size=16),
    ))]


def frame(state: AppState, ui: Navigator, route: str, title: str, controls: list[ft.Control], *,
          back: bool = False, fab: bool = False, lazy: bool = False) -> ft.View:
    """One screen: title bar, the fixed badge, its own scrolling list, the bottom navigation.

    A long list (`lazy`: home's calls, the queue) is built as it scrolls; a form is built whole,
    so its Save button is there to reach however far down it is.
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

    leading = tagged("back", ft.IconButton(icon=ft.Icons.ARROW_BACK, tooltip=t("call.back"), on_click=lambda _: ui.back(),
                                          width=TOUCH, height=TOUCH)) if back else None
    badge_text = ft.Text(state.badge(), size=15, expand=True, max_lines=2)
    badge = tagged("sync-badge", ft.Container(
        content=ft.Row(controls=[ft.Icon(ft.Icons.SYNC, size=20), badge_text, ft.Icon(ft.Icons.CHEVRON_RIGHT, size=20)]),
        padding=ft.Padding.symmetric(horizontal=12, vertical=14), border_radius=24,
        bgcolor=ft.Colors.SECONDARY_CONTAINER, on_click=lambda _: ui.go(routing.route(routing.Place(routing.Screen.OUTBOX))),
    ))
    problems = [ft.Text(p, color=ft.Colors.ERROR, size=14) for p in state.problems]
    rtl = state.t.rtl  # each part mirrors for Arabic: a View's own rtl does not reach its bars
    return ft.View(
        route=route, rtl=rtl, padding=0, spacing=0, data=badge_text,
        appbar=ft.AppBar(title=ft.Text(title, size=20, weight=ft.FontWeight.BOLD), leading=leading, rtl=rtl,
                         automatically_imply_leading=False, bgcolor=ft.Colors.SURFACE_CONTAINER),
        floating_action_button_location=ft.FloatingActionButtonLocation.START_FLOAT if rtl else None,
        navigation_bar=ft.NavigationBar(
            selected_index=tab, on_change=change_tab, rtl=rtl,
            destinations=[ft.NavigationBarDestination(icon=icon, label=label) for _, icon, label in tabs],
        ),
        # Typed as the button itself; Flutter takes any widget there, and the tag is how tests find it.
        floating_action_button=tagged("new-call", ft.FloatingActionButton(  # type: ignore[arg-type]
            icon=ft.Icons.ADD_ALERT, content=t("home.new_call"), on_click=lambda _: ui.go("/new"), height=PRIMARY,
        )) if fab else None,
        controls=[
            ft.Container(padding=ft.Padding.only(left=12, right=12, top=8, bottom=4), content=badge, rtl=rtl),
            ft.ListView(expand=True, spacing=10, padding=ft.Padding.only(left=12, right=12, top=4, bottom=96),
                        controls=[*problems, *controls], rtl=rtl, scroll_interval=250,
                        on_scroll=lambda e: state.scrolled.__setitem__(route, e.pixels)) if lazy else
            ft.Column(expand=True, spacing=10, scroll=ft.ScrollMode.AUTO, rtl=rtl, controls=[ft.Container(
                padding=ft.Padding.only(left=12, right=12, top=4, bottom=96),
                content=ft.Column(spacing=10, horizontal_alignment=ft.CrossAxisAlignment.STRETCH,
                                  controls=[*problems, *controls]))]),
        ],
    )


def patch(old: ft.View, new: ft.View) -> bool:
    """Give a drawn screen the parts of its new drawing, keeping its scrolling list (and its position)."""
    if len(old.controls) != 2 or len(new.controls) != 2 or type(old.controls[1]) is not type(new.controls[1]):
        return False
    old.appbar, old.navigation_bar = new.appbar, new.navigation_bar
    old.floating_action_button = new.floating_action_button
    old.floating_action_button_location = new.floating_action_button_location
    old.rtl = new.rtl
    old.controls[0] = new.controls[0]
    old.data = new.data  # its badge
    before, after = old.controls[1], new.controls[1]
    if isinstance(before, ft.ListView) and isinstance(after, ft.ListView):
        before.rtl, before.controls = after.rtl, after.controls
    elif isinstance(before, ft.Column) and isinstance(after, ft.Column):
        shown, drawn = before.controls[0], after.controls[0]
        assert isinstance(shown, ft.Container) and isinstance(drawn, ft.Container)
        before.rtl, shown.content = after.rtl, drawn.content
    return True
