"""The volunteer's app in a real headless Chromium at phone size, against `fieldapp ui --web`.

The device is enrolled with a server that is not there (a closed loopback
port), and every request to anything but 127.0.0.1 is blocked, as on a
phone with no network: saving must not wait on either.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

from fieldapp.i18n import Translator

# The driver and the fixtures live in tests/ui/driver.py and tests/ui/conftest.py; the names below stay
# importable from here for modules that still take them from this one.
from tests.ui.conftest import app, arabic_phone, browser, link, phone  # noqa: F401
from tests.ui.driver import PHONE, ROOT, SHOTS, Phone, start_app, stop_app


def export(data: Path) -> list[dict]:
    out = subprocess.run([sys.executable, "-m", "fieldapp", "export", "--data", str(data)],
                         cwd=ROOT, capture_output=True, text=True, timeout=60, check=True).stdout
    return [json.loads(line) for line in out.splitlines()]


def busy_day(data: Path, calls: int = 120) -> list[str]:
    """A day of `calls` calls today, most still open, every third with people brought out: their ids, newest first."""
    from datetime import datetime

    from fieldapp.store import RecordStore
    from fieldapp.store.store import timestamp

    store = RecordStore.open(data)
    start = datetime.now().astimezone().replace(hour=0, minute=0, second=0, microsecond=0)
    kinds = ["airstrike", "building_collapse", "fire", "shelling", "bodies_found", "traffic_accident"]
    ids = []
    for i in range(calls):
        at = timestamp(start + timedelta(minutes=7 * i))
        call = store.create_call({
            "received_at": at, "incident_type": kinds[i % len(kinds)], "location": {"place": f"Street {i + 1}, Jableh"},
            "status": ["received", "dispatched", "on_scene", "completed"][i % 4], "status_log": [],
        })
        ids.append(call["id"])
        if i % 3 == 0:
            store.create_recovery({"call_id": call["id"], "outcome": ["rescued", "injured", "deceased"][i // 3 % 3],
                                   "count": 1 + i % 4, "recovered_at": at, "tag": f"J-{i:03d}"})
    store.close()
    return list(reversed(ids))


def test_a_call_a_group_recovery_and_completion_offline_then_arabic(app, phone):
    url, data = app
    phone.open(url)
    assert "Not linked" not in phone.text()  # enrolled, but the server is unreachable

    started = time.monotonic()
    phone.tap("new-call")
    phone.tap("type-building_collapse")
    phone.type("field-place", "Jableh, Al-Fayd quarter")
    phone.tap("save-call")
    phone.wait_for("add-recovery")
    phone.tap("add-recovery")
    phone.tap("outcome-deceased")
    phone.type("field-count", "٣")  # Arabic-Indic digits are numbers too
    phone.tap("save-recovery")
    phone.wait_for("status-completed")
    phone.tap("status-completed")
    elapsed = time.monotonic() - started
    assert "Deceased × 3" in phone.text()
    phone.tap("edit-call")  # the correction form opens with the call's own values
    phone.wait_for("save-call")
    assert "Correct and resend" in phone.text()
    phone.tap("back")
    phone.wait_for("add-recovery")

    records = export(data)
    calls = [r for r in records if r["type"] == "call"]
    recoveries = [r for r in records if r["type"] == "recovery"]
    assert len(calls) == 1 and len(recoveries) == 1
    call = calls[0]
    assert call["data"]["incident_type"] == "building_collapse"
    assert call["data"]["location"]["place"] == "Jableh, Al-Fayd quarter"
    assert call["data"]["status"] == "completed" and call["version"] == 2 and call["base_version"] == 0
    assert [s["status"] for s in call["data"]["status_log"]] == ["completed"]
    recovery = recoveries[0]
    assert recovery["data"] == {**recovery["data"], "call_id": call["id"], "outcome": "deceased", "count": 3}
    assert recovery["version"] == 1
    # nothing waited on the network: three saves, and the badge still counts them waiting
    phone.tap("back")
    phone.wait_for("new-call")
    # The worker tries the missing server now and then; while a try runs the badge says "Sending 0 of 2".
    phone.wait_for_text("2 waiting")
    badge = phone.node("sync-badge").inner_text() or phone.node("sync-badge").get_attribute("aria-label")
    text = phone.text()
    assert "waiting" in text and "2 waiting" in text, badge
    assert "Waiting to send" in phone.text()  # the card says its own sync state
    print(f"call, group recovery and completion saved offline in {elapsed:.1f} s of browser time")

    # Arabic: Arabic labels, and the layout mirrors (the New call button moves to the left)
    ltr_x = phone.node("new-call").bounding_box()["x"]
    phone.tab(2)
    phone.tap("lang-ar")
    phone.tab(0)
    phone.wait_for("new-call")
    assert "بلاغ جديد" in phone.text() and "بلاغات اليوم" in phone.text()
    assert phone.node("new-call").bounding_box()["x"] < ltr_x
    assert phone.outside == [], phone.outside
    print(f"requests refused by the app's Content-Security-Policy: {phone.refused}")


def _assert_whole_screen(phone: Phone, where: str) -> None:
    """The checks below at the screen's top and again scrolled to its end (its last buttons)."""
    _assert_nav_on_screen(phone, where)
    phone.scroll(5000)
    _assert_nav_on_screen(phone, f"{where}, scrolled to its end")
    phone.scroll(-5000)


