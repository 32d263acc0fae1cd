"""The device's record store: every save durable, every version kept, the outbox a query.

Layout of the data folder:

    meta.json                 device id, pull cursor and other small settings
    days/YYYY-MM-DD.NNN.json  the records, by creation day, in bounded chunks
    index/manifest.json       cache: per-partition counts by sync state
    index/ids.log             cache: which partition holds which record id
    damaged/                  files that would not open, moved aside, never overwritten
    .lock                     one writer at a time, across threads and processes

The two files under `index/` are caches, checked against the partitions on
open and rebuilt when they disagree: only `meta.json` and `days/` are truth,
and only they are fsynced.

Each record lives in one document: its current version, its sync state
(`pending`, `sent`, `rejected` with the server's errors, `conflict` with the
server's version), the last version the server acknowledged, and its earlier
versions (the phone's audit trail).
"""

from __future__ import annotations

import json
import logging
import os
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import StrEnum
from pathlib import Path
from typing import Any, Collection, Iterable, Iterator, Mapping

from tinydb import TinyDB

from fieldapp.records import InvalidRecord, normalize

from .durable import DamagedFile, DurableJSONStorage, atomic_write, backup_of, decode, encode, restore_missing
from .lock import StoreLock
from .partition import CHUNK_RECORDS, Partition, chunk_of, day_of, make_key

log = logging.getLogger(__name__)


class SyncState(StrEnum):
    PENDING = "pending"  # waiting to be sent
    SENT = "sent"  # the server holds this version
    REJECTED = "rejected"  # the server refused it: see errors
    CONFLICT = "conflict"  # the record moved on the server: see server_record


class StoreError(Exception):
    """Base of the store's own errors."""


@dataclass(frozen=True)
class StoreProblem:
    """A file that would not open: where it was moved, and what replaced it."""

    path: Path
    moved_to: Path
    reason: str
    restored_from: Path | None

    def describe(self) -> str:
        after = (
            f"the last good copy ({self.restored_from.name}) is in use"
            if self.restored_from
            else "no good copy was found; its records are missing from the app until it is repaired"
        )
        return f"{self.path.name} {self.reason}; moved aside to {self.moved_to}; {after}."


@dataclass(frozen=True)
class StoredRecord:
    """A record as the store holds it. Plain copies: changing them changes nothing stored."""

    record: dict[str, Any]
    state: SyncState
    errors: list[dict[str, str]]
    server_record: dict[str, Any] | None
    acked_version: int
    history: list[dict[str, Any]]
    mine: bool
    day: str = field(default="")

    @property
    def id(self) -> str:
        return self.record["id"]

    @property
    def type(self) -> str:
        return self.record["type"]

    @property
    def version(self) -> int:
        return self.record["version"]

    @classmethod
    def _from_doc(cls, doc: Mapping[str, Any]) -> "StoredRecord":
        doc = _copy(dict(doc))
        return cls(
            record=doc["record"],
            state=SyncState(doc["state"]),
            errors=doc.get("errors") or [],
            server_record=doc.get("server_record"),
            acked_version=doc.get("acked_version", 0),
            history=doc.get("history") or [],
            mine=doc.get("mine", False),
            day=doc["record"]["created_at"][:10],
        )


def _copy(data: Any) -> Any:
    """A deep copy of plain JSON data; several times faster than copy.deepcopy."""
    return json.loads(json.dumps(data))


def now_local() -> datetime:
    return datetime.now(timezone.utc).astimezone()


