"""Taps that do harm, in a real headless Chromium: Wipe asks with the count, and leaving Settings disarms it."""

from __future__ import annotations

from fieldapp.store import RecordStore
from tests.records_factory import call_data
from tests.ui.test_e2e import app, browser, phone  # noqa: F401  (fixtures)


def test_wipe_asks_with_the_count_and_is_disarmed_when_settings_is_left(app, phone):
    url, data = app
    store = RecordStore.open(data)
    store.create_call(call_data())
    store.create_call(call_data(notes="second"))
    store.close()
    phone.open(url)
    for leave in ("tab", "browser back"):
        phone.tab(2)
        phone.tap("wipe")
        phone.wait_for("wipe-question")
        said = phone.text()
        assert "records: 2" in said and "cannot be undone" in said, said
        phone.shot(f"wipe-asked-{leave.replace(' ', '-')}")
        if leave == "tab":
            phone.tab(0)
        else:
            phone.page.go_back()
        phone.wait_for("new-call")
        phone.tab(2)
        phone.wait_for("wipe")
        phone.page.wait_for_timeout(500)
        assert phone.page.locator('[flt-semantics-identifier="wipe-question"]').count() == 0, leave
    phone.tap("wipe")  # back on Settings, the first tap only asks again
    phone.wait_for("wipe-question")
    phone.tap("wipe-no")
    phone.page.wait_for_timeout(500)
    assert phone.page.locator('[flt-semantics-identifier="wipe-question"]').count() == 0
    store = RecordStore.open(data)
    assert store.counts()["total"] == 2
    store.close()
