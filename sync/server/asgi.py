"""The app for uvicorn: `uvicorn sync.server.asgi:app` with FIELDAPP_DATABASE_URL set."""

import os

from .app import create_app
from .cli import DEFAULT_DATABASE

app = create_app(os.environ.get("FIELDAPP_DATABASE_URL") or DEFAULT_DATABASE)
