"""The ASGI app: routes under /api/v1, the OpenAPI page at /docs."""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse

from sync.protocol import API_PREFIX

from .db import Database, open_database
from .routes import health, pull, push, reports

log = logging.getLogger("fieldapp.server")


def create_app(database: Database | str) -> FastAPI:
    db = open_database(database) if isinstance(database, str) else database
    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        yield
        db.close()

    app = FastAPI(
        lifespan=lifespan,
        title="fieldapp sync server",
        version="1",
        description="Receives every team's records and keeps each version exactly once. "
        "Every route but health needs `Authorization: Bearer <device token>`.",
    )
    app.state.database = db
    # Verdict lists and pull pages shrink several times over: slow links are the normal case.
    app.add_middleware(GZipMiddleware, minimum_size=1024)
    for module in (health, push, pull, reports):
        app.include_router(module.router, prefix=API_PREFIX)

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception) -> JSONResponse:
        # No trace and no record content to the client or the log: the type is enough to start.
        log.error("internal error on %s %s: %s", request.method, request.url.path, type(exc).__name__)
        return JSONResponse({"detail": "internal error; the request changed nothing that was not answered"}, status_code=500)

    def openapi() -> dict:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            body = push.PushBody.model_json_schema(ref_template="#/components/schemas/{model}")
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            components.update(body.pop("$defs", {}))
            components["PushBody"] = body
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi

    return app
