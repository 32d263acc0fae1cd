"""Device tokens: random, shown once, stored only as a hash; the team comes from the token."""

from __future__ import annotations

import hashlib
import secrets

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from fieldapp.core.protocol import Role

from .db import Database, Device


def new_token() -> str:
    # Never starting with "-": a command line (`fieldapp enroll URL TOKEN`) would read it as an option.
    while (token := secrets.token_urlsafe(32)).startswith("-"):
        pass
    return token


def token_hash(token: str) -> str:
    # Tokens carry 256 random bits: a plain hash is enough, no salt or stretching needed.
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def database(request: Request) -> Database:
    return request.app.state.database


def _unauthorized(reason: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail=reason, headers={"WWW-Authenticate": "Bearer"})


# The scheme in the OpenAPI document (and the Authorize button of /docs) for every
# route that depends on `current_device`; the 401s stay ours, with their reasons.
bearer = HTTPBearer(
    auto_error=False,
    scheme_name="DeviceToken",
    description="The device token printed by `fieldapp-server enroll`: `Authorization: Bearer <token>`",
)


def current_device(
    credentials: HTTPAuthorizationCredentials | None = Depends(bearer), db: Database = Depends(database),
) -> Device:
    if credentials is None:
        raise _unauthorized("a device token is required: Authorization: Bearer <token>")
    device = db.device_for_token(token_hash(credentials.credentials))
    if device is None:
        raise _unauthorized("unknown or revoked device token")
    return device


def team_lead(device: Device = Depends(current_device)) -> Device:
    if device.role != Role.LEAD:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="this needs a team lead's token")
    return device
