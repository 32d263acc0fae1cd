"""Small builders of valid records and record data for tests."""

from __future__ import annotations

import copy
import uuid

CALL_DATA = {
    "received_at": "2026-11-25T10:00:00+03:00",
    "incident_type": "building_collapse",
    "location": {"place": "Jableh - جبلة", "lat": 35.3609, "lon": 35.9256, "accuracy_m": 12.0},
    "status": "received",
}


def call_data(**changes) -> dict:
    return {**copy.deepcopy(CALL_DATA), **changes}


def recovery_data(call_id: str, **changes) -> dict:
    return {
        "call_id": call_id,
        "outcome": "deceased",
        "count": 1,
        "recovered_at": "2026-11-25T11:30:00+03:00",
        **changes,
    }


def call_record(**changes) -> dict:
    record = {
        "id": str(uuid.uuid4()),
        "type": "call",
        "version": 1,
        "base_version": 0,
        "device_id": "dev-test",
        "created_at": "2026-11-25T10:01:00+03:00",
        "updated_at": "2026-11-25T10:01:00+03:00",
        "data": call_data(),
    }
    record.update(changes)
    return record


def recovery_record(call_id: str | None = None, **changes) -> dict:
    record = {
        "id": str(uuid.uuid4()),
        "type": "recovery",
        "version": 1,
        "base_version": 0,
        "device_id": "dev-test",
        "created_at": "2026-11-25T11:31:00+03:00",
        "updated_at": "2026-11-25T11:31:00+03:00",
        "data": recovery_data(call_id or str(uuid.uuid4())),
    }
    record.update(changes)
    return record


def call_in_conflict(store, *, notes: str, their_notes: str, their_device: str) -> dict:
    """A call the server took as version 1, then cancelled here ("false alarm") while another
    device completed it first (`their_notes`): the server answers `conflict`. Returns the call as saved."""
    call = store.create_call(call_data(notes=notes))
    store.record_verdicts([{"id": call["id"], "version": 1, "status": "accepted"}])
    store.edit(call["id"], data=call_data(status="cancelled", notes="false alarm"))
    theirs = {**call, "version": 2, "base_version": 1, "device_id": their_device,
              "data": {**call["data"], "status": "completed", "notes": their_notes}}
    store.record_verdicts([{"id": call["id"], "version": 2, "status": "conflict", "server_record": theirs}])
    return call
