"""The lead's review in a real headless Chromium at 412x915 (issue 23): cards that open the whole record, a
correction and a stale approval ending merged through a real server, a true conflict with its base and both
authors, a refused save landing on its field; and the screenshots of the queue, record and conflict screens."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import pytest

from fieldapp.store import RecordStore
from fieldapp.store.store import timestamp
from fieldapp.sync.session import run_pass
from tests.ui.driver import start_app, stop_app


def _at(minutes_ago: int) -> str:
    """A time of today (at least 00:01), so that the record is in today's queue."""
    now = datetime.now().astimezone()
    midnight = now.replace(hour=0, minute=1, second=0, microsecond=0)
    return timestamp(max(midnight, now - timedelta(minutes=minutes_ago)))


def _day(store: RecordStore) -> tuple[dict, dict]:
    call = store.create_call({"received_at": _at(40), "incident_type": "building_collapse",
                              "location": {"place": "Jableh, the old market"}, "status": "on_scene",
                              "reported_people": 3}, recorded_by="Falcon-2")
    recovery = store.create_recovery({"call_id": call["id"], "outcome": "deceased", "count": 10, "recovered_at": _at(20),
                                      "tag": "JB-7", "conditions": ["bound", "blindfolded"],
                                      "handover": {"to": "morgue", "place": "Latakia National"}}, recorded_by="Falcon-2")
    return call, recovery


def test_a_lead_opens_a_recovery_from_the_queue_and_reads_what_it_approves(app, phone):
    url, data = app
    store = RecordStore.open(data)
    call, recovery = _day(store)
    device = store.device_id
    store.close()
    phone.open(url)
    phone.tab(1)
    phone.wait_for(f"open-{recovery['id']}")
    text = phone.text()
    for words in ("Deceased × 10", "JB-7", "Bound (hands or feet)", "Blindfolded", "Latakia National", "Falcon-2"):
        assert words in text, words
    phone.tap(f"open-{recovery['id']}")
    phone.wait_for("record-fields")
    assert phone.page.url.endswith(f"/record/{recovery['id']}")
    text = phone.text()
    for words in ("Tag", "JB-7", "What was seen", "Blindfolded", "Handed over to", "Latakia National",
                  "Recorded by", "Falcon-2", device, "Versions", "Version 1"):
        assert words in text, words
    phone.back()
    phone.wait_for(f"open-{recovery['id']}")


def test_a_correction_and_a_stale_approval_end_merged_and_back_in_the_queue_unreviewed(tmp_path, link, phone):
    """Issue 23, item 3: the volunteer corrects place and count; the lead approves the old version, not yet synced."""
    volunteer = link.device(tmp_path / "v", direct=True)
    lead = link.device(tmp_path / "l", role="lead", direct=True)
    call, _ = _day(volunteer)
    assert run_pass(volunteer, tmp_path / "v").error is None
    assert run_pass(lead, tmp_path / "l").error is None
    lead.close()
    corrected = {**call["data"], "location": {"place": "Jableh, the port"}, "reported_people": 5}
    volunteer.edit(call["id"], data=corrected)  # not sent yet: the lead's phone still has the old version
    url, proc = start_app(tmp_path / "l")
    try:
        phone.open(url)
        phone.tab(1)
        phone.wait_for(f"approve-{call['id']}")
        assert "Jableh, the old market" in phone.text()
        phone.tap(f"approve-{call['id']}")  # the old version approved
        assert run_pass(volunteer, tmp_path / "v").error is None  # both sync
        phone.tap("sync-badge")
        phone.tap("send-now")
        phone.wait_for_text("All sent")
        phone.tab(1)
        phone.wait_for(f"open-{call['id']}")
        phone.wait_for_text("Jableh, the port")
        text = phone.text()
        # no conflict to resolve (the chip "In conflict" is the queue's filter), back to the lead unreviewed
        assert phone.node(f"resolve-{call['id']}").count() == 0 and "Building collapse · Not reviewed" in text, text
        phone.tap(f"open-{call['id']}")
        phone.wait_for("record-fields")
        assert "Merged from" in phone.text()
    finally:
        stop_app(proc)
    lead = RecordStore.open(tmp_path / "l")
    held = lead.get(call["id"])
    lead.close()
    assert held.state.value == "sent" and len(held.record["merged_from"]) == 2
    assert held.record["data"]["location"] == {"place": "Jableh, the port"} and held.record["data"]["reported_people"] == 5
    assert "review" not in held.record


