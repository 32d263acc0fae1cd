"""Settings: language and night mode (each the device's, or chosen), callsign, the link to a server, the PIN's limit, Wipe."""

from __future__ import annotations

import asyncio

import flet as ft

from fieldapp.ui.models.settings import WIPE_AFTER_CHOICES
from fieldapp.ui.state import AppState
from fieldapp.ui.views.frame import frame
from fieldapp.ui.views.widgets import Navigator, big_button, confirmation, heading, notice, switch, tagged


def settings(state: AppState, ui: Navigator) -> ft.View:
    t, model = state.t, state.settings
    linked = model.enrolled_server()
    entry = {"server": linked or "", "token": ""}

    def language(value):
        def choose(_):
            model.set_language(value)
            ui.restyle()
        return choose

    def dark(e):
        model.set_dark(bool(e.control.value))
        ui.restyle()

    # "Follow the device" on: the device's setting again; off: what is shown now becomes the user's choice.
    def follow_language(e):
        model.set_language(None if e.control.value else model.language)
        ui.restyle()

    def follow_dark(e):
        model.set_dark(None if e.control.value else model.dark)
        ui.restyle()

    def callsign(e):
        model.set_callsign(e.control.value or "")

    def server(e):
        entry["server"] = e.control.value or ""

    def token(e):
        entry["token"] = e.control.value or ""

    def enroll(_):
        model.enroll(entry["server"], entry["token"])
        ui.redraw()

    def send_now(_):
        state.outbox.send_now()
        ui.redraw()

    def wipe_asked(_):
        model.wipe()  # only asks, however often tapped
        ui.redraw()

    async def wipe(_):
        # Off the page's loop: the keystore's entry is removed first, and its answer comes back through this loop.
        if await asyncio.to_thread(model.wipe, confirmed=True):
            ui.restart()
        else:
            ui.redraw()

    def wipe_after(e):
        model.set_wipe_after(int(e.control.value or 0) or None)
        ui.redraw()

    limit = model.wipe_after()
    pin_part = [tagged("wipe-after", ft.Dropdown(
        label=t("settings.wipe_after"), value=str(limit or 0), on_select=wipe_after,
        options=[ft.DropdownOption(key="0", text=t("settings.wipe_after_never"))]
        + [ft.DropdownOption(key=str(n), text=t("settings.wipe_after_n", n=n)) for n in WIPE_AFTER_CHOICES]))
    ] if model.has_pin() else []
    return frame(state, ui, "/settings", t("settings.title"), [
        *notice(state),
        heading(t("settings.language")),
        switch(t("settings.language_device"), model.follows_device_language, follow_language, identifier="lang-device"),
        ft.Row(wrap=True, controls=[
            big_button(t.isolate("العربية"), language("ar"), identifier="lang-ar", filled=False, selected=model.language == "ar",
                       primary=False),
            big_button(t.isolate("English"), language("en"), identifier="lang-en", filled=False, selected=model.language == "en",
                       primary=False),
        ]),
        switch(t("settings.dark"), model.dark, dark, identifier="dark"),
        switch(t("settings.dark_device"), model.follows_device_dark, follow_dark, identifier="dark-device"),
        tagged("field-callsign", ft.TextField(label=t("settings.callsign"), value=state.session.callsign, on_change=callsign,
                                              text_size=18)),
        *([ft.Text(t("settings.enrolled", server=linked), size=15)] if linked else []),
        tagged("field-server", ft.TextField(label=t("settings.server"), value=entry["server"], on_change=server,
                                            keyboard_type=ft.KeyboardType.URL, error=state.session.errors.get("server"), text_size=18)),
        tagged("field-token", ft.TextField(label=t("settings.token"), password=True, on_change=token, text_size=18)),
        big_button(t("settings.enroll"), enroll, identifier="enroll", icon=ft.Icons.LINK, filled=False, primary=False),
        big_button(t("settings.send_now"), send_now, identifier="send-now", icon=ft.Icons.SYNC),
        switch(t("settings.photos_wifi"), state.photos.originals_on_wifi(),
               lambda e: state.photos.set_originals_on_wifi(bool(e.control.value)), identifier="photos-wifi"),
        ft.Divider(),
        tagged("keystore", ft.Text(model.keystore_words(), size=15)),
        *pin_part,
        *(confirmation(state, ui, t("settings.wipe_sure_button"), wipe, identifier="wipe") if model.wipe_armed else
          [big_button(t("settings.wipe"), wipe_asked, identifier="wipe", icon=ft.Icons.DELETE_FOREVER, filled=False,
                      primary=False)]),
    ])
