"""Settings: language, callsign, night mode, the link to a server (enrollment), the PIN's limit, Wipe."""

from __future__ import annotations

from typing import Any

from fieldapp.i18n import Translator, device_language
from fieldapp.store import protect
from fieldapp.sync import enrollment
from fieldapp.sync.errors import SyncError
from fieldapp.ui.messages import enroll_problem
from fieldapp.ui.models.outbox import OutboxModel, linked_server
from fieldapp.ui.models.session import Ask, Session

SETTINGS = "settings"  # the store's meta key
WIPE_AFTER_CHOICES = (5, 10, 20)  # wrong PINs in a row before a wipe, for a team that chooses one


class SettingsModel:
    def __init__(self, session: Session, outbox: OutboxModel):
        self.s, self.outbox = session, outbox
        saved = session.store.get_meta(SETTINGS, {}) or {}
        # Language and theme are separate choices, each following the device until the user makes it.
        self.language_chosen = bool(saved.get("language"))  # the volunteer's own choice beats the device's
        self.language: str = saved.get("language") or device_language()
        theme = saved.get("theme") or ("dark" if saved.get("dark") is True else None)  # "dark": before themes
        self.dark_chosen: bool | None = None if theme is None else theme == "dark"  # None: the device's
        self.device_dark = False  # the device's own dark setting, as the app last heard it
        self.device_locales: list[str] = []  # the device's languages, best first, as the app last heard them
        session.callsign = saved.get("callsign", "")
        session.t = Translator(self.language)
        self.keystore: Any = None  # this page's keystore (fieldapp.store.keystore), if the platform has one

    @property
    def dark(self) -> bool:
        """Night mode as shown: the user's choice, else the device's."""
        return self.device_dark if self.dark_chosen is None else self.dark_chosen

    def _save(self) -> None:
        # Only what the user chose is kept: a value that follows the device is left out.
        theme = None if self.dark_chosen is None else ("dark" if self.dark_chosen else "light")
        self.s.store.set_meta(SETTINGS, {"language": self.language if self.language_chosen else None,
                                         "callsign": self.s.callsign, "theme": theme})

    @property
    def follows_device_language(self) -> bool:
        return not self.language_chosen

    @property
    def follows_device_dark(self) -> bool:
        return self.dark_chosen is None

    def device_language(self) -> str:
        """The device's language as the app last heard it (a browser's first language in web mode)."""
        if not self.device_locales:
            return device_language()
        return "ar" if (self.device_locales[0] or "").lower().startswith("ar") else "en"

    def use_device_locales(self, codes: list[str]) -> None:
        """The platform's locales, best first: Arabic for an Arabic one, unless the volunteer chose."""
        if codes:
            self.device_locales = list(codes)  # kept: "Follow the device" goes back to them
        if self.language_chosen or not codes:
            return
        language = self.device_language()
        if language != self.language:
            self.language = language
            self.s.t = Translator(language)

    def use_device_dark(self, dark: bool) -> None:
        """The device's dark setting (the platform's brightness): followed unless the user chose."""
        self.device_dark = bool(dark)

    def set_language(self, language: str | None) -> None:
        """The user's language; None follows the device again."""
        self.language_chosen = language is not None
        self.language = language or self.device_language()
        self.s.t = Translator(self.language)
        self._save()

    def set_callsign(self, callsign: str) -> None:
        self.s.callsign = callsign.strip()[:40]
        self._save()

    def set_dark(self, dark: bool | None) -> None:
        """Night mode on or off; None follows the device again."""
        self.dark_chosen = dark
        self._save()

    # --- the PIN's limit, the keystore, Wipe ---------------------------------------------------------

    def has_pin(self) -> bool:
        return protect.has_pin(self.s.data_dir)

    def keystore_words(self) -> str:
        """Whether this platform keeps the data key's second half outside the data folder, said plainly."""
        held = self.keystore is not None or protect.has_keystore()
        return self.s.t("settings.keystore_yes" if held else "settings.keystore_no")

    def wipe_after(self) -> int | None:
        """The team's limit of wrong PINs before a wipe; None when there is no PIN or no limit."""
        return protect.wipe_after(self.s.data_dir)

    def set_wipe_after(self, count: int | None) -> None:
        protect.set_wipe_after(self.s.data_dir, count)  # the store is unlocked: its key is in memory

    @property
    def wipe_armed(self) -> bool:
        """Wipe was tapped once: a second tap removes everything."""
        return self.s.asking(Ask.WIPE)

    def wipe(self, *, confirmed: bool = False) -> bool:
        """Remove every record and key from this phone: Wipe asks, saying how many records go; the question's button wipes.

        Only that button confirms (`confirmed`): a second tap on Wipe itself (a double tap) asks again.
        Returns True once wiped; the app then starts again on an empty store.
        """
        s = self.s
        if not (confirmed and self.wipe_armed):
            counts = s.store.counts()
            s.ask(Ask.WIPE, s.t("confirm.wipe", n=counts["total"], unsent=counts["total"] - counts["sent"]))
            return False
        if s.worker is not None:
            s.worker.stop()
        s.store.close()
        protect.wipe(s.data_dir, self.keystore)  # the keystore's entry first
        s.confirming = None
        return True

    # --- the link to a server ----------------------------------------------------------------------

    def enrolled_server(self) -> str | None:
        return linked_server(self.s.data_dir)

    def enroll(self, server_url: str, token: str) -> bool:
        """Link this phone; the token is checked with the server, then kept, never shown."""
        try:
            linked = enrollment.enroll(self.s.data_dir, server_url, token)
        except SyncError as exc:  # told apart by its class (messages.ENROLL_PROBLEMS)
            self.s.errors = {"server": enroll_problem(exc, self.s.t)}
            return False
        self.s.errors = {}
        self.s.notice = self.s.t("settings.enrolled", server=linked.server_url)
        self.outbox.send_now()
        return True
