"""A team lead's day: the figures and the exports, from the same code as the phone's."""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Response, status

from fieldapp.core import exports
from fieldapp.core.figures import day_figures

from ..auth import database, team_lead
from ..db import Database, Device
from .errors import LEAD_ONLY, bad_request

router = APIRouter()

DAY = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"


class CsvResponse(Response):
    """An export: CSV unless another format is asked for (the document lists all three)."""

    media_type = "text/csv"


EXPORT_CONTENT = {
    "text/csv": {"schema": {"type": "string"}, "example": "id,received_at,...\n#event+code,#date+occurred,...\n"},
    "application/geo+json": {"schema": {
        "type": "object", "required": ["type", "features"],
        "properties": {"type": {"const": "FeatureCollection"}, "features": {"type": "array", "items": {"type": "object"}}},
    }},
    "application/x-ndjson": {"schema": {"type": "string", "description": "one record per line, as JSON"}},
}


def _day(day: str) -> str:
    try:
        if not re.fullmatch(DAY, day):  # fromisoformat also reads 20261125 and 2026-W48-3: not dates here
            raise ValueError(day)
        return date.fromisoformat(day).isoformat()
    except ValueError:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, detail="day must be YYYY-MM-DD") from None


@router.get("/summary", summary="The day's figures for the lead's team, and its chain head (seq, link)",
            responses={**bad_request("day is not a date YYYY-MM-DD"), **LEAD_ONLY})
def summary(
    day: str = Query(..., description="YYYY-MM-DD", json_schema_extra={"format": "date", "pattern": DAY}),
    lead: Device = Depends(team_lead),
    db: Database = Depends(database),
) -> dict:
    figures = day_figures(db.current_records(lead.team), _day(day))
    # The team's chain head now (docs/evidence.md): the lead writes it down, so that
    # what is stored up to it can be shown unchanged later.
    figures["chain_head"] = db.chain_head(lead.team)
    return figures


@router.get("/export", summary="The team's records as CSV (with an HXL row), GeoJSON or JSON lines",
            response_class=CsvResponse,
            responses={200: {"description": "The export, in the format asked for", "content": EXPORT_CONTENT},
                       **bad_request("day is not a date YYYY-MM-DD"), **LEAD_ONLY})
def export(
    day: str | None = Query(None, description="YYYY-MM-DD; every record when absent",
                            json_schema_extra={"format": "date", "pattern": DAY}),
    format: Literal["csv", "geojson", "jsonl"] = "csv",
    include_personal: bool = Query(False, description="keep names and phone numbers"),
    lead: Device = Depends(team_lead),
    db: Database = Depends(database),
) -> Response:
    return render_export(db.current_deliveries(lead.team), format, None if day is None else _day(day), include_personal, team=lead.team)


EXPORT_MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "geojson": "application/geo+json",  # JSON: UTF-8 by definition (RFC 8259)
    "jsonl": "application/x-ndjson; charset=utf-8",
}


def render_export(deliveries: list[tuple[dict, str, str | None]], format: str, day: str | None,
                  include_personal: bool, *, team: str | None = None) -> Response:
    """(record, team, delivered_by) rows as an attachment named `fieldapp-<team>-<day or all>.<format>`.

    Personal fields only with include_personal; each row, feature or line names
    its team and the enrolled device that delivered it (fieldapp.core.exports).
    """
    records, provenance = exports.from_deliveries(deliveries)
    options: dict[str, Any] = {"include_personal": include_personal, "day": day, "provenance": provenance}
    if format == "csv":
        body = exports.to_csv(records, **options)
    elif format == "geojson":
        body = json.dumps(exports.to_geojson(records, **options), ensure_ascii=False)
    else:
        body = exports.to_jsonl(records, **options)
    disposition = exports.content_disposition(exports.export_filename(team, day, format))
    return Response(body, media_type=EXPORT_MEDIA_TYPES[format], headers={"Content-Disposition": disposition})
