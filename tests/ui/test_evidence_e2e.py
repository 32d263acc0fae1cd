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

from tests.sync.conftest import link  # noqa: F401  (fixture: a real server on loopback)
from tests.ui.test_e2e import PHONE, ROOT, Phone, browser, start_app, stop_app  # noqa: F401  (browser: fixture)

WORDS = {
    "en": {"locale": "en-US", "age": "34", "receiver": "Dr. Samir Haddad", "place": "Jableh, Al-Fayd quarter",
           "seen": ["Bound (hands or feet)", "Gunshot wounds"], "morgue": "Morgue",
           "warning": "is already on another recovery on this phone", "refused": "is already used by another recovery of your team"},
    "ar": {"locale": "ar-SY", "age": "٣٤", "receiver": "د. سمير حداد", "place": "جبلة، حي الفيض",
           "seen": ["مقيَّد اليدين أو القدمين", "إصابات بطلق ناري"], "morgue": "البرّاد (ثلاجة الموتى)",
           "warning": "مسجَّل لحالة أخرى على هذا الهاتف", "refused": "مستخدَم لحالة انتشال أخرى في فريقك"},
}
TAG = "JBL-2026-0142"


def export_personal(data: Path) -> list[dict]:
    out = subprocess.run([sys.executable, "-m", "fieldapp", "export", "--include-personal", "--data", str(data)],
                         cwd=ROOT, capture_output=True, text=True, timeout=60, check=True).stdout
    return [json.loads(line) for line in out.splitlines()]


def _until(check, phone: Phone, what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        phone.page.wait_for_timeout(200)
    raise AssertionError(f"not seen within {seconds} s: {what}")


def _type(phone: Phone, identifier: str, text: str) -> None:
    """Type into a field once the list has stopped scrolling (a click sent while it moves lands elsewhere)."""
    _still(phone, identifier)
    phone.type(identifier, text)


def _still(phone: Phone, identifier: str) -> None:
    """Scroll a node into view, then wait until it has not moved for half a second (a list may start scrolling late)."""
    phone.wait_for(identifier)
    phone.page.wait_for_timeout(300)
    node = phone.node(identifier)
    node.scroll_into_view_if_needed()
    boxes: list = []
    for _ in range(40):
        boxes = (boxes + [node.bounding_box()])[-5:]
        if len(boxes) == 5 and all(b == boxes[0] for b in boxes):
            return
        phone.page.wait_for_timeout(100)


def _tap(phone: Phone, identifier: str) -> None:
    _still(phone, identifier)
    phone.node(identifier).click()
    phone.page.wait_for_timeout(250)


def _add_deceased(phone: Phone) -> None:
    phone.tap("add-recovery")
    phone.wait_for("save-recovery")
    assert phone.node("field-death_estimated_at").count() == 0 or not phone.node("field-death_estimated_at").is_visible()
    phone.tap("outcome-deceased")
    phone.wait_for("field-death_estimated_at")  # the estimated time of death: asked of a deceased person only


@pytest.mark.parametrize("language", ["en", "ar"])
def test_evidence_is_recorded_through_the_screen_and_a_repeated_tag_is_warned_then_refused(
        tmp_path, link, browser, language):  # noqa: F811
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
        _tap(phone, "condition-bound")
        _tap(phone, "condition-gunshot_wounds")
        _type(phone, "field-age_years", words["age"])
        _type(phone, "field-tag", TAG)
        _tap(phone, "handover-morgue")
        _type(phone, "field-handover_receiver", words["receiver"])
        _tap(phone, "save-recovery")
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
        phone.page.go_back()
        phone.wait_for("add-recovery")

        # the second, with the same tag: warned before saving, beside the tag; a second Save keeps it
        _add_deceased(phone)
        _type(phone, "field-tag", TAG)
        _tap(phone, "save-recovery")
        _until(lambda: words["warning"] in phone.text(), phone, "the phone's warning about the tag")
        phone.shot(f"evidence-tag-warning-{language}")
        assert len([r for r in export_personal(data) if r["type"] == "recovery"]) == 1  # nothing saved yet
        _tap(phone, "save-recovery")
        phone.wait_for("edit-call")
        [second] = [r for r in export_personal(data) if r["type"] == "recovery" and r["id"] != first["id"]]
        assert second["data"]["tag"] == TAG

        # synced: the server keeps the first and refuses the second on data.tag
        phone.tap("sync-badge")
        phone.tap("send-now")
        _until(lambda: (first["id"], 1) in link.stored_versions(), phone, "the first recovery on the server")
        assert (second["id"], 1) not in link.stored_versions()
        phone.visit(f"/recovery/{second['id']}")
        phone.wait_for("save-recovery")
        _until(lambda: words["refused"] in phone.text(), phone, "the server's refusal of the tag", 15)
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
