"""The lock's screen: the PIN field, its answer, and Start again when the key is gone (fieldapp/ui/models/lock.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import flet as ft

from fieldapp.i18n import Translator
from fieldapp.ui.models.lock import AppLock
from fieldapp.ui.views.widgets import heading, reach, tagged


def lock_view(t: Translator, lock: AppLock, on_open: Callable[[], None]) -> ft.View:
    # Its own direction too: a View's rtl does not reach a field, whose label otherwise sat at its left in Arabic.
    pin = ft.TextField(label=t("lock.pin"), password=True, can_reveal_password=False, autofocus=True, rtl=t.rtl,
                       keyboard_type=ft.KeyboardType.NUMBER, text_align=ft.TextAlign.CENTER, width=260)
    error = ft.Text(lock.message(t), color=ft.Colors.ERROR)
    start_again = ft.Column(horizontal_alignment=ft.CrossAxisAlignment.CENTER, width=260)

    def draw_start_again() -> None:
        if lock.asking_start_again:
            start_again.controls = [
                ft.Text(t("lock.start_again_sure"), color=ft.Colors.ERROR, text_align=ft.TextAlign.CENTER),
                ft.Semantics(identifier="lock-start-again-confirm", content=ft.FilledButton(
                    t("lock.start_again_button"), on_click=start_again_tapped(True), width=260,
                    style=ft.ButtonStyle(bgcolor=ft.Colors.ERROR, color=ft.Colors.ON_ERROR, padding=reach(True)))),
            ]
        elif lock.key_gone:
            start_again.controls = [ft.Semantics(identifier="lock-start-again", content=ft.OutlinedButton(
                t("lock.start_again"), on_click=start_again_tapped(False), width=260,
                style=ft.ButtonStyle(padding=reach(True))))]
        else:
            start_again.controls = []

    def start_again_tapped(confirmed: bool):
        async def tapped(_=None) -> None:
            # Off the page's loop: the wipe asks the keystore, whose answer comes back through this loop.
            if await asyncio.to_thread(lock.start_again, confirmed=confirmed):
                on_open()
                return
            draw_start_again()
            start_again.update()
        return tapped

    async def submit(_=None) -> None:
        if button.disabled:
            return  # a try is running: a second tap or Enter waits for its answer, not in a queue of tries
        # The button only: a disabled field loses the focus, and the PIN was typed again only after a tap.
        button.disabled = True
        button.update()
        try:
            # Off the page's loop: scrypt takes a moment, and a keystore's answer comes back through this loop.
            opened = await asyncio.to_thread(lock.try_pin, pin.value or "")
        finally:
            button.disabled = False
        if opened:
            on_open()
        else:
            error.value = lock.message(t) or t("lock.wrong")
            pin.value = ""
            draw_start_again()
            error.update()
            pin.update()
            button.update()
            start_again.update()

    pin.on_submit = submit
    button = ft.FilledButton(t("lock.open"), on_click=submit, width=260, style=ft.ButtonStyle(padding=reach(True)))
    draw_start_again()
    return ft.View(
        route="/lock",
        vertical_alignment=ft.MainAxisAlignment.CENTER,
        horizontal_alignment=ft.CrossAxisAlignment.CENTER,
        rtl=t.rtl,
        controls=[
            ft.Icon(ft.Icons.LOCK_OUTLINE, size=48),
            heading(t("lock.title"), size=22),
            ft.Text(t("lock.hint"), text_align=ft.TextAlign.CENTER),
            ft.Semantics(identifier="lock-pin", content=pin),
            tagged("lock-error", error, live=True),  # a wrong PIN is announced, wherever the reader's focus is
            ft.Semantics(identifier="lock-open", content=button),
            start_again,
        ],
    )
