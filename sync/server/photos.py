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
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
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
# Limits that keep the photos' disk from filling (docs/design.md, Photographs):
MAX_OPEN_UPLOADS = 20  # uploads a device may have begun and not finished (429 past it)
UPLOAD_MAX_AGE = timedelta(days=7)  # an upload begun longer ago is removed, part and row, at the next creation
FREE_MARGIN = 1 << 30  # bytes the folder's disk keeps free after a new upload's length (507 below it)


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

    def __init__(self, db: Database, folder: Path, *, max_open: int = MAX_OPEN_UPLOADS,
                 max_age: timedelta = UPLOAD_MAX_AGE, free_margin: int = FREE_MARGIN):
        self.db = db
        self.max_open = max_open
        self.max_age = max_age
        self.free_margin = free_margin
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
        self._expire()
        with self.db.transaction(write=True) as cur:
            cur.execute(self.db.sql("SELECT upload_id, length FROM photo_uploads WHERE team = ? AND device = ? AND sha256 = ?"),
                        (device.team, device.device_id, sha))
            row = cur.fetchone()
            if row is not None and int(row[1]) == length:
                if not self._part(row[0]).exists() and not self.path_of(sha).exists():
                    self._part(row[0]).touch()  # its part lost (a folder restored without it): from 0 again
                return Upload(row[0], device.team, device.device_id, sha, length, media_type)
            if row is not None:  # another length for the same hash: the old one cannot be right
                self._unlink_unless_busy(row[0])
                cur.execute(self.db.sql("DELETE FROM photo_uploads WHERE upload_id = ?"), (row[0],))
            cur.execute(self.db.sql("SELECT COUNT(*) FROM photo_uploads WHERE team = ? AND device = ?"),
                        (device.team, device.device_id))
            if int(cur.fetchone()[0]) >= self.max_open:
                raise PhotoError(429, f"this device has {self.max_open} uploads open (the most it may): finish "
                                      f"them first; one left unfinished is removed {self.max_age.days} days after it began")
            if shutil.disk_usage(self.folder).free - length < self.free_margin:
                raise PhotoError(507, "the server's photo disk is nearly full: the photo stays on the phone; "
                                      "it will be tried again")
            upload_id = secrets.token_hex(16)
            cur.execute(self.db.sql("INSERT INTO photo_uploads (upload_id, team, device, sha256, length, media_type, created_at) "
                                    "VALUES (?, ?, ?, ?, ?, ?, ?)"),
                        (upload_id, device.team, device.device_id, sha, length, media_type, now_utc()))
        self._part(upload_id).touch()
        return Upload(upload_id, device.team, device.device_id, sha, length, media_type)

    def _expire(self) -> None:
        """Remove uploads begun longer than `max_age` ago: their rows and part files (none being written)."""
        cutoff = (datetime.now(UTC) - self.max_age).isoformat(timespec="milliseconds")
        with self.db.transaction(write=False) as cur:
            cur.execute(self.db.sql("SELECT upload_id FROM photo_uploads WHERE created_at < ?"), (cutoff,))
            old = [row[0] for row in cur.fetchall()]
        for upload_id in old:
            try:
                self._unlink_unless_busy(upload_id)
            except PhotoError:
                continue  # being written right now: not abandoned after all
            with self.db.transaction(write=True) as cur:
                cur.execute(self.db.sql("DELETE FROM photo_uploads WHERE upload_id = ?"), (upload_id,))

    def _unlink_unless_busy(self, upload_id: str) -> None:
        """Remove an upload's part under its lock: never one a request is writing (409 then)."""
        part = self._part(upload_id)
        try:
            fd = os.open(part, os.O_RDONLY)
        except FileNotFoundError:
            return
        try:
            if fcntl is not None:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    raise PhotoError(409, "an upload of these bytes with another length is being written: "
                                          "try again when it ends") from None
            part.unlink(missing_ok=True)
        finally:
            os.close(fd)

    # --- the bytes

    async def append(self, upload: Upload, offset: int, chunks) -> int:
        """Write the request's bytes from `offset`; returns the new offset (what was written and fsynced).

        `chunks` is the request body's async iterator. A cut connection ends it early
        (ClientDisconnect): what arrived is kept. At the last byte the whole is hashed,
        moved into place and its row written, all under the upload's lock; a mismatch
        deletes the upload and raises 460.
        """
        from starlette.requests import ClientDisconnect

        part = self._part(upload.upload_id)
        try:
            fd = os.open(part, os.O_WRONLY)  # never O_CREAT: a part moved into place is not begun again
        except FileNotFoundError:
            return self._finished_already(upload, offset)
        try:
            if fcntl is not None:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    raise PhotoError(409, "this upload is being written by another request: ask its offset again") from None
            if not self._still_there(fd, part):
                return self._finished_already(upload, offset)  # moved into place or dropped meanwhile
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
            if size == upload.length:
                self._finish(upload)  # still under the lock: no other request sees a full part unfinished
        finally:
            os.close(fd)
        return size

    def settle(self, upload: Upload) -> int:
        """The upload's offset, after finishing it when all its bytes are on disk.

        A kill (or a database error) between the last byte's fsync and the photo's row
        leaves a full part file, or a moved file with no row: it is finished here, so
        an offset equal to the length is only ever answered for a photo that is held.
        """
        part = self._part(upload.upload_id)
        try:
            fd = os.open(part, os.O_RDONLY)
        except FileNotFoundError:
            if not self.path_of(upload.sha256).exists():
                return 0
            self._finish(upload)  # moved into place, row not written
            return upload.length
        try:
            size = os.fstat(fd).st_size
            if size != upload.length:
                return size
            if fcntl is not None:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    return size  # a request holds it: it finishes the upload itself
            self._finish(upload)
            return size
        finally:
            os.close(fd)

    @staticmethod
    def _still_there(fd: int, part: Path) -> bool:
        """Whether the locked file is still the upload's part (not renamed into place or unlinked since it was opened)."""
        try:
            return os.path.samestat(os.fstat(fd), part.stat())
        except FileNotFoundError:
            return False

    def _finished_already(self, upload: Upload, offset: int) -> int:
        """A PATCH whose part file is gone: finished by another request (or dropped)."""
        if not self.path_of(upload.sha256).exists():
            raise PhotoError(404, "this upload is gone: create it again")
        self._finish(upload)
        if offset != upload.length:
            raise PhotoError(409, f"Upload-Offset {offset} is not the upload's offset {upload.length}: ask it with HEAD")
        return upload.length

    def _finish(self, upload: Upload) -> None:
        """Hash, move into place, write the row. The caller holds the upload's lock (or the part is gone)."""
        part = self._part(upload.upload_id)
        target = self.path_of(upload.sha256)
        if part.exists():
            digest = hashlib.sha256()
            with open(part, "rb") as f:
                while block := f.read(CHUNK):
                    digest.update(block)
            if digest.hexdigest() != upload.sha256:
                self._drop(upload)
                raise PhotoError(460, f"the bytes hash to {digest.hexdigest()}, not the sha256 {upload.sha256} the "
                                      "upload named: refused, and nothing kept")
            if target.exists():
                part.unlink(missing_ok=True)  # the same bytes, held already (another team's, or a race)
            else:
                os.replace(part, target)
            fsync_dir(self.folder)
        elif not target.exists():
            raise PhotoError(404, "this upload is gone: create it again")
        # else: a part already moved into place by an earlier _finish that did not reach its row
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
