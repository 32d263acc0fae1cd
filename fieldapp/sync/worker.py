"""The background worker: sends the queue by itself whenever it can.

It pushes soon after a save (debounced), when the app returns to the
foreground, when the network comes back, and periodically; after a failure it
waits with capped exponential backoff and full jitter. Each pass runs in a
thread, so neither the network nor the store ever blocks the event loop the
interface runs on. Its status can be read at any time.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from fieldapp.store import RecordStore

from . import enrollment
from .backoff import Backoff
from .errors import NotEnrolled, SyncError, Unreachable
from .photos import originals_may_go, unmetered
from .push import PushReport
from .session import PassResult, run_pass

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SyncStatus:
    phase: str = "idle"  # idle | sending | offline | not_enrolled | error
    sending: int = 0  # sending n ...
    of: int = 0  # ... of m
    offline_since: datetime | None = None
    reason: str | None = None  # human-readable, no secrets
    problem: type[SyncError] | None = None  # the failure's kind: the screens tell them apart by type, not by words
    last_success: datetime | None = None
    waiting: int = 0
    refused: int = 0
    conflicts: int = 0
    photos_waiting: int = 0  # photo files (originals and previews) not yet on the server; sent after the records

    def describe(self) -> str:
        if self.phase == "sending":
            return f"sending {self.sending} of {self.of}"
        if self.phase == "offline":
            since = self.offline_since.strftime("%H:%M") if self.offline_since else "?"
            return f"offline since {since}: {self.reason}; {self.waiting} waiting"
        if self.phase == "not_enrolled":
            return f"not enrolled; {self.waiting} waiting"
        if self.phase == "error":
            return f"error: {self.reason}; {self.waiting} waiting"
        if self.refused or self.conflicts:
            return f"{self.waiting} waiting, {self.refused} refused, {self.conflicts} in conflict"
        return "all sent" if not self.waiting else f"{self.waiting} waiting"


def _now() -> datetime:
    return datetime.now(UTC).astimezone()


class SyncWorker:
    def __init__(self, store: RecordStore, data_dir: Path, *, debounce: float = 2.0, period: float = 300.0,
                 backoff: Backoff | None = None, now: Callable[[], datetime] = _now, transport=None):
        self.store = store
        self.data_dir = Path(data_dir)
        self.debounce = debounce
        self.period = period
        self.backoff = backoff or Backoff()
        self._now = now
        self._transport = transport
        self._subscribers: list[Callable[[SyncStatus], None]] = []
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopped = False
        self._due: float | None = None  # loop time of the next pass
        self._status = SyncStatus()
        self.on_wifi: bool | None = None  # the phone's word (ft.Connectivity); None until it has said
        self._refresh_counts()

    # --- what the app calls ------------------------------------------------------------

    @property
    def status(self) -> SyncStatus:
        return self._status

    def subscribe(self, callback: Callable[[SyncStatus], None]) -> None:
        self._subscribers.append(callback)

    def nudge(self) -> None:
        """A record was saved: push soon, once saves pause for `debounce` seconds."""
        self._refresh_counts()
        self._schedule(self.debounce, reset=False)

    def send_now(self) -> None:
        self._schedule(0, reset=True)

    def on_foreground(self) -> None:
        self._schedule(0, reset=False)

    def on_network(self, available: bool) -> None:
        if available:
            self._schedule(0, reset=True)
        elif self._status.phase != "offline":
            self._set(phase="offline", offline_since=self._now(), reason="no network", problem=None)

    def on_networks(self, kinds: list[str], *, changed: bool = True) -> None:
        """The phone's networks by kind (ft.Connectivity's values), and so whether one costs nothing (originals
        held for Wi-Fi go then); `changed` False for the first word at start."""
        self.on_wifi = unmetered(kinds)
        if changed:
            self.on_network(bool(kinds) and kinds != ["none"])

    def stop(self) -> None:
        self._stopped = True
        self._poke()

    async def run(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        if self._due is None:
            self._due = self._loop.time()
        while not self._stopped:
            delay = max(0.0, self._due - self._loop.time())
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=delay)
            except TimeoutError:
                pass
            self._wake.clear()
            if self._stopped:
                break
            if self._loop.time() < self._due:
                continue  # woken to reschedule
            await self.run_once()

    async def run_once(self) -> PassResult:
        """One pass in a thread; then schedule the next one by the outcome."""
        loop = asyncio.get_running_loop()
        self._set(phase="sending", sending=0, of=self._status.waiting)

        def progress(done: int, total: int) -> None:
            loop.call_soon_threadsafe(lambda: self._set(phase="sending", sending=done, of=total))

        try:
            result = await asyncio.to_thread(run_pass, self.store, self.data_dir, transport=self._transport,
                                             progress=progress, originals=originals_may_go(self.store, self.on_wifi))
        except Exception as exc:  # noqa: BLE001 - a store or programming error must not end the worker
            log.error("sync pass failed: %s", type(exc).__name__)  # the class only: messages may name people
            result = self._failed_pass(exc)
        self._after(result, loop.time())
        return result

    def _failed_pass(self, exc: Exception) -> PassResult:
        """A pass that raised: an error result, so the worker backs off and tries again."""
        error = SyncError(f"the pass failed ({type(exc).__name__}); it will be tried again")
        try:
            counts = self.store.counts()
        except Exception:  # noqa: BLE001 - the figures the badge has are kept
            counts = {"pending": self._status.waiting, "rejected": self._status.refused, "conflict": self._status.conflicts}
        return PassResult(PushReport(), 0, error, counts,
                          photo_counts={"photos_waiting": self._status.photos_waiting})

    # --- inside -------------------------------------------------------------------------

    def _after(self, result: PassResult, now: float) -> None:
        counts = result.counts
        common = {"sending": 0, "of": 0, "waiting": counts["pending"], "refused": counts["rejected"], "conflicts": counts["conflict"],
                  "photos_waiting": result.photo_counts.get("photos_waiting", 0) + result.photo_counts.get("previews_waiting", 0)}
        error = result.error
        if error is None:
            self.backoff.reset()
            self._set(phase="idle", offline_since=None, reason=None, problem=None, last_success=self._now(), **common)
            self._due = now + self.period
            return
        if isinstance(error, NotEnrolled):
            self._set(phase="not_enrolled", reason=str(error), problem=type(error), **common)
            self._due = now + self.period
            return
        delay = self.backoff.next_delay()
        self._due = now + delay
        if isinstance(error, Unreachable):
            since = self._status.offline_since or self._now()
            self._set(phase="offline", offline_since=since, reason=str(error), problem=type(error), **common)
        else:  # the server answered, but not with verdicts: a 5xx, a refusal, a token problem
            self._set(phase="error", reason=str(error), problem=type(error), **common)

    def _schedule(self, delay: float, *, reset: bool) -> None:
        if reset:
            self.backoff.reset()
        if self._loop is None:
            return  # run() starts with a pass anyway

        loop = self._loop

        def apply() -> None:
            due = loop.time() + delay
            if self.backoff.failures and self._due is not None and due < self._due:
                return  # backing off after a failure: a save does not shorten the wait
            # Saves in quick succession keep postponing the push until they pause.
            if self._due is None or due < self._due or delay == self.debounce:
                self._due = due
            if self._wake is not None:
                self._wake.set()

        self._loop.call_soon_threadsafe(apply)

    def _poke(self) -> None:
        if self._loop is not None and self._wake is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    def _refresh_counts(self) -> None:
        try:
            counts = self.store.counts()
            photos = self.store.photos.counts()
        except Exception:  # the store reports its own problems; the badge just keeps its figures
            return
        phase = self._status.phase
        if phase == "idle" and not enrollment_exists(self.data_dir):
            phase = "not_enrolled"
        self._set(phase=phase, waiting=counts["pending"], refused=counts["rejected"], conflicts=counts["conflict"],
                  photos_waiting=photos["photos_waiting"] + photos["previews_waiting"])

    def _set(self, **changes) -> None:
        new = replace(self._status, **changes)
        if new != self._status:
            self._status = new
            for callback in list(self._subscribers):
                callback(new)


def enrollment_exists(data_dir: Path) -> bool:
    try:
        return enrollment.load(data_dir) is not None
    except SyncError:
        return False
