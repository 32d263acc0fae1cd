"""The field's words (docs/glossary.md, assets/translations/glossary.json) in the catalogs.

One Arabic word per concept: every key the glossary lists for a concept uses the concept's
word, and no Arabic string uses a word the glossary rules out. Words are compared with the
Arabic vowel marks removed, so معلَّم and معلم are the same word.
"""

from __future__ import annotations

import json
import re

import pytest

from fieldapp.i18n import FOLDER

GLOSSARY = json.loads((FOLDER / "glossary.json").read_text(encoding="utf-8"))
CONCEPTS = GLOSSARY["concepts"]
MARKS = re.compile("[\u064b-\u0652\u0670\u0640]")  # harakat, tanween, shadda, sukun, dagger alef, tatweel
HAMZA = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا"})


def _catalog(language: str) -> dict:
    return json.loads((FOLDER / f"{language}.json").read_text(encoding="utf-8"))


def _texts(value) -> list[str]:
    return list(value.values()) if isinstance(value, dict) else [value]


def _plain(text: str) -> str:
    """Arabic without vowel marks, and alef with or without hamza as one letter (how the words are compared)."""
    return MARKS.sub("", text).translate(HAMZA)


AR, EN = _catalog("ar"), _catalog("en")


@pytest.mark.parametrize("concept", CONCEPTS, ids=[c["concept"] for c in CONCEPTS])
def test_each_concept_has_its_word_in_every_string_that_names_it(concept):
    forms = [_plain(f) for f in concept["ar_forms"]]
    missing = {key: AR[key] for key in concept["keys"]
               if not all(any(f in _plain(text) for f in forms) for text in _texts(AR[key]))
               and not _plural_form_without_noun(AR[key], forms)}
    assert missing == {}, f"{concept['concept']}: these strings do not use {concept['ar']}"
    english = {key: EN[key] for key in concept["keys"]
               if not any(f.lower() in text.lower() for f in concept["en_forms"] for text in _texts(EN[key]))}
    assert english == {}, f"{concept['concept']}: these English strings do not use {concept['en_forms']}"


def _plural_form_without_noun(value, forms) -> bool:
    # A plural object names the concept in its forms with a noun; "zero" may say "nothing" without it.
    if not isinstance(value, dict):
        return False
    return all(any(f in _plain(text) for f in forms) for category, text in value.items() if category != "zero")


def test_no_arabic_string_uses_a_word_the_glossary_rules_out():
    found = []
    for concept in CONCEPTS:
        for ruled_out in concept["not"]:
            word = _plain(ruled_out["word"])
            found += [(ruled_out["word"], key) for key, value in AR.items()
                      if any(word in _plain(text) for text in _texts(value))]
    assert found == []


def test_a_concepts_word_is_not_another_concepts():
    """The words that name one thing only: رمز the device token, حالة a call's status."""
    only = {"رمز": "token", "حالة": "status"}
    keys_of = {c["concept"]: set(c["keys"]) for c in CONCEPTS}
    allowed_beside = {"حالة": {"confirm.cancel_call"}}  # "put the call in the status «cancelled»"
    stray = {(word, key) for word, concept in only.items() for key, value in AR.items()
             if any(word in _plain(text) for text in _texts(value))
             and key not in keys_of[concept] | allowed_beside.get(word, set())}
    assert stray == set()


def test_the_glossary_doc_lists_every_concept():
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[1] / "docs" / "glossary.md").read_text(encoding="utf-8")
    assert all(c["ar"] in doc and c["en"] in doc for c in CONCEPTS)
    assert all(n["word"] in doc for c in CONCEPTS for n in c["not"])


def test_every_key_the_glossary_names_is_in_both_catalogs():
    keys = {k for c in CONCEPTS for k in c["keys"]}
    assert keys - set(AR) == set() and keys - set(EN) == set()
