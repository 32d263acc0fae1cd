"""The Translator: CLDR plural forms, directional isolates, and no English inside the Arabic app."""

from __future__ import annotations

import glob
import json
import re
import shutil
import string
import subprocess
import sys
import tomllib
import unicodedata
from pathlib import Path

import pytest

from fieldapp.i18n import FOLDER, FSI, LRI, PDI, Translator, plural_category

ROOT = Path(__file__).resolve().parents[1]
AR_TABLE = json.loads((FOLDER / "ar.json").read_text(encoding="utf-8"))
EN_TABLE = json.loads((FOLDER / "en.json").read_text(encoding="utf-8"))
GLOSSARY = json.loads((FOLDER / "glossary.json").read_text(encoding="utf-8"))
ar, en = Translator("ar"), Translator("en")

# Every string that counts something with a noun ("3 calls", "٣ بلاغات"): an object of plural forms in Arabic.
COUNTED = ("queue.approved_n", "queue.map_left_out", "home.more", "send.not_linked", "send.started", "error.too_long",
           "error.too_short", "error.too_many", "pin.short", "time.s", "time.min")
COUNTS = (0, 1, 2, 3, 11, 100)
# CLDR: Arabic zero 0, one 1, two 2, few 3-10, many 11-99, other 100-102; English one 1, other the rest.
AR_CATEGORY = {0: "zero", 1: "one", 2: "two", 3: "few", 11: "many", 100: "other"}
EN_CATEGORY = {0: "other", 1: "one", 2: "other", 3: "other", 11: "other", 100: "other"}


def _params(text: str) -> list[str]:
    return [name for _, name, _, _ in string.Formatter().parse(text) if name]


def _texts(value) -> list[str]:
    return list(value.values()) if isinstance(value, dict) else [value]


def _outside_isolates_and_placeholders(text: str) -> str:
    """The text a reader sees written into the catalog itself: isolates and {placeholders} taken out."""
    text = re.sub(r"\{[a-z_]+\}", "", text)
    while True:
        stripped = re.sub("[\u2066\u2067\u2068][^\u2066\u2067\u2068\u2069]*\u2069", "", text)
        if stripped == text:
            return text
        text = stripped


def _sample(name: str, count: int) -> object:
    return count if name == "n" else "12:34"


# --- plurals -------------------------------------------------------------------------------------


def test_the_plural_rules_are_cldrs():
    assert [plural_category("ar", n) for n in (0, 1, 2, 3, 10, 11, 99, 100, 101, 102, 103, 111, 200)] == \
        ["zero", "one", "two", "few", "few", "many", "many", "other", "other", "other", "few", "many", "other"]
    assert [plural_category("en", n) for n in (0, 1, 2, 11, 100)] == ["other", "one", "other", "other", "other"]
    assert plural_category("ar", "200") == "other" and plural_category("en", "1") == "one"
    assert plural_category("ar", "not a number") == "other"


def test_every_counted_string_has_its_languages_forms():
    for key in COUNTED:
        assert set(AR_TABLE[key]) == {"zero", "one", "two", "few", "many", "other"}, key
        english = EN_TABLE[key]
        assert isinstance(english, dict) and set(english) == {"one", "other"}, key


@pytest.mark.parametrize("key", COUNTED)
@pytest.mark.parametrize("count", COUNTS)
def test_a_counted_string_takes_the_form_of_its_count(key, count):
    for t, table, category in ((ar, AR_TABLE, AR_CATEGORY[count]), (en, EN_TABLE, EN_CATEGORY[count])):
        form = table[key][category]
        params = {name: _sample(name, count) for name in set(_params(form)) | {"n"}}
        assert t(key, **params) == form.format(**{k: t.isolate(v) for k, v in params.items()}), (t.language, key, count)


def test_counts_read_right_in_both_languages():
    assert [en("home.more", n=n, m=40) for n in (1, 2)] == ["Show 1 more call (of 40)", "Show 2 more calls (of 40)"]
    assert [en("queue.map_left_out", n=n) for n in (1, 3)] == [
        "1 call has no coordinates and is not on the map", "3 calls have no coordinates and are not on the map"]
    assert [ar("home.more", n=n, m=40).split(" (")[0] for n in (1, 2, 3, 11, 100)] == [
        "عرض بلاغ آخر", "عرض بلاغين آخرين", f"عرض {FSI}3{PDI} بلاغات أخرى", f"عرض {FSI}11{PDI} بلاغًا آخر",
        f"عرض {FSI}100{PDI} بلاغ آخر"]
    assert ar("error.too_long", n="200") == f"يجب ألّا يزيد عن {FSI}200{PDI} حرف"  # not حرفًا: 200 takes "other"
    assert ar.duration(125) == f"دقيقتين و{FSI}5{PDI} ثوانٍ" and en.duration(61) == "1 min 1 s"


