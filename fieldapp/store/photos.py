"""Photographs on the phone: originals and previews, held by their hash, sealed, never altered.

    photos = store.photos                     # a RecordStore's, sharing its lock and vault
    photo = photos.take(original, kind=PhotoKind.FACE, taken_at=...)   # the record's entry
    attach(store, record_id, original, kind=...)   # a new version of the record listing it

Files, in the data folder's `photos/`:

    manifest.json   {"files": {sha256: {"file", "size", "media_type", "role": "original" | "preview",
                                        "sent": bool, "records": [record ids]}}}
    <32 hex>        one photo's bytes, under a random name

The bytes are addressed by their SHA-256 through the manifest, not named by it:
with a PIN the file names would otherwise tell anyone holding a copy of a photo
that this phone holds it too. Each file is written like a record (temp file,
fsync, rename, folder fsync) and, with a PIN, sealed with the data key under its
name (`photos/<name>`), like every other file (`protect._names`). The blob goes
first, the manifest naming it last: a kill in between leaves a blob no manifest
names, removed at the next write. Nothing rewrites a blob: the original's hash
is the evidence.

`records` says which records list a file; retention drops a record's files when
no record is left listing them, and never a record whose photos wait to be sent.
Wipe takes the whole folder.
"""

from __future__ import annotations

import hashlib
import io
import secrets
from collections.abc import Iterable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fieldapp.core.records import PREVIEW_MEDIA_TYPE, PhotoKind, photo_hashes

from .durable import atomic_write, decode, encode, fsync_dir, overwrite
from .errors import DamagedFile, StoreError
from .lock import StoreLock

if TYPE_CHECKING:
    from .vault import Vault

FOLDER = "photos"
MANIFEST = "manifest.json"
PREVIEW_EDGE = 1280  # the preview's long edge, in pixels
PREVIEW_QUALITY = 80


class Role(StrEnum):
    ORIGINAL = "original"
    PREVIEW = "preview"


class NotAPhoto(StoreError):
    """Bytes no decoder on this phone reads as a picture (Pillow: JPEG and PNG on Android)."""

    def __str__(self) -> str:
        return "not a photograph this phone can read (JPEG or PNG)"


class PhotoMissing(StoreError, KeyError):
    def __str__(self) -> str:
        return f"no photo {self.args[0]} on this device"


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- the preview ------------------------------------------------------------------------------


