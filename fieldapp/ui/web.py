"""Serving the app as a web page on this machine, with nothing fetched from outside.

Flet's no-CDN mode serves the Flutter client, CanvasKit and fonts locally,
but Flet 1.0.5's client still asks a CDN for Rive's wasm at start-up. A
Content-Security-Policy on every answer makes the browser refuse any address
but this server's, so nothing of a volunteer's session leaves the machine.

Web mode is for a computer (`fieldapp ui --web`, `make run`), never the phone:
its server (uvicorn, Starlette, flet-web) comes with the `web` extra and is
imported only inside `serve`, so importing this module needs Flet alone, and
the APK leaves this file out (`[tool.flet.app].exclude` in pyproject.toml).
"""

from __future__ import annotations

import flet as ft

POLICY = (
    "default-src 'self'; "
    "script-src 'self' 'unsafe-inline' 'unsafe-eval' 'wasm-unsafe-eval' blob:; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; "
    "connect-src 'self' ws://127.0.0.1:* http://127.0.0.1:* ws://localhost:* http://localhost:*; "
    "worker-src 'self' blob:"
)


def serve(main, *, host: str, port: int, assets_dir: str) -> None:
    import uvicorn
    from starlette.middleware.base import BaseHTTPMiddleware

    class OnlyThisServer(BaseHTTPMiddleware):
        async def dispatch(self, request, call_next):
            response = await call_next(request)
            response.headers["Content-Security-Policy"] = POLICY
            return response

    app = ft.run(main, export_asgi_app=True, assets_dir=assets_dir, no_cdn=True)
    app.add_middleware(OnlyThisServer)
    uvicorn.run(app, host=host, port=port, log_level="warning")
