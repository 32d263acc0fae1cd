"""Answers no sane server gives: each is a clear ServerError and changes nothing on the phone.

The server is replaced at the transport edge (httpx.MockTransport): what is
tested is the client's reading of a broken or hostile answer.
"""

from __future__ import annotations

import json

import httpx
import pytest

from fieldapp.demo import populate
from fieldapp.store import RecordStore
from fieldapp.sync.client import SyncClient
from fieldapp.sync.errors import RequestRefused, ServerError
from fieldapp.sync.push import push_outbox


def _client(answer) -> SyncClient:
    return SyncClient("https://ops.example", "token", transport=httpx.MockTransport(answer))


ANSWERS = {
    "not JSON": lambda request: httpx.Response(200, content=b"<html>proxy login</html>"),
    "cut short": lambda request: httpx.Response(200, content=b'{"results": [{"id": '),
    "nested past any parser": lambda request: httpx.Response(200, content=b"[" * 200_000 + b"]" * 200_000),
    "endless": lambda request: httpx.Response(200, content=(b"[" + b" " * 1024 * 1024 for _ in range(10_000))),
    "broken gzip": lambda request: httpx.Response(200, content=b"\x1f\x8b not gzip at all",
                                                  headers={"Content-Encoding": "gzip"}),
    "not verdicts": lambda request: httpx.Response(200, json={"results": [{"status": "maybe"}]}),
    "too few verdicts": lambda request: httpx.Response(200, json={"results": []}),
    "verdicts for other records": lambda request: httpx.Response(200, json={"results": [
        {"id": "00000000-0000-4000-8000-000000000000", "version": 1, "status": "accepted", "errors": []}
        for _ in json.loads(_unzip(request))["records"]
    ]}),
}


def _unzip(request: httpx.Request) -> bytes:
    import gzip

    return gzip.decompress(request.content)


@pytest.mark.parametrize("name", ANSWERS)
def test_a_broken_answer_is_a_server_error_and_leaves_the_queue_as_it_was(name, tmp_path):
    store = RecordStore.open(tmp_path / "device")
    populate(store, 3, seed=2)
    before = store.counts()
    with _client(ANSWERS[name]) as client, pytest.raises(ServerError):
        push_outbox(store, client)
    assert store.counts() == before and before["pending"] == before["total"] > 0
    store.close()


def test_a_refusal_says_the_servers_reason():
    def too_large(request):
        return httpx.Response(413, json={"detail": "a push may carry at most 1000 records; this one has 1001"})

    with _client(too_large) as client, pytest.raises(RequestRefused, match="at most 1000 records"):
        client.push([])
