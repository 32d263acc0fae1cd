"""The ASGI app: routes under /api/v1, the OpenAPI page at /docs."""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse

from fieldapp.core.protocol import API_PREFIX, MAX_PUSH_BYTES, MAX_RECORDS_PER_PUSH, MAX_UNPACKED_BYTES

from .db import Database, open_database
from .photos import PhotoFolder, default_folder
from .routes import errors, health, photos, pull, push, reports

log = logging.getLogger("fieldapp.server")


def create_app(database: Database | str, photos_folder: str | Path | None = None) -> FastAPI:
    """`photos_folder`: where the photos' bytes go (`serve --photos`); by default beside the SQLite file."""
    db = open_database(database) if isinstance(database, str) else database
    if photos_folder is None:
        photos_folder = default_folder(database if isinstance(database, str) else str(getattr(db, "url", None) or getattr(db, "path", ":memory:")))
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
    app.state.photos = PhotoFolder(db, Path(photos_folder))
    # Verdict lists and pull pages shrink several times over: slow links are the normal case.
    # Level 6, as the phone packs its pushes: within 3% of level 9's size at half its time.
    app.add_middleware(GZipMiddleware, minimum_size=1024, compresslevel=6)
    for module in (health, push, pull, reports, photos):
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
            # A record that is not valid is answered in its own `rejected` verdict (200), never by
            # refusing the batch: any JSON value is taken as an item, and a valid one is a Record.
            records = body["properties"]["records"]
            records["items"] = {"anyOf": [records["items"], {"description": "anything else: a `rejected` verdict"}]}
            components["PushBody"] = body
            components["ErrorBody"] = errors.ErrorBody.model_json_schema()
            request_body = schema["paths"][f"{API_PREFIX}/push"]["post"]["requestBody"]
            request_body["description"] = (
                "`{\"records\": [record, ...]}`, at most "
                f"{MAX_RECORDS_PER_PUSH} records and {MAX_PUSH_BYTES} bytes; optionally sent with "
                f"`Content-Encoding: gzip` (at most {MAX_UNPACKED_BYTES} bytes unpacked)."
            )
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to extend the schema

    return app
