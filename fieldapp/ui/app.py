"""The Flet app: opens the store, starts the background sync, draws the current screen.

    fieldapp ui --web --port 8550     # a web page on 127.0.0.1, everything served locally
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import flet as ft

from fieldapp.i18n import LANGUAGES, Translator, device_language
from fieldapp.store import RecordStore, handover, keystore
from fieldapp.sync.worker import SyncWorker
from fieldapp.ui import routing, views
from fieldapp.ui.look import ARABIC_FONT, apply_look, locale_configuration, theme
from fieldapp.ui.models.lock import AppLock
from fieldapp.ui.network import watch_network
from fieldapp.ui.routing import Screen
from fieldapp.ui.state import AppState
from fieldapp.ui.views.lock import lock_view

ASSETS = Path(__file__).resolve().parents[2] / "assets"


class Shell:
    """The app on one page: routes to screens, the view stack Back steps down, the badge kept current.

    Every screen has a route (AppState.route); the address bar holds it, so the
    browser's Back and Android's back (a view pop) return to the screen before.
    A screen drawn for a route is kept while nothing it shows has changed, so
    stepping back to a long list is not a redraw.
    """

    def __init__(self, page: ft.Page, state: AppState, worker: SyncWorker | None):
        self.page, self.state, self.worker = page, state, worker
        self.cache: dict[str, tuple[tuple, ft.View]] = {}
        self.shown_route: str | None = None
        self.serial = 0  # names a screen returned to anew (see render)
        self.counts = state.outbox.counts()
        self.restart: Callable[[], None] = lambda: None  # set by run(): the app again, on an empty store
        self.draws = 0  # how many times the screen was drawn: a marker says it (see drawn)

    # --- drawing ------------------------------------------------------------------------------

    def key(self) -> tuple:
        return (self.state.generation, self.state.language, self.state.dark)

    def build(self, route: str, *, top: bool) -> ft.View:
        return views.build(self.state, self, route, top=top)

    def render(self, *, arriving: bool = False, mark: bool = True) -> None:
        """Draw the current screen on top of the screens Back returns to.

        A screen drawn before is shown again as it was only on arriving at it (Back, a tab);
        after an action on it, it is drawn anew.
        """
        routes, key = self.state.stack(), self.key()
        stack: list[ft.View] = []
        for i, route in enumerate(routes):
            top = i == len(routes) - 1
            cached = self.cache.get(route)
            if cached is not None and cached[0] == key and (not top or (
                    arriving and route in routing.KEPT and not self.state.notice)):
                stack.append(cached[1])
                continue
            view = self.build(route, top=top)
            if route in routing.KEPT or route.startswith("/call/") and route.count("/") == 2:
                self.cache[route] = (key, view)
            stack.append(view)
        self.cache = {r: v for r, v in self.cache.items() if v[0] == key}
        before = list(self.page.views)
        if (not arriving and before and stack[-1] is not before[-1] and len(stack) == len(before)
                and routes[-1] == self.shown_route and views.patch(before[-1], stack[-1])):
            # The same screen after an action on it: its parts change in place, so a form or a list
            # keeps its scroll position (a tap half-way down does not jump to the top).
            if self.cache.get(routes[-1], (None, None))[1] is stack[-1]:
                self.cache[routes[-1]] = (key, before[-1])
            stack[-1] = before[-1]
        elif len(stack) < len(before) or (len(stack) == len(before) and stack[-1] is not before[-1]):
            # Stepping back: Flutter would play the top screen's exit and keep the one under it out of
            # reach until that ends (0.4 to 0.9 s here). Drawn anew under a new name, the screen
            # returned to arrives as a new page at once.
            self.serial += 1
            stack[-1] = self.build(routes[-1], top=True)
            stack[-1].route = f"{routes[-1]}#{self.serial}"
            if routes[-1] in self.cache:
                self.cache[routes[-1]] = (key, stack[-1])
            self.restore_scroll(stack[-1], routes[-1])
        for i, view in enumerate(stack):  # Flet diffs no isolated control's children: the screens under the top one
            object.__setattr__(view, "_isolated", i < len(stack) - 1)  # are hidden; a queue under a record is not walked
        self.page.views[:] = stack
        self.shown_route = routes[-1]
        if mark:
            self.mark()
        self.refresh_badges()
        self.page.update()

    def mark(self) -> None:
        """Say the screen is drawn (the marker `drawn` names), with the next page.update()."""
        self.draws += 1
        self.page.overlay[:] = [drawn(self.draws)]

    def restore_scroll(self, view: ft.View, route: str) -> None:
        """A long list drawn anew on the way back opens where it was left (home on Back), once it is sent."""
        offset = self.state.scrolled.get(route)
        lists = [c for c in view.controls if isinstance(c, ft.ListView)]
        if offset and lists:
            self.page.run_task(lists[0].scroll_to, offset=offset)

    def refresh_badges(self) -> None:
        """Each drawn screen's badge (a view keeps its badge's text in `data`) says the current state."""
        text = self.state.badge()
        for view in self.page.views:
            if isinstance(view.data, ft.Text):
                view.data.value = text

    # --- moving between screens ---------------------------------------------------------------------

    def go(self, route: str) -> None:
        """Open the screen a route names (a tap): drawn at once, and put in the address bar's history."""
        self.state.open_route(route)
        self.redraw(arriving=True)

    def redraw(self, *, arriving: bool = False) -> None:
        """Draw again after an action; an action that moved to another screen adds it to the history."""
        route = self.state.route()
        history = route != self.shown_route and self.page.route != route
        self.render(arriving=arriving, mark=not history)
        if history:
            self.page.run_task(self.put_in_history, route)

    async def put_in_history(self, route: str) -> None:
        # Marked drawn only once its route is in the history: a Back at once stepped back from the screen before.
        try:
            await self.page.push_route(route)
        finally:
            self.mark()
            self.page.update()

    def back(self) -> None:
        """The screen under this one (the title bar's Back, Android's back)."""
        routes = self.state.stack()
        self.go(routes[-2] if len(routes) > 1 else "/")

    def route_changed(self, e) -> None:
        """The browser's Back or Forward, or an address typed: show that route's screen.

        A form a save has left shows the screen under it instead (AppState.open_route): Back after
        saving a new call returns to the screen before the form, not to an empty form.
        """
        if e.route != self.shown_route:
            self.state.open_route(e.route, history=True)
            self.render(arriving=True)

    def restyle(self) -> None:
        apply_look(self.page, self.state)
        self.cache.clear()
        self.render()

    # --- what the app does for the screens ----------------------------------------------------------

    async def locate(self, _=None) -> None:
        try:
            from flet_geolocator import Geolocator, GeolocatorPermissionStatus

            geo = Geolocator()
            # Android asks the user only when asked to: without this the position is simply denied.
            status = await asyncio.wait_for(geo.get_permission_status(), timeout=10)
            if status is GeolocatorPermissionStatus.DENIED:
                await asyncio.wait_for(geo.request_permission(), timeout=60)
            position = await asyncio.wait_for(geo.get_current_position(), timeout=10)
            self.state.call.set_location(position.latitude, position.longitude, position.accuracy)
        except Exception:  # no permission, no fix, or not on this platform: say so, keep the form
            self.state.call.no_location()
        self.redraw()

    async def offer_file(self, path: Path) -> None:
        """Let the user take an export off the phone: the system's save dialog (a download in a browser)."""
        try:
            picker = ft.FilePicker()
            saved = await picker.save_file(dialog_title=self.state.t("queue.take_off", name=path.name),
                                           file_name=path.name, src_bytes=path.read_bytes())
        except Exception:  # no file picker here: nothing left the phone
            return
        finally:
            handover.handed_over(path)  # no plain export stays on the phone: the lead exports again if need be
        if saved:
            self.state.notice = self.state.t("queue.kept", path=saved)
            self.redraw()

    def show_status(self, _status=None) -> None:
        """The worker's news: the badge changes in place; a list's screen (the queue too: its fields live in its
        model, and a redraw patches in place) and a record's show new sync states."""
        self.refresh_badges()
        counts = self.state.outbox.counts()
        if counts != self.counts:
            self.counts = counts
            self.state.changed()
            if self.state.screen in (Screen.HOME, Screen.CALL, Screen.OUTBOX, Screen.QUEUE, Screen.RECORD):
                self.render()
                return
        self.page.update()


