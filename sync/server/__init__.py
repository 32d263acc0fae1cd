"""The central server: receives every team's records and keeps each version exactly once.

    from sync.server import create_app
    app = create_app("sqlite:///fieldapp-server.db")
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .app import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    # FastAPI loaded only by what serves: `verify-bundle` and the other commands start without it.
    if name == "create_app":
        from .app import create_app

        return create_app
    raise AttributeError(name)
