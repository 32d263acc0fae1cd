"""Sending the outbox: batches bounded by count and bytes, each verdict kept on its record.

The outbox is the store's query (pending records, calls before their
recoveries, oldest first). A record counts as sent only on the server's
verdict. A refused or conflicting record is kept aside by the store and never
holds back the rest. A failure of the link stops the pass and changes
nothing: the scheduler decides when to try again.

One batch is on the wire while the verdicts of the one before land in the
store: the phone's durable writes and the server's work overlap.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from fieldapp.core.protocol import SENT_STATUSES, Verdict
from fieldapp.store import RecordStore

from .client import SyncClient, encode_record, pack_push

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
    statuses: dict[str, int] = field(default_factory=dict)

    @property
    def done(self) -> int:
        """Records with a verdict so far."""
        return self.sent + self.rejected + self.conflicts

    def count(self, verdicts: list[Verdict]) -> None:
        self.batches += 1
        for verdict in verdicts:
            self.statuses[verdict.status.value] = self.statuses.get(verdict.status.value, 0) + 1
            if verdict.status in SENT_STATUSES:
                self.sent += 1
            elif verdict.status == "rejected":
                self.rejected += 1
            else:
                self.conflicts += 1


@dataclass
class Batch:
    records: list[dict]
    body: bytes | None = None  # the request, packed here while the batch before is on the wire


def next_batch(store: RecordStore, *, skip: Collection[str] = ()) -> Batch:
    batch = Batch([])
    encoded: list[bytes] = []
    size = 0
    for record in store.outbox(limit=BATCH_RECORDS, skip=skip):
        text = encode_record(record)
        if batch.records and size + len(text) > BATCH_BYTES:
            break
        batch.records.append(record)
        encoded.append(text)
        size += len(text)
    if batch.records:
        batch.body = pack_push(encoded)
    return batch


def push_outbox(store: RecordStore, client: SyncClient, *, progress: Callable[[int, int], None] | None = None,
                report: PushReport | None = None) -> PushReport:
    """Send everything waiting, batch by batch. Raises SyncError when the link fails.

    `report` is filled as batches land, so a caller holding it still knows what
    got through when a later batch fails.
    """
    report = report if report is not None else PushReport()
    total = store.counts()["pending"]
    link_failed = threading.Event()

    def send(batch: Batch) -> list[Verdict]:
        # The wire thread sends one batch at a time: once one fails, the next
        # (already queued) is not sent, and the pass stops on the first failure.
        if link_failed.is_set():
            raise NotSent()
        try:
            return client.push(batch.records, body=batch.body)
        except BaseException:
            link_failed.set()
            raise

    def land(verdicts: list[Verdict]) -> None:
        store.record_verdicts(verdicts)
        report.count(verdicts)
        if progress:
            progress(report.done, max(total, report.done))

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="fieldapp-push") as wire:
        out: tuple[Batch, Future] | None = None  # the batch on the wire
        # Edits saved while a batch is out stay pending; bound the passes all the same.
        for _ in range(total // BATCH_RECORDS + 50):
            batch = next_batch(store, skip={r["id"] for r in out[0].records} if out else ())
            sending = None
            if batch.records:
                if progress:
                    progress(report.done, max(total, report.done + len(batch.records)))
                # Network I/O in the wire thread: no store lock is held there.
                sending = (batch, wire.submit(send, batch))
            if out is not None:
                try:
                    land(out[1].result())
                except BaseException:
                    if sending is not None:
                        _land_if_answered(land, sending[1])
                    raise
            elif sending is None:
                break  # nothing out, nothing waiting
            # (With nothing new but a batch just landed, look again: an edit
            # saved while it was out is waiting now.)
            out = sending
        if out is not None:
            land(out[1].result())
    return report


class NotSent(Exception):
    """A batch left unsent because the one before it failed."""


def _land_if_answered(land: Callable[[list[Verdict]], None], pending: Future) -> None:
    # The batch before failed; this one was queued behind it. Keep its verdicts
    # if it got any (it was already on the wire), else it was never sent.
    try:
        verdicts = pending.result()
    except BaseException:
        return
    land(verdicts)
