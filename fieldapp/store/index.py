"""The store's two caches, under `index/`: neither is truth, both are checked.

- `manifest.json`: per partition, its record count by sync state, a mark of
  each body or casualty tag its records hold, and the file's stat when counted.
  On open, a partition whose stat differs is counted again, so counts, the
  outbox and a tag's holder never read every file.
- `ids.log`: which partition holds which record id, one `<id> <partition>`
  line appended per new record. Loaded whole only when a bulk operation needs
  every id; a single lookup scans its bytes instead. Checked against the
  partitions' counts before anyone relies on it being complete. With a PIN,
  a line is `<keyed hash of the id> <partition masked by a keyed pad>`, all
  lines one length, and the log grows in blocks of `BLOCK` lines, the free
  ones random: its size and lines say neither how many records there are
  (but for the block count) nor which day holds how many.

Both are written atomically and never fsynced: losing one costs a rebuild,
never a record.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from .document import SyncState
from .durable import DamagedFile, atomic_write, decode, encode
from .tags import held_mark

log = logging.getLogger(__name__)

# Bumped when the store's layout rules change. A store last opened by a
# version before 2 may hold one record in two partitions: it is checked whole
# once, and repaired.
FORMAT = 2

_STATES = tuple(SyncState)

# A sealed log's lines: a 32-hex name, a space, the 14-byte partition key masked (28 hex), a newline.
KEY_BYTES = 14  # "YYYY-MM-DD.NNN"
LINE = 32 + 1 + 2 * KEY_BYTES + 1
BLOCK = 64  # lines a sealed log grows by
_PARTITION = re.compile(r"\d{4}-\d\d-\d\d\.\d{3}")


def _free_line() -> bytes:
    """A line of a sealed log that names nothing: random, like every other to whoever has no key."""
    return f"{os.urandom(16).hex()} {os.urandom(KEY_BYTES).hex()}\n".encode("ascii")


def summarize(docs: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """A partition's count, by sync state, and the marks of the tags it holds (`tags.held_mark`, joined)."""
    states = dict.fromkeys((s.value for s in _STATES), 0)
    count = 0
    marks = []
    for doc in docs:
        states[doc["state"]] += 1
        count += 1
        mark = held_mark(doc["record"])
        if mark is not None:
            marks.append(mark)
    return {"count": count, "states": states, "tags": "".join(marks)}


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


