"""The background worker: its schedule, its status, and an event loop it never blocks."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime
from hashlib import sha256 as _sha

from fieldapp.store import RecordStore
from fieldapp.sync.backoff import Backoff
from fieldapp.sync.errors import ServerError, Unreachable
from fieldapp.sync.push import PushReport
from fieldapp.sync.session import PassResult
from fieldapp.sync.worker import SyncWorker
from tests import aio
from tests.records_factory import call_data

T0 = datetime(2026, 11, 25, 21, 40, tzinfo=UTC)


def counts(pending=0, rejected=0, conflict=0):
    return {"pending": pending, "sent": 0, "rejected": rejected, "conflict": conflict,
            "total": pending + rejected + conflict}


def result(error=None, **kw) -> PassResult:
    return PassResult(PushReport(), 0, error, counts(**kw))


def test_failures_back_off_and_success_resets(data_dir):
    store = RecordStore.open(data_dir)
    clock = [T0]
    worker = SyncWorker(store, data_dir, period=300, backoff=Backoff(base=2, cap=60, rng=random.Random(4)),
                        now=lambda: clock[0])
    seen = []
    worker.subscribe(seen.append)
    due = []
    for _ in range(7):
        worker._after(result(Unreachable("no connection to the server (ConnectError)"), pending=12), now=1000.0)
        due.append(worker._due - 1000.0)
        assert 0 <= due[-1] <= worker.backoff.ceiling()
    assert worker.backoff.ceiling() == 60
    status = worker.status
    assert status.phase == "offline" and status.offline_since == T0 and status.waiting == 12
    assert status.describe().startswith("offline since 21:40")
    # a 5xx is an error, not offline, and backs off too
    worker._after(result(ServerError("the server failed (503)"), pending=12), now=2000.0)
    assert worker.status.phase == "error" and "503" in worker.status.reason
    # success: idle, all sent, next pass after the period, backoff starts over
    worker._after(result(pending=0), now=3000.0)
    assert worker.status.phase == "idle" and worker.status.describe() == "all sent"
    assert worker._due == 3300.0 and worker.backoff.failures == 0
    assert worker.status.last_success == T0
    assert seen and seen[-1] == worker.status
    store.close()


def test_not_enrolled_is_a_state_of_its_own(data_dir):
    store = RecordStore.open(data_dir)
    store.create_call(call_data())
    worker = SyncWorker(store, data_dir)
    assert worker.status.phase == "not_enrolled" and worker.status.waiting == 1
    assert worker.status.describe() == "not enrolled; 1 waiting"
    store.close()


def test_a_save_is_pushed_soon_and_the_loop_never_waits_on_the_network(link, tmp_path):
    folder = tmp_path / "device"
    store = link.device(folder)
    worker = SyncWorker(store, folder, debounce=0.2, period=60)
    phases = []
    worker.subscribe(lambda s: phases.append(s.phase))

    async def scenario():
        ticks = []

        async def interface():  # stands for the UI: it must keep running every few ms
            while True:
                ticks.append(asyncio.get_running_loop().time())
                await asyncio.sleep(0.01)

        ui = asyncio.create_task(interface())
        runner = asyncio.create_task(worker.run())
        await asyncio.sleep(0.5)  # first pass: nothing to send
        link.proxy.plan("stall")  # the next request hangs on the network
        store.create_call(call_data())
        worker.nudge()
        await asyncio.sleep(1.0)
        stalled_ticks = [t for t in ticks if t > ticks[0] + 0.8]
        assert worker.status.phase == "sending"
        worker.stop()
        link.proxy.release_stalls()
        await asyncio.wait_for(runner, 10)
        ui.cancel()
        return ticks, stalled_ticks

    ticks, stalled = aio.run(asyncio.wait_for(scenario(), 30))
    gaps = [b - a for a, b in zip(ticks, ticks[1:])]
    assert max(gaps) < 0.2  # the loop kept turning while the pass was stuck
    assert len(stalled) > 10
    assert "sending" in phases
    store.close()


def test_a_nudge_pushes_after_the_debounce(link, tmp_path):
    folder = tmp_path / "device"
    store = link.device(folder)
    worker = SyncWorker(store, folder, debounce=0.1, period=60)

    async def scenario():
        runner = asyncio.create_task(worker.run())
        await asyncio.sleep(0.3)
        for n in range(3):
            store.create_call(call_data(notes=f"call {n}"))
            worker.nudge()
        # Until the pass has sent all three, up to 30 s: a busy machine took longer than the 5 s once given.
        deadline = asyncio.get_running_loop().time() + 30
        while asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.05)
            if worker.status.phase == "idle" and worker.status.waiting == 0 and store.counts()["sent"] == 3:
                break
        worker.stop()
        await asyncio.wait_for(runner, 10)

    aio.run(scenario())
    assert store.counts()["sent"] == 3 and worker.status.describe() == "all sent"
    store.close()


def test_a_damaged_photo_holds_up_neither_the_other_photos_nor_the_records_and_the_worker_lives_on(link, tmp_path):
    from fieldapp.core.records import PhotoKind
    from fieldapp.store.attach import attach
    from tests.sync.test_photo_interop import TAKEN, fetch, photo

    folder = tmp_path / "device"
    store = link.device(folder, direct=True)
    first = store.create_call(call_data(notes="first"))
    attach(store, first["id"], photo(8, (400, 300)), kind=PhotoKind.SCENE, taken_at=TAKEN)
    damaged = set(store.photos.entries())
    for sha in damaged:  # the flash wore out under these blobs
        blob = store.photos.folder / store.photos.entries()[sha]["file"]
        blob.write_bytes(b"\0" * blob.stat().st_size)
    second = store.create_call(call_data(notes="second"))
    good = photo(9, (400, 300))
    attach(store, second["id"], good, kind=PhotoKind.SCENE, taken_at=TAKEN)
    worker = SyncWorker(store, folder, debounce=0.1, period=60)

    async def until(condition) -> None:
        for _ in range(400):
            if condition():
                return
            await asyncio.sleep(0.05)

    async def scenario():
        runner = asyncio.create_task(worker.run())
        await until(lambda: worker.status.phase != "sending" and store.counts()["sent"] == 2)
        assert not runner.done()
        third = store.create_call(call_data(notes="third"))  # records keep flowing
        worker.nudge()
        await until(lambda: store.counts()["sent"] == 3)
        assert not runner.done()
        worker.stop()
        await asyncio.wait_for(runner, 10)
        return third

    aio.run(scenario())
    assert store.counts()["sent"] == 3
    lead = link.server.enroll(link.team, "lead-" + link.team, "lead")
    assert fetch(link, lead, _sha(good).hexdigest()).content == good
    assert all(not store.photos.entries()[sha]["sent"] for sha in damaged)  # kept as waiting, never marked sent
    store.close()


def test_a_pass_that_raises_anything_leaves_the_worker_alive_and_backing_off(data_dir, monkeypatch):
    from fieldapp.sync import worker as worker_module

    def broken_pass(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(worker_module, "run_pass", broken_pass)
    store = RecordStore.open(data_dir)
    worker = SyncWorker(store, data_dir, backoff=Backoff(base=2, cap=60, rng=random.Random(1)))

    async def scenario():
        result = await worker.run_once()
        assert result.error is not None and "RuntimeError" in str(result.error)
        assert worker.status.phase == "error" and worker.backoff.failures == 1

    aio.run(scenario())
    store.close()
