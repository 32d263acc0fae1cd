"""The app for uvicorn: `uvicorn sync.server.asgi:app` with FIELDAPP_DATABASE_URL set."""

import gc
import os

from .app import create_app
from .cli import DEFAULT_DATABASE

app = create_app(os.environ.get("FIELDAPP_DATABASE_URL") or DEFAULT_DATABASE, os.environ.get("FIELDAPP_PHOTOS_DIR") or None)

# The app, its routes and schemas live as long as the process: frozen out of
# the collector's sweeps, so a push's many short-lived objects do not make it
# walk them all again and again (a tenth of a push's time otherwise).
gc.collect()
gc.freeze()
