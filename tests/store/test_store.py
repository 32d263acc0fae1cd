"""The store's behaviour: versions, sync states, the outbox, verdicts, pulls, conflicts."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest

from fieldapp.core.records import InvalidRecord, normalize
from fieldapp.store import RecordStore, StoreError
from tests.records_factory import call_data, call_record, recovery_data

TZ = timezone(timedelta(hours=3))


def at(day: int, hour: int = 10) -> datetime:
    return datetime(2026, 11, day, hour, 0, tzinfo=TZ)


@pytest.fixture
def store(data_dir):
    s = RecordStore.open(data_dir)
    yield s
    s.close()


def test_a_new_record_is_version_1_pending_and_survives_reopening(data_dir):
    store = RecordStore.open(data_dir)
    call = store.create_call(call_data(), recorded_by="Falcon-3", now=at(25))
    assert (call["version"], call["base_version"], call["device_id"]) == (1, 0, store.device_id)
    assert call["created_at"] == call["updated_at"] == "2026-11-25T10:00:00.000+03:00"
    device = store.device_id
    store.close()

    again = RecordStore.open(data_dir)
    stored = again.get(call["id"])
    assert stored.record == call and stored.state == "pending" and stored.mine
    assert again.device_id == device
    assert again.counts() == {"pending": 1, "sent": 0, "rejected": 0, "conflict": 0, "total": 1}
    again.close()


def test_an_invalid_record_is_refused_and_nothing_is_saved(store):
    with pytest.raises(InvalidRecord) as caught:
        store.create_call(call_data(incident_type="riot", religion="x"))
    assert sorted(e.field for e in caught.value.errors) == ["data.incident_type", "data.religion"]
    assert store.counts()["total"] == 0


def test_edits_make_versions_and_keep_the_earlier_ones(store):
    call = store.create_call(call_data(), now=at(25, 10))
    store.edit(call["id"], data=call_data(status="dispatched"), now=at(25, 11))
    third = store.edit(call["id"], review={"state": "approved"}, now=at(25, 12))
    stored = store.get(call["id"])
    assert third["version"] == 3 and third["base_version"] == 0  # never acknowledged yet
    assert [h["version"] for h in stored.history] == [1, 2]
    assert stored.record["review"] == {"state": "approved"}
    assert stored.record["created_at"] == call["created_at"]
    with pytest.raises(KeyError):
        store.edit("00000000-0000-4000-8000-000000000000", data=call_data())


def test_outbox_is_pending_records_calls_first_oldest_first_day_by_day(store):
    old_call = store.create_call(call_data(), now=at(23))
    new_call = store.create_call(call_data(), now=at(25, 9))
    recovery = store.create_recovery(recovery_data(new_call["id"]), now=at(25, 8))
    late_call = store.create_call(call_data(), now=at(25, 12))
    sent = store.create_call(call_data(), now=at(24))
    store.record_verdicts([{"id": sent["id"], "version": 1, "status": "accepted"}])
    ids = [r["id"] for r in store.outbox()]
    assert ids == [old_call["id"], new_call["id"], late_call["id"], recovery["id"]]
    assert [r["id"] for r in store.outbox(limit=2)] == ids[:2]


def test_verdicts_set_each_records_state(store):
    a = store.create_call(call_data())
    b = store.create_call(call_data())
    c = store.create_call(call_data())
    d = store.create_call(call_data())
    server_version = {**a, "id": c["id"], "version": 2, "base_version": 1, "device_id": "dev-other"}
    store.record_verdicts([
        {"id": a["id"], "version": 1, "status": "accepted", "errors": []},
        {"id": b["id"], "version": 1, "status": "rejected", "errors": [{"field": "data.location", "message": "too far"}]},
        {"id": c["id"], "version": 1, "status": "conflict", "server_record": server_version},
        {"id": d["id"], "version": 1, "status": "duplicate"},
    ])
    assert store.get(a["id"]).state == "sent" and store.get(d["id"]).state == "sent"
    refused = store.get(b["id"])
    assert refused.state == "rejected" and refused.errors == [{"field": "data.location", "message": "too far"}]
    conflict = store.get(c["id"])
    assert conflict.state == "conflict" and conflict.server_record == server_version and conflict.record == c
    assert store.outbox() == []
    assert store.counts() == {"pending": 0, "sent": 2, "rejected": 1, "conflict": 1, "total": 4}


def test_an_edit_of_a_refused_record_resubmits_it(store):
    call = store.create_call(call_data())
    store.record_verdicts([{"id": call["id"], "version": 1, "status": "rejected", "errors": [{"field": "x", "message": "y"}]}])
    store.edit(call["id"], data=call_data(notes="fixed"))
    stored = store.get(call["id"])
    assert stored.state == "pending" and stored.errors == [] and stored.record["version"] == 2
    assert [r["version"] for r in store.outbox()] == [2]


def test_an_edit_during_a_push_stays_pending_and_builds_on_the_acknowledged_version(store):
    call = store.create_call(call_data())
    in_flight = store.outbox()  # the push takes version 1
    store.edit(call["id"], data=call_data(status="on_scene"))  # saved while it is on the wire
    store.record_verdicts([{"id": r["id"], "version": r["version"], "status": "accepted"} for r in in_flight])
    stored = store.get(call["id"])
    assert stored.state == "pending" and stored.acked_version == 1
    assert stored.record["version"] == 2 and stored.record["base_version"] == 1
    store.record_verdicts([{"id": call["id"], "version": 2, "status": "accepted"}])
    assert store.get(call["id"]).state == "sent"
    third = store.edit(call["id"], data=call_data(status="completed"))
    assert third["base_version"] == 2


def test_a_late_verdict_for_an_old_version_changes_nothing(store):
    call = store.create_call(call_data())
    store.edit(call["id"], data=call_data(status="dispatched"))
    store.record_verdicts([{"id": call["id"], "version": 1, "status": "rejected", "errors": []}])
    store.record_verdicts([{"id": call["id"], "version": 1, "status": "conflict", "server_record": call}])
    assert store.get(call["id"]).state == "pending"


def test_verdicts_for_unknown_records_are_ignored(store):
    store.record_verdicts([{"id": "00000000-0000-4000-8000-000000000000", "version": 1, "status": "accepted"}])
    assert store.counts()["total"] == 0


def test_pulled_records_of_the_team_are_kept_as_sent_and_read_only(store):
    theirs = normalize(call_record(device_id="dev-other"))
    assert store.save_pulled([theirs]) == 1
    stored = store.get(theirs["id"])
    assert stored.state == "sent" and not stored.mine and stored.acked_version == 1
    newer = normalize({**theirs, "version": 2, "base_version": 1, "data": {**theirs["data"], "status": "completed"}})
    store.save_pulled([newer, theirs])  # a page may repeat what we have
    stored = store.get(theirs["id"])
    assert stored.record == newer and stored.history == [theirs]
    assert store.outbox() == []


def test_a_pull_never_overwrites_an_unsent_edit(store):
    theirs = normalize(call_record(device_id="dev-other"))
    store.save_pulled([theirs])
    mine = store.edit(theirs["id"], data=call_data(status="on_scene"))
    moved_on = normalize({**theirs, "version": 2, "base_version": 1, "device_id": "dev-other", "data": call_data(status="completed")})
    store.save_pulled([moved_on])
    stored = store.get(theirs["id"])
    assert stored.record == mine and stored.state == "pending"
    assert moved_on in stored.history


def test_a_conflict_pulled_from_the_server_keeps_both_sides(store):
    base = normalize(call_record(device_id="dev-a"))
    winner = normalize({**base, "version": 2, "base_version": 1, "data": call_data(status="completed")})
    loser = normalize({**base, "version": 2, "base_version": 1, "device_id": "dev-b", "data": call_data(status="cancelled")})
    store.save_pulled([base, winner, loser], conflicts=[{"id": base["id"], "server_record": winner}])
    stored = store.get(base["id"])
    assert stored.state == "conflict"
    assert stored.server_record == winner and stored.record == loser


def test_resolving_a_conflict_makes_a_version_based_on_the_servers(store):
    call = store.create_call(call_data())
    store.record_verdicts([{"id": call["id"], "version": 1, "status": "accepted"}])
    mine = store.edit(call["id"], data=call_data(status="cancelled", notes="false alarm"))
    server = {**call, "version": 3, "base_version": 2, "device_id": "dev-other", "data": call_data(status="completed")}
    store.record_verdicts([{"id": call["id"], "version": 2, "status": "conflict", "server_record": server}])
    with pytest.raises(StoreError):
        store.resolve_conflict(store.create_call(call_data())["id"], data=call_data())
    resolved = store.resolve_conflict(call["id"], data=call_data(status="completed", notes="false alarm"))
    assert (resolved["version"], resolved["base_version"]) == (4, 3)
    stored = store.get(call["id"])
    assert stored.state == "pending" and stored.server_record is None
    assert mine in stored.history and server in stored.history
    # the conflict closes when the server accepts the resolution
    store.record_verdicts([{"id": call["id"], "version": 4, "status": "accepted"}])
    assert store.get(call["id"]).state == "sent"


def test_days_and_recoveries_of_a_call_across_midnight(store):
    call = store.create_call(call_data(), now=at(24, 23))
    first = store.create_recovery(recovery_data(call["id"]), now=at(24, 23))
    after_midnight = store.create_recovery(recovery_data(call["id"], count=3), now=at(25, 1))
    store.create_recovery(recovery_data(store.create_call(call_data(), now=at(25))["id"]), now=at(25, 2))
    assert store.days() == ["2026-11-24", "2026-11-25"]
    assert [r.id for r in store.recoveries_of(call["id"])] == [first["id"], after_midnight["id"]]
    assert [r.id for r in store.day("2026-11-24")] == [call["id"], first["id"]]
    assert len(list(store.iter_current())) == 5


def test_a_busy_day_spreads_over_chunks_and_stays_findable(data_dir):
    from fieldapp.store.partition import CHUNK_RECORDS

    store = RecordStore.open(data_dir)
    ids = [store.create_call(call_data(), now=at(25))["id"] for _ in range(CHUNK_RECORDS * 2 + 5)]
    store.close()
    files = sorted(p.name for p in (data_dir / "days").glob("*.json"))
    assert files == ["2026-11-25.000.json", "2026-11-25.001.json", "2026-11-25.002.json"]
    again = RecordStore.open(data_dir)
    assert [r.id for r in again.day("2026-11-25")] == ids
    assert again.get(ids[0]).id == ids[0] and again.get(ids[-1]).id == ids[-1]
    again.close()


def test_lost_index_caches_are_rebuilt(data_dir):
    store = RecordStore.open(data_dir)
    ids = [store.create_call(call_data(), now=at(d))["id"] for d in (20, 21, 22)]
    store.close()
    (data_dir / "index" / "ids.log").write_text("garbage\n")
    (data_dir / "index" / "manifest.json").write_text("{not json")
    again = RecordStore.open(data_dir)
    assert again.counts()["pending"] == 3
    assert all(again.get(i) is not None for i in ids)
    assert again.problems == []  # caches are not truth: nothing to report
    again.close()


def test_meta_values_are_durable(data_dir):
    store = RecordStore.open(data_dir)
    store.set_meta("pull_cursor", "42")
    store.set_meta("last_sync", {"at": "2026-11-25T10:00:00+03:00"})
    store.close()
    again = RecordStore.open(data_dir)
    assert again.get_meta("pull_cursor") == "42" and again.get_meta("missing", 7) == 7
    again.close()


def test_threads_share_the_store_without_lost_saves_or_torn_reads(store):
    saved: list[str] = []
    errors: list[BaseException] = []
    stop = threading.Event()

    def writer():
        try:
            for _ in range(40):
                saved.append(store.create_call(call_data())["id"])
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    def reader():
        try:
            while not stop.is_set():
                for r in store.outbox():
                    assert r["type"] == "call"
                store.counts()
        except BaseException as exc:  # pragma: no cover
            errors.append(exc)

    threads = [threading.Thread(target=writer) for _ in range(3)] + [threading.Thread(target=reader)]
    for t in threads:
        t.start()
    for t in threads[:3]:
        t.join()
    stop.set()
    threads[3].join()
    assert errors == []
    assert len(set(saved)) == 120 and {r["id"] for r in store.outbox()} == set(saved)


def test_a_record_refused_for_its_review_is_corrected_without_it(store):
    call = store.create_call(call_data())
    store.edit(call["id"], review={"state": "approved", "note": ""})  # a volunteer's phone, by mistake
    store.record_verdicts([{"id": call["id"], "version": 2, "status": "rejected",
                            "errors": [{"field": "review", "message": "only a team lead sets a review"}]}])
    fixed = store.edit(call["id"], data=call_data(status="dispatched"))
    assert "review" not in fixed and store.get(call["id"]).state == "pending"
    kept = store.edit(call["id"], data=call_data(status="on_scene"), review={"state": "flagged", "note": "x"})
    assert kept["review"]["state"] == "flagged"  # an explicit review is the caller's to give
