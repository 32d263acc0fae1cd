"""The device's local store: durable saves, versions, sync state and the outbox.

    from fieldapp.store import RecordStore
    store = RecordStore.open(data_dir)
    call = store.create_call({...})
"""

from .durable import DamagedFile, DurableJSONStorage
from .store import RecordStore, StoredRecord, StoreError, StoreProblem, SyncState

__all__ = [
    "DamagedFile",
    "DurableJSONStorage",
    "RecordStore",
    "StoreError",
    "StoreProblem",
    "StoredRecord",
    "SyncState",
]