def _assert_nav_on_screen(phone: Phone, where: str) -> None:
    """The bottom navigation in full view, and every target on screen at least 48 px each way.

    A node the list cuts at its top or bottom edge shows only its visible part: it is measured
    when it is scrolled fully into view, so it is left out here. Everything is measured in one
    look once the screen is still: a list still scrolling moves its nodes between two looks.
    """
    layout = phone.layout()
    box, badge, targets = layout["nav"], layout["badge"], layout["targets"]
    assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= PHONE["height"] + 0.5, (where, box)
    assert badge is not None, where
    list_top, list_bottom = badge["y"] + badge["height"], box["y"]
    save = phone.page.locator('[flt-semantics-identifier^="save-"]')  # a form's Save bar ends its list above it
    bar = save.first.bounding_box() if save.count() else None
    if bar and bar["y"] > PHONE["height"] / 2:
        list_bottom = bar["y"] - 9  # the bar's padding and its top line
    cut = [t for t in targets if abs(t[3] + t[2] - list_bottom) < 1.5 or list_top - 1 <= t[3] <= list_top + 5]
    small = [t for t in targets if t[4] and t not in cut and (t[1] < 47.5 or t[2] < 47.5)]
    assert small == [], (where, small)


def test_a_day_of_120_calls_navigation_on_screen_back_returns_and_targets_at_least_48_px(app, phone):
    url, data = app
    ids = busy_day(data, 120)
    phone.open(url)
    seen = {}
    # home, scrolled far down: the navigation stays on screen
    _assert_nav_on_screen(phone, "home")
    for _ in range(10):
        phone.scroll(2000)
    _assert_nav_on_screen(phone, "home scrolled")
    phone.wait_for("home-more")  # a long day comes 20 calls at a time
    assert "Show 20 more calls (of 120)" in phone.text()
    phone.tap("home-more")
    phone.wait_for(f"call-{ids[19]}")  # the list kept its place: the next calls come below it
    phone.scroll(1200)
    phone.wait_for(f"call-{ids[25]}")
    seen["home"] = True
    # a call opens at its top, with its own route; Back returns home
    phone.click(phone.page.locator('[flt-semantics-identifier^="call-"]').first)
    phone.wait_for("add-recovery")
    phone.page.wait_for_url("**/call/*")
    call_id = phone.page.url.rsplit("/", 1)[1]
    # It opens at its top, not home's scroll: its first step right under the sync badge, whose height
    # follows what it says (one line or two); 186 px below it is the 300 px of a one-line badge.
    badge, first_step = phone.boxes("sync-badge", "status-dispatched")  # in one look, once the screen is still
    assert first_step["y"] < badge["y"] + badge["height"] + 186
    _assert_nav_on_screen(phone, "call")
    phone.back()
    phone.wait_for("new-call")
    assert phone.page.url.rstrip("/") == url.rstrip("/")
    # a recovery: its own route; Back returns to its call
    for _ in range(10):  # home kept its place in the list; back to its top
        phone.scroll(-2000)
    with_people = ids[2]  # every third call has people brought out, the oldest first
    phone.tap(f"call-{with_people}")
    phone.wait_for("add-recovery")
    phone.click(phone.page.locator('[flt-semantics-identifier^="recovery-"]').first)
    phone.wait_for("withdraw-recovery")
    phone.page.wait_for_url("**/recovery/*")
    _assert_nav_on_screen(phone, "recovery")
    phone.back()
    phone.wait_for("add-recovery")
    assert phone.page.url.endswith(f"/call/{with_people}")
    phone.back()  # back to home, where this visit started: still in the app
    phone.wait_for("new-call")
    # every other screen: the navigation on screen, every target at least 48 px
    for tab, screen, ready in ((0, "new call", "save-call"), (1, "queue", "filters"), (2, "settings", "send-now")):
        phone.tab(tab)
        if screen == "new call":
            phone.tap("new-call")
        phone.wait_for(ready)
        _assert_nav_on_screen(phone, screen)
        seen[screen] = True
    phone.tab(1)
    phone.tap("open-figures")
    phone.wait_for("hour-chart")
    _assert_nav_on_screen(phone, "figures")
    phone.tab(0)
    phone.tap("sync-badge")
    phone.wait_for("send-now")
    phone.page.wait_for_url("**/sync")
    _assert_nav_on_screen(phone, "outbox")
    phone.tap("send-now")
    phone.wait_for("notice")
    assert "Sending 160 records now" in phone.text()  # Send now says what it did (120 calls, 40 recoveries)
    assert call_id in ids


