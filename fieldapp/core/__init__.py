"""The core both deployments share: the record schema, the sync protocol, the figures and exports.

Pydantic and the standard library only: the phone and the server import it,
and it imports nothing of either (no Flet, no TinyDB, no FastAPI).
"""