def test_no_english_string_says_1_with_a_plural_noun():
    wrong = {}
    for key, value in EN_TABLE.items():
        for text in _texts(value):
            if "n" in _params(text):
                said = en(key, **{name: 1 if name == "n" else 5 for name in _params(text)})
                if re.search(r"\b1 (calls|records|characters|entries|digits|more calls|people)\b", said):
                    wrong[key] = said
    assert wrong == {}


# --- direction -----------------------------------------------------------------------------------

ALL_PARAMETERISED = sorted(k for k, v in AR_TABLE.items() if any(_params(t) for t in _texts(v)))


@pytest.mark.parametrize("key", ALL_PARAMETERISED)
def test_every_value_formatted_into_an_arabic_string_is_isolated(key):
    """Numbers, times, dates, coordinates, phone numbers, tags, Latin names: each inside FSI ... PDI."""
    samples = ("14:05", "36.6340, 35.9312", "+963 933 111 222", "2026-11-25", "JBL-3", "Aleppo")
    for category in (AR_TABLE[key] if isinstance(AR_TABLE[key], dict) else {"other": AR_TABLE[key]}):
        count = {"zero": 0, "one": 1, "two": 2, "few": 3, "many": 11, "other": 100}[category]
        form = AR_TABLE[key] if isinstance(AR_TABLE[key], str) else AR_TABLE[key][category]
        for sample in samples:
            params = {name: (count if name == "n" else sample) for name in _params(form)}
            said = ar(key, **({"n": count} if isinstance(AR_TABLE[key], dict) else {}) | params)
            for name, value in params.items():
                assert f"{FSI}{value}{PDI}" in said, (key, category, name, said)


def test_an_arabic_place_name_is_isolated_in_an_english_line_and_left_alone_in_an_arabic_one():
    assert en.isolate("حلب") == f"{FSI}حلب{PDI}" and en.isolate("Aleppo") == "Aleppo"
    assert ar.isolate("حلب") == "حلب" and ar.isolate("Aleppo") == f"{FSI}Aleppo{PDI}" and ar.isolate(7) == f"{FSI}7{PDI}"
    assert ar.isolate("حلب Aleppo") == f"{FSI}حلب Aleppo{PDI}"  # mixed: its own first strong letter decides
    assert ar.ltr("36.6340, 35.9312") == f"{LRI}36.6340, 35.9312{PDI}" and en.ltr("36.6340, 35.9312") == "36.6340, 35.9312"
    assert ar.join(["حريق", "36.6340, 35.9312", "14:05"]) == f"حريق · {FSI}36.6340, 35.9312{PDI} · {FSI}14:05{PDI}"
    assert ar.list(["حروق", "كسور"]) == "حروق، كسور"
    assert ar.isolate(ar.isolate("14:05")) == f"{FSI}14:05{PDI}"  # never twice


def test_numbers_and_latin_written_in_the_arabic_catalog_sit_in_isolates():
    loose = {}
    for key, value in AR_TABLE.items():
        for text in _texts(value):
            seen = _outside_isolates_and_placeholders(text)
            if re.search(r"[0-9A-Za-z]", seen):
                loose[key] = text
    assert loose == {}


def test_arabic_strings_use_arabic_punctuation():
    latin = {key: text for key, value in AR_TABLE.items() for text in _texts(value)
             if re.search(r", |[?;]", _outside_isolates_and_placeholders(text))}
    assert latin == {}


# --- no English inside the Arabic app ------------------------------------------------------------


def test_no_latin_letters_in_arabic_strings_but_the_agreed_ones_each_isolated():
    allowed = set(GLOSSARY["latin_in_arabic"]["allowed"])
    runs = set()
    for value in AR_TABLE.values():
        for text in _texts(value):
            runs |= set(re.findall("\u2066([^\u2069]*[A-Za-z][^\u2069]*)\u2069", text))
            assert not re.search("[A-Za-z]", _outside_isolates_and_placeholders(text)), text
    assert runs <= allowed, runs - allowed


def test_a_record_field_is_named_in_the_users_language():
    from fieldapp.ui import messages

    for path in ("base_version", "version", "id", "device_id", "created_at", "updated_at", "type", "withheld",
                 "data.something_new", "review.note", "data.conditions.2"):
        named = messages.label(path, ar)
        assert not re.search("[A-Za-z]", named), (path, named)
    assert messages.label("base_version", en) == "Version the change was made on"
    assert ar.field("schema_of_tomorrow") == f"حقل باسم {LRI}schema_of_tomorrow{PDI}"  # unknown: under a lead-in
    assert ar.field("withheld") == "الحقول المحجوبة عن هذا الهاتف"
    assert en("field.withheld").startswith("Withheld from this phone")  # the form's own note, a key of its own


