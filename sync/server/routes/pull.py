"""GET /pull: every version stored for the device's team after the cursor."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Query, status

from sync.protocol import DEFAULT_PULL_LIMIT, MAX_PULL_LIMIT, PullResponse, ServerConflict

from ..auth import current_device, database
from ..db import Database, Device
from .errors import UNAUTHORIZED, bad_request

router = APIRouter()

MAX_CURSOR = 2**63 - 1  # the databases' BIGINT: no sequence number is larger


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


@router.get("/pull", response_model=PullResponse, summary="Fetch the team's record versions after a cursor",
            responses={**bad_request("since is not a cursor this server gave"), **UNAUTHORIZED})
def pull(
    # The pattern is documented, not enforced by FastAPI: the route answers a bad cursor with a 400.
    # 18 digits stay below 2**63, so every cursor the document allows is one the route takes.
    since: str = Query("0", max_length=18, description="the cursor of the previous page; 0 for the start",
                       json_schema_extra={"pattern": "^[0-9]{1,18}$"}),
    limit: int = Query(DEFAULT_PULL_LIMIT, ge=1, le=MAX_PULL_LIMIT),
    device: Device = Depends(current_device),
    db: Database = Depends(database),
) -> PullResponse:
    page = db.pull(device.team, _cursor(since), limit)
    return PullResponse(
        team=device.team, records=page.records, delivered_by=page.delivered_by, cursor=str(page.cursor), more=page.more,
        conflicts=[ServerConflict(id=rid, server_record=rec) for rid, rec in page.conflicts.items()],
    )
