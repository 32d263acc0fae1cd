"""Originals held for Wi-Fi (the settings' switch): previews go on any network, originals only on Wi-Fi; and a
lead's phone fetches the previews of its team's photos from the server, checked against their records."""

from __future__ import annotations

import hashlib

from fieldapp.core.records import PhotoKind
from fieldapp.store.attach import attach
from fieldapp.sync.photos import ORIGINALS_ON_WIFI, originals_may_go, unmetered
from fieldapp.sync.session import run_pass
from fieldapp.sync.worker import SyncWorker
from tests import aio
from tests.records_factory import call_data, recovery_data
from tests.sync.test_photo_interop import TAKEN, Recording, fetch, photo


def test_which_networks_count_as_wifi_and_when_originals_may_go(data_dir):
    from fieldapp.store import RecordStore

    assert unmetered(["wifi"]) and unmetered(["mobile", "ethernet"])
    assert not unmetered(["mobile"]) and not unmetered(["none"]) and not unmetered([]) and not unmetered(["vpn"])
    store = RecordStore.open(data_dir)
    try:
        assert originals_may_go(store, None) and originals_may_go(store, False)  # the switch off: always
        store.set_meta(ORIGINALS_ON_WIFI, True)
        assert originals_may_go(store, True)
        assert not originals_may_go(store, False)
        assert not originals_may_go(store, None)  # a phone that has not said is taken to be on a paid network
    finally:
        store.close()


def test_off_wifi_a_pass_sends_the_preview_and_holds_the_original_until_wifi(link, tmp_path):
    store = link.device(tmp_path / "phone", direct=True)
    store.set_meta(ORIGINALS_ON_WIFI, True)
    call = store.create_call(call_data())
    original = photo(7)
    version = attach(store, call["id"], original, kind=PhotoKind.SCENE, taken_at=TAKEN)
    entry = version["data"]["photos"][0]
    held_back = Recording()
    result = run_pass(store, tmp_path / "phone", transport=held_back, originals=originals_may_go(store, False))
    assert result.error is None and result.photos.sent == 1
    assert store.photos.counts() == {"photos": 1, "photos_waiting": 1, "previews_waiting": 0}
    lead = link.server.enroll(link.team, "lead-1", "lead")
    assert fetch(link, lead, entry["preview"]["sha256"]).status_code == 200
    assert fetch(link, lead, entry["sha256"]).status_code == 404  # not one byte of the original went
    posted = [p for m, p in held_back.requests if m == "POST" and p.endswith("/photos/")]
    assert len(posted) == 1
    result = run_pass(store, tmp_path / "phone", originals=originals_may_go(store, True))  # on Wi-Fi
    assert result.error is None and result.waiting == 0
    assert hashlib.sha256(fetch(link, lead, entry["sha256"]).content).hexdigest() == entry["sha256"]
    store.close()


def test_the_worker_holds_originals_until_the_phone_says_it_is_on_wifi(link, tmp_path):
    store = link.device(tmp_path / "phone", direct=True)
    store.set_meta(ORIGINALS_ON_WIFI, True)
    call = store.create_call(call_data())
    attach(store, call["id"], photo(8), kind=PhotoKind.SCENE, taken_at=TAKEN)
    worker = SyncWorker(store, tmp_path / "phone")
    assert aio.run(worker.run_once()).error is None  # never told: a paid network
    assert store.photos.counts()["photos_waiting"] == 1 and store.photos.counts()["previews_waiting"] == 0
    assert worker.status.photos_waiting == 1
    worker.on_networks(["mobile"])
    assert aio.run(worker.run_once()).error is None
    assert store.photos.counts()["photos_waiting"] == 1
    worker.on_networks(["wifi"])
    assert aio.run(worker.run_once()).error is None
    assert store.photos.counts()["photos_waiting"] == 0 and worker.status.photos_waiting == 0
    worker.on_network(True)  # a change that does not say: the last word stands
    assert worker.on_wifi is True
    worker.on_networks(["mobile"], changed=False)  # the app's first word at start (ui/network.py)
    assert worker.on_wifi is False
    worker.on_networks(["mobile", "wifi"])
    assert worker.on_wifi is True
    store.close()


def test_a_leads_phone_fetches_the_teams_previews_checked_and_a_volunteers_fetches_none(link, tmp_path):
    volunteer = link.device(tmp_path / "v", direct=True)
    call = volunteer.create_call(call_data())
    recovery = volunteer.create_recovery(recovery_data(call["id"], count=1))
    version = attach(volunteer, recovery["id"], photo(9), kind=PhotoKind.TAG, taken_at=TAKEN)
    entry = version["data"]["photos"][0]
    assert run_pass(volunteer, tmp_path / "v").error is None
    other = link.device(tmp_path / "o", direct=True)
    assert run_pass(other, tmp_path / "o").error is None
    assert not other.photos.entries()  # a volunteer is given no other device's photos
    lead = link.device(tmp_path / "l", role="lead", direct=True)
    assert run_pass(lead, tmp_path / "l").error is None
    held = lead.photos.entries()
    assert list(held) == [entry["preview"]["sha256"]]  # the preview only: the original stays on the server
    assert held[entry["preview"]["sha256"]]["sent"] is True and held[entry["preview"]["sha256"]]["records"] == [recovery["id"]]
    assert hashlib.sha256(lead.photos.read(entry["preview"]["sha256"])).hexdigest() == entry["preview"]["sha256"]
    again = Recording()
    assert run_pass(lead, tmp_path / "l", transport=again).error is None
    assert not [r for r in again.requests if "/photos/" in r[1]]  # held: not fetched again
    for store in (volunteer, other, lead):
        store.close()