def test_a_reason_the_app_does_not_know_is_shown_under_a_translated_lead_in_isolated():
    from fieldapp.ui import messages

    said = messages.describe("base_version", "must equal the stored version", ar)
    assert said == f"النسخة التي بُني عليها التعديل: سبب غير مترجم: {FSI}must equal the stored version{PDI}"
    assert messages.describe("base_version", "must equal the stored version", en) == \
        "Version the change was made on: must equal the stored version"


def test_the_damaged_file_message_is_in_the_users_language():
    from fieldapp.store.problems import StoreProblem

    lost = StoreProblem(Path("/d/2026-11-25.json"), Path("/d/damaged/2026-11-25.json.20261125T140500"),
                        "is not valid JSON (truncated or garbage)", None)
    restored = StoreProblem(Path("/d/meta.json"), Path("/d/damaged/meta.json.1"),
                            "fails its authentication (damaged, or not this store's)", Path("/d/meta.json.bak"))
    for problem in (lost, restored):
        said = problem.message(ar)
        assert not re.search("[A-Za-z0-9]", _outside_isolates_and_placeholders(said)), said
        assert f"{LRI}{problem.path.name}{PDI}" in said
    assert "تالف" in lost.message(ar) and "لم تُوجد نسخة سليمة" in lost.message(ar)
    assert "لا يجتاز فحص سلامته" in restored.message(ar) and f"{LRI}meta.json.bak{PDI}" in restored.message(ar)
    assert lost.message(en).startswith("The file 2026-11-25.json is damaged (cut short or garbled).")
    assert "moved aside to /d/damaged/" in lost.describe()  # the log and the command line keep the whole path


# --- the phone's Babel ----------------------------------------------------------------------------


def test_the_apks_cleanup_keeps_exactly_the_cldr_data_the_app_reads(tmp_path):
    """[tool.flet.cleanup].package_files applied to the installed Babel, as serious_python does (globs relative
    to site-packages, `*` within one folder): root, ar and en stay, and both plural rules load from what is left."""
    import babel

    with open(ROOT / "pyproject.toml", "rb") as f:
        patterns = tomllib.load(f)["tool"]["flet"]["cleanup"]["package_files"]
    site = tmp_path / "site-packages"
    shutil.copytree(Path(babel.__file__).parent, site / "babel", ignore=shutil.ignore_patterns("__pycache__"))
    for pattern in patterns:
        for hit in glob.glob(pattern, root_dir=site):
            path = site / hit
            shutil.rmtree(path) if path.is_dir() else path.unlink()
    left = sorted(p.name for p in (site / "babel" / "locale-data").iterdir())
    assert left == ["LICENSE.unicode", "ar.dat", "en.dat", "root.dat"]
    script = ("import babel, json; from babel import Locale\n"
              "print(json.dumps([babel.__file__, [str(Locale.parse(l).plural_form(n)) for l in ('ar', 'en')"
              " for n in (0, 1, 2, 3, 11, 100)]]))")
    done = subprocess.run([sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(site)!r})\n{script}"],
                          capture_output=True, text=True, timeout=60, check=True)
    where, categories = json.loads(done.stdout)
    assert where.startswith(str(site))
    assert categories == ["zero", "one", "two", "few", "many", "other", "other", "one", "other", "other", "other", "other"]


# --- glyphs --------------------------------------------------------------------------------------

# The fonts the web client draws with offline: the app's Arabic font, and the Roboto flet-web carries.
# A character in neither is drawn as an empty box (a change line once read "(empty) □ Deceased").
FONTS = (ROOT / "assets" / "fonts" / "NotoSansArabic-Regular.ttf",
         Path(__import__("flet_web").__file__).parent / "web" / "assets" / "fonts" / "roboto.woff2")


def _drawn(font, text: str) -> tuple:
    from PIL import Image

    mask = font.getmask(text)
    return mask.size, Image.Image()._new(mask).tobytes()


def test_every_character_of_both_catalogs_has_a_glyph_in_the_apps_fonts():
    from PIL import ImageFont

    fonts = [ImageFont.truetype(str(path), 40) for path in FONTS]
    no_glyph = [_drawn(font, "\U0010fffd") for font in fonts]  # a private-use character: the font's empty box
    used = {ch for table in (EN_TABLE, AR_TABLE) for value in table.values() for text in _texts(value) for ch in text}
    boxed = sorted(f"{ch!r} U+{ord(ch):04X}" for ch in used
                   if not ch.isspace() and unicodedata.category(ch) != "Cf"  # isolates: not drawn
                   and all(_drawn(font, ch) == box for font, box in zip(fonts, no_glyph, strict=True)))
    assert not boxed, f"drawn as an empty box: {boxed}"
