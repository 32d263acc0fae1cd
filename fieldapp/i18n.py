"""Translations: every string the app shows comes from assets/translations/<lang>.json.

Arabic (right to left) first, English second. The app starts in the device's
language and the volunteer can switch in settings.
"""

from __future__ import annotations

import json
import locale
import os
from functools import cache
from pathlib import Path

LANGUAGES = ("ar", "en")
RTL = frozenset({"ar"})
FOLDER = Path(__file__).resolve().parents[1] / "assets" / "translations"


@cache
def _table(language: str) -> dict[str, str]:
    with open(FOLDER / f"{language}.json", encoding="utf-8") as f:
        return json.load(f)


def device_language() -> str:
    """Arabic for an Arabic locale, English otherwise."""
    for name in ("FIELDAPP_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name)
        if value:
            return "ar" if value.lower().startswith("ar") else "en"
    current = locale.getlocale()[0] or ""
    return "ar" if current.lower().startswith("ar") else "en"


class Translator:
    def __init__(self, language: str):
        self.language = language if language in LANGUAGES else "en"
        self._strings = _table(self.language)

    @property
    def rtl(self) -> bool:
        return self.language in RTL

    def duration(self, seconds: int) -> str:
        """A wait in minutes and seconds, in this language."""
        minutes, seconds = divmod(int(seconds), 60)
        return self("time.min_s", m=minutes, s=seconds) if minutes else self("time.s", s=seconds)

    def __call__(self, key: str, **params) -> str:
        text = self._strings.get(key) or _table("en").get(key) or key
        return text.format(**params) if params else text