def make_preview(original: bytes) -> tuple[bytes, str]:
    """(a JPEG with the long edge at most 1280 px and no metadata, the original's media type).

    Pillow is built for Android by Flet (flet-dev/mobile-forge recipes/pillow: JPEG
    and PNG). Saved without `exif=`, Pillow writes no EXIF: the location goes, with
    the rest. The orientation is applied to the pixels first, so the picture stands
    as it was taken.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(original)) as image:
            media_type = Image.MIME.get(image.format or "", "")
            image.load()
            upright = ImageOps.exif_transpose(image)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise NotAPhoto() from None
    if not media_type.startswith("image/"):
        raise NotAPhoto()
    upright = upright.convert("RGB")
    upright.thumbnail((PREVIEW_EDGE, PREVIEW_EDGE))
    out = io.BytesIO()
    upright.save(out, format="JPEG", quality=PREVIEW_QUALITY, optimize=True)
    return out.getvalue(), media_type


# --- the store ---------------------------------------------------------------------------------


class PhotoStore:
    """The folder's photos. Every change runs under the store's own lock (`lock`), shared with its records."""

    def __init__(self, folder: Path, vault: Vault | None, lock: StoreLock):
        self.root = Path(folder)
        self.folder = self.root / FOLDER
        self.vault = vault
        self._lock = lock

    # --- the manifest

    def _manifest(self) -> dict[str, Any]:
        path = self.folder / MANIFEST
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return {"files": {}}
        plain = self.vault.open(raw, f"{FOLDER}/{MANIFEST}", path) if self.vault is not None else raw
        manifest = decode(path, plain)
        if not isinstance(manifest.get("files"), dict):
            raise DamagedFile(path, "does not list photos")
        return manifest

    def _save(self, manifest: dict[str, Any]) -> None:
        payload = encode(manifest)
        if self.vault is not None:
            payload = self.vault.seal(payload, f"{FOLDER}/{MANIFEST}")
        atomic_write(self.folder / MANIFEST, payload)

    def _write_blob(self, data: bytes) -> str:
        self.folder.mkdir(parents=True, exist_ok=True)
        name = secrets.token_hex(16)
        payload = self.vault.seal(data, f"{FOLDER}/{name}") if self.vault is not None else data
        atomic_write(self.folder / name, payload)
        return name

    def _clear_strays(self, manifest: dict[str, Any]) -> None:
        """Blobs a kill left unnamed (written, manifest not yet): never part of the store."""
        named = {entry["file"] for entry in manifest["files"].values()}
        for path in self.folder.iterdir():
            if path.name != MANIFEST and not path.name.startswith(".") and path.name not in named:
                _erase(path)

    # --- writing

    def put(self, data: bytes, media_type: str, role: Role, record_ids: Iterable[str] = ()) -> dict[str, Any]:
        """Hold `data` (once, whoever asks again); returns {"sha256", "size", "media_type"}. Durable on return."""
        sha = sha256_of(data)
        with self._lock:
            manifest = self._manifest()
            entry = manifest["files"].get(sha)
            if entry is None:
                if self.folder.is_dir():
                    self._clear_strays(manifest)
                entry = {"file": self._write_blob(data), "size": len(data), "media_type": media_type,
                         "role": role.value, "sent": False, "records": []}
                manifest["files"][sha] = entry
            entry["records"] = sorted(set(entry["records"]) | set(record_ids))
            self._save(manifest)
        return {"sha256": sha, "size": entry["size"], "media_type": entry["media_type"]}

    def take(self, original: bytes, *, kind: PhotoKind, taken_at: str, record_id: str | None = None) -> dict[str, Any]:
        """Hold an original and the preview made from it; returns the record's entry for it (schema 3)."""
        preview, media_type = make_preview(original)
        ids = [record_id] if record_id else []
        held = self.put(original, media_type, Role.ORIGINAL, ids)
        held_preview = self.put(preview, PREVIEW_MEDIA_TYPE, Role.PREVIEW, ids)
        return {**held, "taken_at": taken_at, "kind": PhotoKind(kind).value, "preview": held_preview}

    def listed_by(self, record_id: str, hashes: Iterable[str]) -> None:
        """Note that a saved version of `record_id` lists these files."""
        with self._lock:
            manifest = self._manifest()
            changed = False
            for sha in hashes:
                entry = manifest["files"].get(sha)
                if entry is not None and record_id not in entry["records"]:
                    entry["records"] = sorted({*entry["records"], record_id})
                    changed = True
            if changed:
                self._save(manifest)

    def set_upload(self, sha: str, location: str | None) -> None:
        """Where the server takes this file's upload (tus), kept so a later pass asks its offset there."""
        with self._lock:
            manifest = self._manifest()
            entry = manifest["files"].get(sha)
            if entry is not None and entry.get("upload") != location:
                entry["upload"] = location
                self._save(manifest)

    def mark_sent(self, sha: str) -> None:
        with self._lock:
            manifest = self._manifest()
            entry = manifest["files"].get(sha)
            if entry is not None and not entry["sent"]:
                entry["sent"] = True
                entry.pop("upload", None)
                self._save(manifest)

    def forget_records(self, record_ids: Iterable[str]) -> int:
        """The records are gone from the phone: each file no record lists any more goes, overwritten first."""
        gone = set(record_ids)
        with self._lock:
            manifest = self._manifest()
            dropped = [sha for sha, entry in manifest["files"].items()
                       if set(entry["records"]) & gone and not set(entry["records"]) - gone]
            if not dropped and not any(set(e["records"]) & gone for e in manifest["files"].values()):
                return 0
            for entry in manifest["files"].values():
                entry["records"] = sorted(set(entry["records"]) - gone)
            self._drop(manifest, dropped)
        return len(dropped)

    def forget_unlisted(self, before: float) -> int:
        """Files no record lists, written before `before` (a time stamp): a form's photos whose Save never came
        (the app killed between the two). Within the retention period a form may still be open, so they stay."""
        with self._lock:
            manifest = self._manifest()
            dropped = [sha for sha, entry in manifest["files"].items()
                       if not entry["records"] and _written_at(self.folder / entry["file"]) < before]
            if dropped:
                self._drop(manifest, dropped)
        return len(dropped)

    def _drop(self, manifest: dict[str, Any], shas: list[str]) -> None:
        """Saves the manifest without these files, then erases them (under the lock)."""
        files = [manifest["files"].pop(sha)["file"] for sha in shas]
        self._save(manifest)  # first: a file no manifest names is a stray, never a hole
        for name in files:
            _erase(self.folder / name)
        if files:
            fsync_dir(self.folder)

    def discard(self, sha: str) -> None:
        """A photo taken but removed before the version was saved (listed by no record)."""
        with self._lock:
            manifest = self._manifest()
            entry = manifest["files"].get(sha)
            if entry is None or entry["records"]:
                return
            del manifest["files"][sha]
            self._save(manifest)
            _erase(self.folder / entry["file"])

    # --- reading

    def read(self, sha: str) -> bytes:
        """The bytes, checked against their hash."""
        entry = self.entry(sha)
        if entry is None:
            raise PhotoMissing(sha)
        path = self.folder / entry["file"]
        raw = path.read_bytes()
        data = self.vault.open(raw, f"{FOLDER}/{entry['file']}", path) if self.vault is not None else raw
        if sha256_of(data) != sha:
            raise DamagedFile(path, "does not hash to the photo it holds")
        return data

    def entry(self, sha: str) -> dict[str, Any] | None:
        with self._lock:
            return self._manifest()["files"].get(sha)

    def has(self, sha: str) -> bool:
        return self.entry(sha) is not None

    def entries(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            return self._manifest()["files"]

    def waiting(self) -> list[tuple[str, dict[str, Any]]]:
        """Files not yet delivered: previews first, then originals (the lead sees a preview sooner)."""
        files = [(sha, e) for sha, e in self.entries().items() if not e["sent"] and e["records"]]
        return sorted(files, key=lambda item: (item[1]["role"] != Role.PREVIEW, item[0]))

    def counts(self) -> dict[str, int]:
        files = [e for e in self.entries().values() if e["records"]]
        originals = [e for e in files if e["role"] == Role.ORIGINAL]
        return {"photos": len(originals), "photos_waiting": sum(not e["sent"] for e in originals),
                "previews_waiting": sum(not e["sent"] for e in files if e["role"] == Role.PREVIEW)}

    def all_sent(self, hashes: Iterable[str]) -> bool:
        """Whether every one of these files this phone holds was delivered."""
        files = self.entries()
        return all(files[sha]["sent"] for sha in hashes if sha in files)


def hashes_of(doc: dict[str, Any]) -> set[str]:
    """Every file a stored document's versions (current and history) list."""
    found: set[str] = set()
    for version in [doc["record"], *doc.get("history", [])]:
        found |= photo_hashes(version)
    return found


def _written_at(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:  # named but gone: nothing left to keep
        return 0.0


def _erase(path: Path) -> None:
    """Overwrite, then remove: a plain photo (a store with no PIN) leaves no readable copy behind."""
    try:
        overwrite(path)
        path.unlink()
    except FileNotFoundError:
        pass
