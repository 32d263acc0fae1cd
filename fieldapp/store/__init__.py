"""The device's local store: durable saves, versions, sync state and the outbox.

    from fieldapp.store import RecordStore
    store = RecordStore.open(data_dir)
    call = store.create_call({...})

Layers, one concept a module: `durable` (atomic, fsynced files: a TinyDB
Storage), `partition` (a day's chunk of records), `index` (the caches),
`document` (a record's document and sync state), `reconcile` (what the
server's answers do to a document, pure), `store` (the store itself).
"""

from .document import StoredRecord, SyncState
from .durable import DurableJSONStorage
from .errors import DamagedFile, NotInConflict, RecordNotFound, StoreError
from .problems import StoreProblem
from .store import RecordStore

__all__ = [
    "DamagedFile",
    "DurableJSONStorage",
    "NotInConflict",
    "RecordNotFound",
    "RecordStore",
    "StoreError",
    "StoreProblem",
    "StoredRecord",
    "SyncState",
]
