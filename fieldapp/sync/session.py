"""One sync pass: push the outbox, pull the team's records, then send photos. No retries here.

Records always go first: the photos' uploads (previews, then originals) start once the
queue is pushed, and stop between two chunks when a record is saved meanwhile; that
record is pushed, and the upload continues from the server's offset (sync/photos.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx

from fieldapp.store import RecordStore

from . import enrollment
from .client import SyncClient
from .errors import NotEnrolled, SyncError
from .photos import PHOTOS_PATH, PhotoReport, PhotoUploader, fetch_previews, upload_waiting
from .pull import CURSOR, WHOLE, pull_team
from .push import PushReport, push_outbox

LAST_SYNC = "last_sync"
# Rounds of "records saved during an upload go first" in one pass; past them the pass ends
# with the photo still waiting, and the next pass continues it.
RECORD_ROUNDS = 20


@dataclass
class PassResult:
    push: PushReport
    pulled: int
    error: SyncError | None
    counts: dict[str, int]
    photos: PhotoReport = field(default_factory=PhotoReport)
    photo_counts: dict[str, int] = field(default_factory=dict)

    @property
    def waiting(self) -> int:
        """Records not delivered, and photo files (originals and previews) not yet on the server."""
        return (self.counts["pending"] + self.counts["rejected"] + self.counts["conflict"]
                + self.photo_counts.get("photos_waiting", 0) + self.photo_counts.get("previews_waiting", 0))


def run_pass(store: RecordStore, data_dir: Path, *, transport: httpx.BaseTransport | None = None,
             timeout: float | httpx.Timeout | None = None,
             progress: Callable[[int, int], None] | None = None, originals: bool = True) -> PassResult:
    """Push then pull once; record the outcome in the store's meta. Never raises SyncError.

    Without `originals` (held for Wi-Fi: photos.originals_may_go) only the photos' previews are sent.
    """
    report, pulled, error, photos = PushReport(), 0, None, PhotoReport()
    try:
        linked = enrollment.load(data_dir)
        if linked is None:
            raise NotEnrolled("this device is not enrolled with a server yet")
        kwargs = {"timeout": timeout} if timeout is not None else {}
        with SyncClient(linked.server_url, linked.token, transport=transport, **kwargs) as client:
            if store.get_meta(CURSOR, "0") == "0" and not store.get_meta(WHOLE):
                # A phone that never pulled learns its team first: a pull from the start
                # brings back everything, this device's own versions too, so after the
                # push they would all come back again. (Once it has, pull_team asks the
                # server to leave its own out even while the cursor is still 0.)
                pulled += pull_team(store, client)
            push_outbox(store, client, progress=progress, report=report)
            pulled += pull_team(store, client)
            with PhotoUploader(linked.server_url.rstrip("/") + PHOTOS_PATH, linked.token, transport=transport,
                               **kwargs) as uploader:
                for _ in range(RECORD_ROUNDS):
                    upload_waiting(store, uploader, records_waiting=lambda: store.counts()["pending"] > 0, report=photos,
                                   originals=originals)
                    if not photos.yielded:
                        break
                    photos.yielded = False
                    push_outbox(store, client, progress=progress, report=report)  # saved during the upload: first
                fetch_previews(store, uploader)  # a lead's thumbnails of the team's photos, last
    except SyncError as exc:
        error = exc
    else:
        store.apply_retention()  # what the server now holds may leave the phone, past the team's period
    now = datetime.now(UTC).astimezone().isoformat(timespec="seconds")
    last = store.get_meta(LAST_SYNC, {}) or {}
    last.update({"at": now, "ok": error is None, "error": str(error) if error else None, "sent": report.sent})
    if error is None:
        last["last_success"] = now
    store.set_meta(LAST_SYNC, last)
    return PassResult(report, pulled, error, store.counts(), photos, store.photos.counts())
