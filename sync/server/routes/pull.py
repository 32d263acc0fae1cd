"""GET /pull: every version stored for the device's team after the cursor.

A device's own deliveries are left out, except on a pull from cursor 0 (to its last page)
unless the device says it holds them (`own=false`).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Query, status

from fieldapp.core.protocol import DEFAULT_PULL_LIMIT, MAX_PULL_LIMIT, PullResponse, ServerConflict, Settled

from .. import personal
from ..auth import current_device, database
from ..db import Database, Device
from .errors import UNAUTHORIZED, bad_request

router = APIRouter()

MAX_CURSOR = 2**63 - 1  # the databases' BIGINT: no sequence number is larger
MAX_CURSOR_DIGITS = 18  # what `since` may carry


def _cursor(since: str) -> int:
    """A cursor as the server hands them out: ASCII decimal digits, within BIGINT; 400 otherwise."""
    # str.isdigit() alone lets in other scripts' digits ('٣') and superscripts ('²').
    if not (since.isascii() and since.isdigit()):
        raise HTTPException(status.HTTP_400_BAD_REQUEST,
                            detail="since must be a cursor from an earlier pull (decimal digits 0-9), or 0")
    value = int(since)
    if value > MAX_CURSOR:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, detail=f"since is out of range: a cursor is at most {MAX_CURSOR}")
    return value


def _next_cursor(seq: int, *, from_start: bool, more: bool) -> str:
    """The cursor handed out: the last sequence number read.

    A pull from cursor 0 goes on over many pages, and the phone must get its own
    versions on every one of them, not on the first alone: until the last page,
    its cursors keep a leading 0 ("0" + the number, the same number to the
    database), which says "still the pull from 0". The last page hands out the
    plain number, and from there a device's own versions are left out. The
    client keeps cursors as opaque text, so it needs to know none of this.
    """
    marked = "0" + str(seq)
    return marked if from_start and more and len(marked) <= MAX_CURSOR_DIGITS else str(seq)


@router.get("/pull", response_model=PullResponse, summary="Fetch the team's record versions after a cursor",
            responses={**bad_request("since is not a cursor this server gave"), **UNAUTHORIZED})
def pull(
    # The pattern is documented, not enforced by FastAPI: the route answers a bad cursor with a 400.
    # 18 digits stay below 2**63, so every cursor the document allows is one the route takes.
    since: str = Query("0", max_length=MAX_CURSOR_DIGITS, description="the cursor of the previous page; 0 for the start",
                       json_schema_extra={"pattern": "^[0-9]{1,18}$"}),
    limit: int = Query(DEFAULT_PULL_LIMIT, ge=1, le=MAX_PULL_LIMIT),
    own: bool = Query(True, description="false: leave out this device's own deliveries even on a pull from cursor 0 "
                                        "(a phone that holds them already; a phone installed again asks with true)"),
    device: Device = Depends(current_device),
    db: Database = Depends(database),
) -> PullResponse:
    # What this device delivered itself it has already: left out, but on a pull
    # from cursor 0, where a phone installed again recovers its own records.
    from_start = since.startswith("0") and own
    page = db.pull(device.team, _cursor(since), limit, leave_out_sent_by=None if from_start else device.device_id)
    # Personal fields only where needed: a volunteer's device sees those of the records it made.
    sees = personal.access(db, device, [r["id"] for r in page.records] + list(page.conflicts))
    return PullResponse(
        team=device.team, role=device.role, records=personal.shown(page.records, sees), delivered_by=page.delivered_by,
        cursor=_next_cursor(page.cursor, from_start=from_start, more=page.more), more=page.more,
        conflicts=[ServerConflict(id=rid, server_record=rec)
                   for rid, rec in zip(page.conflicts, personal.shown(list(page.conflicts.values()), sees))],
        settled=[Settled(id=rid, settled_by=by) for rid, by in sorted(page.settled.items())],
    )
