"""Each verdict lands on its record: refusals, conflicts, and edits made while a push is out."""

from __future__ import annotations

import gzip
import json

import httpx

from fieldapp.sync.session import run_pass
from tests.records_factory import call_data, recovery_data


class Tampering(httpx.HTTPTransport):
    """The real transport, with a hook on each push body before it leaves."""

    def __init__(self, on_push):
        super().__init__()
        self.on_push = on_push

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/push"):
            body = json.loads(gzip.decompress(request.read()))
            body = self.on_push(body) or body
            content = gzip.compress(json.dumps(body).encode())
            request = httpx.Request(request.method, request.url, headers={**request.headers, "content-length": str(len(content))},
                                    content=content)
        return super().handle_request(request)


def test_a_refused_record_keeps_its_errors_and_does_not_block_the_rest(link, tmp_path):
    folder = tmp_path / "device"
    store = link.device(folder, direct=True)
    calls = [store.create_call(call_data(notes=f"call {n}")) for n in range(5)]
    target = calls[2]["id"]

    def smuggle(body):  # as if the server's rules had grown stricter than the phone's
        for record in body["records"]:
            if record["id"] == target:
                record["data"]["religion"] = "x"

    result = run_pass(store, folder, transport=Tampering(smuggle))
    assert result.error is None
    refused = store.get(target)
    assert refused.state == "rejected"
    assert refused.errors == [{"field": "data.religion", "message": "unknown field: not part of the record and not accepted"}]
    assert [store.get(c["id"]).state for c in calls].count("sent") == 4
    # never retried unchanged ...
    assert run_pass(store, folder).push.batches == 0
    # ... and an edit sends it again
    store.edit(target, data=call_data(notes="fixed"))
    assert run_pass(store, folder).push.sent == 1 and store.get(target).state == "sent"


def test_an_edit_made_while_its_batch_is_out_stays_pending_for_the_new_version(link, tmp_path):
    folder = tmp_path / "device"
    store = link.device(folder, direct=True)
    call = store.create_call(call_data())
    edited = {}

    def volunteer_edits(body):
        if not edited:
            edited["v"] = store.edit(call["id"], data=call_data(status="on_scene"))

    result = run_pass(store, folder, transport=Tampering(volunteer_edits))
    # the pass sent version 1, then (still in the same pass) the edit
    assert result.error is None
    stored = store.get(call["id"])
    assert stored.state == "sent" and stored.version == 2 and stored.record["base_version"] == 1
    assert set(link.stored_versions()) == {(call["id"], 1), (call["id"], 2)}


def test_an_edit_during_a_push_is_not_marked_sent_by_the_older_verdict(link, tmp_path):
    from fieldapp.sync import enrollment
    from fieldapp.sync.client import SyncClient

    folder = tmp_path / "device"
    store = link.device(folder, direct=True)
    call = store.create_call(call_data())
    batch = store.outbox()
    store.edit(call["id"], data=call_data(status="dispatched"))  # while version 1 is on the wire
    linked = enrollment.load(folder)
    with SyncClient(linked.server_url, linked.token) as client:
        store.record_verdicts(client.push(batch))
    stored = store.get(call["id"])
    assert stored.state == "pending" and stored.version == 2 and stored.acked_version == 1


def test_two_devices_editing_offline_make_a_conflict_that_keeps_both_then_a_lead_resolves_it(link, tmp_path):
    a = link.device(tmp_path / "a", direct=True)
    lead = link.device(tmp_path / "lead", role="lead", direct=True)
    call = a.create_call(call_data())
    a.create_recovery(recovery_data(call["id"]))
    assert run_pass(a, tmp_path / "a").error is None
    assert run_pass(lead, tmp_path / "lead").pulled == 2
    # both edit version 1 while offline
    a.edit(call["id"], data=call_data(status="completed", notes="all out"))
    lead.edit(call["id"], data=call_data(status="cancelled"), review={"state": "flagged", "note": "duplicate call?"})
    assert run_pass(a, tmp_path / "a").error is None
    result = run_pass(lead, tmp_path / "lead")
    assert result.push.conflicts == 1
    stored = lead.get(call["id"])
    assert stored.state == "conflict"
    assert stored.record["data"]["status"] == "cancelled"  # ours
    assert stored.server_record["data"]["status"] == "completed"  # theirs, kept beside it
    # the lead combines them; the result builds on the server's version and closes the conflict
    resolved = lead.resolve_conflict(call["id"], data=call_data(status="completed", notes="all out"),
                                     review={"state": "approved"})
    assert resolved["base_version"] == stored.server_record["version"]
    assert run_pass(lead, tmp_path / "lead").error is None
    assert lead.get(call["id"]).state == "sent"
    assert run_pass(a, tmp_path / "a").error is None
    assert a.get(call["id"]).record["review"] == {"state": "approved"}
    from sync.server.db import open_database

    db = open_database(link.server.database_url)
    try:
        page = db.pull(link.team, 0, 100)
    finally:
        db.close()
    assert page.conflicts == {}


def test_progress_counts_each_batch_as_it_lands_and_ends_at_all_of_them(link, tmp_path):
    from fieldapp.demo import populate

    folder = tmp_path / "device"
    store = link.device(folder, direct=True)
    saved = populate(store, 250, seed=9)
    seen = []
    assert run_pass(store, folder, progress=lambda done, total: seen.append((done, total))).error is None
    assert seen[0] == (0, saved) and seen[-1] == (saved, saved)
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)
    store.close()
