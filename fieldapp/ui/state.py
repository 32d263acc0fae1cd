"""The app's state: the screen models, composed, and the moves between screens. No Flet here.

Each screen has its model in fieldapp/ui/models/ (plain Python, tested without a client)
and its view in fieldapp/ui/views/. `AppState` makes one `Session` (the store, the words,
the clock, where the app is) that the models share, and moves between screens by route
(fieldapp/ui/routing.py). Saving never touches the network: it goes to the store, then
nudges the background worker.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from fieldapp.core.protocol import Role
from fieldapp.core.records import RecordType
from fieldapp.i18n import Translator
from fieldapp.store import RecordStore
from fieldapp.store.store import now_local
from fieldapp.ui import routing
from fieldapp.ui.lead import LeadDay
from fieldapp.ui.models.call import CallForm, CallModel
from fieldapp.ui.models.conflict import ConflictModel
from fieldapp.ui.models.figures import FiguresModel
from fieldapp.ui.models.home import HomeModel
from fieldapp.ui.models.outbox import OutboxModel
from fieldapp.ui.models.photos import PhotoShelf
from fieldapp.ui.models.queue import QueueModel
from fieldapp.ui.models.record import RecordModel
from fieldapp.ui.models.recovery import RecoveryForm, RecoveryModel
from fieldapp.ui.models.session import Session
from fieldapp.ui.models.settings import SettingsModel
from fieldapp.ui.routing import Place, Screen


class AppState:
    def __init__(self, store: RecordStore, data_dir: Path, *, worker=None, now: Callable[[], datetime] = now_local):
        self.session = s = Session(store, Path(data_dir), Translator("en"), worker=worker, now=now)
        self.lead = LeadDay(store, Path(data_dir))
        self.outbox = OutboxModel(s)
        self.settings = SettingsModel(s, self.outbox)  # sets the session's language and callsign
        self.home = HomeModel(s)
        self.call = CallModel(s)
        self.recovery = RecoveryModel(s)
        self.queue = QueueModel(s, self.lead)
        self.figures = FiguresModel(self.queue, self.lead)
        self.conflict = ConflictModel(s, self.lead)
        self.record = RecordModel(s)
        self.photos = PhotoShelf(s)  # photos as the screens read them (the forms' own are in their models)
        self.scrolled: dict[str, float] = {}  # a long list's scroll position by route: Back returns to it there

    # --- what every screen reads --------------------------------------------------------------

    @property
    def problems(self) -> list[str]:
        """The store's own problems (a damaged file), said on every screen in the current language."""
        return [p.message(self.t) for p in self.session.store.problems]

    @property
    def t(self) -> Translator:
        return self.session.t

    @t.setter
    def t(self, t: Translator) -> None:
        self.session.t = t

    @property
    def language(self) -> str:
        return self.settings.language

    @property
    def dark(self) -> bool:
        return self.settings.dark

    @property
    def notice(self) -> str | None:
        return self.session.notice

    @notice.setter
    def notice(self, text: str | None) -> None:
        self.session.notice = text

    @property
    def generation(self) -> int:
        """+1 on every change of the records: a drawn screen older than this is stale."""
        return self.session.generation

    def changed(self) -> None:
        """The records changed under the app (the worker's pass): drawn screens are stale."""
        self.session.generation += 1

    @property
    def keystore(self) -> Any:
        return self.settings.keystore

    @keystore.setter
    def keystore(self, held: Any) -> None:
        self.settings.keystore = held

    def badge(self) -> str:
        return self.outbox.badge()

    def shows_queue(self) -> bool:
        """The Day queue is a team lead's: hidden once the server has said this phone's token is a volunteer's."""
        return self.session.store.get_meta("role") != Role.VOLUNTEER

    def use_device_locales(self, codes: list[str]) -> None:
        self.settings.use_device_locales(codes)

    # Settings' PIN and Wipe, by the names the lock's tests use (tests/ui/test_lock.py).

    @property
    def wipe_armed(self) -> bool:
        return self.settings.wipe_armed

    def wipe(self, *, confirmed: bool = False) -> bool:
        return self.settings.wipe(confirmed=confirmed)

    def keystore_words(self) -> str:
        return self.settings.keystore_words()

    def wipe_after(self) -> int | None:
        return self.settings.wipe_after()

    def set_wipe_after(self, count: int | None) -> None:
        self.settings.set_wipe_after(count)

    # --- where the app is -----------------------------------------------------------------------

    @property
    def place(self) -> Place:
        return self.session.place

    @property
    def screen(self) -> Screen:
        return self.session.place.screen

    def route(self) -> str:
        return routing.route(self.session.place)

    def stack(self) -> list[str]:
        """The routes under the current screen, the current one last: what Back steps down through."""
        return routing.stack(self.session.place)

    def go(self, screen: Screen, call_id: str | None = None) -> None:
        """Show a screen afresh: a form opened this way is empty; what the screen left said goes."""
        self.session.go(Place(screen, call_id if call_id is not None else self.session.place.call_id))
        if screen is Screen.NEW_CALL:
            self.call.form = CallForm()
            self.call.photos.load()
        if screen is Screen.RECOVERY:
            self.recovery.form = RecoveryForm()
            self.recovery.photos.load()
        self.conflict.keep = set()

    def open_route(self, route: str, *, history: bool = False) -> None:
        """Show the screen a route names (the browser's Back, a link, a tab); an unknown one goes home.

        A form a save has left is stepped over when the browser's history (`history`) comes back to
        it: its screen under it is shown, not an empty form. Opened afresh (a tap), it is a form again.
        """
        route = self.session.history.resolve(route, history=history)
        if route == self.route():
            return
        self._arrive(routing.parse(route))

    def _arrive(self, wanted: Place | None) -> None:
        """Open a place a route named, if its record is here (and, for a form, this phone's own)."""
        if wanted is None:
            return self.go(Screen.HOME)
        store, screen = self.session.store, wanted.screen
        if screen is Screen.RECOVERY and wanted.recovery_id:
            record = store.get(wanted.recovery_id)
            if record is None or record.type != RecordType.RECOVERY:
                return self.go(Screen.HOME)
            return self.recovery.open(record.id)
        if wanted.call_id is None:
            return self.go(screen)
        record = store.get(wanted.call_id)
        if record is None or (screen not in (Screen.CONFLICT, Screen.RECORD) and record.type != RecordType.CALL):
            return self.go(Screen.HOME)
        if screen is Screen.NEW_CALL and record.mine:
            return self.call.open_edit(record.id)
        if screen in (Screen.NEW_CALL, Screen.RECOVERY) and not record.mine:
            screen = Screen.CALL  # another device's call: read here, not corrected
        self.go(screen, record.id)
