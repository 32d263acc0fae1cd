"""The app's look: its theme, light or dark (chosen, or the device's), and its language's direction."""

from __future__ import annotations

import flet as ft

from fieldapp.ui import views
from fieldapp.ui.state import AppState

ARABIC_FONT = views.FONT


def theme() -> ft.Theme:
    """The look, light or dark. Standard density: a computer's browser would make every button 8 px shorter
    (Flutter's compact density for desktops). Text follows the system's text scale (a browser's font size)."""
    return ft.Theme(color_scheme_seed=ft.Colors.ORANGE, font_family=ARABIC_FONT, visual_density=ft.VisualDensity.STANDARD)


def apply_look(page: ft.Page, state: AppState) -> None:
    chosen = state.settings.dark_chosen  # None: the device's own dark setting is followed
    page.theme_mode = ft.ThemeMode.SYSTEM if chosen is None else ft.ThemeMode.DARK if chosen else ft.ThemeMode.LIGHT
    # The app's locale sets Flutter's text direction (Arabic mirrors the whole screen, bars included)
    # and the words of Material's own controls.
    page.locale_configuration = locale_configuration(state.language)
    page.title = state.t("app.title")


def locale_configuration(language: str) -> ft.LocaleConfiguration:
    """Flutter's locale for a language: its text direction and Material's own words (the lock's too)."""
    return ft.LocaleConfiguration(supported_locales=[ft.Locale("ar"), ft.Locale("en")], current_locale=ft.Locale(language))
