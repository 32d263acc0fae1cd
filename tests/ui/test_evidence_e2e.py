"""The recovery's evidence through the screen, in a real headless Chromium at phone size, English and Arabic.

A volunteer records a deceased person with two conditions, an age, a handover
to the morgue with its receiver, and a body tag; the phone's export holds
them. A second recovery with the same tag is warned about before it is saved
and, once synced to a real server, refused there: the refusal is said beside
the tag field, in the page's language.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fieldapp.i18n import Translator
from tests.ui.driver import PHONE, ROOT, Phone, start_app, stop_app

WORDS = {
    "en": {"locale": "en-US", "age": "34", "receiver": "Dr. Samir Haddad", "place": "Jableh, Al-Fayd quarter",
           "seen": ["Bound (hands or feet)", "Gunshot wounds"], "morgue": "Morgue",
           "warning": "is already on another recovery on this phone", "refused": "is already used by another recovery of your team"},
    "ar": {"locale": "ar-SY", "age": "٣٤", "receiver": "د. سمير حداد", "place": "جبلة، حي الفيض",
           "seen": ["مقيَّد اليدين أو القدمين", "إصابات بطلق ناري"], "morgue": "البرّاد (ثلاجة الموتى)",
           "warning": "مسجَّل لانتشال آخر على هذا الهاتف", "refused": "مستخدَم لانتشال آخر في فريقك"},
}
TAG = "JBL-2026-0142"


def export_personal(data: Path) -> list[dict]:
    out = subprocess.run([sys.executable, "-m", "fieldapp", "export", "--include-personal", "--data", str(data)],
                         cwd=ROOT, capture_output=True, text=True, timeout=60, check=True).stdout
    return [json.loads(line) for line in out.splitlines()]


def _add_deceased(phone: Phone) -> None:
    phone.tap("add-recovery")
    phone.wait_for("save-recovery")
    assert phone.node("field-death_estimated_at").count() == 0 or not phone.node("field-death_estimated_at").is_visible()
    phone.tap("outcome-deceased")
    phone.wait_for("field-death_estimated_at")  # the estimated time of death: asked of a deceased person only


@pytest.mark.parametrize("language", ["en", "ar"])
def test_evidence_is_recorded_through_the_screen_and_a_repeated_tag_is_warned_then_refused(
        tmp_path, link, browser, language):
    words = WORDS[language]
    data = tmp_path / "device"
    link.device(data, direct=True).close()
    url, proc = start_app(data, {"FIELDAPP_LANG": language})
    phone = Phone(browser.new_page(viewport=PHONE, locale=words["locale"]))
    started = time.monotonic()
    try:
        phone.open(url)
        phone.tap("new-call")
        phone.tap("type-bodies_found")
        phone.type("field-place", words["place"])
        phone.tap("save-call")
        phone.wait_for("add-recovery")
        call_id = phone.page.url.rsplit("/", 1)[1]

        # the first: two conditions, an age, a handover to the morgue with its receiver, and a tag
        _add_deceased(phone)
        phone.tap("condition-bound")
        phone.tap("condition-gunshot_wounds")
        phone.type("field-age_years", words["age"])
        phone.type("field-tag", TAG)
        phone.tap("handover-morgue")
        phone.type("field-handover_receiver", words["receiver"])
        phone.tap("save-recovery")
        phone.wait_for("edit-call")  # back on the call's page
        [first] = [r for r in export_personal(data) if r["type"] == "recovery"]
        assert first["data"]["call_id"] == call_id and first["data"]["outcome"] == "deceased"
        assert first["data"]["conditions"] == ["bound", "gunshot_wounds"]
        assert first["data"]["age_years"] == 34 and first["data"]["tag"] == TAG
        assert first["data"]["handover"] == {"to": "morgue", "receiver": words["receiver"]}
        assert "handed_to" not in first["data"]

        # its page shows the evidence by label, in the page's language
        phone.tap(f"recovery-{first['id']}")
        phone.wait_for("recovery-evidence")
        text = phone.text()
        assert all(seen in text for seen in words["seen"]) and words["morgue"] in text and TAG in text, text
        phone.back()
        phone.wait_for("add-recovery")

        # the second, with the same tag: warned before saving, beside the tag; a second Save keeps it
        _add_deceased(phone)
        phone.type("field-tag", TAG)
        phone.tap("save-recovery")
        phone.wait_for_text(words["warning"])  # the phone's warning about the tag
        phone.shot(f"evidence-tag-warning-{language}")
        assert len([r for r in export_personal(data) if r["type"] == "recovery"]) == 1  # nothing saved yet
        phone.tap("save-recovery")
        phone.wait_for("edit-call")
        [second] = [r for r in export_personal(data) if r["type"] == "recovery" and r["id"] != first["id"]]
        assert second["data"]["tag"] == TAG

        # synced: the server keeps the first and refuses the second on data.tag
        phone.tap("sync-badge")
        phone.tap("send-now")
        phone.wait_for_text(Translator(language)("badge.refused", n=1))  # the badge: the server has answered
        assert (first["id"], 1) in link.stored_versions()
        assert (second["id"], 1) not in link.stored_versions()
        phone.visit(f"/recovery/{second['id']}")
        phone.wait_for("save-recovery")
        phone.wait_for_text(words["refused"])  # the server's refusal of the tag
        # beside the tag field: the field's own node says it
        tag_field = phone.node("field-tag")
        beside = tag_field.inner_text() + " " + (tag_field.locator("input").first.get_attribute("aria-label") or "") + " " + \
            " ".join(tag_field.locator("[aria-label]").evaluate_all("els => els.map(e => e.getAttribute('aria-label'))"))
        assert words["refused"] in beside, beside
        assert "is already used by record" not in phone.text()  # the server's own English words are not shown
        phone.shot(f"evidence-tag-refused-{language}")
        elapsed = time.monotonic() - started
        print(f"{language}: evidence recorded, warned, synced and refused in {elapsed:.1f} s")
        assert phone.outside == [], phone.outside
    finally:
        phone.page.close()
        stop_app(proc)