def test_a_true_conflict_shows_the_base_both_values_and_both_authors(app, phone):
    from tests.records_factory import call_in_conflict

    url, data = app
    store = RecordStore.open(data)
    call = call_in_conflict(store, notes="two trapped", their_notes="closed by team 2", their_device="dev-other")
    device = store.device_id
    store.close()
    phone.open(url)
    phone.visit(f"/conflict/{call['id']}")
    phone.wait_for("conflict-data.notes")
    text = phone.text()
    for words in ("Before either change: two trapped", "This phone: false alarm", "Other device: closed by team 2",
                  "dev-other", device, "Changed by"):
        assert words in text, words


# The element with the focus, and the node it is in: [tag, identifier].
FOCUS = """() => { const e = document.activeElement, n = e && e.closest('[flt-semantics-identifier]');
                   return [e && e.tagName, n && n.getAttribute('flt-semantics-identifier')]; }"""


@pytest.mark.parametrize("language", ["en", "ar"])
def test_a_refused_save_lands_on_its_field(app, browser, language):
    from tests.ui.driver import PHONE, Phone

    url, data = app
    store = RecordStore.open(data)
    call, _ = _day(store)
    store.close()
    phone = Phone(browser.new_page(viewport=PHONE, locale="ar-SY" if language == "ar" else "en-US"))
    phone.open(url)
    phone.visit(f"/call/{call['id']}/recovery")
    phone.tap("outcome-deceased")
    phone.type("field-count", "٠")
    phone.scroll(3000)  # down at Save, the count far above
    phone.tap("save-recovery")
    phone.wait_for("refusal")
    said = "Not saved. How many people:" if language == "en" else "لم يُحفظ."
    assert said in phone.text()
    # The scroll is animated and the focus comes over the socket: wait for both, by the clock (a busy machine
    # draws fewer frames, so a count of frames ran out before the app did).
    deadline = time.monotonic() + 30
    while True:
        box = phone.node("field-count").bounding_box()
        focused = phone.page.evaluate(FOCUS)
        in_view = bool(box and 0 <= box["y"] <= 915 - box["height"])
        on_field = focused[0] in ("INPUT", "TEXTAREA") and focused[1] == "field-count"
        if in_view and on_field or time.monotonic() > deadline:
            break
        phone.frames(5)
    assert in_view, box
    assert on_field, f"the focus is on {focused}"


@pytest.mark.parametrize("language", ["en", "ar"])
@pytest.mark.parametrize("look", ["light", "dark"])
def test_screenshots_of_the_queue_record_and_conflict(app, phone, language, look):
    from tests.records_factory import call_in_conflict

    url, data = app
    store = RecordStore.open(data)
    _, recovery = _day(store)
    conflicted = call_in_conflict(store, notes="two trapped", their_notes="closed by team 2", their_device="dev-other")
    store.close()
    phone.open(url)
    phone.tab(2)
    if language == "ar":
        phone.tap("lang-ar")
    if look == "dark":
        phone.tap("dark")
    phone.tab(1)
    phone.wait_for(f"open-{recovery['id']}")
    phone.shot(f"review-queue-{language}-{look}")
    phone.tap(f"open-{recovery['id']}")
    phone.wait_for("record-fields")
    phone.shot(f"review-record-{language}-{look}")
    phone.visit(f"/conflict/{conflicted['id']}")
    phone.wait_for("conflict-data.notes")
    phone.shot(f"review-conflict-{language}-{look}")


def test_home_keeps_its_scroll_position_on_back(app, phone):
    url, data = app
    store = RecordStore.open(data)
    for i in range(18):
        store.create_call({"received_at": _at(200 - i), "incident_type": "fire", "location": {"place": f"Street {i}"},
                           "status": "received"})
    store.close()
    phone.open(url)
    phone.wait_for("new-call")
    phone.scroll(1500)

    def in_view() -> list[str]:
        out = []
        for node in phone.page.locator('[flt-semantics-identifier^="call-"]').all():
            box = node.bounding_box()
            if box and 150 < box["y"] < 700:
                out.append(node.get_attribute("flt-semantics-identifier"))
        return out

    seen = in_view()
    assert seen, "no call in view after scrolling"
    phone.tap(seen[0])
    phone.wait_for("add-recovery")
    phone.back()
    for _ in range(60):  # the list is sent, then scrolled back to where it was
        if seen[0] in in_view():
            break
        phone.frames(5)
    assert seen[0] in in_view(), (seen, in_view())
