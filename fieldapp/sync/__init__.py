"""The phone's sync: the client of the protocol, the push of the outbox, the pull, one pass, the background worker.

Errors by meaning in `errors.py`; the retry policy lives in the worker
(`worker.py`, `backoff.py`), never in the client.
"""