def test_home_scrolled_to_its_end_and_quickly_back_opens_at_its_top_on_back(app, phone):
    """Home opens on Back where it was left: after a scroll to the end and straight back (two scrolls within
    Flet's throttle of its scroll events), that is its top, not its end."""
    url, data = app
    ids = busy_day(data, 30)
    phone.open(url)
    phone.wait_for(f"call-{ids[0]}")
    phone.page.mouse.move(200, 500)
    phone.page.mouse.wheel(0, 5000)  # a flick of the wheel down and at once back up, as a hand on a mouse does
    phone.frames(2)
    phone.page.mouse.wheel(0, -5000)
    phone.still()
    phone.tap(f"call-{ids[0]}")
    phone.wait_for("add-recovery")
    phone.back()
    phone.wait_for("new-call")
    phone.frames(10)  # a list drawn anew scrolls to its offset once it is sent
    phone.still()
    badge, first = phone.boxes("sync-badge", f"call-{ids[0]}")
    assert first is not None and first["y"] < badge["y"] + badge["height"] + 80, (badge, first)


def test_browser_back_after_saving_a_new_call_returns_home_not_to_an_empty_form(app, phone):
    url, data = app
    phone.open(url)
    phone.tap("new-call")
    phone.page.wait_for_url("**/new")
    phone.tap("type-fire")
    phone.type("field-place", "Jableh port")
    phone.tap("save-call")
    phone.wait_for("add-recovery")
    phone.page.wait_for_url("**/call/*")
    phone.back()  # the form's history entry: a save left it, so the screen before it shows
    phone.wait_for("new-call")
    assert phone.page.locator('[flt-semantics-identifier="save-call"]').count() == 0  # not the form
    assert "Jableh port" in phone.text()  # home, with the call just saved
    phone.page.go_back()  # where the app started: still in the app, on home (home is shown: nothing to draw anew)
    phone.still()
    assert phone.page.url.rstrip("/") == url.rstrip("/")
    phone.wait_for("new-call")
    assert phone.page.locator('[flt-semantics-identifier="save-call"]').count() == 0
    # the New call button still opens a new, empty form
    phone.tap("new-call")
    phone.wait_for("save-call")
    assert phone.page.locator('[flt-semantics-identifier="add-recovery"]').count() == 0


