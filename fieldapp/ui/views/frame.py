"""A screen's frame: the title bar (with Back on a sub-screen), the sync badge fixed under it, the screen's own
list (which scrolls, and starts at its top), a form's fixed Save bar and the bottom navigation bar; a drawn
screen given its new drawing in place (`patch`); and where a long list was left.
"""

from __future__ import annotations

import flet as ft

from fieldapp.ui import routing
from fieldapp.ui.state import AppState
from fieldapp.ui.views.adopt import adopt, adopt_all
from fieldapp.ui.views.widgets import EDGE, EDGE_WIDTH, PRIMARY, Navigator, icon_button, tagged


def frame(state: AppState, ui: Navigator, route: str, title: str, controls: list[ft.Control], *,
          back: bool = False, fab: bool = False, lazy: bool = False, footer: ft.Control | None = None) -> ft.View:
    """One screen: title bar, the fixed badge, its own scrolling list, the bottom navigation.

    A long list (`lazy`: home's calls, the outbox) is built as it scrolls and its offset kept; any other
    screen (a form, the queue) is built whole.
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
