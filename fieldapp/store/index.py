"""The store's two caches, under `index/`: neither is truth, both are checked.

- `manifest.json`: per partition, its record count by sync state and the
  file's stat when counted. On open, a partition whose stat differs is counted
  again, so counts and the outbox never read every file.
- `ids.log`: which partition holds which record id, one `<id> <partition>`
  line appended per new record. Loaded whole only when a bulk operation needs
  every id; a single lookup scans its bytes instead. Checked against the
  partitions' counts before anyone relies on it being complete.

Both are written atomically and never fsynced: losing one costs a rebuild,
never a record.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from .document import SyncState
from .durable import DamagedFile, atomic_write, decode, encode

log = logging.getLogger(__name__)

# Bumped when the store's layout rules change. A store last opened by a
# version before 2 may hold one record in two partitions: it is checked whole
# once, and repaired.
FORMAT = 2

_STATES = tuple(SyncState)


def summarize(docs: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """A partition's count, by sync state."""
    states = dict.fromkeys((s.value for s in _STATES), 0)
    count = 0
    for doc in docs:
        states[doc["state"]] += 1
        count += 1
    return {"count": count, "states": states}


def stat_key(st: os.stat_result) -> list[int]:
    return [st.st_ino, st.st_size, st.st_mtime_ns]


class Generation:
    """`index/generation`: one byte appended, under the store's lock, before every partition write.

    Its size is a count of writes by every process on the folder: a process
    whose caches were in step at size N, finding size N again, knows no file
    changed and skips listing the folder (thousands of stats at a year's
    history). Appended before the write, so a kill between the two costs a
    needless listing, never a missed change. Not fsynced: a new process, as
    after a power cut, always lists once at open.
    """

    def __init__(self, path: Path):
        self.path = path

    def value(self) -> int:
        try:
            return os.stat(self.path).st_size
        except FileNotFoundError:
            return 0

    def bump(self) -> int:
        """Count one write; returns the count before it."""
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            before = os.fstat(fd).st_size
            os.write(fd, b".")
        finally:
            os.close(fd)
        return before


class Manifest:
    """Counts per partition, with the stat of the file they were taken from."""

    NAME = "index/manifest.json"

    def __init__(self, path: Path, vault: Any = None):
        self.path = path
        self.vault = vault
        self.summaries: dict[str, dict[str, Any]] = {}
        self.stats: dict[str, list[int]] = {}
        self.format = 0

    def load(self) -> None:
        try:
            with open(self.path, "rb") as f:
                raw = f.read()
            if self.vault is not None:
                raw = self.vault.open(raw, self.NAME, self.path)
            manifest = decode(self.path, raw)
            summaries, stats = manifest["partitions"], manifest["stats"]
            if not isinstance(summaries, dict) or not isinstance(stats, dict):
                raise TypeError
            self.summaries, self.stats = summaries, stats
            self.format = manifest.get("format", 0) if isinstance(manifest.get("format", 0), int) else 0
        except (OSError, DamagedFile, KeyError, TypeError):
            self.summaries, self.stats, self.format = {}, {}, 0

    def save(self) -> None:
        payload = encode({"format": self.format, "partitions": self.summaries, "stats": self.stats})
        if self.vault is not None:
            payload = self.vault.seal(payload, self.NAME)
        try:
            atomic_write(self.path, payload, durable=False)
        except OSError as exc:
            log.warning("store: could not write the manifest cache (%s)", exc.strerror)

    def forget(self, key: str) -> None:
        self.summaries.pop(key, None)
        self.stats.pop(key, None)



