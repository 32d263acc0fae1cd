"""A partition: one TinyDB file holding a bounded chunk of one day's records.

A save rewrites one partition, so its cost follows the chunk's size, not the
years of history beside it. Partitions are named `YYYY-MM-DD.NNN`: the day the
records were created (device-local date) and a chunk number within the day.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tinydb import TinyDB
from tinydb.middlewares import Middleware
from tinydb.table import Document

from .durable import DurableJSONStorage

# Records per partition file. A day at the peak of a crisis holds ~130 records;
# chunks keep each save's rewrite small even on such a day.
CHUNK_RECORDS = 48

TABLE = "records"


class BatchedWrites(Middleware):
    """Holds TinyDB's writes inside `batch()` and writes once at its end.

    One durable write per batch, however many TinyDB calls it takes: a sync
    verdict list or a pulled page costs one fsync per partition.
    """

    def __init__(self, storage_cls=DurableJSONStorage):
        super().__init__(storage_cls)
        self._pending: dict | None = None
        self._depth = 0

    @property
    def durable(self) -> DurableJSONStorage:
        """The storage under this layer (TinyDB makes it on first use)."""
        storage = self.storage
        assert isinstance(storage, DurableJSONStorage)
        return storage

    def read(self):
        if self._pending is not None:
            return self._pending
        return self.storage.read()

    def write(self, data):
        if self._depth:
            self._pending = data
        else:
            self.storage.write(data)

    @contextmanager
    def batch(self) -> Iterator[None]:
        self._depth += 1
        try:
            yield
            if self._depth == 1 and self._pending is not None:
                self.storage.write(self._pending)
        except BaseException:
            # TinyDB changed the cached structure in place: forget it.
            self.durable.invalidate()
            raise
        finally:
            self._depth -= 1
            if not self._depth:
                self._pending = None


def day_of(key: str) -> str:
    return key[:10]


def chunk_of(key: str) -> int:
    return int(key[11:])


def make_key(day: str, chunk: int) -> str:
    return f"{day}.{chunk:03d}"


class Partition:
    def __init__(self, path: Path, vault: Any = None):
        self.path = path
        self.key = path.name[: -len(".json")]
        self._db = TinyDB(path, storage=BatchedWrites(DurableJSONStorage), vault=vault, name=f"days/{path.name}")
        self._middleware: BatchedWrites = self._db.storage  # type: ignore[assignment]  # TinyDB types it as its base
        self._table = self._db.table(TABLE, cache_size=0)

    def docs(self) -> list[Document]:
        """Every record document; raises DamagedFile when the file is broken."""
        return self._table.all()

    def find(self, record_id: str) -> Document | None:
        for doc in self._table.all():
            if doc["id"] == record_id:
                return doc
        return None

    def insert_many(self, docs: list[dict]) -> None:
        # Explicit ids from the file as it is now: TinyDB's own next-id counter
        # is per process and would clash with another writer's inserts.
        if docs:
            first = max((doc.doc_id for doc in self._table.all()), default=0) + 1
            self._table.insert_multiple(Document(doc, doc_id=first + i) for i, doc in enumerate(docs))

    def update(self, transform: Callable[[Any], None], doc_ids: list[int]) -> None:
        if doc_ids:
            self._table.update(transform, doc_ids=doc_ids)

    def remove(self, doc_ids: list[int]) -> None:
        if doc_ids:
            self._table.remove(doc_ids=doc_ids)

    @contextmanager
    def batch(self) -> Iterator[None]:
        with self._middleware.batch():
            yield

    def forget_cache(self) -> None:
        self._middleware.durable.invalidate()

    def close(self) -> None:
        self._db.close()
