"""What no database can store, or no one should: refused record by record, never a 500.

NUL characters (PostgreSQL text cannot hold them), unpaired surrogates (not UTF-8),
and times outside the plausible window (fieldapp.core.records.EARLIEST_TIME, LATEST_TIME).
"""

from __future__ import annotations

import gzip
import json
import signal
import uuid

import httpx
import pytest

from fieldapp.store import RecordStore
from fieldapp.sync import enrollment
from fieldapp.sync.session import run_pass
from tests.records_factory import call_record, recovery_data, recovery_record
from tests.server.conftest import Server


def _verdicts(response: httpx.Response) -> list[dict]:
    assert response.status_code == 200, response.text
    return response.json()["results"]


def test_a_nul_in_one_tag_among_50_is_rejected_on_data_tag_and_the_rest_stored(server, team):
    token = server.enroll(team)
    records = [recovery_record(data=recovery_data(str(uuid.uuid4()), tag=f"T-{n}")) for n in range(51)]
    records[17]["data"]["tag"] = "T-\x0017"
    results = _verdicts(server.push(token, records))
    assert [r["status"] for r in results].count("accepted") == 50
    assert results[17]["status"] == "rejected"
    assert [e["field"] for e in results[17]["errors"]] == ["data.tag"]
    assert "NUL" in results[17]["errors"][0]["message"]


@pytest.mark.parametrize("where", ["data.notes", "recorded_by", "data.location.place", "review.note"])
def test_a_nul_anywhere_in_a_text_is_rejected_naming_the_field(server, team, where):
    token = server.enroll(team, role="lead")
    record = call_record(review={"state": "approved"})
    holder = record
    *parents, name = where.split(".")
    for parent in parents:
        holder = holder[parent]
    holder[name] = "a\x00b"
    good = call_record()
    results = _verdicts(server.push(token, [record, good]))
    assert results[0]["status"] == "rejected" and [e["field"] for e in results[0]["errors"]] == [where]
    assert results[1]["status"] == "accepted"


def test_an_unpaired_surrogate_in_a_record_is_rejected_naming_the_field(server, team):
    token = server.enroll(team)
    record = call_record()
    body = json.dumps({"records": [record, call_record()]}).replace('"received"', '"received", "notes": "a\\ud800b"', 1)
    results = _verdicts(server.push(token, [], raw=body.encode()))
    assert results[0]["status"] == "rejected" and [e["field"] for e in results[0]["errors"]] == ["data.notes"]
    assert results[1]["status"] == "accepted"


@pytest.mark.parametrize("key", ["\\ud800", "\\udfff", "\\u0000", "x\\ud83d"])
def test_a_bad_key_outside_the_records_is_a_4xx_with_a_reason(server, team, key):
    token = server.enroll(team)
    raw = ('{"records": [], "' + key + '": 1}').encode()
    for compress in (False, True):
        response = server.push(token, [], raw=raw, compress=compress)
        assert 400 <= response.status_code < 500, response.text
        assert "unknown field" in response.json()["detail"]


def test_a_bad_key_inside_a_record_is_rejected_and_the_rest_stored(server, team):
    token = server.enroll(team)
    body = json.dumps({"records": [call_record(), call_record()]})
    body = body.replace('"version"', '"\\ud800": 1, "version"', 1)
    results = _verdicts(server.push(token, [], raw=body.encode()))
    assert results[0]["status"] == "rejected" and results[0]["errors"]
    assert results[1]["status"] == "accepted"


@pytest.mark.parametrize("field, value", [
    ("created_at", "0001-01-01T00:00:00+00:00"),
    ("updated_at", "9999-12-31T23:59:59Z"),
    ("data.received_at", "1969-12-31T23:59:59Z"),
    ("data.received_at", "2100-01-01T00:00:00Z"),
    ("data.status_log.0.at", "0001-01-01T00:30:00-01:00"),
])
def test_a_time_outside_the_plausible_window_is_rejected_naming_the_field(server, team, field, value):
    token = server.enroll(team)
    record = call_record()
    record["data"]["status_log"] = [{"status": "received", "at": "2026-11-25T10:00:00Z"}]
    holder: object = record
    *parents, name = field.split(".")
    for parent in parents:
        holder = holder[int(parent)] if isinstance(holder, list) else holder[parent]  # type: ignore[index]
    holder[name] = value  # type: ignore[index]
    results = _verdicts(server.push(token, [record, call_record()]))
    assert results[0]["status"] == "rejected"
    assert [e["field"] for e in results[0]["errors"]] == [field]
    assert "1970" in results[0]["errors"][0]["message"]
    assert results[1]["status"] == "accepted"


def test_the_edges_of_the_window_are_stored(server, team):
    token = server.enroll(team)
    early = call_record(created_at="1970-01-01T00:00:00Z")
    late = call_record(updated_at="2099-12-31T23:59:59Z")
    assert [r["status"] for r in _verdicts(server.push(token, [early, late]))] == ["accepted", "accepted"]


class _NulInOneTag(httpx.HTTPTransport):
    """The real transport; puts a NUL into one recovery's tag on its way out (the phone itself refuses one)."""

    def __init__(self, target: str):
        super().__init__()
        self.target = target

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/push"):
            body = json.loads(gzip.decompress(request.read()))
            for record in body["records"]:
                if record["id"] == self.target:
                    record["data"]["tag"] = "T-\x00bad"
            content = gzip.compress(json.dumps(body).encode())
            request = httpx.Request(request.method, request.url,
                                    headers={**request.headers, "content-length": str(len(content))}, content=content)
        return super().handle_request(request)


def test_on_postgresql_the_phones_queue_empties_but_for_the_record_with_a_nul(postgres_database, tmp_path):
    server = Server(postgres_database()).start()
    try:
        folder = tmp_path / "phone"
        store = RecordStore.open(folder)
        enrollment.save(folder, enrollment.Enrollment(server.url, server.enroll("team-nul", store.device_id)))
        call = store.create_call(call_record()["data"])
        made = [store.create_recovery(recovery_data(call["id"], tag=f"T-{n}")) for n in range(50)]
        target = made[20]["id"]
        result = run_pass(store, folder, transport=_NulInOneTag(target))
        assert result.error is None
        assert store.get(target).state == "rejected"
        assert [e["field"] for e in store.get(target).errors] == ["data.tag"]
        assert all(store.get(r["id"]).state == "sent" for r in made if r["id"] != target)
        assert store.get(call["id"]).state == "sent"
        assert run_pass(store, folder).push.batches == 0  # nothing left to send: no batch retried for ever
    finally:
        server.kill(signal.SIGTERM)