def drawn(draws: int) -> ft.Control:
    """A node of the accessibility tree that says how many times the screen was drawn (no label: a screen
    reader passes it by). The browser tests wait on it to know a tap was answered, not on a clock."""
    return ft.Semantics(identifier=f"drawn-{draws}", content=ft.Container(width=1, height=1))


async def device_locales(page: ft.Page) -> list[str]:
    """The platform's languages, best first (a browser's languages in web mode)."""
    try:
        info = await asyncio.wait_for(page.get_device_info(), timeout=5)
        return [locale.language_code for locale in (info.locales or [])] if info else []
    except Exception:
        return []


def build(page: ft.Page, state: AppState, worker: SyncWorker | None) -> Shell:
    """Draw the app on a page and keep it drawn as the state changes."""
    shell = Shell(page, state, worker)
    apply_look(page, state)
    page.on_route_change = shell.route_changed
    page.on_view_pop = lambda e: shell.back()

    def locale_changed(e) -> None:
        before = state.language
        state.use_device_locales([locale.language_code for locale in e.locales])
        if state.language != before:
            shell.restyle()

    page.on_locale_change = locale_changed

    def brightness_changed(_=None) -> None:
        dark = page.platform_brightness == ft.Brightness.DARK
        if dark != state.settings.device_dark:
            state.settings.use_device_dark(dark)
            if state.settings.dark_chosen is None:
                shell.restyle()

    state.settings.use_device_dark(page.platform_brightness == ft.Brightness.DARK)
    page.on_platform_brightness_change = brightness_changed
    if worker is not None:
        worker.subscribe(shell.show_status)
    state.open_route(page.route or "/")
    shell.render()
    return shell