def timestamp(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("times must carry an offset")
    return moment.isoformat(timespec="milliseconds")


MANIFEST_EVERY_S = 5.0
_TYPE_ORDER = {"call": 0, "recovery": 1}
_STATES = tuple(s.value for s in SyncState)


def _summary(docs: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    states = dict.fromkeys(_STATES, 0)
    count = 0
    for doc in docs:
        states[doc["state"]] += 1
        count += 1
    return {"count": count, "states": states}


class RecordStore:
    """The device's records. Open with `RecordStore.open(folder)`."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self._days = self.folder / "days"
        self._index = self.folder / "index"
        self._damaged = self.folder / "damaged"
        self._lock = StoreLock(self.folder / ".lock")
        self._partitions: dict[str, Partition] = {}
        self._summaries: dict[str, dict[str, Any]] = {}
        self._stats: dict[str, list[int]] = {}
        self._where: dict[str, str] = {}
        self._ids_loaded = False
        self._ids_complete = False
        self._manifest_saved = 0.0
        self._manifest_dirty = False
        self.problems: list[StoreProblem] = []
        self._meta_db: TinyDB | None = None
        self.device_id = ""

    # --- opening -----------------------------------------------------------------

    @classmethod
    def open(cls, folder: str | Path) -> "RecordStore":
        store = cls(Path(folder))
        store._open()
        return store

    def _open(self) -> None:
        for folder in (self.folder, self._days, self._index):
            folder.mkdir(parents=True, exist_ok=True)
        with self._lock:
            self._clear_leftovers()
            self._open_meta()
            self._load_manifest()
            self._refresh()

    def _clear_leftovers(self) -> None:
        # Temporary files of saves killed before their rename: never part of the store.
        for folder in (self.folder, self._days, self._index):
            for leftover in folder.glob(".*.tmp"):
                leftover.unlink(missing_ok=True)

    def _open_meta(self) -> None:
        path = self.folder / "meta.json"
        self._readable_or_restored(path)
        self._meta_db = TinyDB(path, storage=DurableJSONStorage)
        device = self.get_meta("device_id")
        if not device:
            device = f"dev-{uuid.uuid4().hex[:16]}"
            self.set_meta("device_id", device)
        self.device_id = device

    def _readable_or_restored(self, path: Path) -> None:
        """Check a truth file opens; if not, move it aside and bring back its last good copy."""
        restore_missing(path)
        try:
            with open(path, "rb") as f:
                decode(path, f.read())
            return
        except FileNotFoundError:
            return
        except OSError as exc:
            reason = f"cannot be read ({exc.strerror})"
        except DamagedFile as exc:
            reason = exc.reason
        self._damaged.mkdir(exist_ok=True)
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
        moved_to = self._damaged / f"{path.name}.{stamp}"
        os.replace(path, moved_to)
        restored = None
        backup = backup_of(path)
        try:
            with open(backup, "rb") as f:
                raw = f.read()
            decode(backup, raw)
            atomic_write(path, raw)
            restored = backup
        except (OSError, DamagedFile):
            pass
        problem = StoreProblem(path=path, moved_to=moved_to, reason=reason, restored_from=restored)
        self.problems.append(problem)
        log.warning("store: %s", problem.describe())

    # --- the caches: manifest and id index ---------------------------------------------

    def _load_manifest(self) -> None:
        try:
            with open(self._index / "manifest.json", "rb") as f:
                manifest = decode(self._index / "manifest.json", f.read())
            self._summaries = manifest["partitions"]
            self._stats = manifest["stats"]
        except (OSError, DamagedFile, KeyError, TypeError):
            self._summaries, self._stats = {}, {}

    def _save_manifest(self, *, soon: bool = False) -> None:
        # A cache: written atomically but not fsynced, and during saves at most
        # every few seconds; a stale one is caught on open by the files' stats.
        if soon and time.monotonic() - self._manifest_saved < MANIFEST_EVERY_S:
            self._manifest_dirty = True
            return
        self._manifest_saved = time.monotonic()
        self._manifest_dirty = False
        payload = encode({"partitions": self._summaries, "stats": self._stats})
        try:
            atomic_write(self._index / "manifest.json", payload, durable=False)
        except OSError as exc:
            log.warning("store: could not write the manifest cache (%s)", exc.strerror)

    @staticmethod
    def _stat_key(st: os.stat_result) -> list[int]:
        return [st.st_ino, st.st_size, st.st_mtime_ns]

    def _refresh(self) -> None:
        """Bring the summaries in line with the partition files on disk."""
        found: dict[str, list[int]] = {}
        with os.scandir(self._days) as entries:
            names = [e.name for e in entries if not e.name.startswith(".")]
        for name in names:
            if name.endswith(".json.bak") and name[:-4] not in names:
                restore_missing(self._days / name[:-4])
        with os.scandir(self._days) as entries:
            for entry in entries:
                name = entry.name
                if name.endswith(".json") and not name.startswith("."):
                    try:
                        found[name[:-5]] = self._stat_key(entry.stat())
                    except FileNotFoundError:
                        continue
        changed = False
        for key in list(self._summaries):
            if key not in found:
                del self._summaries[key]
                self._stats.pop(key, None)
                changed = True
        for key, stat in found.items():
            if self._stats.get(key) != stat or key not in self._summaries:
                self._summarize(key)
                changed = True
        if changed:
            self._save_manifest()

    def _summarize(self, key: str) -> None:
        docs = self._docs(key)
        self._summaries[key] = _summary(docs)
        for doc in docs:
            self._where[doc["id"]] = key
        path = self._days / f"{key}.json"
        try:
            self._stats[key] = self._stat_key(os.stat(path))
        except FileNotFoundError:
            self._stats.pop(key, None)
            if not docs:
                self._summaries.pop(key, None)

    def _locate(self, record_id: str) -> str | None:
        key = self._where.get(record_id)
        if key is not None:
            return key
        self._refresh()  # another process may have added it
        key = self._where.get(record_id)
        if key is not None:
            return key
        if not self._ids_loaded:
            self._load_ids()
            key = self._where.get(record_id)
            if key is not None:
                return key
        total = sum(s["count"] for s in self._summaries.values())
        if not self._ids_complete and len(self._where) < total:
            for key in list(self._summaries):
                self._summarize(key)
            self._rewrite_ids()
        self._ids_complete = True
        return self._where.get(record_id)

    def _load_ids(self) -> None:
        self._ids_loaded = True
        try:
            with open(self._index / "ids.log", encoding="utf-8", errors="replace") as f:
                for line in f:
                    parts = line.split()
                    # A line torn by a crash is skipped; the count check rebuilds.
                    if len(parts) == 2 and len(parts[0]) == 36 and parts[1][:10] in self._day_set():
                        self._where.setdefault(parts[0], parts[1])
        except OSError:
            pass

    def _day_set(self) -> set[str]:
        return {day_of(k) for k in self._summaries}

    def _rewrite_ids(self) -> None:
        lines = "".join(f"{rid} {key}\n" for rid, key in self._where.items())
        try:
            atomic_write(self._index / "ids.log", lines.encode(), durable=False)
        except OSError as exc:
            log.warning("store: could not write the id index (%s)", exc.strerror)

    def _note_ids(self, pairs: list[tuple[str, str]]) -> None:
        for record_id, key in pairs:
            self._where[record_id] = key
        try:
            with open(self._index / "ids.log", "a", encoding="utf-8") as f:
                f.write("".join(f"{rid} {key}\n" for rid, key in pairs))
        except OSError as exc:
            log.warning("store: could not extend the id index (%s)", exc.strerror)

    # --- partitions ----------------------------------------------------------------------

    def _partition(self, key: str) -> Partition:
        partition = self._partitions.get(key)
        if partition is None:
            partition = Partition(self._days / f"{key}.json")
            self._partitions[key] = partition
        return partition

    def _docs(self, key: str) -> list[dict]:
        """A partition's documents, recovering it first if its file is damaged."""
        partition = self._partition(key)
        try:
            return partition.docs()
        except DamagedFile:
            partition.close()
            del self._partitions[key]
            self._readable_or_restored(self._days / f"{key}.json")
            try:
                return self._partition(key).docs()
            except DamagedFile as exc:  # vanishingly rare: damaged again at once
                raise StoreError(str(exc)) from exc

    def _open_chunk(self, day: str) -> str:
        chunks = [k for k in self._summaries if day_of(k) == day]
        if not chunks:
            return make_key(day, 0)
        last = max(chunks, key=chunk_of)
        if self._summaries[last]["count"] < CHUNK_RECORDS:
            return last
        return make_key(day, chunk_of(last) + 1)

    def _write(self, key: str, change) -> Any:
        """Run `change(partition, docs)` as one durable write; keep the caches in step."""
        docs = self._docs(key)  # recovers a damaged file first, which replaces its Partition
        partition = self._partition(key)
        with partition.batch():
            result = change(partition, docs)
        docs = partition.docs()
        self._summaries[key] = _summary(docs)
        try:
            self._stats[key] = self._stat_key(os.stat(partition.path))
        except FileNotFoundError:
            pass
        self._save_manifest(soon=True)
        return result

    # --- saving records --------------------------------------------------------------------

    def create_call(self, data: Mapping[str, Any], *, recorded_by: str | None = None, now: datetime | None = None) -> dict:
        return self._create("call", data, recorded_by=recorded_by, now=now)

    def create_recovery(self, data: Mapping[str, Any], *, recorded_by: str | None = None, now: datetime | None = None) -> dict:
        return self._create("recovery", data, recorded_by=recorded_by, now=now)

    def _create(self, kind: str, data: Mapping[str, Any], *, recorded_by: str | None, now: datetime | None) -> dict:
        at = timestamp(now or now_local())
        record = {
            "id": str(uuid.uuid4()),
            "type": kind,
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
        doc = {
            "id": record["id"],
            "record": record,
            "state": SyncState.PENDING.value,
            "errors": [],
            "server_record": None,
            "acked_version": 0,
            "history": [],
            "mine": True,
        }
        day = record["created_at"][:10]
        with self._lock:
            key = self._open_chunk(day)
            self._write(key, lambda p, docs: p.insert_many([doc]))
            self._note_ids([(record["id"], key)])
        return _copy(record)

    def edit(
        self,
        record_id: str,
        *,
        data: Mapping[str, Any] | None = None,
        review: Mapping[str, Any] | None = None,
        recorded_by: str | None = None,
        now: datetime | None = None,
    ) -> dict:
        """Save a change as a new version. Raises KeyError or InvalidRecord."""

        def change(doc: dict):
            new = self._next_version(doc, data=data, review=review, recorded_by=recorded_by, now=now)

            def apply(d: dict) -> None:
                d["history"] = d.get("history", []) + [d["record"]]
                d["record"] = new
                # A record in conflict waits for a lead's resolution; any other edit goes out.
                if d["state"] != SyncState.CONFLICT.value:
                    d["state"] = SyncState.PENDING.value
                    d["errors"] = []

            return new, apply

        return self._change(record_id, change)

    def _change(self, record_id: str, change) -> dict:
        """`change(doc)` gives (new version, apply(doc)); applied as one durable write."""
        with self._lock:
            key = self._locate(record_id)
            if key is None:
                raise KeyError(record_id)

            def write(partition: Partition, docs: list) -> dict:
                doc = next((d for d in docs if d["id"] == record_id), None)
                if doc is None:
                    raise KeyError(record_id)
                new, apply = change(doc)
                partition.update(apply, [doc.doc_id])
                return new

            return _copy(self._write(key, write))

    def _next_version(self, doc, *, data, review, recorded_by, now, base_version=None, version=None) -> dict:
        current = doc["record"]
        new = _copy(current)
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
            if doc["state"] != SyncState.CONFLICT.value or not server:
                raise StoreError(f"record {record_id} is not in conflict")
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
        """Apply the server's verdicts; one durable write per partition touched.

        A verdict is for one version: if the record was edited since, the
        newer version stays pending (and now builds on the acknowledged one).
        """
        by_key: dict[str, dict[str, dict]] = {}
        with self._lock:
            for verdict in verdicts:
                v = _plain(verdict)
                key = self._locate(str(v.get("id")))
                if key is not None:
                    by_key.setdefault(key, {})[v["id"]] = v
            for key, wanted in by_key.items():
                self._write(key, lambda p, docs, wanted=wanted: p.update(
                    lambda d: _apply_verdict(d, wanted[d["id"]]),
                    [d.doc_id for d in docs if d["id"] in wanted],
                ))

    def save_pulled(self, records: Iterable[Mapping[str, Any]], conflicts: Mapping[str, Mapping[str, Any]] | Iterable[Any] = ()) -> int:
        """Keep records pulled from the server (the team's, this device's too).

        `conflicts` maps record id to the server's current version for records
        in conflict on the server (or is the pull page's list of such notes).
        Returns how many records changed here.
        """
        if not isinstance(conflicts, Mapping):
            conflicts = {c["id"]: c["server_record"] for c in map(_plain, conflicts)}
        by_key: dict[str, list[dict]] = {}
        changed = 0
        with self._lock:
            for raw in records:
                try:
                    record = normalize(dict(raw))
                except InvalidRecord as exc:
                    log.warning("store: skipped a pulled record that does not fit the schema: %s", _fields_only(exc))
                    continue
                key = self._locate(record["id"]) or self._open_chunk(record["created_at"][:10])
                by_key.setdefault(key, []).append(record)
            for key, batch in by_key.items():
                changed += self._write(key, lambda p, docs, batch=batch: self._merge_pulled(p, docs, batch, conflicts))
        return changed

    def _merge_pulled(self, partition: Partition, docs: list, batch: list[dict], conflicts: Mapping[str, Mapping]) -> int:
        by_id = {d["id"]: d for d in docs}
        new_docs: dict[str, dict] = {}
        updates: dict[str, list[dict]] = {}
        for record in batch:
            rid = record["id"]
            if rid in by_id:
                updates.setdefault(rid, []).append(record)
            elif rid in new_docs:
                _merge_one(new_docs[rid], record, self.device_id)
            else:
                new_docs[rid] = {
                    "id": rid,
                    "record": record,
                    "state": SyncState.SENT.value,
                    "errors": [],
                    "server_record": None,
                    "acked_version": record["version"],
                    "history": [],
                    "mine": record["device_id"] == self.device_id,
                }
        for rid, doc in new_docs.items():
            if rid in conflicts:
                _mark_conflict(doc, dict(conflicts[rid]), _other_side(batch, rid, conflicts[rid]))
        partition.insert_many(list(new_docs.values()))

        changed = [0]

        def apply(d: dict) -> None:
            before = json.dumps(d, sort_keys=True)
            for record in updates[d["id"]]:
                _merge_one(d, record, self.device_id)
            if d["id"] in conflicts:
                _mark_conflict(d, dict(conflicts[d["id"]]), _other_side(batch, d["id"], conflicts[d["id"]]))
            changed[0] += json.dumps(d, sort_keys=True) != before

        partition.update(apply, [by_id[rid].doc_id for rid in updates])
        if new_docs:
            self._note_ids([(rid, partition.key) for rid in new_docs])
        return len(new_docs) + changed[0]

    # --- reading ---------------------------------------------------------------------------------

    def get(self, record_id: str) -> StoredRecord | None:
        with self._lock:
            key = self._locate(record_id)
            if key is None:
                return None
            doc = next((d for d in self._docs(key) if d["id"] == record_id), None)
            return StoredRecord._from_doc(doc) if doc is not None else None

    def days(self) -> list[str]:
        with self._lock:
            self._refresh()
            return sorted(self._day_set())

    def day(self, day: str) -> list[StoredRecord]:
        """Records created on `day` (YYYY-MM-DD, device-local), oldest first."""
        with self._lock:
            self._refresh()
            return self._day_records(day)

    def _day_records(self, day: str) -> list[StoredRecord]:
        keys = sorted(k for k in self._summaries if day_of(k) == day)
        out = [StoredRecord._from_doc(d) for k in keys for d in self._docs(k)]
        out.sort(key=lambda r: r.record["created_at"])
        return out

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
            return [
                r
                for day in sorted(self._day_set())
                if day >= first
                for r in self._day_records(day)
                if r.type == "recovery" and r.record["data"].get("call_id") == call_id
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
            for key in sorted(self._summaries):
                if not self._summaries[key]["states"].get(SyncState.PENDING.value):
                    continue
                waiting = [d["record"] for d in self._docs(key)
                           if d["state"] == SyncState.PENDING.value and d["record"]["id"] not in skip]
                waiting.sort(key=lambda r: (_TYPE_ORDER[r["type"]], r["updated_at"]))
                room = len(waiting) if limit is None else limit - len(out)
                out.extend(_copy(waiting[:room]))
                if limit is not None and len(out) >= limit:
                    break
        return out

    def counts(self) -> dict[str, int]:
        with self._lock:
            self._refresh()
            totals = dict.fromkeys(_STATES, 0)
            for summary in self._summaries.values():
                for state, n in summary["states"].items():
                    totals[state] += n
        totals["total"] = sum(totals[s] for s in _STATES)
        return totals

    # --- small settings ------------------------------------------------------------------------

    def get_meta(self, key: str, default: Any = None) -> Any:
        with self._lock:
            doc = self._meta_db.table("meta", cache_size=0).get(doc_id=1)
        return _copy(doc.get(key, default)) if doc else default

    def set_meta(self, key: str, value: Any) -> None:
        with self._lock:
            table = self._meta_db.table("meta", cache_size=0)
            if table.get(doc_id=1) is None:
                from tinydb.table import Document

                table.insert(Document({key: value}, doc_id=1))
            else:
                table.update({key: value}, doc_ids=[1])

    def close(self) -> None:
        with self._lock:
            if self._manifest_dirty:
                self._save_manifest()
            for partition in self._partitions.values():
                partition.close()
            self._partitions.clear()
            if self._meta_db is not None:
                self._meta_db.close()
        self._lock.close()


# --- pure helpers on documents -----------------------------------------------------------------


def _plain(obj: Any) -> dict:
    if isinstance(obj, Mapping):
        return dict(obj)
    if hasattr(obj, "model_dump"):
        return obj.model_dump(mode="json")
    return dict(vars(obj))


def _fields_only(exc: InvalidRecord) -> str:
    # Field names and reasons only: a pulled record may hold names and phone numbers.
    return ", ".join(e.field for e in exc.errors)


def _apply_verdict(doc: dict, verdict: dict) -> None:
    status = verdict.get("status")
    version = verdict.get("version")
    current = doc["record"]
    if status in ("accepted", "duplicate"):
        doc["acked_version"] = max(doc.get("acked_version", 0), version)
        if current["version"] == version:
            doc["state"] = SyncState.SENT.value
            doc["errors"] = []
        elif current["version"] > version and current["base_version"] < version and doc["state"] == SyncState.PENDING.value:
            # Edited while in flight: the newer version builds on the one just acknowledged.
            current["base_version"] = version
    elif status == "rejected" and current["version"] == version:
        doc["state"] = SyncState.REJECTED.value
        doc["errors"] = [_plain(e) for e in verdict.get("errors") or []]
    elif status == "conflict" and current["version"] == version:
        _mark_conflict(doc, verdict.get("server_record"))


def _other_side(batch: list[dict], record_id: str, server_record: Mapping) -> dict | None:
    """The last pulled version of a record in conflict that is not the server's current one."""
    others = [r for r in batch if r["id"] == record_id and r != server_record]
    return others[-1] if others else None


def _mark_conflict(doc: dict, server_record: dict | None, ours: dict | None = None) -> None:
    """Keep both sides: `record` is the side to reconcile, `server_record` the server's current."""
    if server_record is None:
        return
    if ours is not None and ours != doc["record"]:
        history = [h for h in doc.get("history", []) if h != ours]
        doc["history"] = history + [doc["record"]] if doc["record"] != server_record else history
        doc["record"] = ours
    if doc["record"] == server_record:
        return  # we hold only the server's side: nothing to reconcile here
    doc["state"] = SyncState.CONFLICT.value
    doc["errors"] = []
    doc["server_record"] = server_record


def _merge_one(doc: dict, record: dict, device_id: str) -> None:
    """Fold one pulled version into a stored record, never overwriting an unsent edit."""
    current = doc["record"]
    if record == current or record in doc.get("history", []) or record == doc.get("server_record"):
        return
    state = doc["state"]
    if state == SyncState.SENT.value and record["version"] > current["version"]:
        doc["history"] = doc.get("history", []) + [current]
        doc["record"] = record
        doc["acked_version"] = record["version"]
    elif state == SyncState.CONFLICT.value:
        server = doc.get("server_record") or {}
        if record["version"] > max(current["version"], server.get("version", 0)) and record["base_version"] >= server.get("version", 0):
            # Resolved elsewhere: the conflict is closed by a newer version on the server.
            doc["history"] = doc.get("history", []) + [current]
            doc["record"] = record
            doc["acked_version"] = record["version"]
            doc["state"] = SyncState.SENT.value
            doc["server_record"] = None
        else:
            doc["history"] = doc.get("history", []) + [record]
    else:
        # Our pending or refused version stays; the other one is kept as history.
        doc["history"] = doc.get("history", []) + [record]