def test_a_browser_set_to_arabic_starts_in_arabic_and_a_refusal_is_said_in_arabic(tmp_path, arabic_phone):
    from fieldapp.store import RecordStore
    from tests.records_factory import call_data

    data = tmp_path / "device"
    store = RecordStore.open(data)
    call = store.create_call(call_data(location={"place": "Jableh"}))
    store.record_verdicts([{"id": call["id"], "version": 1, "status": "rejected", "errors": [
        {"field": "data.location.place", "message": "String should have at most 200 characters"}]}])
    store.close()
    url, proc = start_app(data, {"FIELDAPP_LANG": ""})  # no language chosen: the device's (the browser's) is used
    try:
        phone = arabic_phone
        phone.open(url)
        assert "بلاغ جديد" in phone.text() and "New call" not in phone.text()
        phone.load(f"{url}/call/{call['id']}", "edit-call")
        assert "المكان: يجب ألّا يزيد عن 200 حرف" in phone.text()  # 200 takes CLDR's "other" form (not حرفًا)
        assert "String should have" not in phone.text()
        phone.shot("refused-ar-light")
        phone.tap("edit-call")
        phone.wait_for("save-call")
        assert "يجب ألّا يزيد عن 200 حرف" in phone.text()  # beside the place field

        # Language and night mode each follow the device until chosen, and "Follow the device" gives them back.
        phone.load(f"{url}/settings", "lang-device")
        assert checked(phone, "lang-device") and checked(phone, "dark-device") and not checked(phone, "dark")
        phone.tap("lang-en")
        assert "Settings" in phone.text() and "الإعدادات" not in phone.text() and not checked(phone, "lang-device")
        phone.tap("lang-device")
        phone.wait_for_text("الإعدادات")  # the browser's language again, not the process's (English)
        assert checked(phone, "lang-device") and "Settings" not in phone.text()
        phone.page.emulate_media(color_scheme="dark")  # the device turns dark: followed
        phone.page.wait_for_function(CHECKED, arg="dark", polling="raf")
        assert brightness(phone) < 100
        phone.tap("dark")  # chosen light on a dark device
        assert not checked(phone, "dark") and not checked(phone, "dark-device") and brightness(phone) > 150
        phone.tap("dark-device")
        phone.page.wait_for_function(CHECKED, arg="dark", polling="raf")
        assert checked(phone, "dark-device") and brightness(phone) < 100
        assert "الإعدادات" in phone.text()  # the language stayed the device's
        # A tap on a switch's words turns it (above); so does one on the switch itself, at the row's start
        # (the right, in Arabic).
        row = phone.node("dark").bounding_box()
        phone.tap("dark", at={"x": row["width"] - 30, "y": row["height"] / 2})
        assert not checked(phone, "dark") and brightness(phone) > 150
    finally:
        stop_app(proc)


# Whether a switch (the node named, or the one inside it) is on, as a screen reader is told.
CHECKED = """id => { const e = document.querySelector(
    `[flt-semantics-identifier="${id}"][aria-checked], [flt-semantics-identifier="${id}"] [aria-checked]`);
    return e !== null && e.getAttribute('aria-checked') === 'true'; }"""


def checked(phone: Phone, identifier: str) -> bool:
    phone.still()
    return bool(phone.page.evaluate(CHECKED, identifier))


def brightness(phone: Phone) -> float:
    """The screen's mean grey level (0 to 255): under 100 for the dark look, over 150 for the light one."""
    from io import BytesIO

    from PIL import Image, ImageStat

    return ImageStat.Stat(Image.open(BytesIO(phone.picture("its brightness"))).convert("L")).mean[0]


