"""Reading a push body within limits: gzip or not, never more than the caps in memory."""

from __future__ import annotations

import json
import sys
import zlib
from typing import Any

from fastapi import HTTPException, Request, status
from starlette.concurrency import run_in_threadpool

from fieldapp.core.protocol import MAX_PUSH_BYTES, MAX_UNPACKED_BYTES

# How many digits json.loads turns into an int (Python's guard against slow conversions).
_MAX_DIGITS = sys.get_int_max_str_digits() or 4300


def _too_large(message: str) -> HTTPException:
    return HTTPException(status.HTTP_413_REQUEST_ENTITY_TOO_LARGE, detail=message)


async def read_body(request: Request) -> bytes:
    """The body, unpacked, within the caps; 413 naming the limit beyond them.

    The socket is read on the event loop; gzip is unpacked chunk by chunk in
    the thread pool, so a big or bomb-like body never holds up other requests.
    """
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_PUSH_BYTES:
        raise _too_large(f"a push may carry at most {MAX_PUSH_BYTES} bytes; send fewer records per push")
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("identity", "gzip"):
        raise HTTPException(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, detail="Content-Encoding must be gzip or absent")
    received = 0
    chunks: list[bytes] = []
    unpacker = _Unpacker() if encoding == "gzip" else None
    async for chunk in request.stream():
        received += len(chunk)
        if received > MAX_PUSH_BYTES:
            raise _too_large(f"a push may carry at most {MAX_PUSH_BYTES} bytes; send fewer records per push")
        if unpacker is None:
            chunks.append(chunk)
        elif chunk:
            await run_in_threadpool(unpacker.feed, chunk)
    if unpacker is not None:
        return unpacker.finish()
    return b"".join(chunks)


class _Unpacker:
    """gzip unpacked in bounded steps, so a small bomb never grows past the cap."""

    def __init__(self) -> None:
        self.inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
        self.chunks: list[bytes] = []
        self.unpacked = 0

    def feed(self, chunk: bytes) -> None:
        inflate = self.inflate
        try:
            data = inflate.decompress(chunk, MAX_UNPACKED_BYTES + 1 - self.unpacked)
            while True:
                self.unpacked += len(data)
                if self.unpacked > MAX_UNPACKED_BYTES:
                    raise _too_large(f"a push may unpack to at most {MAX_UNPACKED_BYTES} bytes")
                self.chunks.append(data)
                if not inflate.unconsumed_tail:
                    break
                data = inflate.decompress(inflate.unconsumed_tail, MAX_UNPACKED_BYTES + 1 - self.unpacked)
        except zlib.error:
            raise HTTPException(status.HTTP_400_BAD_REQUEST, detail="the body is not valid gzip") from None

    def finish(self) -> bytes:
        if not self.inflate.eof:
            raise HTTPException(status.HTTP_400_BAD_REQUEST, detail="the gzip body is cut short")
        return b"".join(self.chunks)


def parse_json(raw: bytes) -> Any:
    """The body as JSON; 400 with where it breaks when it is not."""
    try:
        return json.loads(raw)
    except RecursionError:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, detail="the body is not JSON a record can be (nested too deeply)") from None
    except json.JSONDecodeError as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST,
                            detail=f"the body is not JSON (at line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    except UnicodeDecodeError:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, detail="the body is not JSON (it is not UTF-8)") from None
    except ValueError:
        # The one other ValueError of json.loads: an integer literal past Python's
        # digit limit for int(). No field holds a number anywhere near that long.
        raise HTTPException(status.HTTP_400_BAD_REQUEST,
                            detail=f"a number in the body is too long (more than {_MAX_DIGITS} digits): "
                                   "out of range for every field") from None
