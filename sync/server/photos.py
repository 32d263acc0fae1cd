"""Photographs on the server: the bytes in a folder by their hash, who holds what in the database.

    DIR/<sha256>              a photo's bytes, complete and checked; never rewritten
    DIR/.uploads/<id>.part    an upload under way: its size on disk is the upload's offset

The folder may be shared by several server processes (and machines, on one file
system): an upload's bytes go to its own part file under an exclusive lock (one
PATCH at a time, whichever process serves it), are fsynced before the offset is
answered, and a finished, checked part becomes `DIR/<sha256>` by a rename (atomic
on one file system), with the folder fsynced. Two teams sending the same bytes
share the file; each team's row (`photos`) is what gives access to it.

The offset lives in the file system, not the database: after a cut, a kill or a
restart, the part file's size is exactly what arrived and was written, so an
upload continues from there (tus `HEAD`).

Migration 10 makes the tables:

    photos         (team, sha256) -> size, media_type, sent_by (the enrolled device), received_at
    photo_uploads  upload_id -> team, device, sha256, length, media_type, created_at
"""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from .acts import PHOTO_COLUMNS, ActKind
from .db import Database, Device
from .db.base import now_utc
from .verdicts import Role

try:
    import fcntl
except ImportError:  # pragma: no cover - the server runs on POSIX
    fcntl = None  # type: ignore[assignment]

UPLOADS = ".uploads"
CHUNK = 1 << 16


class PhotoError(Exception):
    """A photo upload refused; `status` is the HTTP status that says why."""

    def __init__(self, status: int, detail: str):
        self.status = status
        self.detail = detail
        super().__init__(detail)


def default_folder(database_url: str) -> Path:
    """Beside the SQLite file (`server.db` -> `server-photos/`); `fieldapp-server-photos` otherwise."""
    if database_url.startswith(("postgresql://", "postgres://")):
        return Path("fieldapp-server-photos")
    path = Path(database_url.removeprefix("sqlite:///"))
    if str(path) == ":memory:":
        return Path("fieldapp-server-photos")
    return path.with_name(path.stem + "-photos")


@dataclass(frozen=True)
class Upload:
    upload_id: str
    team: str
    device: str
    sha256: str
    length: int
    media_type: str


@dataclass(frozen=True)
class HeldPhoto:
    sha256: str
    size: int
    media_type: str
    sent_by: str


def fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class PhotoFolder:
    """The photos' folder and their rows."""

    def __init__(self, db: Database, folder: Path):
        self.db = db
        self.folder = Path(folder)  # made at the first upload: a server that never takes a photo makes no folder

    def path_of(self, sha: str) -> Path:
        return self.folder / sha

    def _part(self, upload_id: str) -> Path:
        return self.folder / UPLOADS / f"{upload_id}.part"

    # --- the rows

    def held(self, team: str, sha: str) -> HeldPhoto | None:
        with self.db.transaction(write=False) as cur:
            cur.execute(self.db.sql("SELECT sha256, size, media_type, sent_by FROM photos WHERE team = ? AND sha256 = ?"),
                        (team, sha))
            row = cur.fetchone()
        return HeldPhoto(row[0], int(row[1]), row[2], row[3]) if row else None

    def may_read(self, device: Device, sha: str) -> HeldPhoto | None:
        """The photo when this device may fetch it: a lead of its team, or the device that sent it."""
        photo = self.held(device.team, sha)
        if photo is None or (device.role != Role.LEAD and photo.sent_by != device.device_id):
            return None
        return photo

    def upload(self, device: Device, upload_id: str) -> Upload | None:
        """An upload of this device's team (another team's is not found)."""
        with self.db.transaction(write=False) as cur:
            cur.execute(self.db.sql("SELECT upload_id, team, device, sha256, length, media_type FROM photo_uploads "
                                    "WHERE upload_id = ? AND team = ?"), (upload_id, device.team))
            row = cur.fetchone()
        return Upload(row[0], row[1], row[2], row[3], int(row[4]), row[5]) if row else None

    def offset(self, upload: Upload) -> int:
        try:
            return self._part(upload.upload_id).stat().st_size
        except FileNotFoundError:
            return 0

    # --- creation

    def create(self, device: Device, sha: str, length: int, media_type: str) -> Upload:
        """The device's upload of these bytes: the one it began before (after a cut or a restart), or a new one."""
        # First: a folder that cannot be made leaves no upload row behind (and a row from before gets its folder).
        (self.folder / UPLOADS).mkdir(parents=True, exist_ok=True)
        with self.db.transaction(write=True) as cur:
            cur.execute(self.db.sql("SELECT upload_id, length FROM photo_uploads WHERE team = ? AND device = ? AND sha256 = ?"),
                        (device.team, device.device_id, sha))
            row = cur.fetchone()
            if row is not None and int(row[1]) == length:
                return Upload(row[0], device.team, device.device_id, sha, length, media_type)
            if row is not None:  # another length for the same hash: the old one cannot be right
                cur.execute(self.db.sql("DELETE FROM photo_uploads WHERE upload_id = ?"), (row[0],))
                self._part(row[0]).unlink(missing_ok=True)
            upload_id = secrets.token_hex(16)
            cur.execute(self.db.sql("INSERT INTO photo_uploads (upload_id, team, device, sha256, length, media_type, created_at) "
                                    "VALUES (?, ?, ?, ?, ?, ?, ?)"),
                        (upload_id, device.team, device.device_id, sha, length, media_type, now_utc()))
        self._part(upload_id).touch()
        return Upload(upload_id, device.team, device.device_id, sha, length, media_type)

    # --- the bytes

    async def append(self, upload: Upload, offset: int, chunks) -> int:
        """Write the request's bytes from `offset`; returns the new offset (what was written and fsynced).

        `chunks` is the request body's async iterator. A cut connection ends it early
        (ClientDisconnect): what arrived is kept. At the last byte the whole is hashed;
        a mismatch deletes the upload and raises 460.
        """
        from starlette.requests import ClientDisconnect

        part = self._part(upload.upload_id)
        fd = os.open(part, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            if fcntl is not None:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    raise PhotoError(409, "this upload is being written by another request: ask its offset again") from None
            size = os.fstat(fd).st_size
            if offset != size:
                raise PhotoError(409, f"Upload-Offset {offset} is not the upload's offset {size}: ask it with HEAD")
            os.lseek(fd, size, os.SEEK_SET)
            try:
                async for chunk in chunks:
                    if size + len(chunk) > upload.length:
                        raise PhotoError(400, f"more bytes than Upload-Length {upload.length}")
                    view = memoryview(chunk)
                    while view:
                        view = view[os.write(fd, view):]
                    size += len(chunk)
            except ClientDisconnect:
                pass  # the link was cut: what arrived stays, and is the offset
            finally:
                os.fsync(fd)  # on disk before the offset is answered (or asked, after a restart)
        finally:
            os.close(fd)
        if size == upload.length:
            self._finish(upload)
        return size

    def _finish(self, upload: Upload) -> None:
        part = self._part(upload.upload_id)
        digest = hashlib.sha256()
        with open(part, "rb") as f:
            while block := f.read(CHUNK):
                digest.update(block)
        if digest.hexdigest() != upload.sha256:
            self._drop(upload)
            raise PhotoError(460, f"the bytes hash to {digest.hexdigest()}, not the sha256 {upload.sha256} the upload "
                                  "named: refused, and nothing kept")
        target = self.path_of(upload.sha256)
        if target.exists():
            part.unlink(missing_ok=True)  # the same bytes, held already (another team's, or a race)
        else:
            os.replace(part, target)
        fsync_dir(self.folder)
        with self.db.transaction(write=True) as cur:
            row = (upload.team, upload.sha256, upload.length, upload.media_type, upload.device, now_utc())
            cur.execute(self.db.sql("INSERT INTO photos (team, sha256, size, media_type, sent_by, received_at) "
                                    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"), row)
            if cur.rowcount == 1:  # its arrival logged with its row, for verify (sync/server/acts.py)
                self.db.record_act(cur, ActKind.PHOTO_RECEIVED, dict(zip(PHOTO_COLUMNS, row)), row[-1])
            cur.execute(self.db.sql("DELETE FROM photo_uploads WHERE upload_id = ?"), (upload.upload_id,))

    def _drop(self, upload: Upload) -> None:
        with self.db.transaction(write=True) as cur:
            cur.execute(self.db.sql("DELETE FROM photo_uploads WHERE upload_id = ?"), (upload.upload_id,))
        self._part(upload.upload_id).unlink(missing_ok=True)


def changed_bytes(folder: Path, held: list[tuple[str, str]]) -> list[str]:
    """Each stored photo (team, sha256) whose bytes in the folder are missing or no longer hash to its name."""
    found: list[str] = []
    for sha in sorted({sha for _team, sha in held}):
        digest = hashlib.sha256()
        try:
            with open(Path(folder) / sha, "rb") as f:
                while block := f.read(CHUNK):
                    digest.update(block)
        except OSError as exc:
            found.append(f"photo {sha}: its bytes cannot be read in {folder} ({exc.strerror or exc}) (deleted)")
            continue
        if digest.hexdigest() != sha:
            found.append(f"photo {sha}: its bytes in {folder} hash to {digest.hexdigest()} (changed)")
    return found
