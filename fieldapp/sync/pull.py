"""Fetching the team's records since the saved cursor; the cursor moves only after they are saved."""

from __future__ import annotations

from fieldapp.core.records import ReviewState
from fieldapp.store import RecordStore, SyncState

from .client import SyncClient

PAGE = 500
CURSOR = "pull_cursor"
TEAM = "team"  # the token's team, as the server names it: exports say which team a record is
ROLE = "role"  # what the token may do: the app shows a lead's tools to a lead only
SETTLED = "settled"  # record id -> the volunteer's device that settled its conflict, until a lead reviews it
WHOLE = "pulled_whole"  # a pull from cursor 0 ended here once: this device's own versions are all here


def pull_team(store: RecordStore, client: SyncClient) -> int:
    """Pull every page; return how many records changed here. Raises SyncError when the link fails."""
    changed = 0
    cursor = store.get_meta(CURSOR, "0")
    # Still at cursor 0 after a whole pull (a team that was empty): what this device
    # pushed since is here already, so the server need not send it back.
    own = not (cursor == "0" and store.get_meta(WHOLE))
    while True:
        page = client.pull(cursor, PAGE, own=own)
        changed += store.save_pulled(page.records, page.conflicts)
        _keep_settled(store, page.records, {s.id: s.settled_by for s in page.settled})
        for key, value in ((TEAM, page.team), (ROLE, page.role)):
            if value and value != store.get_meta(key):
                store.set_meta(key, value)
        store.set_meta(CURSOR, page.cursor)
        cursor = page.cursor
        if not page.more:
            if not store.get_meta(WHOLE):
                store.set_meta(WHOLE, True)
            return changed


def _keep_settled(store: RecordStore, records: list[dict], settled: dict[str, str]) -> None:
    """Which records wait for a lead because a volunteer settled their conflict: as the page says for its records.

    A record this device reviewed since (its own approval or flag, sent) waits no more: the
    server leaves this device's own versions out of its pulls, so no page would say so.
    """
    before = dict(store.get_meta(SETTLED) or {})
    paged = {r.get("id") for r in records}
    now = {rid: by for rid, by in before.items() if rid not in paged and not _reviewed_here(store, rid)} | settled
    if now != before:
        store.set_meta(SETTLED, now)


def _reviewed_here(store: RecordStore, record_id: str) -> bool:
    held = store.get(record_id)
    if held is None or held.state != SyncState.SENT:
        return False
    review = held.record.get("review") or {}
    return held.record.get("device_id") == store.device_id and review.get("state") in (ReviewState.APPROVED,
                                                                                      ReviewState.FLAGGED)
