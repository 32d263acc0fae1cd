"""What `fieldapp enroll`, `fieldapp sync` and the sync part of `fieldapp status` do."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from fieldapp.store import RecordStore

from . import enrollment
from .errors import SyncError
from .session import LAST_SYNC, PassResult, run_pass


def enroll(data_dir: Path, server_url: str, token: str, *, insecure: bool = False, out: TextIO,
           err: TextIO | None = None) -> int:
    try:
        linked = enrollment.enroll(data_dir, server_url, token, insecure=insecure)
    except SyncError as exc:
        print(f"not enrolled: {exc}", file=err or out)
        return 1
    print(f"enrolled with {linked.server_url}", file=out)  # the token is never printed
    return 0


def _explain(result: PassResult) -> str:
    counts = result.counts
    parts = []
    if result.error:
        parts.append(str(result.error))
    if counts["pending"]:
        parts.append(f"{counts['pending']} waiting to be sent")
    if counts["rejected"]:
        parts.append(f"{counts['rejected']} refused by the server (fix them in the app)")
    if counts["conflict"]:
        parts.append(f"{counts['conflict']} in conflict (a team lead resolves them)")
    photos = result.photo_counts.get("photos_waiting", 0)
    previews = result.photo_counts.get("previews_waiting", 0)
    if photos or previews:
        parts.append(f"{photos} photos and {previews} previews waiting to be sent")
    return "; ".join(parts)


def sync(data_dir: Path, *, once: bool, out: TextIO, landed: Callable[[int, int], None] | None = None) -> int:
    """`--once`: one pass, exit 0 only when nothing is left waiting. Otherwise the loop.

    `landed(done, total)` is told each time the server's answers for `done` records are saved.
    """
    store = RecordStore.open(data_dir)
    try:
        if once:
            def progress(done: int, total: int) -> None:
                if landed:
                    landed(done, total)
                print(f"sending {done} of {total}", file=out, flush=True)

            result = run_pass(store, data_dir, progress=progress)
            sent = result.push.sent
            if result.waiting == 0 and result.error is None:
                print(f"all sent ({sent} now, {result.photos.sent} photo files, {result.pulled} received from the team)",
                      file=out)
                return 0
            print(f"not finished: {_explain(result)}", file=out)
            return 1
        import asyncio  # the loop only: `--once` starts faster without it

        from .worker import SyncWorker

        worker = SyncWorker(store, data_dir)
        worker.subscribe(lambda status: print(status.describe(), file=out, flush=True))
        try:
            asyncio.run(worker.run())
        except KeyboardInterrupt:
            pass
        return 0
    finally:
        store.close()


def sync_summary(data_dir: Path) -> dict:
    """The enrolled server, last sync and last error, for `fieldapp status`."""
    problem: str | None
    try:
        linked = enrollment.load(data_dir)
    except SyncError as exc:
        linked, problem = None, str(exc)
    else:
        problem = None
    store = RecordStore.open(data_dir)
    try:
        last = store.get_meta(LAST_SYNC, {}) or {}
    finally:
        store.close()
    return {
        "server": linked.server_url if linked else None,
        "enrolled": linked is not None,
        "last_sync": last.get("at"),
        "last_success": last.get("last_success"),
        "last_error": last.get("error") or problem,
    }
