"""Photographs: resumable uploads by the tus protocol (1.0.0, core and creation), and fetching one.

    OPTIONS /api/v1/photos/               what this tus server speaks
    POST    /api/v1/photos/               creation: Upload-Length, Upload-Metadata with `sha256` (base64, as tus says)
    HEAD    /api/v1/photos/uploads/{id}   the upload's offset: where to continue
    PATCH   /api/v1/photos/uploads/{id}   bytes from Upload-Offset (application/offset+octet-stream)
    GET     /api/v1/photos/{sha256}       the photo: a lead of its team, or the device that sent it

Written here rather than with `tuspyserver` (a FastAPI router, read at 4.4.3):
its PATCH route resolves the dependency that writes the request body before the
`auth` dependency (routes/core.py: `_=Depends(request_chunks_dep)` comes first), so
bytes of a request without a valid token reach the upload's file; its uploads are
found by id alone (the `file_dep` hook gets no metadata on PATCH or HEAD), so an
upload cannot be scoped to the token's team; it has no answer for "this team
holds these bytes already"; and it adds termination and concatenation, which let
a client delete or assemble uploads. Its own standard behaviour is still used: the
phone's uploader is tested against it (tests/sync/test_photo_interop.py).

None of these is in the OpenAPI document: tus is its own protocol (tus.io), and
docs/design.md lists them. Every answer but OPTIONS's carries `Tus-Resumable: 1.0.0`. A creation for bytes
the team holds already answers 201 with `Upload-Offset` equal to the length (and
`Fieldapp-Photo: held`), so a standard client sends nothing. A creation by the
device that began the same upload before gives that upload again: a phone
continues after its own restart without keeping the upload's address. The hash
is checked when the last byte arrives: a mismatch is 460 (tus's checksum
mismatch) and the upload is deleted. An upload or photo of another team is 404,
as one that is not there.
"""

from __future__ import annotations

import base64
import binascii
import re

from fastapi import APIRouter, Depends, Header, Request, Response, status
from fastapi.responses import FileResponse, JSONResponse

from fieldapp.core.protocol import API_PREFIX
from fieldapp.core.records import MAX_PHOTO_BYTES, SHA256_HEX

from ..auth import current_device
from ..db import Device
from ..photos import PhotoError, PhotoFolder

router = APIRouter()

TUS_VERSION = "1.0.0"
OFFSET_TYPE = "application/offset+octet-stream"
UPLOADS = f"{API_PREFIX}/photos/uploads/"
_SHA = re.compile(SHA256_HEX)
_MEDIA_TYPE = re.compile(r"image/[a-z0-9][a-z0-9.+-]{0,39}")
_UPLOAD_ID = re.compile(r"[0-9a-f]{32}|[0-9a-f]{64}")
# ASCII digits only: `str.isdigit` takes '²', which `int` refuses (a 500). Always used with fullmatch:
# `re.match` with `$` takes a trailing newline.
_NUMBER = re.compile(r"[0-9]{1,15}")


def photos(request: Request) -> PhotoFolder:
    return request.app.state.photos


def _refused(status_code: int, detail: str, **headers: str) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status_code, headers={"Tus-Resumable": TUS_VERSION, **headers})


def _tus(tus_resumable: str | None) -> JSONResponse | None:
    if tus_resumable != TUS_VERSION:
        return _refused(412, f"this server speaks tus {TUS_VERSION}: send Tus-Resumable: {TUS_VERSION}", **{"Tus-Version": TUS_VERSION})
    return None


def parse_metadata(header: str | None) -> dict[str, str]:
    """tus Upload-Metadata: `key base64,key base64` (a key may come without a value)."""
    found: dict[str, str] = {}
    for pair in (header or "").split(","):
        parts = pair.strip().split(" ")
        if not parts[0]:
            continue
        if len(parts) > 2:
            raise ValueError(f"Upload-Metadata pair {pair.strip()!r} is not `key base64`")
        try:
            found[parts[0]] = base64.b64decode(parts[1], validate=True).decode("utf-8") if len(parts) == 2 else ""
        except (binascii.Error, UnicodeDecodeError):
            raise ValueError(f"Upload-Metadata value of {parts[0]!r} is not base64 of UTF-8 text") from None
    return found


@router.options("/photos/", include_in_schema=False)
def tus_options() -> Response:
    return Response(status_code=204, headers={"Tus-Resumable": TUS_VERSION, "Tus-Version": TUS_VERSION,
                                              "Tus-Extension": "creation", "Tus-Max-Size": str(MAX_PHOTO_BYTES)})