def platform_keystore(page: ft.Page) -> keystore.Keystore | None:
    """The page's keystore: on a phone, Android Keystore or iOS Keychain, put in force for the process.

    A computer and the web mode have none (the settings say so). FIELDAPP_KEYSTORE=secure-storage
    uses flet-secure-storage in the web mode too, for this page alone (the browser's storage: not a
    phone's keystore), to try the real control in a browser.
    """
    phone = not page.web and page.platform in (ft.PagePlatform.ANDROID, ft.PagePlatform.IOS)
    if not phone and os.environ.get("FIELDAPP_KEYSTORE") != "secure-storage":
        return None
    held = keystore.FletKeystore(page)
    if phone:
        keystore.use(held)  # one page, one phone: every use of the PIN in this process goes through it
    return held


def run(data_dir: Path, *, web: bool, port: int | None = None, host: str = "127.0.0.1") -> None:
    opened: dict[str, Any] = {}  # the store and its worker: opened once, when the PIN (if any) is given
    started: list[bool] = []

    def open_store(*, again: bool = False) -> tuple[RecordStore, SyncWorker]:
        if again and "store" in opened:  # the duress PIN wiped the folder: an empty store, as new
            opened.pop("store").close(wiped=True)
        if "store" not in opened:
            opened["store"] = RecordStore.open(data_dir)
            opened["worker"] = SyncWorker(opened["store"], data_dir)
        return opened["store"], opened["worker"]

    async def main(page: ft.Page) -> None:
        page.fonts = {ARABIC_FONT: "fonts/NotoSansArabic-Regular.ttf"}
        page.theme, page.dark_theme = theme(), theme()
        locales = await device_locales(page)
        held = platform_keystore(page)
        lock = AppLock(data_dir, keystore=held)  # every page starts locked when a PIN is set: a reload asks again
        shown: dict[str, Any] = {}

        def locked_screen() -> None:
            state = shown.get("state")
            language = state.language if state else next((code for code in locales if code in LANGUAGES), device_language())
            view = lock_view(Translator(language), lock, on_open=unlocked)
            page.locale_configuration = locale_configuration(language)  # drawn before start(): right to left in Arabic
            page.views[:] = [*page.views, view] if state else [view]
            page.update()

        def unlocked() -> None:
            if lock.wiped or "shell" not in shown:
                start(again=lock.wiped)
                lock.wiped = False
            elif not lock.notice:
                shown["shell"].render()
            if lock.notice:  # said once, on the screen the lock opens onto
                shown["state"].notice, lock.notice = shown["state"].t(lock.notice), None
                shown["shell"].render()

        def lifecycle(e) -> None:
            name = str(e.state)
            if name.endswith(("HIDE", "PAUSE", "INACTIVE")):
                lock.went_away()
            elif name.endswith(("RESUME", "SHOW")):
                if lock.came_back():
                    locked_screen()  # the records are hidden; the sync goes on with the key in memory
                elif "worker" in opened:
                    opened["worker"].on_foreground()

        def start(*, again: bool = False) -> None:
            if again and "worker" in opened:
                opened["worker"].stop()
            store, worker = open_store(again=again)
            state = AppState(store, data_dir, worker=worker)
            state.keystore = held
            state.use_device_locales(locales)
            shown["state"], shown["shell"] = state, build(page, state, worker)
            shown["shell"].restart = lambda: start(again=True)  # after a wipe: an empty store, as new
            watch_network(worker)
            if not started or again:  # one worker for every open page
                started.append(True)
                page.run_task(worker.run)

        def reconnected(_e) -> None:
            if lock.reconnected():
                locked_screen()  # a reload of the web page: the records hide until the PIN is given

        page.on_app_lifecycle_state_change = lifecycle
        page.on_connect = reconnected
        if lock.locked:
            locked_screen()
        else:
            start()

    if web:
        from fieldapp.ui.web import serve

        serve(main, host=host, port=port or 8550, assets_dir=str(ASSETS))
        return
    ft.run(main, view=ft.AppView.FLET_APP, assets_dir=str(ASSETS), no_cdn=True)
