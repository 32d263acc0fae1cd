"""The Flet app: opens the store, starts the background sync, draws the current screen.

    fieldapp ui --web --port 8550     # a web page on 127.0.0.1, everything served locally
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import flet as ft

from fieldapp.store import RecordStore
from fieldapp.ui import views
from fieldapp.ui.lead import LeadDay
from fieldapp.ui.state import AppState
from fieldapp.sync.worker import SyncWorker

ASSETS = Path(__file__).resolve().parents[2] / "assets"
ARABIC_FONT = views.FONT


def build(page: ft.Page, state: AppState, worker: SyncWorker | None) -> None:
    """Draw the app on a page and keep it drawn as the state changes."""
    lead = LeadDay(state.store, state.data_dir)
    body = ft.Column(scroll=ft.ScrollMode.AUTO, expand=True, spacing=12)
    badge, badge_text = views.badge(state)
    shell = ft.SafeArea(expand=True, content=ft.Container(padding=ft.Padding.all(12), expand=True, content=ft.Column(
        expand=True, spacing=8, controls=[badge, body],
    )))

    def apply_look() -> None:
        page.theme_mode = ft.ThemeMode.DARK if state.dark else ft.ThemeMode.LIGHT
        shell.rtl = state.t.rtl
        page.title = state.t("app.title")

    async def locate(_=None) -> None:
        try:
            from flet_geolocator import Geolocator

            geo = Geolocator()
            position = await asyncio.wait_for(geo.get_current_position(), timeout=10)
            state.set_location(position.latitude, position.longitude, position.accuracy)
        except Exception:  # no permission, no fix, or not on this platform: say so, keep the form
            state.errors["location"] = state.t("call.location_unavailable")
        refresh()

    def refresh() -> None:
        screen = state.screen
        if screen == "new_call":
            controls = views.new_call(state, refresh, locate)
        elif screen == "call":
            controls = views.call(state, refresh)
        elif screen == "recovery":
            controls = views.recovery(state, refresh)
        elif screen == "settings":
            controls = views.settings(state, refresh, apply_look)
        elif screen == "queue":
            controls = views.queue(state, lead, refresh)
        elif screen == "conflict":
            controls = views.conflict(state, lead, refresh)
        elif screen == "figures":
            controls = views.figures(state, lead, refresh)
        else:
            controls = views.home(state, refresh)
        body.controls = [*controls, views.nav(state, refresh)]
        badge_text.value = state.badge()
        page.update()

    def show_status(_status) -> None:
        # Only the badge changes: redrawing the screen would steal a field's focus mid-word.
        badge_text.value = state.badge()
        page.update()

    apply_look()
    page.add(shell)
    if worker is not None:
        worker.subscribe(show_status)
    refresh()


def watch_network(worker: SyncWorker) -> None:
    """Tell the worker when the phone gets or loses a network (Flet's connectivity service)."""

    def changed(e) -> None:
        kinds = [k.value for k in e.connectivity]
        worker.on_network(bool(kinds) and kinds != ["none"])

    try:
        ft.Connectivity(on_change=changed)  # registers itself with the current page
    except Exception:  # not on this platform: the periodic pass still runs
        pass


def run(data_dir: Path, *, web: bool, port: int | None = None, host: str = "127.0.0.1") -> None:
    store = RecordStore.open(data_dir)
    worker = SyncWorker(store, data_dir)
    started = []

    async def main(page: ft.Page) -> None:
        page.fonts = {ARABIC_FONT: "fonts/NotoSansArabic-Regular.ttf"}
        page.theme = ft.Theme(color_scheme_seed=ft.Colors.ORANGE, font_family=ARABIC_FONT)
        page.dark_theme = ft.Theme(color_scheme_seed=ft.Colors.ORANGE, font_family=ARABIC_FONT)
        state = AppState(store, data_dir, worker=worker)
        build(page, state, worker)
        page.on_app_lifecycle_state_change = lambda e: worker.on_foreground() if str(e.state).endswith(("RESUME", "SHOW")) else None
        watch_network(worker)
        if not started:  # one worker for every open page
            started.append(True)
            page.run_task(worker.run)

    if web:
        from fieldapp.ui.web import serve

        serve(main, host=host, port=port or 8550, assets_dir=str(ASSETS))
        return
    ft.run(main, view=ft.AppView.FLET_APP, assets_dir=str(ASSETS), no_cdn=True)