def test_a_recovery_is_corrected_then_withdrawn_in_the_app_and_each_version_syncs(tmp_path, link, phone):
    data = tmp_path / "device"
    link.device(data, direct=True).close()
    url, proc = start_app(data)
    try:
        phone.open(url)
        phone.tap("new-call")
        phone.tap("type-fire")
        phone.type("field-place", "Baniyas port")
        phone.tap("save-call")
        phone.tap("add-recovery")
        phone.tap("outcome-injured")
        phone.type("field-count", "2")
        phone.tap("save-recovery")
        phone.wait_for("add-recovery")
        phone.click(phone.page.locator('[flt-semantics-identifier^="recovery-"]').first)
        phone.wait_for("save-recovery")
        phone.page.wait_for_url("**/recovery/*")
        recovery_id = phone.page.url.rsplit("/", 1)[1]
        phone.tap("outcome-deceased")
        phone.type("field-count", "3")
        phone.tap("save-recovery")
        phone.wait_for("add-recovery")
        assert "Correction saved" in phone.text() and "Deceased × 3" in phone.text()

        def sent(version: int) -> dict:
            """Send now from the badge; the recovery's data once the server holds `version`."""
            phone.tap("sync-badge")
            phone.tap("send-now")
            phone.wait_for_text(Translator("en")("badge.all_sent"))  # the badge: nothing waits to be sent
            assert (recovery_id, version) in link.stored_versions()
            [stored] = [r for r in export(data) if r["id"] == recovery_id]
            assert stored["version"] == version
            return stored["data"]

        stored = sent(2)
        assert stored["outcome"] == "deceased" and stored["count"] == 3
        # withdrawn as entered in error: asked first, then a version 3 marked so, which syncs too
        phone.back()  # from what the badge opened, back to the call
        phone.tap(f"recovery-{recovery_id}")
        phone.tap("withdraw-recovery", answered=False)  # asked first, in place
        phone.wait_for("withdraw-confirm")
        phone.still()
        assert "no longer counted" in phone.text()
        phone.tap("withdraw-confirm")
        phone.wait_for("add-recovery")
        assert "Recovery withdrawn as entered in error" in phone.text() and "Deceased 0" in phone.text()
        assert sent(3)["withdrawn"] is True
    finally:
        stop_app(proc)


SCREENS = ("home", "new_call", "call", "recovery", "outbox", "settings", "queue", "figures", "conflict")


def _go(phone: Phone, screen: str, url: str, ids: dict) -> None:
    routes = {"home": "/", "new_call": "/new", "call": f"/call/{ids['call']}", "recovery": f"/recovery/{ids['recovery']}",
              "outbox": "/sync", "settings": "/settings", "queue": "/queue", "figures": "/queue/figures",
              "conflict": f"/conflict/{ids['conflict']}"}
    ready = {"home": "new-call", "new_call": "save-call", "call": "add-recovery", "recovery": "save-recovery",
             "outbox": "send-now", "settings": "send-now", "queue": "filters", "figures": "hour-chart",
             "conflict": "keep-ours"}
    phone.visit(routes[screen])
    phone.wait_for(ready[screen])


def test_screenshots_of_every_screen_english_and_arabic_light_and_dark(app, phone):
    from fieldapp.store import RecordStore

    url, data = app
    subprocess.run([sys.executable, "-m", "fieldapp", "demo", "--calls", "12", "--seed", "4", "--data", str(data)],
                   cwd=ROOT, capture_output=True, check=True, timeout=120)
    busy_day(data, 6)
    store = RecordStore.open(data)
    today = [r for r in store.iter_current() if r.record["data"].get("received_at", "")[:10] == date.today().isoformat()]
    calls = [r for r in today if r.type == "call"]
    with_people = next(c for c in calls if store.recoveries_of(c.id))
    recovery = store.recoveries_of(with_people.id)[0]
    refused, conflicted = calls[0], calls[1]
    store.record_verdicts([{"id": refused.id, "version": refused.version, "status": "rejected", "errors": [
        {"field": "data.location.place", "message": "String should have at most 200 characters"}]}])
    theirs = {**conflicted.record, "version": conflicted.version + 1, "device_id": "dev-other",
              "data": {**conflicted.record["data"], "status": "completed", "notes": "closed by team 2"}}
    store.record_verdicts([{"id": conflicted.id, "version": conflicted.version, "status": "conflict",
                            "server_record": theirs}])
    store.edit(with_people.id, review={"state": "flagged", "note": "Check the count with the hospital"})
    store.close()
    ids = {"call": with_people.id, "recovery": recovery.id, "conflict": conflicted.id}
    phone.open(url)
    SHOTS.mkdir(parents=True, exist_ok=True)
    taken = []
    dark = False
    for language in ("en", "ar"):
        for look in ("light", "dark"):
            _go(phone, "settings", url, ids)
            phone.tap(f"lang-{language}")
            if dark != (look == "dark"):
                phone.tap("dark")
                dark = not dark
            for screen in SCREENS:
                _go(phone, screen, url, ids)
                name = f"{screen}-{language}-{look}"
                if look == "light":
                    _assert_whole_screen(phone, name)
                else:
                    _assert_nav_on_screen(phone, name)
                phone.shot(name)
                taken.append(name)
    assert len(taken) == 36 and all((SHOTS / f"{n}.png").stat().st_size > 5000 for n in taken)
