"""The refusals every route documents: one error body, one entry per status a route really answers.

Each entry goes into a route's `responses=`, so the OpenAPI document lists every
4xx the route gives, with the shape of its body (`{"detail": "the reason"}`).
FastAPI adds the 422 of a query parameter that fails its declared type on its own,
with its own body (a list naming each parameter and the reason).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class ErrorBody(BaseModel):
    """A refusal: the reason, in words, naming the field or the limit."""

    detail: str


# Named outright, not through `model=`: FastAPI would file a model under the route's own media
# type, and an export's refusal is JSON even where its answer is CSV. app.py adds the component.
ERROR_CONTENT = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}


# What a route's `responses=` takes: status code to its OpenAPI description.
Responses = dict[int | str, dict[str, Any]]


def error(description: str, **extra: Any) -> dict[str, Any]:
    return {"description": description, "content": ERROR_CONTENT, **extra}


UNAUTHORIZED: Responses = {
    401: error(
        "No token, or an unknown or revoked one",
        headers={"WWW-Authenticate": {"description": "Always `Bearer`", "schema": {"type": "string"}}},
    ),
}
LEAD_ONLY: Responses = {**UNAUTHORIZED, 403: error("A device token, but not a team lead's")}


def bad_request(description: str) -> Responses:
    return {400: error(description)}
