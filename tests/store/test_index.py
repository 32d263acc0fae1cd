"""The store's caches and its partition bookkeeping: doubles repaired, every path linear.

The linear checks count operations (folder listings, partition reads, parses
of the id log), never wall time: a path that grows with records x files shows
up as a count that grows with the history.
"""

from __future__ import annotations

import json
import os
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from fieldapp.store import RecordStore
from fieldapp.store import store as store_module
from fieldapp.store.index import IdIndex
from fieldapp.store.partition import CHUNK_RECORDS, Partition
from fieldapp.store.tags import tag_holder
from tests.records_factory import call_data, call_record, recovery_data

TZ = timezone(timedelta(hours=3))
DAY = datetime(2026, 11, 20, 8, 0, tzinfo=TZ)


def _history(folder: Path, records: int, days: int = 10) -> list[str]:
    store = RecordStore.open(folder)
    ids = [store.create_call(call_data(), now=DAY + timedelta(days=i % days, seconds=i))["id"] for i in range(records)]
    store.close()
    return ids


def _files(folder: Path) -> dict[str, dict]:
    return {p.name: json.loads(p.read_bytes())["records"] for p in sorted((folder / "days").glob("*.json"))}


class Counting:
    """Counts folder listings and partition reads made through the store."""

    def __init__(self, monkeypatch):
        self.listings = 0
        self.reads = 0
        self.log_loads = 0
        real_scandir, real_docs, real_load = os.scandir, Partition.docs, IdIndex.load

        def scandir(path):
            self.listings += 1
            return real_scandir(path)

        def docs(partition):
            self.reads += 1
            return real_docs(partition)

        def load(index, keys):
            self.log_loads += 1
            return real_load(index, keys)

        monkeypatch.setattr(store_module.os, "scandir", scandir)
        monkeypatch.setattr(Partition, "docs", docs)
        monkeypatch.setattr(IdIndex, "load", load)

    def reset(self) -> None:
        self.listings = self.reads = self.log_loads = 0


# --- doubles --------------------------------------------------------------------------------


def _make_double(folder: Path) -> tuple[str, dict]:
    """A store as the old bookkeeping left it: one id in two partitions, the copy marked sent."""
    store = RecordStore.open(folder)
    call = store.create_call(call_data(), now=DAY)
    for i in range(CHUNK_RECORDS):  # fill the chunk, so the copy lands in the next one
        store.create_call(call_data(), now=DAY + timedelta(minutes=1 + i))
    edited = store.edit(call["id"], data=call_data(status="dispatched"), now=DAY + timedelta(hours=2))
    store.close()
    first, second = sorted((folder / "days").glob("*.json"))
    copy = {"id": call["id"], "record": call, "state": "sent", "errors": [], "server_record": None,
            "acked_version": 1, "history": [], "mine": True}
    table = json.loads(second.read_bytes())
    table["records"][str(max(map(int, table["records"])) + 1)] = copy
    second.write_bytes(json.dumps(table).encode())
    manifest = folder / "index" / "manifest.json"
    old = json.loads(manifest.read_bytes())
    old.pop("format", None)  # written by the version before the fix
    manifest.write_bytes(json.dumps(old).encode())
    return call["id"], edited


def test_opening_a_store_that_holds_a_record_twice_folds_it_into_one_copy(data_dir):
    rid, edited = _make_double(data_dir)
    assert sum(rid in {d["id"] for d in docs.values()} for docs in _files(data_dir).values()) == 2

    store = RecordStore.open(data_dir)
    try:
        assert store.repaired == 1
        stored = store.get(rid)
        # the newest version, still to send, now building on the version the server showed it holds
        assert stored.record == {**edited, "base_version": 1} and stored.state == "pending"
        assert [h["version"] for h in stored.history] == [1] and stored.acked_version == 1
        assert store.counts()["total"] == CHUNK_RECORDS + 1
        assert len([r for r in store.iter_current() if r.id == rid]) == 1
    finally:
        store.close()
    assert sum(rid in {d["id"] for d in docs.values()} for docs in _files(data_dir).values()) == 1
    again = RecordStore.open(data_dir)
    assert again.repaired == 0 and again.get(rid).version == edited["version"]
    again.close()


