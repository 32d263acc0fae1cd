"""Translations: every string the app shows comes from assets/translations/<lang>.json.

Arabic (right to left) first, English second. The app starts in the device's
language and the volunteer can switch in settings.

A catalog value is a string, or, for a string that counts something, an object
of CLDR plural categories ("zero", "one", "two", "few", "many", "other"): the
form is chosen by the `n` parameter under the language's CLDR rule (Babel's
copy of CLDR). Arabic has all six; English "one" and "other". "other" must be
there; a category a language leaves out falls back to it.

Direction: a parameter formatted into a right-to-left string is wrapped in a
first-strong isolate (FSI ... PDI), so a number, time, coordinate, phone
number or Latin place name keeps its own order and does not reorder the words
around it; only Arabic words with no Latin letter among them (the line's own
direction) are left as they are. In a left-to-right string only a parameter
holding right-to-left letters is isolated (an Arabic place name in an English
line). `ltr()` wraps a
value that must read left to right whatever it holds (a coordinate pair, a
day such as 2026-11-25) in LRI ... PDI.
"""

from __future__ import annotations

import json
import locale
import os
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from typing import Any

from babel import Locale

LANGUAGES = ("ar", "en")
RTL = frozenset({"ar"})
FOLDER = Path(__file__).resolve().parents[1] / "assets" / "translations"
PLURAL_CATEGORIES = ("zero", "one", "two", "few", "many", "other")
COUNT = "n"  # the parameter a plural string is chosen by

# Unicode directional isolates (UAX #9): left-to-right, first-strong, and their end.
LRI, FSI, PDI = "\u2066", "\u2068", "\u2069"
_OPENERS = ("\u2066", "\u2067", "\u2068")

Entry = str | Mapping[str, str]


@cache
def _table(language: str) -> dict[str, Entry]:
    with open(FOLDER / f"{language}.json", encoding="utf-8") as f:
        return json.load(f)


@cache
def _plural_rule(language: str) -> Any:
    return Locale.parse(language).plural_form


def plural_category(language: str, count: Any) -> str:
    """The CLDR plural category of `count` in this language: 'one' for 1 in English, 'few' for 3 in Arabic.

    A count given as text ("200", read back from a server's message) is read as a number; one that is
    not a number takes "other"."""
    if isinstance(count, str):
        try:
            count = Decimal(count.strip())
        except InvalidOperation:
            return "other"
    if isinstance(count, bool) or not isinstance(count, int | float | Decimal):
        return "other"
    return str(_plural_rule(language)(abs(count)))


def device_language() -> str:
    """Arabic for an Arabic locale, English otherwise."""
    for name in ("FIELDAPP_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name)
        if value:
            return "ar" if value.lower().startswith("ar") else "en"
    current = locale.getlocale()[0] or ""
    return "ar" if current.lower().startswith("ar") else "en"


def has_rtl(text: str) -> bool:
    """True when the text holds a right-to-left letter (Arabic, Hebrew, Syriac, Thaana, N'Ko...)."""
    return any("\u0590" <= ch <= "\u08ff" or "\ufb1d" <= ch <= "\ufdff" or "\ufe70" <= ch <= "\ufeff" for ch in text)


def has_latin(text: str) -> bool:
    """True when the text holds a Latin letter outside an isolate (a Latin place name, a tag such as JBL-3)."""
    depth = 0
    for ch in text:
        depth += ch in _OPENERS
        depth -= ch == PDI
        if depth <= 0 and ("a" <= ch.lower() <= "z" or "\u00c0" <= ch <= "\u024f"):
            return True
    return False


def isolated(text: str) -> bool:
    """True when the whole text is one isolate: an opener at the start whose own PDI is the last character."""
    if len(text) < 2 or text[0] not in _OPENERS or text[-1] != PDI:
        return False
    depth = 0
    for index, ch in enumerate(text):
        depth += ch in _OPENERS
        depth -= ch == PDI
        if depth == 0:
            return index == len(text) - 1
    return False


class Translator:
    def __init__(self, language: str):
        self.language = language if language in LANGUAGES else "en"
        self._strings = _table(self.language)

    @property
    def rtl(self) -> bool:
        return self.language in RTL

    def isolate(self, value: Any) -> str:
        """The value as text, isolated where the line's direction could reorder it (see the module's docstring)."""
        text = str(value)
        if not text or isolated(text):
            return text
        # The line's own direction needs no isolate: Arabic words in an Arabic line, English in an English one.
        same_direction = has_rtl(text) and not has_latin(text) if self.rtl else not has_rtl(text)
        return text if same_direction else f"{FSI}{text}{PDI}"

    def ltr(self, value: Any) -> str:
        """A value that reads left to right whatever it holds (coordinates, a day, a path), isolated in an RTL line."""
        text = str(value)
        return f"{LRI}{text}{PDI}" if self.rtl and text and not isolated(text) else text

    def join(self, parts: Iterable[Any], sep: str = " · ") -> str:
        """Values joined on one line, each isolated (a place, a time, a count)."""
        return sep.join(self.isolate(p) for p in parts if p not in (None, ""))

    def list(self, parts: Iterable[Any]) -> str:
        """Values as a list in this language ('a, b' / 'a، b'), each isolated."""
        return self.join(parts, sep=self("list.sep"))

    def field(self, path: str) -> str:
        """A record's field path (base_version, data.location.lat, data.conditions.1) named in this language.

        The catalogs' `fieldname.<path>` table, tried from the whole path up to its first part; a path
        the table does not know is named under a translated lead-in, the path isolated."""
        parts = path.split(".")
        for end in range(len(parts), 0, -1):
            key = "fieldname." + ".".join(parts[:end])
            if key in self._strings:
                return self(key)
        return self("fieldname.unknown", path=self.ltr(path))

    def duration(self, seconds: int) -> str:
        """A wait in minutes and seconds, in this language."""
        minutes, seconds = divmod(int(seconds), 60)
        if not minutes:
            return self("time.s", n=seconds)
        return self("time.min_s", minutes=self("time.min", n=minutes), seconds=self("time.s", n=seconds))

    def entry(self, key: str) -> Entry | None:
        return self._strings.get(key) or _table("en").get(key)

    def __call__(self, key: str, **params: Any) -> str:
        entry = self._strings.get(key)
        language = self.language
        if not entry:
            entry, language = _table("en").get(key), "en"
        if not entry:
            return key
        if isinstance(entry, Mapping):
            category = plural_category(language, params[COUNT]) if COUNT in params else "other"
            entry = entry.get(category) or entry["other"]
        if not params:
            return entry
        return entry.format(**{name: self.isolate(value) for name, value in params.items()})
