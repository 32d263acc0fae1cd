"""POST /push: one verdict per record, in order; one bad record never fails the batch."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from pydantic_core import to_json

from fieldapp.core.protocol import MAX_RECORDS_PER_PUSH, PushResponse, VerdictStatus
from fieldapp.core.records import Record, parse_record, to_plain

from .. import personal
from ..auth import current_device, database
from ..body import parse_json, read_body
from ..db import Database, Device
from ..verdicts import VerdictKind
from .errors import UNAUTHORIZED, bad_request, error

router = APIRouter()


class PushBody(BaseModel):
    """The documented shape of a push (each record is still checked on its own)."""

    model_config = ConfigDict(extra="forbid")
    records: list[Record] = Field(max_length=MAX_RECORDS_PER_PUSH)


_BODY = TypeAdapter(PushBody)

_STATUS = {
    VerdictKind.ACCEPTED: VerdictStatus.ACCEPTED.value,
    VerdictKind.DUPLICATE: VerdictStatus.DUPLICATE.value,
    VerdictKind.CONFLICT: VerdictStatus.CONFLICT.value,
    VerdictKind.CONFLICT_AGAIN: VerdictStatus.CONFLICT.value,
    VerdictKind.MERGED: VerdictStatus.ACCEPTED.value,  # stored, and merged: `merged_record` says into what
    VerdictKind.REJECTED: VerdictStatus.REJECTED.value,  # valid, but not this device's to send
}


def _echo(raw: Any, key: str, kind: type) -> Any:
    # Name a refused record by what it sent, where that is sane to echo back.
    value = raw.get(key) if isinstance(raw, dict) else None
    if kind is str and isinstance(value, str) and len(value) <= 64 and _is_text(value):
        return value
    if kind is int and isinstance(value, int) and not isinstance(value, bool) and abs(value) < 2**31:
        return value
    return None


def _is_text(value: str) -> bool:
    # JSON's \ud800 escapes decode to lone surrogates, which no answer can carry as UTF-8.
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _all_valid(raw: bytes) -> list[dict] | None:
    """Every record of a well-formed push, plain; None if anything is off.

    The common case, done in one pass of pydantic's compiled core. Anything
    else (bad JSON, a wrong shape, one bad record) returns None and goes the
    careful way, record by record, which gives each its own verdict.
    """
    try:
        records = _BODY.dump_python(_BODY.validate_json(raw), mode="json", exclude_none=True)["records"]
    except ValidationError:
        return None
    if any(r["base_version"] >= r["version"] for r in records):
        return None
    return records


def _one_by_one(raw: bytes) -> tuple[list[dict | None], list[dict]]:
    """Each record checked on its own.

    Returns one slot per record (the `rejected` verdict of a bad one, None for a
    good one, whose verdict the store gives) and the plain form of each good one.
    """
    body = parse_json(raw)
    if not isinstance(body, dict) or "records" not in body or not isinstance(body["records"], list):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, detail='the body must be {"records": [record, ...]}')
    if set(body) != {"records"}:
        # Named escaped: a key may hold an unpaired surrogate, which the answer's UTF-8 cannot carry.
        unknown = ", ".join(sorted(k.encode("utf-8", "backslashreplace").decode("utf-8")
                                   for k in body if k != "records"))[:200]
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, detail=f"unknown field(s) in the body: {unknown}")
    raw_records = body["records"]
    if len(raw_records) > MAX_RECORDS_PER_PUSH:
        raise HTTPException(
            status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
            detail=f"a push may carry at most {MAX_RECORDS_PER_PUSH} records; this one has {len(raw_records)}",
        )
    rejections: list[dict | None] = []
    valid: list[dict] = []
    for raw_record in raw_records:
        model, errors = parse_record(raw_record)
        if model is None:
            rejections.append({
                "id": _echo(raw_record, "id", str), "version": _echo(raw_record, "version", int),
                "status": VerdictStatus.REJECTED.value, "errors": [e.model_dump() for e in errors],
            })
        else:
            rejections.append(None)
            valid.append(to_plain(model))
    return rejections, valid


@router.post(
    "/push",
    response_model=PushResponse,
    summary="Send records; get one verdict per record",
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PushBody"}}}}},
    responses={
        **bad_request("The body is not JSON (or not valid gzip)"),
        **UNAUTHORIZED,
        413: error("Too many records or bytes; the message states the limit"),
        415: error("A Content-Encoding other than gzip"),
        422: error("The body is JSON but not {\"records\": [...]}"),
    },
)
async def push(request: Request, device: Device = Depends(current_device), db: Database = Depends(database)) -> Response:
    raw = await read_body(request)
    # Parsing, checking, storing and encoding the answer all run in the thread
    # pool: a big batch never holds up /health or another device's request.
    rejections, valid = await run_in_threadpool(_checked, raw)
    # Withheld personal fields kept as the server holds them; conflicts' server records as this device may see them.
    rejections, valid = await run_in_threadpool(personal.restore, db, device, rejections, valid)
    stored = await run_in_threadpool(personal.shown_verdicts, db, device, await run_in_threadpool(db.push, device, valid))
    return Response(await run_in_threadpool(_answer, rejections, valid, stored), media_type="application/json")


def _checked(raw: bytes) -> tuple[list[dict | None], list[dict]]:
    """One slot per record (a bad one's `rejected` verdict, or None) and the plain form of each good one."""
    valid = _all_valid(raw)
    if valid is None:
        return _one_by_one(raw)
    return [None] * len(valid), valid


def _answer(rejections: list[dict | None], valid: list[dict], stored: list) -> bytes:
    """The verdicts, in the order the records came, as JSON."""
    outcomes = iter(stored)
    records = iter(valid)
    results = []
    for rejection in rejections:
        if rejection is not None:
            results.append(rejection)
            continue
        record, result = next(records), next(outcomes)
        verdict = {"id": record["id"], "version": record["version"], "status": _STATUS[result.outcome],
                   "errors": [{"field": r.field, "message": r.message} for r in result.refusals]}
        if result.server_record is not None:
            verdict["server_record"] = result.server_record
        if result.review_cleared:
            verdict["review_cleared"] = True
        if result.merged_record is not None:
            verdict["merged_record"] = result.merged_record
        results.append(verdict)
    # Plain data straight to JSON: the verdicts are built here, no need to check them again.
    return to_json({"results": results})