@router.post("/photos/", include_in_schema=False)
@router.post("/photos", include_in_schema=False)
def tus_create(
    device: Device = Depends(current_device),
    folder: PhotoFolder = Depends(photos),
    tus_resumable: str | None = Header(None),
    upload_length: str | None = Header(None),
    upload_metadata: str | None = Header(None),
) -> Response:
    refused = _tus(tus_resumable)
    if refused is not None:
        return refused
    if upload_length is None or not _NUMBER.fullmatch(upload_length) or int(upload_length) < 1:
        return _refused(400, "Upload-Length is required: the photo's size in bytes (deferred length is not offered)")
    length = int(upload_length)
    if length > MAX_PHOTO_BYTES:
        return _refused(413, f"a photo is at most {MAX_PHOTO_BYTES} bytes (Tus-Max-Size)")
    try:
        metadata = parse_metadata(upload_metadata)
    except ValueError as exc:
        return _refused(400, str(exc))
    sha = metadata.get("sha256", "")
    if not _SHA.fullmatch(sha):
        return _refused(400, "Upload-Metadata must carry sha256: the photo's SHA-256, 64 lower-case hex digits")
    media_type = metadata.get("media_type") or metadata.get("filetype") or "image/jpeg"
    if not _MEDIA_TYPE.fullmatch(media_type):
        return _refused(400, f"media type {media_type!r} is not an image/... type")
    held = folder.held(device.team, sha)
    if held is not None:
        if held.size != length:
            return _refused(409, f"this team holds {sha} with {held.size} bytes, not {length}")
        return Response(status_code=201, headers={"Tus-Resumable": TUS_VERSION, "Location": UPLOADS + sha,
                                                  "Upload-Offset": str(length), "Fieldapp-Photo": "held"})
    try:
        upload = folder.create(device, sha, length, media_type)
        try:
            offset = folder.settle(upload)  # all bytes there from before (a kill before the row): finished now
        except PhotoError:  # those bytes were not the photo, or their part is gone: dropped, begin again
            upload = folder.create(device, sha, length, media_type)
            offset = folder.offset(upload)
    except PhotoError as exc:
        return _refused(exc.status, exc.detail)
    headers = {"Tus-Resumable": TUS_VERSION, "Location": UPLOADS + upload.upload_id, "Upload-Offset": str(offset)}
    if offset == length and folder.held(device.team, sha) is not None:
        headers["Fieldapp-Photo"] = "held"
    return Response(status_code=201, headers=headers)


@router.head("/photos/uploads/{upload_id}", include_in_schema=False)
def tus_offset(upload_id: str, device: Device = Depends(current_device), folder: PhotoFolder = Depends(photos),
               tus_resumable: str | None = Header(None)) -> Response:
    refused = _tus(tus_resumable)
    if refused is not None:
        return Response(status_code=412, headers={"Tus-Version": TUS_VERSION, "Tus-Resumable": TUS_VERSION})
    headers = {"Tus-Resumable": TUS_VERSION, "Cache-Control": "no-store"}
    if _UPLOAD_ID.fullmatch(upload_id) and len(upload_id) == 64:
        held = folder.held(device.team, upload_id)
        if held is not None:
            return Response(status_code=200, headers={**headers, "Upload-Offset": str(held.size),
                                                      "Upload-Length": str(held.size), "Fieldapp-Photo": "held"})
    upload = folder.upload(device, upload_id) if _UPLOAD_ID.fullmatch(upload_id) else None
    if upload is None:
        return Response(status_code=404, headers=headers)
    try:
        offset = folder.settle(upload)  # an offset equal to the length is answered only for a photo held
    except PhotoError:
        return Response(status_code=404, headers=headers)
    if offset == upload.length and folder.held(device.team, upload.sha256) is not None:
        headers["Fieldapp-Photo"] = "held"
    return Response(status_code=200, headers={**headers, "Upload-Offset": str(offset), "Upload-Length": str(upload.length)})


@router.patch("/photos/uploads/{upload_id}", include_in_schema=False)
async def tus_append(
    upload_id: str,
    request: Request,
    device: Device = Depends(current_device),
    folder: PhotoFolder = Depends(photos),
    tus_resumable: str | None = Header(None),
    upload_offset: str | None = Header(None),
    content_type: str | None = Header(None),
) -> Response:
    # The token and the upload are checked before a byte of the body is read.
    refused = _tus(tus_resumable)
    if refused is not None:
        return refused
    if (content_type or "").split(";")[0].strip() != OFFSET_TYPE:
        return _refused(415, f"Content-Type must be {OFFSET_TYPE}")
    if upload_offset is None or not _NUMBER.fullmatch(upload_offset):
        return _refused(400, "Upload-Offset is required: where these bytes start")
    held = folder.held(device.team, upload_id) if len(upload_id) == 64 and _UPLOAD_ID.fullmatch(upload_id) else None
    if held is not None:
        return Response(status_code=204, headers={"Tus-Resumable": TUS_VERSION, "Upload-Offset": str(held.size)})
    upload = folder.upload(device, upload_id) if _UPLOAD_ID.fullmatch(upload_id) else None
    if upload is None:
        return _refused(404, "no such upload for this team")
    try:
        offset = await folder.append(upload, int(upload_offset), request.stream())
    except PhotoError as exc:
        return _refused(exc.status, exc.detail)
    return Response(status_code=204, headers={"Tus-Resumable": TUS_VERSION, "Upload-Offset": str(offset)})


# Out of the OpenAPI document like the tus routes: bytes by a hash no generator can guess (the
# fuzzing of tests/server/test_fuzz.py needs a 200 of every route it is shown). docs/design.md lists it.
@router.get("/photos/{sha256}", response_class=FileResponse, include_in_schema=False)
def fetch_photo(sha256: str, device: Device = Depends(current_device), folder: PhotoFolder = Depends(photos)) -> Response:
    """A photo by the SHA-256 its record lists: for a lead of its team, and for the device that sent it."""
    photo = folder.may_read(device, sha256) if _SHA.fullmatch(sha256) else None
    if photo is None or not folder.path_of(photo.sha256).is_file():
        return JSONResponse({"detail": "no such photo for this device"}, status_code=status.HTTP_404_NOT_FOUND)
    return FileResponse(folder.path_of(photo.sha256), media_type=photo.media_type,
                        headers={"Cache-Control": "private, no-store"})
