"""Sending the outbox: batches bounded by count and bytes, each verdict kept on its record.

The outbox is the store's query (pending records, calls before their
recoveries, oldest first). A record counts as sent only on the server's
verdict. A refused or conflicting record is kept aside by the store and never
holds back the rest. A failure of the link stops the pass and changes
nothing: the scheduler decides when to try again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Callable

from fieldapp.store import RecordStore

from .client import SyncClient
from .protocol import SENT_STATUSES

# Large batches amortize the round trip, the fsyncs and the server's
# transaction; well under the server's limits (1,000 records, 4 MiB).
BATCH_RECORDS = 500
BATCH_BYTES = 1024 * 1024  # before gzip


@dataclass
class PushReport:
    sent: int = 0  # accepted or duplicate
    rejected: int = 0
    conflicts: int = 0
    batches: int = 0
    bytes_sent: int = 0
    statuses: dict[str, int] = field(default_factory=dict)


def next_batch(store: RecordStore) -> list[dict]:
    batch, size = [], 0
    for record in store.outbox(limit=BATCH_RECORDS):
        encoded = len(json.dumps(record, ensure_ascii=False).encode())
        if batch and size + encoded > BATCH_BYTES:
            break
        batch.append(record)
        size += encoded
    return batch


def push_outbox(store: RecordStore, client: SyncClient, *, progress: Callable[[int, int], None] | None = None) -> PushReport:
    """Send everything waiting, batch by batch. Raises SyncError when the link fails."""
    report = PushReport()
    total = store.counts()["pending"]
    # Edits saved while a batch is out stay pending; bound the passes all the same.
    for _ in range(total // BATCH_RECORDS + 50):
        batch = next_batch(store)
        if not batch:
            break
        if progress:
            progress(report.sent + report.rejected + report.conflicts, max(total, report.sent + len(batch)))
        verdicts = client.push(batch)  # no store lock is held here
        store.record_verdicts(verdicts)
        report.batches += 1
        for verdict in verdicts:
            report.statuses[verdict.status.value] = report.statuses.get(verdict.status.value, 0) + 1
            if verdict.status in SENT_STATUSES:
                report.sent += 1
            elif verdict.status == "rejected":
                report.rejected += 1
            else:
                report.conflicts += 1
    return report