class IdIndex:
    """Record id -> partition key, known from the partitions read and from `ids.log`.

    Each log line is `<name> <partition>`: the record id itself in a plain
    store; with a PIN, a keyed hash of it (`Vault.index_name`), so the log
    names no record. In memory the index is kept by the same names.
    """

    def __init__(self, path: Path, vault: Any = None):
        self.path = path
        self._name = vault.index_name if vault is not None else (lambda record_id: record_id)
        self.where: dict[str, str] = {}  # name -> partition key
        self.loaded = False  # ids.log read whole into `where`
        self.complete = False  # `where` checked against every partition's count

    def get(self, record_id: str) -> str | None:
        return self.where.get(self._name(record_id))

    def forget(self, record_id: str) -> None:
        self.where.pop(self._name(record_id), None)

    def drop_partitions(self, keys: set[str]) -> None:
        for name in [name for name, key in self.where.items() if key in keys]:
            del self.where[name]

    def saw(self, key: str, docs: Iterable[Mapping[str, Any]]) -> list[str]:
        """Note the ids a partition holds; return those last seen in another partition."""
        elsewhere = []
        where, name_of = self.where, self._name
        for doc in docs:
            rid = doc["id"]
            name = name_of(rid)
            before = where.get(name)
            if before != key:
                if before is not None:
                    elsewhere.append(rid)
                where[name] = key
        return elsewhere

    def scan(self, record_id: str) -> str | None:
        """The partition `ids.log` names for one id, without loading the whole log."""
        try:
            with open(self.path, "rb") as f:
                raw = f.read()
        except OSError:
            return None
        name = self._name(record_id)
        at = raw.rfind(name.encode("ascii", "replace") + b" ")
        if at < 0 or (at and raw[at - 1:at] != b"\n"):
            return None
        end = raw.find(b"\n", at)
        if end < 0:
            return None  # a line torn by a crash
        key = raw[at + len(name) + 1:end].decode("ascii", "replace")
        return key if len(key) == 14 else None

    def load(self, keys: Mapping[str, Any]) -> None:
        """Read `ids.log` whole; entries naming a partition that is not in `keys` are dropped."""
        self.loaded = True
        try:
            with open(self.path, "rb") as f:
                text = f.read().decode("ascii", "replace")
        except OSError:
            return
        tokens = text.split()
        pairs: Iterable[tuple[str, str]]
        if len(tokens) % 2 == 0 and text.endswith("\n"):
            pairs = zip(tokens[0::2], tokens[1::2])
        else:  # a line torn by a crash: read line by line, skip it; the count check rebuilds
            pairs = ((parts[0], parts[1]) for parts in (line.split() for line in text.splitlines()) if len(parts) == 2)
        logged: dict[str, str] = {}
        for name, key in pairs:  # a later line wins: a repaired record's last home
            if key in keys and len(name) in (32, 36):
                logged[name] = key
        known = self.where
        for name, key in logged.items():  # what a partition read showed wins over the log
            known.setdefault(name, key)

    def note(self, pairs: list[tuple[str, str]]) -> None:
        name_of = self._name
        named = [(name_of(record_id), key) for record_id, key in pairs]
        for name, key in named:
            self.where[name] = key
        try:
            with open(self.path, "a", encoding="ascii") as f:
                f.write("".join(f"{name} {key}\n" for name, key in named))
        except OSError as exc:
            log.warning("store: could not extend the id index (%s)", exc.strerror)

    def short_partitions(self, summaries: Mapping[str, Mapping[str, Any]]) -> list[str]:
        """Partitions holding more records than the index knows of: they must be read."""
        known = Counter(self.where.values())
        return [key for key, summary in summaries.items() if known.get(key, 0) != summary["count"]]

    def drop_missing(self, keys: Mapping[str, Any]) -> None:
        """Forget entries naming a partition that no longer exists."""
        gone = [name for name, key in self.where.items() if key not in keys]
        for name in gone:
            del self.where[name]

    def rewrite(self) -> None:
        lines = "".join(f"{name} {key}\n" for name, key in self.where.items())
        try:
            atomic_write(self.path, lines.encode("ascii"), durable=False)
        except OSError as exc:
            log.warning("store: could not write the id index (%s)", exc.strerror)
