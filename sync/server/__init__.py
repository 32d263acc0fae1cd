"""The central server: receives every team's records and keeps each version exactly once.

    from sync.server import create_app
    app = create_app("sqlite:///fieldapp-server.db")
"""

from .app import create_app

__all__ = ["create_app"]
