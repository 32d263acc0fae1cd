"""POST /push: one verdict per record, in order; one bad record never fails the batch."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from fieldapp.records import Record, parse_record, to_plain
from sync.protocol import MAX_RECORDS_PER_PUSH, PushResponse, Verdict, VerdictStatus

from ..auth import current_device, database
from ..body import read_json
from ..db import Database, Device
from ..verdicts import Outcome

router = APIRouter()


class PushBody(BaseModel):
    """The documented shape of a push (each record is still checked on its own)."""

    records: list[Record]


_STATUS = {
    Outcome.ACCEPTED: VerdictStatus.ACCEPTED,
    Outcome.DUPLICATE: VerdictStatus.DUPLICATE,
    Outcome.CONFLICT: VerdictStatus.CONFLICT,
    Outcome.CONFLICT_AGAIN: VerdictStatus.CONFLICT,
}


def _echo(raw: Any, key: str, kind: type) -> Any:
    # Name a refused record by what it sent, where that is sane to echo back.
    value = raw.get(key) if isinstance(raw, dict) else None
    if kind is str and isinstance(value, str) and len(value) <= 64:
        return value
    if kind is int and isinstance(value, int) and not isinstance(value, bool) and abs(value) < 2**31:
        return value
    return None


@router.post(
    "/push",
    response_model=PushResponse,
    summary="Send records; get one verdict per record",
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PushBody"}}}}},
    responses={
        400: {"description": "The body is not JSON (or not valid gzip)"},
        401: {"description": "No token, or an unknown or revoked one"},
        413: {"description": "Too many records or bytes; the message states the limit"},
        422: {"description": "The body is JSON but not {\"records\": [...]}"},
    },
)
async def push(request: Request, device: Device = Depends(current_device), db: Database = Depends(database)) -> PushResponse:
    body = await read_json(request)
    if not isinstance(body, dict) or "records" not in body or not isinstance(body["records"], list):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, detail='the body must be {"records": [record, ...]}')
    if set(body) != {"records"}:
        unknown = ", ".join(sorted(k for k in body if k != "records"))[:200]
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, detail=f"unknown field(s) in the body: {unknown}")
    raw_records = body["records"]
    if len(raw_records) > MAX_RECORDS_PER_PUSH:
        raise HTTPException(
            status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
            detail=f"a push may carry at most {MAX_RECORDS_PER_PUSH} records; this one has {len(raw_records)}",
        )
    verdicts: list[Verdict | None] = [None] * len(raw_records)
    valid: list[tuple[int, dict]] = []
    for index, raw in enumerate(raw_records):
        model, errors = parse_record(raw)
        if model is None:
            verdicts[index] = Verdict(
                id=_echo(raw, "id", str), version=_echo(raw, "version", int),
                status=VerdictStatus.REJECTED, errors=errors,
            )
        else:
            valid.append((index, to_plain(model)))
    stored = await run_in_threadpool(db.push, device, [record for _, record in valid])
    for (index, record), result in zip(valid, stored):
        verdicts[index] = Verdict(
            id=record["id"], version=record["version"], status=_STATUS[result.outcome],
            server_record=result.server_record,
        )
    return PushResponse(results=verdicts)
