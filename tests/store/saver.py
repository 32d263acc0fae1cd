"""A process that saves, edits and applies verdicts in a loop until it is killed.

After each call returns it prints `<id> <version>` and flushes, so the test
knows exactly which saves returned before the SIGKILL.
"""

import sys

from fieldapp.store import RecordStore
from tests.records_factory import call_data, recovery_data


def main(folder: str) -> None:
    store = RecordStore.open(folder)
    out = sys.stdout
    n = 0
    while True:
        n += 1
        call = store.create_call(call_data(notes=f"call {n}"))
        print(call["id"], 1, flush=True)
        recovery = store.create_recovery(recovery_data(call["id"], count=1 + n % 5))
        print(recovery["id"], 1, flush=True)
        edited = store.edit(call["id"], data=call_data(status="dispatched", notes=f"call {n}"))
        print(call["id"], edited["version"], flush=True)
        store.record_verdicts([
            {"id": recovery["id"], "version": 1, "status": "accepted"},
            {"id": call["id"], "version": 1, "status": "accepted"},
        ])
        out.write(f"verdicts {recovery['id']}\n")
        out.flush()


if __name__ == "__main__":
    main(sys.argv[1])
