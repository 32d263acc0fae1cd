"""Taps that do harm, in a real headless Chromium: Wipe asks with the count, and leaving Settings disarms it."""

from __future__ import annotations

from fieldapp.store import RecordStore
from tests.records_factory import call_data
from tests.ui.test_e2e import app, arabic_phone, browser, phone  # noqa: F401  (fixtures)


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
            phone.back()
        phone.wait_for("new-call")
        phone.tab(2)
        phone.wait_for("wipe")
        assert phone.page.locator('[flt-semantics-identifier="wipe-question"]').count() == 0, leave
    phone.tap("wipe")  # back on Settings, the first tap only asks again
    phone.wait_for("wipe-question")
    phone.tap("wipe-no")
    assert phone.page.locator('[flt-semantics-identifier="wipe-question"]').count() == 0
    store = RecordStore.open(data)
    assert store.counts()["total"] == 2
    store.close()


def test_cancelled_and_approve_all_ask_first_in_arabic(tmp_path, arabic_phone):
    from datetime import datetime

    from tests.ui.test_e2e import start_app, stop_app

    data = tmp_path / "device"
    store = RecordStore.open(data)
    now = datetime.now().astimezone().isoformat(timespec="seconds")
    call = store.create_call(call_data(received_at=now, location={"place": "Jableh"}))
    refused = store.create_call(call_data(received_at=now, location={"place": "Ariha"}))
    store.record_verdicts([{"id": refused["id"], "version": 1, "status": "rejected",
                            "errors": [{"field": "data.location", "message": "outside the team's area"}]}])
    store.close()
    url, proc = start_app(data, {"FIELDAPP_LANG": ""})  # the browser's Arabic
    try:
        phone = arabic_phone
        phone.open(url)
        phone.visit(f"/call/{call['id']}")
        phone.tap("status-cancelled")
        phone.wait_for("confirm-cancelled-question")
        assert "وضع هذا البلاغ في حالة «ملغى»؟" in phone.text()
        phone.shot("cancelled-asked-ar-light")
        store = RecordStore.open(data)
        assert store.get(call["id"]).version == 1  # asked, nothing written
        store.close()
        phone.tap("confirm-cancelled")
        store = RecordStore.open(data)
        assert store.get(call["id"]).record["data"]["status"] == "cancelled"
        store.close()

        phone.tab(1)
        phone.tap("approve-all")
        phone.wait_for("approve-all-question")
        said = phone.text()
        assert "عدد السجلات التي ستُعتمد: 1" in said and "رفضها الخادم: 1" in said, said
        phone.shot("approve-all-asked-ar-light")
        phone.tap("approve-all")
        store = RecordStore.open(data)
        assert store.get(call["id"]).record["review"] == {"state": "approved"}
        assert store.get(refused["id"]).record.get("review") is None
        store.close()
    finally:
        stop_app(proc)
