"""Through every fault of the link, each queued record reaches the server exactly once."""

from __future__ import annotations

import signal

from fieldapp.demo import populate
from fieldapp.sync import enrollment
from fieldapp.sync.errors import Unreachable
from fieldapp.sync.session import run_pass
from tests.conftest import free_port

CALLS = 800  # with their recoveries, about 2,400 records


def _local_versions(store) -> set[tuple[str, int]]:
    return {(r.id, r.version) for r in store.iter_current()}


def test_a_few_thousand_records_arrive_exactly_once_through_every_fault(link, tmp_path):
    folder = tmp_path / "device"
    store = link.device(folder)
    saved = populate(store, CALLS, seed=11)
    assert saved > 2000
    ours = _local_versions(store)

    # connection refused: nothing listens at that address
    token = enrollment.load(folder).token
    enrollment.save(folder, enrollment.Enrollment(f"http://127.0.0.1:{free_port()}", token))
    result = run_pass(store, folder)
    assert isinstance(result.error, Unreachable) and store.counts()["pending"] == saved
    enrollment.save(folder, enrollment.Enrollment(link.proxy.url, token))

    # each fault in turn, between batches that get through
    link.proxy.plan(
        "reset_before", "pass", "reset_after", "pass", "cut_answer", "pass",
        "status_500", "pass", "status_503", "pass", "stall",
    )
    errors = []
    for _ in range(30):
        result = run_pass(store, folder, timeout=2.0)
        if result.error is None and result.counts["pending"] == 0:
            break
        errors.append(type(result.error).__name__ if result.error else None)
    assert {"Unreachable", "ServerError"} <= set(errors)
    assert set(link.proxy.seen) >= {"reset_before", "reset_after", "cut_answer", "status_500", "status_503", "stall"}

    # every version on the server once, none lost, the phone showing all sent
    stored = link.stored_versions()
    assert set(stored) == ours
    assert set(stored.values()) == {1}
    counts = store.counts()
    assert counts["sent"] == counts["total"] == saved and counts["pending"] == 0
    store.close()


def test_the_server_killed_and_restarted_mid_sync(link, tmp_path):
    folder = tmp_path / "device"
    store = link.device(folder)
    saved = populate(store, 600, seed=12)
    ours = _local_versions(store)
    pushes = []

    def kill_during_the_second_push(request: bytes) -> None:
        if request.startswith(b"POST /api/v1/push"):
            pushes.append(request)
            if len(pushes) == 2:
                link.server.kill(signal.SIGKILL)  # while it works on that batch

    link.proxy.after_forward = kill_during_the_second_push
    first = run_pass(store, folder, timeout=5.0)
    link.proxy.after_forward = None
    link.server.start()  # same file, same port
    assert first.error is not None and 0 < first.counts["pending"] < saved

    for _ in range(10):
        if run_pass(store, folder).counts["pending"] == 0:
            break
    stored = link.stored_versions()
    assert set(stored) == ours and set(stored.values()) == {1}
    assert store.counts()["sent"] == saved
    store.close()


def test_sync_once_says_why_and_exits_non_zero_until_the_queue_is_empty(link, tmp_path):
    import subprocess
    import sys

    folder = tmp_path / "device"
    store = link.device(folder)
    populate(store, 5, seed=1)
    store.close()
    link.proxy.plan("status_503")

    def once():
        return subprocess.run([sys.executable, "-m", "fieldapp", "sync", "--once", "--data", str(folder)],
                              capture_output=True, text=True, timeout=120)

    first = once()
    assert first.returncode == 1 and "503" in first.stdout and "waiting to be sent" in first.stdout
    second = once()
    assert second.returncode == 0 and "all sent" in second.stdout, second.stdout
    status = subprocess.run([sys.executable, "-m", "fieldapp", "status", "--json", "--data", str(folder)],
                            capture_output=True, text=True, timeout=60)
    assert '"last_error": null' in status.stdout and '"pending": 0' in status.stdout


def test_a_failed_batch_ends_the_pass_and_what_landed_before_it_is_kept(link, tmp_path):
    # The next batch is queued while the one before is on the wire: when that
    # one fails, the queued one is not sent, and the pass stops at once.
    from fieldapp.sync.errors import ServerError
    from fieldapp.sync.push import BATCH_RECORDS

    folder = tmp_path / "device"
    store = link.device(folder)
    saved = populate(store, 250, seed=5)
    assert BATCH_RECORDS < saved <= 2 * BATCH_RECORDS
    link.proxy.plan("pass", "pass", "status_500", "pass")  # a new phone's first pull, then the batches

    first = run_pass(store, folder)
    assert isinstance(first.error, ServerError)
    assert link.proxy.seen == ["pass", "pass", "status_500"]  # nothing sent after the failure
    assert first.counts["sent"] == BATCH_RECORDS and first.counts["pending"] == saved - BATCH_RECORDS
    assert first.push.sent == BATCH_RECORDS  # the pass still says what got through

    assert run_pass(store, folder).error is None
    stored = link.stored_versions()
    assert set(stored) == _local_versions(store) and set(stored.values()) == {1}
    assert store.counts()["sent"] == saved
    store.close()
