"""Sync over the wire: throughput, bytes per record, and a slow link.

    python -m bench sync

The real server (`fieldapp-server serve`, SQLite) and a real device store on
this machine; traffic goes through tests/sync/faultproxy.py, which counts the
bytes and can play a slow link.

1. A queue of 10,000 records drained by the sync client (gzip batches of 500)
   beside one request per record, the way OpenRosa clients submit (on the
   first 500 records of the same queue), records per second each.
2. Bytes on the wire per record for that drain (requests, and both ways)
   beside gzip of the same records as JSON lines.
3. 1,000 records drained through a link of 20 kB/s with 300 ms round trips,
   beside that link's limit: bytes / bandwidth + round trips x 300 ms.
"""

from __future__ import annotations

import gzip
import json
import shutil
import signal
import tempfile
import time
from pathlib import Path

import httpx

from fieldapp.demo import populate
from fieldapp.store import RecordStore
from fieldapp.sync import enrollment
from fieldapp.sync.client import SyncClient
from fieldapp.sync.push import push_outbox
from tests.server.conftest import Server
from tests.sync.faultproxy import FaultProxy

QUEUE = 10_000
ONE_BY_ONE = 500
SLOW = 1_000
BANDWIDTH = 20_000  # bytes per second
RTT = 0.3  # seconds


def _queue(folder: Path, records: int) -> None:
    store = RecordStore.open(folder)
    calls = 1
    while store.counts()["total"] < records:
        populate(store, 50, seed=calls)
        calls += 50
    store.close()




def _enrolled_copy(source: Path, target: Path, server: Server, url: str, team: str) -> RecordStore:
    shutil.copytree(source, target)
    store = RecordStore.open(target)
    token = server.enroll(team, f"{store.device_id}-{target.name}")
    enrollment.save(target, enrollment.Enrollment(url, token))
    return store


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        source = tmp / "queue"
        _queue(source, QUEUE)
        server = Server(f"sqlite:///{tmp / 'server.db'}").start()
        try:
            run(tmp, source, server)
        finally:
            server.kill(signal.SIGTERM)


def run(tmp: Path, source: Path, server: Server) -> None:
    # 1: the batched drain of the whole queue, straight to the server
    store = _enrolled_copy(source, tmp / "batched", server, server.url, "team-a")
    queued = store.outbox()
    linked = enrollment.load(tmp / "batched")
    started = time.perf_counter()
    with SyncClient(linked.server_url, linked.token) as client:
        report = push_outbox(store, client)
    batched_s = time.perf_counter() - started
    assert report.sent == len(queued) and store.counts()["pending"] == 0, report
    store.close()

    # 2: the same drain again, through a pass-through proxy that counts the bytes
    proxy = FaultProxy(server.port)
    store = _enrolled_copy(source, tmp / "counted", server, proxy.url, "team-d")
    linked = enrollment.load(tmp / "counted")
    with SyncClient(linked.server_url, linked.token) as client:
        counted = push_outbox(store, client)
    assert counted.sent == len(queued)
    up, down = proxy.bytes_up, proxy.bytes_down
    proxy.close()
    store.close()
    jsonl_gzip = len(gzip.compress("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in queued).encode(), 6))

    # 1: one request per record (uncompressed JSON, a kept-alive connection: the fairest case for it)
    store = _enrolled_copy(source, tmp / "single", server, server.url, "team-b")
    sample = store.outbox(limit=ONE_BY_ONE)
    token = enrollment.load(tmp / "single").token
    started = time.perf_counter()
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"}) as http:
        for record in sample:
            answer = http.post("/api/v1/push", json={"records": [record]})
            store.record_verdicts(answer.json()["results"])
    single_s = time.perf_counter() - started
    store.close()

    n = len(queued)
    batched_rate, single_rate = n / batched_s, len(sample) / single_s
    print(f"1. drain a queue of {n} records over loopback")
    print(f"   sync client, gzip batches of 500: {batched_rate:8.0f} records/s ({batched_s:.1f} s)")
    print(f"   one request per record (first {len(sample)}): {single_rate:8.0f} records/s")
    print(f"   ratio: {batched_rate / single_rate:.1f}x   (goal: at least 20x)")
    print(f"2. bytes on the wire per record ({counted.batches} pushes)")
    print(f"   requests: {up / n:7.1f}   both ways: {(up + down) / n:7.1f}   gzip of JSON lines: {jsonl_gzip / n:7.1f}")
    print(f"   ratio: requests {up / jsonl_gzip:.2f}x, both ways {(up + down) / jsonl_gzip:.2f}x   (goal: at most 1.2x)")

    # 3: a slow link
    slow_source = tmp / "slow-source"
    shutil.copytree(source, slow_source)
    store = RecordStore.open(slow_source)
    keep = {r["id"] for r in store.outbox(limit=SLOW)}
    store.record_verdicts([{"id": r["id"], "version": r["version"], "status": "accepted"} for r in store.outbox() if r["id"] not in keep])
    store.close()
    proxy = FaultProxy(server.port, bandwidth=BANDWIDTH, latency=RTT)
    store = _enrolled_copy(slow_source, tmp / "slow", server, proxy.url, "team-c")
    linked = enrollment.load(tmp / "slow")
    started = time.perf_counter()
    with SyncClient(linked.server_url, linked.token, timeout=120) as client:
        report = push_outbox(store, client)
    slow_s = time.perf_counter() - started
    assert report.sent == SLOW, report
    requests = report.batches
    wire = proxy.bytes_up + proxy.bytes_down
    limit = wire / BANDWIDTH + requests * RTT
    proxy.close()
    store.close()
    print(f"3. drain {SLOW} records through {BANDWIDTH // 1000} kB/s with {int(RTT * 1000)} ms round trips")
    print(f"   took {slow_s:.1f} s; the link's limit for those {wire} bytes in {requests} requests: {limit:.1f} s")
    print(f"   ratio: {slow_s / limit:.2f}x   (goal: within 1.5x)")


if __name__ == "__main__":
    main()
