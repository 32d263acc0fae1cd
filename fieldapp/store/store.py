"""The device's record store: every save durable, every version kept, the outbox a query.

Layout of the data folder:

    meta.json                 device id, pull cursor and other small settings
    days/YYYY-MM-DD.NNN.json  the records, by creation day, in chunks of at most 48
    index/manifest.json       cache: per-partition counts by sync state
    index/ids.log             cache: which partition holds which record id
    damaged/                  files that would not open, moved aside, never overwritten
    .lock                     one writer at a time, across threads and processes

Only `meta.json` and `days/` are truth, and only they are fsynced; the caches
(`fieldapp/store/index.py`) are checked against them. Each record is one
document (`document.py`); what the server's answers do to it is `reconcile.py`.

Several processes share a folder (the app, `fieldapp sync`, `fieldapp demo`):
every read-modify-write holds the folder's lock and reads the partition from
disk, and every partition read updates this process's id index, so an id is
never taken for new because another process saved it.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from tinydb import TinyDB
from tinydb.table import Document

from fieldapp.core.records import InvalidRecord, RecordType, held_tag, normalize

from . import protect, reconcile, rekey
from .document import StoredRecord, SyncState, copy_json, new_document
from .durable import DurableJSONStorage, atomic_write, backup_of, decode, folder_sync_held, one_folder_sync, restore_missing
from .errors import DamagedFile, NotInConflict, RecordNotFound, StoreError
from .handover import remove_exports
from .index import FORMAT, Generation, IdIndex, Manifest, stat_key, summarize
from .lock import StoreLock
from .partition import CHUNK_RECORDS, Partition, chunk_of, day_of, make_key
from .photos import PhotoStore, hashes_of
from .problems import StoreProblem
from .tags import normal_tag, tag_mark
from .vault import Vault

log = logging.getLogger(__name__)

__all__ = ["RecordStore", "StoredRecord", "StoreError", "StoreProblem", "SyncState", "now_local", "timestamp"]


def now_local() -> datetime:
    return datetime.now(UTC).astimezone()


def timestamp(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("times must carry an offset")
    return moment.isoformat(timespec="milliseconds")


MANIFEST_EVERY_S = 5.0
# Partitions kept parsed in memory: enough for a day's work, bounded for a year's pull.
OPEN_PARTITIONS = 64
_TYPE_ORDER = {RecordType.CALL: 0, RecordType.RECOVERY: 1}


class RecordStore:
    """The device's records. Open with `RecordStore.open(folder)`."""

    def __init__(self, folder: Path, vault: Vault | None = None):
        self.folder = Path(folder)
        self.vault = vault  # the data key when the store has a PIN; memory only
        self._days = self.folder / "days"
        self._index = self.folder / "index"
        self._damaged = self.folder / "damaged"
        self._lock = StoreLock(self.folder / ".lock")
        self._partitions: OrderedDict[str, Partition] = OrderedDict()
        self._manifest = Manifest(self._index / "manifest.json", vault)
        self._ids = IdIndex(self._index / "ids.log", vault)
        self._generation = Generation(self._index / "generation")
        self._seen: int | None = None  # the folder's write count when these caches were last in step
        self._doubles: dict[str, set[str]] = {}  # id -> partitions found holding it
        self._manifest_saved = 0.0
        self._manifest_dirty = False
        self.problems: list[StoreProblem] = []
        self.repaired = 0  # records found held twice and folded into one, since open
        self._closed = False
        self._meta_db: TinyDB | None = None
        self.device_id = ""
        self.photos = PhotoStore(self.folder, vault, self._lock)  # photographs, by hash (photos.py)

    # --- opening -----------------------------------------------------------------

    @classmethod
    def open(cls, folder: str | Path, pin: str | None = None) -> RecordStore:
        """Open the folder's store. With a PIN set, give it (or have unlocked it in this process).

        Raises PinRequired or WrongPin, KeysLost when `keys.json` is missing or damaged.
        The duress PIN wipes the folder and opens it empty.
        """
        folder = Path(folder)
        vault = None
        protect.check_keys(folder)  # a lost keys.json is said, not taken for damage to repair
        if protect.has_pin(folder):
            vault = protect.unlocked(folder)
            if vault is None:
                if pin is None:
                    raise protect.PinRequired()
                try:
                    vault = protect.unlock(folder, pin)
                except protect.Duress:
                    vault = None  # wiped: an empty store, as if new
        store = cls(folder, vault)
        store._open()
        return store

    def _open(self) -> None:
        for folder in (self.folder, self._days, self._index):
            folder.mkdir(parents=True, exist_ok=True)
        with self._lock:
            self._clear_leftovers()
            if self.vault is not None and self.vault.converting:
                protect.finish_sealing(self.folder, self.vault)  # a kill cut the sealing short
            if self.vault is not None:
                rekey.finish(self.folder, self.vault)  # a kill cut a `pin change` short
            self._open_meta()
            self._manifest.load()
            self._refresh(force=True)
            if self._manifest.format < FORMAT:
                # Written before this version's rules: read it whole once and fold any
                # doubles; marked checked only after the last fold, so a kill before it
                # means the next open checks again.
                self._complete_index(check_all=True)
                self._repair_doubles()
                self._manifest.format = FORMAT
                self._save_manifest()
            self._repair_doubles()

    def _clear_leftovers(self) -> None:
        # Temporary files of saves killed before their rename: never part of the store.
        for folder in (self.folder, self._days, self._index):
            for leftover in folder.glob(".*.tmp"):
                leftover.unlink(missing_ok=True)

    def _open_meta(self) -> None:
        path = self.folder / "meta.json"
        self._readable_or_restored(path)
        self._meta_db = TinyDB(path, storage=DurableJSONStorage, vault=self.vault, name=path.name)
        device = self.get_meta("device_id")
        if not device:
            device = f"dev-{uuid.uuid4().hex[:16]}"
            self.set_meta("device_id", device)
        self.device_id = device

    def _readable_or_restored(self, path: Path) -> None:
        """Check a truth file opens; if not, move it aside and bring back its last good copy."""
        if restore_missing(path):
            self._written()
        name = path.relative_to(self.folder).as_posix()
        try:
            with open(path, "rb") as f:
                decode(path, self._unseal(f.read(), name, path))
            return
        except FileNotFoundError:
            return
        except OSError as exc:
            reason = f"cannot be read ({exc.strerror})"
        except DamagedFile as exc:
            reason = exc.reason
        moved_to = self._move_aside(path)
        restored = None
        backup = backup_of(path)
        try:
            with open(backup, "rb") as f:
                raw = f.read()
            decode(backup, self._unseal(raw, name, backup))
            self._written()
            atomic_write(path, raw)
            restored = backup
        except FileNotFoundError:
            pass
        except (OSError, DamagedFile):
            # A damaged backup is moved aside too: left in place, every later
            # open would restore it and move it aside again.
            self._move_aside(backup)
        problem = StoreProblem(path=path, moved_to=moved_to, reason=reason, restored_from=restored)
        self.problems.append(problem)
        log.warning("store: %s", problem.describe())

    def _unseal(self, raw: bytes, name: str, path: Path) -> bytes:
        return self.vault.open(raw, name, path) if self.vault is not None else raw

    def _move_aside(self, path: Path) -> Path:
        self._damaged.mkdir(exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        moved_to = self._damaged / f"{path.name}.{stamp}"
        os.replace(path, moved_to)
        return moved_to

    # --- the caches: manifest and id index ---------------------------------------------

    def _save_manifest(self, *, soon: bool = False) -> None:
        # A cache, not fsynced, and during saves written at most every few
        # seconds; a stale one is caught on open by the files' stats.
        if soon and time.monotonic() - self._manifest_saved < MANIFEST_EVERY_S:
            self._manifest_dirty = True
            return
        self._manifest_saved = time.monotonic()
        self._manifest_dirty = False
        self._manifest.save()

    def _refresh(self, *, force: bool = False) -> None:
        """Bring the counts in line with the partition files on disk: one listing, no reads of unchanged files.

        Skipped when no process has written a partition since the caches were last
        in step (`Generation`); `force` at open, where damage from outside is looked for too.
        """
        generation = self._generation.value()
        if not force and generation == self._seen:
            return
        found: dict[str, list[int]] = {}
        backups: list[str] = []
        with os.scandir(self._days) as entries:
            for entry in entries:
                name = entry.name
                if name.startswith("."):
                    continue
                if name.endswith(".json"):
                    try:
                        found[name[:-5]] = stat_key(entry.stat())
                    except FileNotFoundError:
                        continue
                elif name.endswith(".json.bak"):
                    backups.append(name[:-9])
        for key in backups:
            if key not in found and restore_missing(self._days / f"{key}.json"):
                found[key] = stat_key(os.stat(self._days / f"{key}.json"))
        summaries, stats = self._manifest.summaries, self._manifest.stats
        changed = False
        for key in [k for k in summaries if k not in found]:
            self._manifest.forget(key)
            changed = True
        for key, stat in found.items():
            if stats.get(key) != stat or key not in summaries:
                self._summarize(key)
                changed = True
        if changed:
            self._save_manifest()
        self._seen = generation

    def _written(self) -> None:
        """Count a partition write (before it happens); the caches stay in step if they were."""
        before = self._generation.bump()
        if self._seen == before:
            self._seen = before + 1

    def _summarize(self, key: str) -> None:
        self._count(key, self._docs(key))

    def _count(self, key: str, docs: list[Document]) -> None:
        """A partition's summary (states, tag marks) and the stat of the file it was counted from."""
        self._manifest.summaries[key] = summarize(docs)
        try:
            self._manifest.stats[key] = stat_key(os.stat(self._days / f"{key}.json"))
        except FileNotFoundError:
            self._manifest.stats.pop(key, None)
            if not docs:
                self._manifest.summaries.pop(key, None)

    def _complete_index(self, *, check_all: bool = False) -> None:
        """Make the id index name every record's partition: linear in the records, once per process."""
        ids, summaries = self._ids, self._manifest.summaries
        if ids.complete and not check_all:
            return
        if not ids.loaded:
            ids.load(summaries)
        ids.drop_missing(summaries)
        stale = set(summaries) if check_all else set(ids.short_partitions(summaries))
        if stale:
            ids.drop_partitions(stale)
            for key in sorted(stale):
                self._summarize(key)
            ids.rewrite()
        ids.complete = True

    def _locate(self, record_id: str) -> str | None:
        """The partition holding a record id (to be checked by reading it), or None."""
        key = self._ids.get(record_id)
        if key is not None:
            return key
        if not self._ids.loaded and not self._ids.complete:
            # One lookup: a scan of the log's bytes beats parsing all of it.
            key = self._ids.scan(record_id)
            if key is not None and key in self._manifest.summaries:
                return key
        self._refresh()  # another process may have added it
        self._complete_index()
        return self._ids.get(record_id)

    def _find(self, record_id: str) -> tuple[str, Document] | None:
        """The record's partition and document, or None. Never trusts the caches alone."""
        for _attempt in (1, 2):
            key = self._locate(record_id)
            if key is None:
                return None
            doc = next((d for d in self._docs(key) if d["id"] == record_id), None)
            if doc is not None:
                return key, doc
            # The index named the wrong partition: forget it and read what is on disk.
            self._ids.forget(record_id)
            self._ids.complete = False
        return None

    # --- partitions ----------------------------------------------------------------------

    def _partition(self, key: str) -> Partition:
        partition = self._partitions.get(key)
        if partition is None:
            partition = Partition(self._days / f"{key}.json", self.vault)
            self._partitions[key] = partition
            if len(self._partitions) > OPEN_PARTITIONS:
                _, oldest = self._partitions.popitem(last=False)
                oldest.close()
        else:
            self._partitions.move_to_end(key)
        return partition

    def _docs(self, key: str) -> list[Document]:
        """A partition's documents, recovering it first if its file is damaged; notes their ids."""
        partition = self._partition(key)
        try:
            docs = partition.docs()
        except DamagedFile:
            partition.close()
            del self._partitions[key]
            self._readable_or_restored(self._days / f"{key}.json")
            try:
                docs = self._partition(key).docs()
            except DamagedFile as exc:  # vanishingly rare: damaged again at once
                raise StoreError(str(exc)) from exc
            self._count(key, docs)  # the copy brought back is not what the summary counted
        self._note_seen(key, docs)
        return docs

    def _note_seen(self, key: str, docs: list[Document]) -> None:
        for rid in self._ids.saw(key, docs):
            # Seen in another partition before: held twice, unless it was a stale hint.
            holders = self._doubles.setdefault(rid, set())
            holders.add(key)
            holders.update(k for k in self._manifest.summaries if day_of(k) == day_of(key))

    def _open_chunk(self, day: str) -> str:
        chunks = [k for k in self._manifest.summaries if day_of(k) == day]
        if not chunks:
            return make_key(day, 0)
        last = max(chunks, key=chunk_of)
        if self._manifest.summaries[last]["count"] < CHUNK_RECORDS:
            return last
        return make_key(day, chunk_of(last) + 1)

    def _write(self, key: str, change: Callable[[Partition, list[Document]], Any]) -> Any:
        """Run `change(partition, docs)` as one durable write; keep the caches in step."""
        docs = self._docs(key)  # recovers a damaged file first, which replaces its Partition
        partition = self._partition(key)
        self._written()
        with partition.batch():
            result = change(partition, docs)
        docs = partition.docs()
        self._note_seen(key, docs)
        self._count(key, docs)
        self._save_manifest(soon=True)
        return result

    def _place(self, day: str, docs: list[dict]) -> None:
        """Insert new documents into the day's chunks, never past CHUNK_RECORDS a file."""
        key = self._open_chunk(day)
        placed: list[tuple[str, str]] = []
        while docs:
            def fill(partition: Partition, existing: list[Document], docs: list[dict] = docs) -> int:
                room = max(CHUNK_RECORDS - len(existing), 0)
                partition.insert_many(docs[:room])
                return room

            room = self._write(key, fill)
            placed += [(doc["id"], key) for doc in docs[:room]]
            docs = docs[room:]
            if docs:
                key = make_key(day, chunk_of(key) + 1)
        self._ids.note(placed)

    def _repair_doubles(self) -> None:
        """Fold every record found in two partitions into one copy: the newest, nothing lost."""
        # Each fold writes the kept copy, then removes the others: each write on disk before the next.
        assert not folder_sync_held(), "a fold moves a record between files: never inside one_folder_sync"
        doubles, self._doubles = self._doubles, {}
        for rid, keys in doubles.items():
            holders = [(key, doc) for key in sorted(keys) if key in self._manifest.summaries
                       for doc in self._partition(key).docs() if doc["id"] == rid]
            if len({key for key, _ in holders}) < 2:
                continue  # a stale hint, not a double
            folded = reconcile.fold_copies([dict(doc) for _, doc in holders])
            keep = holders[0][0]

            self._write(keep, partial(_replace_docs, {doc.doc_id: copy_json(folded) for key, doc in holders if key == keep}))
            for key in sorted({key for key, _ in holders} - {keep}):
                self._write(key, partial(_remove_all, {rid}))
            self._ids.note([(rid, keep)])
            self.repaired += 1
            log.warning("store: a record held in %d partitions was folded into one copy", len(holders))
        if doubles:
            self._save_manifest()

    # --- saving records --------------------------------------------------------------------

    def create_call(self, data: Mapping[str, Any], *, recorded_by: str | None = None, now: datetime | None = None) -> dict:
        return self._create(RecordType.CALL, data, recorded_by=recorded_by, now=now)

    def create_recovery(self, data: Mapping[str, Any], *, recorded_by: str | None = None, now: datetime | None = None) -> dict:
        return self._create(RecordType.RECOVERY, data, recorded_by=recorded_by, now=now)

    def _create(self, kind: RecordType, data: Mapping[str, Any], *, recorded_by: str | None, now: datetime | None) -> dict:
        at = timestamp(now or now_local())
        record = {
            "id": str(uuid.uuid4()),
            "type": kind.value,
            "version": 1,
            "base_version": 0,
            "device_id": self.device_id,
            "created_at": at,
            "updated_at": at,
            "data": dict(data),
        }
        if recorded_by:
            record["recorded_by"] = recorded_by
        record = normalize(record)  # raises InvalidRecord naming each field
        doc = new_document(record, state=SyncState.PENDING, acked_version=0, mine=True)
        with self._lock:
            self._place(day_of(str(record["created_at"])), [doc])
        return copy_json(record)

    def edit(
        self,
        record_id: str,
        *,
        data: Mapping[str, Any] | None = None,
        review: Mapping[str, Any] | None = None,
        recorded_by: str | None = None,
        now: datetime | None = None,
    ) -> dict:
        """Save a change as a new version. Raises RecordNotFound (a KeyError) or InvalidRecord."""

        def change(doc: dict):
            new = self._next_version(doc, data=data, review=review, recorded_by=recorded_by, now=now)
            if review is None and _refused_on_review(doc):
                # The server said this device may not set that review: the corrected
                # version goes back to the lead without one, instead of being refused again.
                new.pop("review", None)

            def apply(d: dict) -> None:
                d["history"] = d.get("history", []) + [d["record"]]
                d["record"] = new
                # A record in conflict waits for a lead's resolution; any other edit goes out.
                if d["state"] != SyncState.CONFLICT:
                    d["state"] = SyncState.PENDING.value
                    d["errors"] = []

            return new, apply

        return self._change(record_id, change)

    def _change(self, record_id: str, change) -> dict:
        """`change(doc)` gives (new version, apply(doc)); applied as one durable write."""
        with self._lock:
            found = self._find(record_id)
            if found is None:
                raise RecordNotFound(record_id)
            key = found[0]

            def write(partition: Partition, docs: list) -> dict:
                doc = next((d for d in docs if d["id"] == record_id), None)
                if doc is None:
                    raise RecordNotFound(record_id)
                new, apply = change(doc)
                partition.update(apply, [doc.doc_id])
                return new

            return copy_json(self._write(key, write))

    def _next_version(self, doc, *, data, review, recorded_by, now, base_version=None, version=None) -> dict:
        current = doc["record"]
        new = copy_json(current)
        new.pop("merged_from", None)  # an edit of a merge is an edit: it merges nothing
        if data is not None:
            new["data"] = dict(data)
        if review is not None:
            new["review"] = dict(review)
        if recorded_by is not None:
            new["recorded_by"] = recorded_by
        new["version"] = version if version is not None else current["version"] + 1
        new["base_version"] = base_version if base_version is not None else doc.get("acked_version", 0)
        new["device_id"] = self.device_id
        new["updated_at"] = timestamp(now or now_local())
        return normalize(new)

    def resolve_conflict(
        self,
        record_id: str,
        *,
        data: Mapping[str, Any] | None = None,
        review: Mapping[str, Any] | None = None,
        now: datetime | None = None,
    ) -> dict:
        """A lead's resolution: a new version based on the server's, which closes the conflict."""

        def change(doc: dict):
            server = doc.get("server_record")
            if doc["state"] != SyncState.CONFLICT or not server:
                raise NotInConflict(f"record {record_id} is not in conflict")
            top = max(doc["record"]["version"], server["version"])
            new = self._next_version(
                doc, data=data, review=review, recorded_by=None, now=now,
                base_version=server["version"], version=top + 1,
            )

            def apply(d: dict) -> None:
                d["history"] = d.get("history", []) + [d["record"], server]
                d["record"] = new
                d["state"] = SyncState.PENDING.value
                d["errors"] = []
                d["server_record"] = None
                d["acked_version"] = server["version"]

            return new, apply

        return self._change(record_id, change)

    # --- sync: verdicts and pulled records -----------------------------------------------------

    def record_verdicts(self, verdicts: Iterable[Any]) -> None:
        """Apply the server's verdicts (`reconcile.apply_verdict`); one durable write per partition touched."""
        with self._lock:
            wanted: dict[str, dict] = {}
            for verdict in verdicts:
                v = _plain(verdict)
                if isinstance(v.get("id"), str):
                    wanted[v["id"]] = v
            for _attempt in (1, 2):
                by_key: dict[str, dict[str, dict]] = {}
                for rid, v in wanted.items():
                    key = self._locate(rid)
                    if key is not None:
                        by_key.setdefault(key, {})[rid] = v
                applied: set[str] = set()
                with one_folder_sync():  # a verdict lost to a power cut is asked for again: `duplicate`
                    for key, these in by_key.items():
                        def apply(partition: Partition, docs: list[Document], these: dict = these, applied: set = applied) -> None:
                            hits = [d for d in docs if d["id"] in these]
                            partition.update(lambda d: reconcile.apply_verdict(d, these[d["id"]]), [d.doc_id for d in hits])
                            applied.update(d["id"] for d in hits)
                        self._write(key, apply)
                wanted = {rid: v for rid, v in wanted.items() if rid not in applied and self._ids.get(rid) is not None}
                if not wanted:
                    break
                for rid in wanted:  # the index named the wrong partition: read again
                    self._ids.forget(rid)
                self._ids.complete = False
            self._repair_doubles()

    def save_pulled(self, records: Iterable[Mapping[str, Any]], conflicts: Mapping[str, Mapping[str, Any]] | Iterable[Any] = ()) -> int:
        """Keep records pulled from the server (the team's, this device's too).

        `conflicts` maps record id to the server's current version for records
        in conflict on the server (or is the pull page's list of such notes).
        Returns how many records changed here. Linear in the page: one listing
        of the folder, one write per partition touched.
        """
        if not isinstance(conflicts, Mapping):
            conflicts = {c["id"]: c["server_record"] for c in map(_plain, conflicts)}
        page: list[dict] = []
        for raw in records:
            try:
                page.append(normalize(dict(raw)))
            except InvalidRecord as exc:
                log.warning("store: skipped a pulled record that does not fit the schema: %s", _fields_only(exc))
        with self._lock:
            # The cursor moves on only after this returns: a page half kept at a
            # power cut is pulled again, and whatever landed merges as known.
            with one_folder_sync():
                changed = self._keep_page(page, conflicts)
            self._repair_doubles()
        return changed

    def _keep_page(self, page: list[dict], conflicts: Mapping[str, Mapping]) -> int:
        changed = 0
        self._refresh()
        if any(self._ids.get(r["id"]) is None for r in page):
            self._complete_index()
        versions_of: dict[str, list[dict]] = {}
        for record in page:
            versions_of.setdefault(record["id"], []).append(record)
        known = {rid: v for rid, v in versions_of.items() if self._ids.get(rid) is not None}
        for _attempt in (1, 2):
            by_key: dict[str, dict[str, list[dict]]] = {}
            for rid, versions in known.items():
                by_key.setdefault(self._ids.get(rid) or "", {})[rid] = versions
            merged: set[str] = set()
            for key, these in by_key.items():
                held = [d for d in self._docs(key) if d["id"] in these]
                merged.update(d["id"] for d in held)
                new: dict[int, dict] = {}  # doc id -> the document with the page merged in, where that changes it
                for d in held:
                    trial = copy_json(dict(d))
                    reconcile.merge_page(trial, these[d["id"]], page, conflicts)
                    if trial != dict(d):
                        new[d.doc_id] = trial
                if new:  # none when all are known as they are (a pull of its own records back): no write
                    self._write(key, partial(_replace_docs, new))
                    changed += len(new)
            known = {rid: v for rid, v in known.items() if rid not in merged}
            if not known:
                break
            # The index named the wrong partition for these: read the folder again.
            for rid in known:
                self._ids.forget(rid)
            self._ids.complete = False
            self._complete_index()
            known = {rid: v for rid, v in known.items() if self._ids.get(rid) is not None}
        by_day: dict[str, list[dict]] = {}
        for rid, versions in versions_of.items():
            if self._ids.get(rid) is not None:
                continue
            doc = reconcile.pulled_document(versions[0], self.device_id)
            reconcile.merge_page(doc, versions[1:], page, conflicts)
            by_day.setdefault(day_of(versions[0]["created_at"]), []).append(doc)
        for day, docs in sorted(by_day.items()):
            self._place(day, docs)
            changed += len(docs)
        return changed

    # --- reading ---------------------------------------------------------------------------------

    def get(self, record_id: str) -> StoredRecord | None:
        with self._lock:
            found = self._find(record_id)
            return StoredRecord.from_document(found[1]) if found else None

    def days(self) -> list[str]:
        with self._lock:
            self._refresh()
            return sorted({day_of(k) for k in self._manifest.summaries})

    def day(self, day: str) -> list[StoredRecord]:
        """Records created on `day` (YYYY-MM-DD, device-local), oldest first."""
        with self._lock:
            self._refresh()
            return self._day_records(day)

    def _day_records(self, day: str) -> list[StoredRecord]:
        keys = sorted(k for k in self._manifest.summaries if day_of(k) == day)
        out = [StoredRecord.from_document(d) for k in keys for d in self._docs(k)]
        out.sort(key=lambda r: r.record["created_at"])
        return out

    def holding_tag(self, tag: str) -> list[StoredRecord]:
        """The records whose current version holds `tag` (a normal tag, as `tags.normal_tag` makes it).

        Reads only the partitions whose summary marks the tag (fieldapp.store.tags);
        a summary counted by a version before the marks is counted again first.
        """
        mark = tag_mark(tag)
        found: list[StoredRecord] = []
        with self._lock:
            self._refresh()
            summaries = self._manifest.summaries
            hits, unmarked = [], []
            for key, summary in summaries.items():
                marks = summary.get("tags")
                if marks is None:
                    unmarked.append(key)
                elif mark in marks:
                    hits.append(key)
            for key in unmarked:
                self._summarize(key)
                if mark in summaries.get(key, {}).get("tags", ""):
                    hits.append(key)
            if unmarked:
                self._save_manifest(soon=True)
            for key in sorted(hits):
                found.extend(StoredRecord.from_document(d) for d in self._docs(key) if normal_tag(held_tag(d["record"])) == tag)
        return found

    def iter_current(self) -> Iterator[StoredRecord]:
        """Every record, day by day."""
        for day in self.days():
            with self._lock:
                records = self._day_records(day)
            yield from records

    def recoveries_of(self, call_id: str) -> list[StoredRecord]:
        """The recoveries recorded for a call, from the call's day on."""
        call = self.get(call_id)
        first = call.day if call else ""
        with self._lock:
            days = sorted({day_of(k) for k in self._manifest.summaries})
            return [
                r
                for day in days
                if day >= first
                for r in self._day_records(day)
                if r.type == RecordType.RECOVERY and r.record["data"].get("call_id") == call_id
            ]

    def outbox(self, limit: int | None = None, *, skip: Collection[str] = ()) -> list[dict]:
        """Current versions waiting to be sent: oldest first, each call before its recoveries.

        `skip`: ids to leave out (a batch already on its way).

        Partition by partition (a partition is a day's chunk, in the order the
        records were created), calls first within each. A recovery is never in
        an earlier partition than its call, which existed before it. Sending
        in this order also touches each partition once when the verdicts land.
        """
        out: list[dict] = []
        with self._lock:
            self._refresh()
            summaries = self._manifest.summaries
            for key in sorted(summaries):
                if not summaries[key]["states"].get(SyncState.PENDING.value):
                    continue
                waiting = [d["record"] for d in self._docs(key)
                           if d["state"] == SyncState.PENDING and d["record"]["id"] not in skip]
                waiting.sort(key=lambda r: (_TYPE_ORDER[r["type"]], r["updated_at"]))
                room = len(waiting) if limit is None else limit - len(out)
                out.extend(copy_json(waiting[:room]))
                if limit is not None and len(out) >= limit:
                    break
        return out

    def counts(self) -> dict[str, int]:
        with self._lock:
            self._refresh()
            totals = dict.fromkeys((s.value for s in SyncState), 0)
            for summary in self._manifest.summaries.values():
                for state, n in summary["states"].items():
                    totals[state] += n
        totals["total"] = sum(totals[s.value] for s in SyncState)
        return totals

    # --- retention -----------------------------------------------------------------------------

    def retention(self) -> Retention | None:
        policy = self.get_meta(RETENTION)
        if not isinstance(policy, dict) or not isinstance(policy.get("days"), int):
            return None
        return Retention(policy["days"], bool(policy.get("approved_only")))

    def set_retention(self, days: int | None, *, approved_only: bool = False) -> None:
        self.set_meta(RETENTION, None if days is None else {"days": days, "approved_only": approved_only})

    def apply_retention(self, now: datetime | None = None) -> int:
        """Remove the records the server holds whose last change is past the retention period.

        Never a record waiting to be sent, refused, or in conflict; never a call
        while one of its recoveries still waits. Returns how many were removed.
        """
        policy = self.retention()
        if policy is None:
            return 0
        cutoff = (now or now_local()) - timedelta(days=policy.days)
        removed = 0
        with self._lock:
            self._refresh()
            summaries = self._manifest.summaries
            waiting_calls = {
                d["record"]["data"].get("call_id")
                for key, summary in summaries.items()
                if summary["count"] > summary["states"].get(SyncState.SENT.value, 0)
                for d in self._docs(key)
                if d["state"] != SyncState.SENT and d["record"]["type"] == RecordType.RECOVERY
            }
            old = [key for key in sorted(summaries) if day_of(key) <= cutoff.date().isoformat()]
            emptied: dict[str, set[str]] = {}
            for key in old:
                # A record whose photos still wait to be sent stays, like one waiting itself.
                gone = [d for d in self._docs(key) if _past_retention(d, cutoff, policy) and d["id"] not in waiting_calls
                        and self.photos.all_sent(hashes_of(d))]
                if gone:
                    ids = {d["id"] for d in gone}
                    self._write(key, partial(_remove_all, ids))
                    self.photos.forget_records(ids)
                    emptied[key] = ids
                    removed += len(ids)
            if removed:
                self._leave_no_copy(emptied)
                self._save_manifest()
            self.photos.forget_unlisted(before=cutoff.timestamp())
        return removed

    def _leave_no_copy(self, removed: Mapping[str, set[str]]) -> None:
        """After records left their partitions: no other file of the folder keeps them.

        Each partition's backup becomes its new content (the old one held the
        removed records, and a damaged partition would bring them back), or an
        emptied partition goes with its backup (its name says its day); its
        copies in `damaged/` go (they cannot be read to sort out what they
        hold); the id index is written again without them; exports, working
        copies that may quote any record, go too. The lock is held.
        """
        self._complete_index()
        for rid in set().union(*removed.values()):
            self._ids.forget(rid)
        self._ids.rewrite()
        for key in removed:
            path = self._days / f"{key}.json"
            if self._manifest.summaries.get(key, {}).get("count"):
                atomic_write(backup_of(path), path.read_bytes())
            else:  # emptied: no file goes on naming its day
                partition = self._partitions.pop(key, None)
                if partition is not None:
                    partition.close()
                self._written()
                backup_of(path).unlink(missing_ok=True)  # first: a partition missing is restored from it
                path.unlink(missing_ok=True)
                self._manifest.forget(key)
                self._ids.drop_partitions({key})
            if self._damaged.is_dir():
                for copy in self._damaged.glob(f"{key}.json*"):
                    copy.unlink(missing_ok=True)
        remove_exports(self.folder)

    # --- small settings ------------------------------------------------------------------------

    def get_meta(self, key: str, default: Any = None) -> Any:
        with self._lock:
            doc = self._meta().get(doc_id=1)
        return copy_json(doc.get(key, default)) if doc else default

    def set_meta(self, key: str, value: Any) -> None:
        with self._lock:
            table = self._meta()
            if table.get(doc_id=1) is None:
                table.insert(Document({key: value}, doc_id=1))
            else:
                table.update({key: value}, doc_ids=[1])

    def _meta(self):
        assert self._meta_db is not None, "the store is not open"
        return self._meta_db.table("meta", cache_size=0)

    def close(self, *, wiped: bool = False) -> None:
        """Let go of the folder; a second close does nothing. `wiped`: the folder was wiped
        under this store, so nothing of it (not even a cache) is written back."""
        if self._closed:
            return
        self._closed = True
        with self._lock:
            if self._manifest_dirty and not wiped:
                self._save_manifest()
            for partition in self._partitions.values():
                partition.close()
            self._partitions.clear()
            if self._meta_db is not None:
                self._meta_db.close()
        self._lock.close()


# --- plain data at the edges ---------------------------------------------------------------------


def _plain(obj: Any) -> dict:
    if isinstance(obj, Mapping):
        return dict(obj)
    if hasattr(obj, "model_dump"):
        return obj.model_dump(mode="json")
    return dict(vars(obj))


def _replace_docs(new: Mapping[int, dict], partition: Partition, docs: list[Document]) -> None:
    """Each document numbered in `new` (TinyDB's doc id) becomes its new content."""
    for doc_id, content in new.items():
        def become(d: dict, content: dict = content) -> None:
            d.clear()
            d.update(content)

        partition.update(become, [doc_id])


def _remove_all(record_ids: set[str], partition: Partition, docs: list[Document]) -> None:
    partition.remove([d.doc_id for d in docs if d["id"] in record_ids])


@dataclass(frozen=True)
class Retention:
    """How long a record the server holds stays on this device after its last change."""

    days: int
    approved_only: bool = False  # the team wants a lead's approval before a record leaves the phone


RETENTION = "retention"


def _past_retention(doc: Mapping[str, Any], cutoff: datetime, policy: Retention) -> bool:
    if doc["state"] != SyncState.SENT:
        return False  # waiting, refused or in conflict: someone still needs it here
    record = doc["record"]
    if policy.approved_only and (record.get("review") or {}).get("state") != "approved":
        return False
    return datetime.fromisoformat(record["updated_at"]) < cutoff


def _refused_on_review(doc: Mapping[str, Any]) -> bool:
    return doc["state"] == SyncState.REJECTED and any(e.get("field") == "review" for e in doc.get("errors") or [])


def _fields_only(exc: InvalidRecord) -> str:
    # Field names and reasons only: a pulled record may hold names and phone numbers.
    return ", ".join(e.field for e in exc.errors)
