"""Serving the app as a web page on this machine, with nothing fetched from outside.

Flet's no-CDN mode serves the Flutter client, CanvasKit and fonts locally,
but Flet 1.0.5's client still asks a CDN for Rive's wasm at start-up. A
Content-Security-Policy on every answer makes the browser refuse any address
but this server's, so nothing of a volunteer's session leaves the machine.

Only this machine's pages may talk to it. A page of any site the user has
open can make the browser connect to 127.0.0.1, and a name the attacker
controls can be made to resolve to 127.0.0.1 (DNS rebinding): each request
and websocket is checked (`OnlyThisAddress`) and refused with 403 unless its
Host, and its Origin where a browser sends one, is this app's own address:
127.0.0.1, localhost or [::1] with the app's port. A websocket must carry an
Origin: the app's own page always sends it.

Web mode is for a computer (`fieldapp ui --web`, `make run`), never the phone:
its server (uvicorn, Starlette, flet-web) comes with the `web` extra and is
imported only inside `serve`, so importing this module needs Flet alone, and
the APK leaves this file out (`[tool.flet.app].exclude` in pyproject.toml).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import flet as ft

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")

# connect-src blob: the camera's photo is a blob the page made itself (Flutter's camera_web hands it over as a
# blob: address, read back with a fetch); a blob: address names bytes in this page, never another host.
POLICY = (
    "default-src 'self'; "
    "script-src 'self' 'unsafe-inline' 'unsafe-eval' 'wasm-unsafe-eval' blob:; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; "
    "connect-src 'self' blob: ws://127.0.0.1:* http://127.0.0.1:* ws://localhost:* http://localhost:*; "
    "worker-src 'self' blob:"
)


class OnlyThisAddress:
    """ASGI middleware: page and websocket requests whose Host or Origin is not this app's own are refused (403)."""

    def __init__(self, app: ASGIApp, *, port: int, host: str = "127.0.0.1"):
        self.app = app
        names = set(LOOPBACK_NAMES) | ({f"[{host}]" if ":" in host else host} - {"0.0.0.0", "[::]"})
        self.hosts = {f"{name}:{port}".lower() for name in names}
        self.origins = {f"http://{address}" for address in self.hosts}

    def refusal(self, scope: Scope) -> str | None:
        headers = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope.get("headers", ())}
        host = headers.get("host", "").lower()
        if host not in self.hosts:
            return f"Host {host[:100]!r} is not this app's address"
        origin = headers.get("origin")
        if origin is None and scope["type"] == "websocket":
            return "a websocket without an Origin"
        if origin is not None and origin.lower() not in self.origins:
            return f"Origin {origin[:100]!r} is not this app's address"
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        reason = self.refusal(scope)
        if reason is None:
            await self.app(scope, receive, send)
        elif scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008, "reason": f"refused: {reason}"})  # a 403 to the handshake
        else:
            body = f"refused: {reason}\n".encode()
            await send({"type": "http.response.start", "status": 403,
                        "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                                    (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})


STOP_GRACE_S = 2


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
    # A page left open holds its websocket for good: on TERM, give it a moment, then close it (uvicorn
    # otherwise waits for every connection, and the app never stops while a tab is open).
    uvicorn.run(OnlyThisAddress(app, port=port, host=host), host=host, port=port, log_level="warning",
                timeout_graceful_shutdown=STOP_GRACE_S)
