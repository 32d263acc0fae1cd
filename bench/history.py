"""History built the way the app builds it, fast, and cached.

    from bench.history import history_store, app_records, prove_identical
    folder = history_store(200_000)               # a cached store: copy it before you change it
    records = app_records(25_000, "dev-...", 1)   # the same records as plain dicts (for a server)

The records are `fieldapp.demo`'s realistic calls and recoveries (`demo_plan`,
one plan a week over the year before today), each made by the store's own
`create_call` / `create_recovery`: validated by `normalize`, documented by
`new_document`, exactly as a save on the phone. Only the last step differs:
instead of one durable write per record, the documents of a day are placed
with the store's own `RecordStore._place` a chunk at a time (two writes a
chunk of 48: all but its last record, then the last, so that the chunk's
`.bak` generation is the one saving one by one leaves too); 200k records take
a minute, not the hour of 200k fsynced saves. "Sent" history then gets the
server's `accepted` verdicts through the store's own `record_verdicts`, 500 at a
time in outbox order, as a sync leaves it.

`prove_identical()` shows on a small sample (uuid4 and the device id fixed) that
this gives a `days/` folder byte-identical (every partition file and its
backup) to saving one by one with `create_call` / `create_recovery` and then
the same verdicts; every benchmark that uses history runs it first.

Built stores are cached under bench/results/history/ (git-ignored), keyed by
size, state and a hash of this file and of the store's, the records' and the
demo's code: a change to any of them builds again.
"""

from __future__ import annotations

import filecmp
import hashlib
import json
import math
import os
import re
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from unittest import mock

from fieldapp import demo
from fieldapp.store import RecordStore
from fieldapp.store.partition import CHUNK_RECORDS

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
CACHE = RESULTS / "history"
TZ = timezone(timedelta(hours=3))  # the team's local time
WEEKS = 52
RECORDS_PER_CALL = 2.6  # demo_plan's average: a call and its recoveries


def _code_key() -> str:
    """A hash of the code that decides what a store holds: this file, the demo, the records' schema, the store."""
    h = hashlib.sha256()
    app = ROOT / "fieldapp"
    files = {Path(__file__), app / "demo.py"}
    for top in (*app.glob("records*"), app / "store"):
        files.update([top] if top.is_file() else top.rglob("*.py"))
    for path in sorted(p for p in files if p.is_file()):
        h.update(path.relative_to(ROOT).as_posix().encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:12]


def history_end() -> datetime:
    """Yesterday evening, local time: the history is the year before today."""
    today = datetime.now(TZ).replace(hour=0, minute=0, second=0, microsecond=0)
    return today - timedelta(hours=2)


def device_for(n: int, seed: int) -> str:
    return "dev-" + hashlib.sha256(f"history-{n}-{seed}".encode()).hexdigest()[:16]


def _plan(n: int, seed: int, end: datetime, weeks_span: int = WEEKS) -> Iterator[demo.DemoCall]:
    """Oldest first: weekly demo plans over WEEKS weeks before `end`, n records in all (calls and recoveries)."""
    calls_per_week = max(1, math.ceil(n / weeks_span / RECORDS_PER_CALL))
    weeks: list[list[demo.DemoCall]] = []
    total, week = 0, 0
    while total < n:  # newest week first, until there are enough records
        plan = demo.demo_plan(calls_per_week, seed=seed * 1000 + week, now=end - timedelta(weeks=week))
        weeks.append(plan)
        total += sum(1 + len(item.recoveries) for item in plan)
        week += 1
    items = [item for plan in reversed(weeks) for item in plan]
    while items and total - (1 + len(items[0].recoveries)) >= n:  # oldest calls out, whole
        total -= 1 + len(items.pop(0).recoveries)
    excess = total - n  # fewer than the oldest call's records: trim its last recoveries
    if excess:
        items[0].recoveries = items[0].recoveries[:len(items[0].recoveries) - excess]
    renumber_tags([rdata for item in items for rdata, _ in item.recoveries], {})
    yield from items


_TAG = re.compile(r"^([A-Z]+)-(\d{4}-\d{4})-([DCG])(\d+)$")


def renumber_tags(datas: list[dict], seq: dict[tuple[str, str, str], int]) -> None:
    """Body and casualty tags unique within a team across plans, in demo.py's own form (town-day-kind number).

    Each demo plan numbers its tags from 1 for each town and day; plans of a year
    (or several phones of one team, or today's saves beside the history) share
    days at their edges, and the server refuses a tag used twice in a team. So the
    numbers run on across plans, in the order people were brought out; `seq` holds
    the last number per (town, day, kind) and is updated.
    """
    tagged = [(d["recovered_at"], d) for d in datas if isinstance(d.get("tag"), str) and _TAG.match(d["tag"])]
    tagged.sort(key=lambda pair: pair[0])
    for _, data in tagged:
        code, day, kind, _ = _TAG.match(data["tag"]).groups()
        seq[code, day, kind] = seq.get((code, day, kind), 0) + 1
        data["tag"] = f"{code}-{day}-{kind}{seq[code, day, kind]:02d}"