class _Names:
    """16-byte names -> small ints, in about 20 bytes a name, whatever their number.

    A dict of id strings costs some 125 bytes a record: 12 MB for a team's
    100k records, on a phone. Here the names of a bucket (by their first 12
    bits) are one bytes object, their values one array: a lookup is a C search
    through a few hundred bytes, memory is the names and values themselves.
    """

    _BUCKETS = 4096

    def __init__(self) -> None:
        self._names: list[bytes] = [b""] * self._BUCKETS
        self._values: list[array | None] = [None] * self._BUCKETS
        self._count = 0

    def __len__(self) -> int:
        return self._count

    @staticmethod
    def _bucket(name: bytes) -> int:
        return (name[0] << 4) | (name[1] >> 4)

    @staticmethod
    def _at(names: bytes, name: bytes) -> int:
        at = names.find(name)
        while at > 0 and at % 16:  # a match across two names: look on
            at = names.find(name, at + 1)
        return at

    def get(self, name: bytes) -> int | None:
        b = self._bucket(name)
        at = self._at(self._names[b], name)
        if at < 0:
            return None
        values = self._values[b]
        assert values is not None
        return values[at // 16]

    def set(self, name: bytes, value: int) -> None:
        b = self._bucket(name)
        names = self._names[b]
        at = self._at(names, name)
        values = self._values[b]
        if values is None:
            values = self._values[b] = array("I")
        if at < 0:
            self._names[b] = names + name
            values.append(value)
            self._count += 1
        else:
            values[at // 16] = value

    def pop(self, name: bytes) -> None:
        b = self._bucket(name)
        names = self._names[b]
        at = self._at(names, name)
        if at >= 0:
            self._names[b] = names[:at] + names[at + 16:]
            values = self._values[b]
            assert values is not None
            del values[at // 16]
            self._count -= 1

    def items(self) -> Iterator[tuple[bytes, int]]:
        for names, values in zip(self._names, self._values):
            if values:
                for n, value in enumerate(values):
                    yield names[16 * n:16 * n + 16], value

    def values(self) -> Iterator[int]:
        for values in self._values:
            if values:
                yield from values

    def keep_only(self, wanted: Callable[[int], bool]) -> None:
        """Drop every name whose value is not `wanted`: one pass."""
        for b, values in enumerate(self._values):
            if not values or all(wanted(v) for v in values):
                continue
            names = self._names[b]
            kept = [n for n, v in enumerate(values) if wanted(v)]
            self._names[b] = b"".join(names[16 * n:16 * n + 16] for n in kept)
            self._values[b] = array("I", (values[n] for n in kept))
            self._count -= len(values) - len(kept)


def _binary(name: str) -> bytes:
    """A log name (a record id, or a PIN store's 32-hex keyed hash) as 16 bytes.

    Only the canonical text (lower case, hyphens where a UUID has them) is read
    as hex: an id typed in upper case is another name, not found, and never
    stands in for the record it spells.
    """
    hexed = name[:8] + name[9:13] + name[14:18] + name[19:23] + name[24:] if len(name) == 36 else name
    if len(hexed) == 32 and (len(name) == 32 or name[8] + name[13] + name[18] + name[23] == "----") \
            and hexed == hexed.lower():
        try:
            raw = bytes.fromhex(hexed)  # (which skips spaces between pairs)
        except ValueError:
            raw = b""
        if len(raw) == 16:
            return raw
    return hashlib.blake2b(name.encode("utf-8", "replace"), digest_size=16).digest()  # never a store's own id


def _text(name: bytes, hyphens: bool) -> str:
    text = name.hex()
    if hyphens:
        return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"
    return text


class IdIndex:
    """Record id -> partition key, known from the partitions read and from `ids.log`.

    Each log line is `<name> <partition>`: the record id itself in a plain
    store; with a PIN, a keyed hash of it (`Vault.index_name`), so the log
    names no record. In memory each name is its 16 bytes (`_Names`), the
    partition a number: a year of a big team's records costs a couple of MB.
    """

    def __init__(self, path: Path, vault: Any = None):
        self.path = path
        self._plain = vault is None
        self._vault = vault
        self._name = vault.index_name if vault is not None else (lambda record_id: record_id)
        self._where = _Names()  # name -> partition number
        self._keys: list[str | None] = []  # partition number -> key (None: dropped)
        self._number: dict[str, int] = {}  # key -> partition number
        self.loaded = False  # ids.log read whole
        self.complete = False  # checked against every partition's count

    def __len__(self) -> int:
        return len(self._where)

    def _binary(self, record_id: str) -> bytes:
        return _binary(self._name(record_id))

    def _numbered(self, key: str) -> int:
        number = self._number.get(key)
        if number is None:
            number = self._number[key] = len(self._keys)
            self._keys.append(key)
        return number

    def _key(self, number: int | None) -> str | None:
        return None if number is None else self._keys[number]

    def get(self, record_id: str) -> str | None:
        return self._key(self._where.get(self._binary(record_id)))

    def forget(self, record_id: str) -> None:
        self._where.pop(self._binary(record_id))

    def _drop(self, gone: set[str]) -> None:
        if not gone:
            return
        numbers = {self._number.pop(key) for key in gone if key in self._number}
        for number in numbers:
            self._keys[number] = None
        self._where.keep_only(lambda number: number not in numbers)

    def drop_partitions(self, keys: set[str]) -> None:
        self._drop(set(keys))

    def saw(self, key: str, docs: Iterable[Mapping[str, Any]]) -> list[str]:
        """Note the ids a partition holds; return those last seen in another partition."""
        elsewhere = []
        number = self._numbered(key)
        where, name_of = self._where, self._binary
        for doc in docs:
            rid = doc["id"]
            name = name_of(rid)
            before = where.get(name)
            if before != number:
                if before is not None and self._keys[before] is not None:
                    elsewhere.append(rid)
                where.set(name, number)
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
        key = self._unmask(name, raw[at + len(name) + 1:end].decode("ascii", "replace"))
        return key if key is not None and len(key) == KEY_BYTES else None

    # --- a sealed log's masked partitions ---------------------------------------------------------

    def _mask(self, name: str, key: str) -> str:
        if self._vault is None:
            return key
        pad = self._vault.index_pad(name, KEY_BYTES)
        return bytes(a ^ b for a, b in zip(key.encode("ascii"), pad)).hex()

    def _unmask(self, name: str, masked: str) -> str | None:
        """The partition a line names, or None for a free line (or a torn one)."""
        if self._vault is None or len(masked) == KEY_BYTES:
            return masked  # plain: a plain store's, or a sealed one's from before the masks
        try:
            raw = bytes.fromhex(masked)
        except ValueError:
            return None
        if len(raw) != KEY_BYTES:
            return None
        key = bytes(a ^ b for a, b in zip(raw, self._vault.index_pad(name, KEY_BYTES))).decode("latin-1")
        return key if _PARTITION.fullmatch(key) else None

    def _names_something(self, line: bytes) -> bool:
        return self._unmask(line[:32].decode("ascii", "replace"), line[33:LINE - 1].decode("ascii", "replace")) is not None

    def load(self, keys: Mapping[str, Any]) -> None:
        """Read `ids.log` whole, line by line; entries naming a partition that is not in `keys` are dropped."""
        self.loaded = True
        logged = _Names()
        try:
            with open(self.path, encoding="ascii", errors="replace") as f:
                for line in f:  # a later line wins: a repaired record's last home
                    name, _, key = line.partition(" ")
                    key = key[:-1] if key.endswith("\n") else ""  # no end: a line torn by a crash
                    if self._vault is not None:
                        key = self._unmask(name, key) or ""
                    if len(name) in (32, 36) and key in keys:
                        logged.set(_binary(name), self._numbered(key))
        except OSError:
            return
        where = self._where
        for binary, number in logged.items():  # what a partition read showed wins over the log
            if where.get(binary) is None:
                where.set(binary, number)

    def note(self, pairs: list[tuple[str, str]]) -> None:
        """Add lines for new records (the store's lock is held)."""
        named = [(self._name(record_id), key) for record_id, key in pairs]
        for name, key in named:
            self._where.set(_binary(name), self._numbered(key))
        try:
            if self._vault is not None:
                self._fill(named)
                return
            with open(self.path, "a", encoding="ascii") as f:
                f.write("".join(f"{name} {key}\n" for name, key in named))
        except OSError as exc:
            log.warning("store: could not extend the id index (%s)", exc.strerror)

    def _fill(self, named: list[tuple[str, str]]) -> None:
        """A sealed log: the lines go into the last block's free lines, in place; a full log grows by a block.

        Lines naming something come first, so the first free line is found by a
        binary search of the last block: a few keyed hashes, one small read.
        """
        lines = "".join(f"{name} {self._mask(name, key)}\n" for name, key in named).encode("ascii")
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            size = os.fstat(fd).st_size
            slots = size // LINE
            start = max(slots - BLOCK, 0)
            tail = os.pread(fd, (slots - start) * LINE, start * LINE)
            if size % (BLOCK * LINE) or tail[LINE - 1::LINE] != b"\n" * (slots - start):
                irregular = True  # from before the blocks, or torn by a crash: written again whole
            else:
                irregular = False
                low, high = 0, slots - start
                while low < high:
                    middle = (low + high) // 2
                    if self._names_something(tail[middle * LINE:(middle + 1) * LINE]):
                        low = middle + 1
                    else:
                        high = middle
                free = start + low
                if free + len(named) > slots:
                    grown = -(-(free + len(named)) // BLOCK) * BLOCK
                    lines += b"".join(_free_line() for _ in range(grown - free - len(named)))
                os.pwrite(fd, lines, free * LINE)
        finally:
            os.close(fd)
        if irregular:
            self.rewrite()

    def seal_log(self) -> None:
        """A plain store's log written as a sealed one's (sealing in place): ids hashed, partitions masked."""
        try:
            text = self.path.read_text(encoding="ascii", errors="replace")
        except FileNotFoundError:
            return
        for line in text.splitlines():
            name, _, key = line.partition(" ")
            if len(name) == 36:
                name = self._name(name)
            elif len(name) == 32:
                key = self._unmask(name, key) or ""
            else:
                continue
            if _PARTITION.fullmatch(key):
                self._where.set(_binary(name), self._numbered(key))
        self.rewrite()

    def short_partitions(self, summaries: Mapping[str, Mapping[str, Any]]) -> list[str]:
        """Partitions holding more records than the index knows of: they must be read."""
        known = Counter(self._where.values())
        return [key for key, summary in summaries.items()
                if known.get(self._number.get(key, -1), 0) != summary["count"]]

    def drop_missing(self, keys: Mapping[str, Any]) -> None:
        """Forget entries naming a partition that no longer exists."""
        self._drop({key for key in self._number if key not in keys})

    def rewrite(self) -> None:
        keys, plain = self._keys, self._plain
        if plain:
            lines = "".join(f"{_text(name, plain)} {keys[number]}\n" for name, number in self._where.items()
                            if keys[number] is not None).encode("ascii")
        else:
            named = [(_text(name, plain), keys[number]) for name, number in self._where.items() if keys[number] is not None]
            lines = "".join(f"{name} {self._mask(name, key)}\n" for name, key in named if key is not None).encode("ascii")
            lines += b"".join(_free_line() for _ in range(-len(named) % BLOCK))
        try:
            atomic_write(self.path, lines, durable=False)
        except OSError as exc:
            log.warning("store: could not write the id index (%s)", exc.strerror)
