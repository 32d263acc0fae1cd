"""The reconciliation rules on plain documents, with no files (fieldapp/store/reconcile.py)."""

from __future__ import annotations

import json

from fieldapp.store import reconcile
from fieldapp.store.document import SyncState, new_document
from tests.records_factory import call_data, call_record


def _doc(record: dict, state: SyncState = SyncState.PENDING, acked: int = 0) -> dict:
    return new_document(record, state=state, acked_version=acked, mine=True)


def _v(record: dict, version: int, base: int, **data) -> dict:
    return {**record, "version": version, "base_version": base, "data": call_data(**data),
            "updated_at": f"2026-11-25T1{version}:00:00.000+03:00"}


def test_only_the_verdict_for_the_current_version_marks_it_sent():
    first = call_record()
    doc = _doc(_v(first, 2, 0, status="dispatched"))
    reconcile.apply_verdict(doc, {"id": first["id"], "version": 1, "status": "accepted"})
    assert doc["state"] == SyncState.PENDING and doc["acked_version"] == 1
    assert doc["record"]["base_version"] == 1  # the edit now builds on what the server holds
    reconcile.apply_verdict(doc, {"id": first["id"], "version": 2, "status": "duplicate"})
    assert doc["state"] == SyncState.SENT and doc["acked_version"] == 2


def test_a_refusal_keeps_its_reasons_and_a_late_one_changes_nothing():
    record = call_record()
    doc = _doc(record)
    errors = [{"field": "data.status", "message": "not a status"}]
    reconcile.apply_verdict(doc, {"id": record["id"], "version": 1, "status": "rejected", "errors": errors})
    assert doc["state"] == SyncState.REJECTED and doc["errors"] == errors
    newer = _doc(_v(record, 2, 0))
    reconcile.apply_verdict(newer, {"id": record["id"], "version": 1, "status": "rejected", "errors": errors})
    assert newer["state"] == SyncState.PENDING and newer["errors"] == []


def test_a_conflict_keeps_both_sides():
    record = call_record()
    doc = _doc(_v(record, 2, 1, status="on_scene"))
    server = _v(record, 2, 1, status="completed")
    reconcile.apply_verdict(doc, {"id": record["id"], "version": 2, "status": "conflict", "server_record": server})
    assert doc["state"] == SyncState.CONFLICT and doc["server_record"] == server
    assert doc["record"]["data"]["status"] == "on_scene"


def test_a_pulled_version_never_overwrites_an_unsent_edit():
    record = call_record()
    doc = _doc(_v(record, 2, 1, status="on_scene"))
    pulled = _v(record, 3, 2, status="completed")
    reconcile.merge_pulled(doc, pulled)
    assert doc["record"]["version"] == 2 and doc["history"] == [pulled]
    sent = _doc(record, SyncState.SENT, acked=1)
    reconcile.merge_pulled(sent, pulled)
    assert sent["record"] == pulled and sent["acked_version"] == 3 and sent["history"] == [record]


def test_a_newer_version_from_the_server_closes_a_conflict_resolved_elsewhere():
    record = call_record()
    server = _v(record, 2, 1, status="completed")
    doc = _doc(_v(record, 2, 1, status="on_scene"))
    reconcile.mark_conflict(doc, server)
    resolution = _v(record, 3, 2, status="completed")
    reconcile.merge_pulled(doc, resolution)
    assert doc["state"] == SyncState.SENT and doc["record"] == resolution and doc["server_record"] is None


def test_copies_of_one_record_fold_into_the_newest_losing_no_version():
    record = call_record()
    v2 = _v(record, 2, 1, status="dispatched")
    v3 = _v(record, 3, 2, status="completed")
    local = {**_doc(v3, acked=2), "history": [record, v2]}  # edited here, waiting
    pulled = {**_doc(v2, SyncState.SENT, acked=2), "mine": False}  # the same record pulled back as new
    folded = reconcile.fold_copies([pulled, local])
    assert folded["record"] == v3 and folded["state"] == SyncState.PENDING
    assert folded["history"] == [record, v2] and folded["acked_version"] == 2 and folded["mine"]


def test_an_unsent_edit_survives_a_fold_with_a_newer_server_version():
    record = call_record()
    ours = _v(record, 2, 1, status="on_scene")
    theirs = _v(record, 3, 2, status="completed")  # another device's, on the server
    folded = reconcile.fold_copies([_doc(theirs, SyncState.SENT, acked=3), _doc(ours, SyncState.PENDING, acked=1)])
    assert folded["record"] == ours and folded["state"] == SyncState.PENDING
    assert folded["acked_version"] == 1 and folded["history"] == [theirs]  # nothing claimed that it never built on


def test_an_open_conflict_survives_a_fold():
    record = call_record()
    ours, server = _v(record, 2, 1, status="on_scene"), _v(record, 2, 1, status="completed")
    in_conflict = _doc(ours)
    reconcile.mark_conflict(in_conflict, server)
    later = _v(record, 3, 1, status="cancelled")  # does not build on the server's side: no resolution
    folded = reconcile.fold_copies([_doc(later, SyncState.SENT, acked=3), in_conflict])
    assert folded["state"] == SyncState.CONFLICT and folded["server_record"] == server
    assert folded["record"] == ours and later in folded["history"]


def test_a_refused_copy_keeps_its_reasons_and_claims_no_acknowledgement():
    record = call_record()
    ours, theirs = _v(record, 2, 1, status="on_scene"), _v(record, 2, 1, status="completed")
    refused = {**_doc(ours, acked=1), "state": SyncState.REJECTED.value, "errors": [{"field": "data.status", "message": "x"}]}
    folded = reconcile.fold_copies([_doc(theirs, SyncState.SENT, acked=2), refused])
    assert folded["state"] == SyncState.REJECTED and folded["errors"] == refused["errors"]
    assert folded["acked_version"] == 1 and folded["history"] == [theirs]


def test_two_unsent_copies_keep_both_versions():
    record = call_record()
    one, other = _v(record, 2, 1, status="on_scene"), _v(record, 2, 1, status="completed")
    folded = reconcile.fold_copies([_doc(one), _doc(other)])
    assert folded["state"] == SyncState.PENDING
    assert {json.dumps(folded["record"], sort_keys=True), *(json.dumps(h, sort_keys=True) for h in folded["history"])} >= {
        json.dumps(one, sort_keys=True), json.dumps(other, sort_keys=True)}