def tags_in_use(records: list[dict]) -> dict[tuple[str, str, str], int]:
    """The last number used per (town, day, kind) among these records' tags."""
    seq: dict[tuple[str, str, str], int] = {}
    for record in records:
        match = _TAG.match(str((record.get("data") or {}).get("tag") or ""))
        if match:
            code, day, kind, number = match.groups()
            seq[code, day, kind] = max(seq.get((code, day, kind), 0), int(number))
    return seq


def _save_all(store: RecordStore, n: int, seed: int, end: datetime, weeks: int = WEEKS) -> int:
    """Every planned record through the store's own create_call / create_recovery (what populate does)."""
    saved = 0
    for item in _plan(n, seed, end, weeks):
        call = store.create_call(item.data, recorded_by=item.recorded_by, now=item.at)
        saved += 1
        for rdata, at in item.recoveries:
            store.create_recovery({**rdata, "call_id": call["id"]}, recorded_by=item.recorded_by, now=at)
            saved += 1
    return saved


def _fixed_device(store: RecordStore, device_id: str) -> None:
    store.set_meta("device_id", device_id)
    store.device_id = device_id


def _captured(store: RecordStore, n: int, seed: int, end: datetime, weeks: int = WEEKS) -> list[tuple[str, dict]]:
    """(day, document) for each record, in save order: create_call with its one write held back."""
    docs: list[tuple[str, dict]] = []
    store._place = lambda day, placed: docs.extend((day, d) for d in placed)  # type: ignore[method-assign]
    try:
        _save_all(store, n, seed, end, weeks)
    finally:
        del store._place
    return docs


def _acknowledge(store: RecordStore, batch: int = 500) -> None:
    """The server's `accepted` for every pending record, batch by batch in outbox order: what a sync does."""
    while True:
        records = store.outbox(limit=batch)
        if not records:
            return
        store.record_verdicts([{"id": r["id"], "version": r["version"], "status": "accepted"} for r in records])


def _place_bulk(store: RecordStore, docs: list[tuple[str, dict]]) -> None:
    """Each chunk in two writes: all but its last record, then its last record. The file ends as saving
    one by one leaves it, and so does its backup (`.bak`, the generation before the last write)."""
    by_day: dict[str, list[dict]] = {}
    for day, doc in docs:  # a day's records in save order, as its chunks received them
        by_day.setdefault(day, []).append(doc)
    with store._lock:
        for day, these in by_day.items():
            for i in range(0, len(these), CHUNK_RECORDS):
                chunk = these[i:i + CHUNK_RECORDS]
                if len(chunk) > 1:
                    store._place(day, chunk[:-1])
                store._place(day, chunk[-1:])


def build(folder: Path, n: int, *, state: str = "sent", seed: int = 1, end: datetime | None = None,
          device_id: str | None = None, weeks: int = WEEKS) -> int:
    """Fill a new store at `folder` with n records the app's way; returns how many."""
    end = end or history_end()
    store = RecordStore.open(folder)
    try:
        _fixed_device(store, device_id or device_for(n, seed))
        docs = _captured(store, n, seed, end, weeks)
        _place_bulk(store, docs)
        if state == "sent":
            _acknowledge(store)
    finally:
        store.close()
    return len(docs)


def history_store(n: int, *, state: str = "sent", seed: int = 1, weeks: int = WEEKS, quiet: bool = False) -> Path:
    """A cached store holding n records of the `weeks` before today (day-stamped: rebuilt each day). Copy before use."""
    end = history_end()
    key = f"{n}-{state}-{seed}-{weeks}w-{end.date().isoformat()}-{_code_key()}"
    folder = CACHE / key
    if (folder / "done").exists():
        return folder
    CACHE.mkdir(parents=True, exist_ok=True)
    for old in CACHE.glob(f"{n}-{state}-{seed}-*"):  # older days or older code
        shutil.rmtree(old, ignore_errors=True)
    started = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(dir=CACHE, prefix=".build-"))
    count = build(tmp / "store", n, state=state, seed=seed, end=end, weeks=weeks)
    os.replace(tmp / "store", folder)
    shutil.rmtree(tmp, ignore_errors=True)
    (folder / "done").write_text(json.dumps({"records": count, "seconds": time.perf_counter() - started}))
    if not quiet:
        print(f"(built {count} records of {state} history in {time.perf_counter() - started:.1f} s, cached as {folder.name})",
              flush=True)
    return folder