def test_a_record_saved_by_another_process_is_never_taken_for_new(data_dir):
    """The cause of the doubles: a write to a partition hid the other process's new record."""
    syncer = RecordStore.open(data_dir)
    saver = RecordStore.open(data_dir)
    try:
        first = syncer.create_call(call_data(), now=DAY)
        for i in range(CHUNK_RECORDS - 3):
            syncer.create_call(call_data(), now=DAY + timedelta(minutes=1 + i))
        assert syncer.get(str(uuid.uuid4())) is None  # the id index is complete in this process
        theirs = saver.create_call(call_data(), now=DAY + timedelta(hours=1))  # the same partition...
        saver.create_call(call_data(), now=DAY + timedelta(hours=2))  # ...now full
        syncer.record_verdicts([{"id": first["id"], "version": 1, "status": "accepted"}])  # rewrites it
        syncer.save_pulled([theirs])  # its own record coming back from the server
        assert syncer.counts()["total"] == CHUNK_RECORDS
    finally:
        syncer.close()
        saver.close()
    held = [d["id"] for docs in _files(data_dir).values() for d in docs.values()]
    assert len(held) == len(set(held)) == CHUNK_RECORDS


# --- damaged files ------------------------------------------------------------------------------


def test_a_damaged_file_whose_backup_is_damaged_too_is_moved_aside_once(data_dir):
    _history(data_dir, 3, days=1)
    path = next((data_dir / "days").glob("*.json"))
    path.write_text("}{")
    path.with_name(path.name + ".bak").write_text("{{")
    for _ in range(3):
        RecordStore.open(data_dir).close()
    assert len(list((data_dir / "damaged").iterdir())) == 2  # the file and its backup, once each


# --- linear paths ----------------------------------------------------------------------------------


@pytest.mark.parametrize("history", [200, 800])
def test_a_pulled_page_lists_the_folder_once_whatever_the_history(data_dir, monkeypatch, history):
    _history(data_dir, history)
    store = RecordStore.open(data_dir)
    counting = Counting(monkeypatch)
    page = [call_record(created_at=f"2026-11-2{i % 5}T10:00:00.000+03:00") for i in range(300)]
    try:
        assert store.save_pulled(page) == 300
        assert counting.listings <= 1  # none when no process wrote since the open
        assert counting.log_loads <= 1
        # each partition touched is read a bounded number of times, not once per record
        touched = len(set(_files(data_dir)))
        assert counting.reads <= 3 * touched
    finally:
        store.close()


def test_pulled_records_respect_the_chunk_bound(data_dir):
    store = RecordStore.open(data_dir)
    try:
        store.save_pulled([call_record() for _ in range(5 * CHUNK_RECORDS + 7)])
    finally:
        store.close()
    sizes = [len(docs) for docs in _files(data_dir).values()]
    assert max(sizes) <= CHUNK_RECORDS and sum(sizes) == 5 * CHUNK_RECORDS + 7


def test_saves_from_two_processes_respect_the_chunk_bound(data_dir):
    a, b = RecordStore.open(data_dir), RecordStore.open(data_dir)
    try:
        for i in range(CHUNK_RECORDS):
            a.create_call(call_data(), now=DAY + timedelta(minutes=i))
            b.create_call(call_data(), now=DAY + timedelta(minutes=i))
    finally:
        a.close()
        b.close()
    assert max(len(docs) for docs in _files(data_dir).values()) <= CHUNK_RECORDS


