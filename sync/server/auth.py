"""Device tokens: random, shown once, stored only as a hash; the team comes from the token."""

from __future__ import annotations

import hashlib
import secrets

from fastapi import Depends, HTTPException, Request, status

from .db import Database, Device

ROLES = ("volunteer", "lead")


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    # Tokens carry 256 random bits: a plain hash is enough, no salt or stretching needed.
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def database(request: Request) -> Database:
    return request.app.state.database


def _unauthorized(reason: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail=reason, headers={"WWW-Authenticate": "Bearer"})


def current_device(request: Request, db: Database = Depends(database)) -> Device:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _unauthorized("a device token is required: Authorization: Bearer <token>")
    device = db.device_for_token(token_hash(token.strip()))
    if device is None:
        raise _unauthorized("unknown or revoked device token")
    return device


def team_lead(device: Device = Depends(current_device)) -> Device:
    if device.role != "lead":
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="this needs a team lead's token")
    return device