def copy_store(n: int, target: Path, *, state: str = "sent", seed: int = 1, weeks: int = WEEKS) -> Path:
    """A copy of the cached store, its caches in step with its files as the app leaves them.

    A copy gives every file a new inode, which the manifest notices: opened
    once here, as the app's last save session would have, so the command
    under test does not pay a recount no phone ever pays.
    """
    source = history_store(n, state=state, seed=seed, weeks=weeks)
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("done"))
    RecordStore.open(target).close()
    return target


def stored_records(folder: Path) -> Iterator[dict]:
    """The current version of each record in a store folder, read straight from its partition files."""
    for path in sorted((folder / "days").glob("*.json")):
        table = json.loads(path.read_bytes())["records"]
        for _, doc in sorted(table.items(), key=lambda kv: int(kv[0])):
            yield doc["record"]


def app_records(n: int, device_id: str, seed: int) -> list[dict]:
    """n records as a phone with `device_id` saved them (the store's own code), no store kept."""
    with tempfile.TemporaryDirectory() as tmp:
        store = RecordStore.open(Path(tmp) / "scratch")
        try:
            _fixed_device(store, device_id)
            return [doc["record"] for _, doc in _captured(store, n, seed, history_end())]
        finally:
            store.close()


# --- the proof --------------------------------------------------------------------------------


class _Ids:
    def __init__(self) -> None:
        self.n = 0

    def __call__(self) -> uuid.UUID:
        self.n += 1
        return uuid.UUID(int=(0x5EED << 96) + self.n, version=4)


def prove_identical(n: int = 1_200, *, seed: int = 5, weeks: int = 2) -> str:
    """Build n records one by one (create_call / create_recovery, then record_verdicts) and in bulk;
    compare every partition file byte for byte. Raises AssertionError on any difference.

    Two weeks of a busy team (about 85 records a day): days run past one chunk of 48."""
    end = history_end()
    device = device_for(n, seed)
    with tempfile.TemporaryDirectory() as tmp:
        one, bulk = Path(tmp) / "one-by-one", Path(tmp) / "bulk"
        with mock.patch("uuid.uuid4", _Ids()):
            store = RecordStore.open(one)
            try:
                _fixed_device(store, device)
                saved = _save_all(store, n, seed, end, weeks)
                _acknowledge(store)
            finally:
                store.close()
        with mock.patch("uuid.uuid4", _Ids()):
            build(bulk, n, state="sent", seed=seed, end=end, device_id=device, weeks=weeks)
        a = sorted(p.name for p in (one / "days").iterdir())
        b = sorted(p.name for p in (bulk / "days").iterdir())
        assert a == b, f"partition files differ: {sorted(set(a) ^ set(b))[:5]}"
        _, mismatch, errors = filecmp.cmpfiles(one / "days", bulk / "days", a, shallow=False)
        assert not mismatch and not errors, f"partition files differ in content: {mismatch[:5]} {errors[:5]}"
        sizes = [json.loads((one / "days" / name).read_bytes())["records"] for name in a if name.endswith(".json")]
        biggest = max(len(t) for t in sizes)
        return (f"byte-identity: {saved} records saved one by one (create_call/create_recovery, then the verdicts) "
                f"and built in bulk give the same {len(a)} files in days/ (partitions and their .bak), "
                f"byte for byte; {len(sizes)} chunks, the largest {biggest} records")


def save_today(store: RecordStore, n: int, *, seed: int) -> int:
    """n new records of today, saved one by one by create_call / create_recovery (the app's saves)."""
    now = datetime.now(TZ)
    plan = demo.demo_plan(max(1, math.ceil(n / RECORDS_PER_CALL)) + 5, seed=seed, now=now)
    # Tags go on from those already used on the days this plan covers (the history's last days, earlier runs).
    recent = [r.record for d in range(10) for r in store.day((now - timedelta(days=d)).date().isoformat())]
    renumber_tags([rdata for item in plan for rdata, _ in item.recoveries], tags_in_use(recent))
    saved = 0
    for item in plan:
        if saved >= n:
            break
        call = store.create_call(item.data, recorded_by=item.recorded_by, now=item.at)
        saved += 1
        for rdata, at in item.recoveries:
            if saved >= n:
                break
            store.create_recovery({**rdata, "call_id": call["id"]}, recorded_by=item.recorded_by, now=at)
            saved += 1
    assert saved == n, (saved, n)
    return saved