@pytest.mark.parametrize("history", [200, 1600])
def test_the_first_lookup_after_open_reads_one_partition_and_parses_no_log(data_dir, monkeypatch, history):
    ids = _history(data_dir, history)
    store = RecordStore.open(data_dir)
    counting = Counting(monkeypatch)
    try:
        assert store.get(ids[history // 2]) is not None
        assert (counting.reads, counting.log_loads) == (1, 0)
        assert store.get(str(uuid.uuid4())) is None  # an unknown id: one linear pass, then known
        counting.reset()
        assert store.get(str(uuid.uuid4())) is None
        assert counting.reads == 0 and counting.log_loads == 0
    finally:
        store.close()


def test_the_id_log_loads_in_one_pass(tmp_path):
    """Loading used to rebuild the set of days for every line it read."""
    index = IdIndex(tmp_path / "ids.log")
    keys = {f"2026-11-{d:02d}.{c:03d}": {} for d in range(1, 29) for c in range(40)}
    lines = [f"{uuid.uuid4()} {key}\n" for key in keys for _ in range(3)]
    (tmp_path / "ids.log").write_text("".join(lines) + "torn-line-without-end")
    calls = 0

    class Keys(dict):
        def __contains__(self, key):
            nonlocal calls
            calls += 1
            return super().__contains__(key)

    index.load(Keys(keys))
    assert len(index) == len(lines)
    assert calls <= len(lines) + 1


def test_a_repair_killed_half_way_is_finished_at_the_next_open(data_dir, monkeypatch):
    _make_double(data_dir)

    def killed_after_one_write(self):
        rid, keys = next(iter(self._doubles.items()))
        self._write(min(keys), lambda partition, docs: partition.update(lambda d: None, [d.doc_id for d in docs if d["id"] == rid]))
        raise SystemExit("killed")  # the rest of the fold never happens

    monkeypatch.setattr(RecordStore, "_repair_doubles", killed_after_one_write)
    with pytest.raises(SystemExit):
        RecordStore.open(data_dir)
    monkeypatch.undo()
    assert json.loads((data_dir / "index" / "manifest.json").read_bytes()).get("format", 0) < 2  # not marked checked
    store = RecordStore.open(data_dir)
    try:
        assert store.repaired == 1 and store.counts()["total"] == CHUNK_RECORDS + 1
    finally:
        store.close()


def test_a_pass_lists_the_folder_only_when_another_process_wrote(data_dir, monkeypatch):
    _history(data_dir, 300)
    store, other = RecordStore.open(data_dir), RecordStore.open(data_dir)
    counting = Counting(monkeypatch)
    try:
        for _ in range(5):
            store.counts()
            store.outbox(limit=10)
        assert counting.listings == 0  # nothing changed on disk: no listing, however often asked
        store.create_call(call_data(), now=DAY)  # its own write keeps its caches in step
        store.counts()
        assert counting.listings == 0
        theirs = other.create_call(call_data(), now=DAY)
        assert store.counts()["total"] == 302 and counting.listings == 1  # another's write: listed once
        assert store.get(theirs["id"]) is not None
    finally:
        store.close()
        other.close()


# --- a tag's holder ----------------------------------------------------------------------------------


def _tagged_history(folder: Path, calls: int, days: int = 10) -> dict[str, str]:
    """Calls, each with a tagged recovery: tag -> the recovery's id."""
    store = RecordStore.open(folder)
    held = {}
    for i in range(calls):
        at = DAY + timedelta(days=i % days, seconds=i)
        call = store.create_call(call_data(), now=at)
        held[f"T-{i}"] = store.create_recovery(recovery_data(call["id"], tag=f"T-{i}"), now=at)["id"]
    store.close()
    return held


@pytest.mark.parametrize("calls", [100, 800])
def test_a_tags_holder_is_found_reading_one_partition_whatever_the_history(data_dir, monkeypatch, calls):
    """The warning before a tagged save read every record of the phone (2 s at 50k records)."""
    held = _tagged_history(data_dir, calls)
    store = RecordStore.open(data_dir)
    counting = Counting(monkeypatch)
    try:
        assert tag_holder(store, f" T-{calls // 2} ") == held[f"T-{calls // 2}"]
        assert counting.reads == 1
        counting.reset()
        assert tag_holder(store, "T-none") is None and counting.reads == 0
        # withdrawn, the recovery holds no tag: its partition's marks say so at once
        store.edit(held["T-3"], data=recovery_data(store.get(held["T-3"]).record["data"]["call_id"], tag="T-3", withdrawn=True))
        counting.reset()
        assert tag_holder(store, "T-3") is None and counting.reads == 0
    finally:
        store.close()


def test_a_partition_brought_back_from_its_backup_is_counted_again(data_dir):
    """The copy brought back holds what the summary no longer said: its tags and its states."""
    store = RecordStore.open(data_dir)
    try:
        call = store.create_call(call_data(), now=DAY)
        recovery = store.create_recovery(recovery_data(call["id"], tag="T"), now=DAY)
        store.edit(recovery["id"], data=recovery_data(call["id"], tag="U"))
        [path] = (data_dir / "days").glob("*.json")
        path.write_bytes(b"{garbage")
        assert store.get(recovery["id"]).record["data"]["tag"] == "T"  # the last good copy
        assert (tag_holder(store, "T"), tag_holder(store, "U")) == (recovery["id"], None)
        assert store.counts()["total"] == 2
    finally:
        store.close()


def test_a_tag_saved_by_another_process_or_counted_before_the_marks_is_found(data_dir, monkeypatch):
    held = _tagged_history(data_dir, 60)
    # a manifest written before the marks: its summaries lack them, and are counted again once
    manifest = data_dir / "index" / "manifest.json"
    payload = json.loads(manifest.read_bytes())
    for summary in payload["partitions"].values():
        del summary["tags"]
    manifest.write_text(json.dumps(payload))
    reader, saver = RecordStore.open(data_dir), RecordStore.open(data_dir)
    counting = Counting(monkeypatch)
    try:
        assert tag_holder(reader, "T-7") == held["T-7"]
        assert counting.reads == len(payload["partitions"]) + 1
        counting.reset()
        assert tag_holder(reader, "T-8") == held["T-8"] and counting.reads == 1
        call = saver.create_call(call_data(), now=DAY + timedelta(days=20))
        theirs = saver.create_recovery(recovery_data(call["id"], tag="T-new"), now=DAY + timedelta(days=20))
        assert tag_holder(reader, "T-new") == theirs["id"]
        assert tag_holder(reader, "T-new", editing=theirs["id"]) is None
    finally:
        reader.close()
        saver.close()


# --- the id index's own memory ------------------------------------------------------------------


def test_the_id_index_costs_a_few_dozen_bytes_a_record_not_a_dict_entry(tmp_path):
    """A dict of id strings cost about 125 bytes a record: 12 MB of a phone's memory for 100k records."""
    import tracemalloc

    index = IdIndex(tmp_path / "ids.log")
    keys = [f"2026-{m:02d}-{d:02d}.{c:03d}" for m in range(1, 13) for d in range(1, 29) for c in range(3)]
    docs = [{"id": str(uuid.uuid4())} for _ in range(40_000)]
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for n, key in enumerate(keys):
            index.saw(key, docs[n * 40:(n + 1) * 40])
        cost = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert len(index) == len(docs)
    assert cost / len(docs) < 40, f"{cost / len(docs):.0f} bytes a record"
    assert all(index.get(docs[n]["id"]) == keys[n // 40] for n in range(0, len(docs), 97))


def test_names_are_found_only_on_their_own_boundary():
    """A name's bytes can appear across two others in the same bucket: that is not the name."""
    from fieldapp.store.index import _Names

    names = _Names()
    first = bytes.fromhex("abc0" + "11" * 12 + "abc0")
    second = bytes.fromhex("abc0" + "22" * 14)
    names.set(first, 1)
    names.set(second, 2)
    straddling = (first + second)[14:30]  # the bucket's bytes hold it at offset 14
    assert straddling[:2] == b"\xab\xc0" and straddling not in (first, second)
    assert names.get(straddling) is None
    names.set(straddling, 3)
    assert (names.get(first), names.get(second), names.get(straddling), len(names)) == (1, 2, 3, 3)
    names.pop(second)
    assert (names.get(first), names.get(second), names.get(straddling), len(names)) == (1, None, 3, 2)
    names.keep_only(lambda value: value != 1)
    assert (names.get(first), names.get(straddling), len(names)) == (None, 3, 1)


def test_the_id_log_written_again_reads_back_the_same(tmp_path):
    index = IdIndex(tmp_path / "ids.log")
    keys = {f"2026-11-{d:02d}.000": {} for d in range(1, 11)}
    ids = {str(uuid.uuid4()): key for key in keys for _ in range(5)}
    index.note(list(ids.items()))
    index.rewrite()
    again = IdIndex(tmp_path / "ids.log")
    again.load(keys)
    assert {rid: again.get(rid) for rid in ids} == ids
    assert again.scan(next(iter(ids))) == ids[next(iter(ids))]
    index.drop_partitions({"2026-11-01.000"})
    assert [rid for rid in ids if index.get(rid) is None] == [rid for rid, key in ids.items() if key == "2026-11-01.000"]


def test_an_id_typed_in_upper_case_is_not_found_and_costs_the_real_record_nothing(data_dir):
    ids = _history(data_dir, 60)
    store = RecordStore.open(data_dir)
    try:
        assert store.get(ids[0]) is not None
        assert store.get(ids[0].upper()) is None
        assert store._ids.get(ids[0]) is not None and store._ids.complete  # its index entry stood
    finally:
        store.close()


# --- a sealed store's id log counts nothing -------------------------------------------------------


def test_a_sealed_stores_id_log_says_neither_how_many_records_nor_which_day_holds_them(tmp_path):
    """Someone reading the log's size and lines, with no PIN, learns at most its block count."""
    from fieldapp.store import protect

    sizes = []
    for n, (first_day, second_day) in enumerate([(3, 20), (20, 3), (1, 1)]):
        folder = tmp_path / f"device{n}"
        protect.set_pin(folder, "482916")
        store = RecordStore.open(folder)
        for i in range(first_day):
            store.create_call(call_data(), now=DAY + timedelta(seconds=i))
        for i in range(second_day):
            store.create_call(call_data(), now=DAY + timedelta(days=1, seconds=i))
        ids = [r.id for r in store.iter_current()]
        store.close()
        protect.forget(folder)
        raw = (folder / "index" / "ids.log").read_bytes()
        lines = raw.splitlines()
        assert b"2026-11" not in raw, "the log names the days"
        assert len({len(line) for line in lines}) == 1, "lines of different kinds"
        sizes.append(len(raw))
        store = RecordStore.open(folder, pin="482916")  # and the log still finds every record
        try:
            assert all(store.get(rid) is not None for rid in ids)
            assert store._ids.scan(ids[-1]) is not None
        finally:
            store.close()
            protect.forget(folder)
    assert len(set(sizes)) == 1, f"the log's size follows the record count: {sizes}"


def test_a_sealed_id_log_written_again_and_appended_to_reads_back_the_same(tmp_path):
    from fieldapp.store.vault import Vault

    vault = Vault(os.urandom(32))
    index = IdIndex(tmp_path / "ids.log", vault)
    keys = {f"2026-11-{d:02d}.000": {} for d in range(1, 11)}
    ids = {str(uuid.uuid4()): key for key in keys for _ in range(15)}
    items = list(ids.items())
    index.note(items[:7])
    index.note(items[7:100])
    index.rewrite()
    index.note(items[100:])
    size = (tmp_path / "ids.log").stat().st_size
    again = IdIndex(tmp_path / "ids.log", vault)
    again.load(keys)
    assert {rid: again.get(rid) for rid in ids} == ids
    assert all(again.scan(rid) == key for rid, key in items[::7])
    assert IdIndex(tmp_path / "ids.log", Vault(os.urandom(32))).scan(items[0][0]) is None
    index.note([(str(uuid.uuid4()), "2026-11-01.000")])
    assert (tmp_path / "ids.log").stat().st_size == size  # a free line filled in place
