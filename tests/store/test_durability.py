"""A save is forever: SIGKILL at random moments, damaged files, unreadable files."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from datetime import UTC
from pathlib import Path

import pytest

from fieldapp.cli import main as fieldapp
from fieldapp.store import RecordStore
from tests.records_factory import call_data

ROOT = Path(__file__).resolve().parents[2]
KILLS = 20


def _run_until_killed(args: list[str], rng: random.Random, after_first_line: bool = False) -> list[str]:
    """Start a saving process, SIGKILL it after a random time, return what it printed.

    The time counts from the start (past start-up, about 0.7 s on a quiet machine, most of the time), or from
    its first line of output: that keeps the kill inside the saves however slow a busy machine makes the start.
    """
    proc = subprocess.Popen(
        [sys.executable, *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT, start_new_session=True,
    )
    first = proc.stdout.readline() if after_first_line else b""
    time.sleep(rng.uniform(0.0, 1.0) if after_first_line else rng.uniform(0.5, 1.6))
    os.killpg(proc.pid, signal.SIGKILL)
    out, err = proc.communicate(timeout=30)
    out = first + out
    assert proc.returncode == -signal.SIGKILL, err.decode(errors="replace")
    lines = out.decode().splitlines()
    # A line cut by the kill was not a returned save.
    if out and not out.endswith(b"\n"):
        lines = lines[:-1]
    return lines


def test_every_echoed_save_survives_sigkill(tmp_path):
    """`fieldapp demo --echo` killed at random moments, at least 20 times."""
    folder = tmp_path / "device"
    rng = random.Random(20261125)
    echoed: set[str] = set()
    for kill in range(KILLS):
        lines = _run_until_killed(
            ["-m", "fieldapp", "demo", "--calls", "3000", "--echo", "--data", str(folder)], rng,
            after_first_line=kill % 2 == 1,
        )
        echoed.update(lines)
        store = RecordStore.open(folder)
        try:
            assert store.problems == []
            held = {r.id for r in store.iter_current()}
            missing = echoed - held
            assert not missing, f"{len(missing)} echoed saves lost"
        finally:
            store.close()
    print(f"{len(echoed)} saves echoed over {KILLS} kills, all held")
    assert len(echoed) > KILLS  # it really saved between the kills


def test_edits_and_verdicts_survive_sigkill(tmp_path):
    folder = tmp_path / "device"
    rng = random.Random(7)
    versions: dict[str, int] = {}
    acknowledged: set[str] = set()
    for kill in range(KILLS):
        for line in _run_until_killed(["-m", "tests.store.saver", str(folder)], rng, after_first_line=kill % 2 == 1):
            kind, _, value = line.partition(" ")
            if kind == "verdicts":
                acknowledged.add(value)
            else:
                versions[kind] = max(versions.get(kind, 0), int(value))
        store = RecordStore.open(folder)
        try:
            assert store.problems == []
            assert not list((folder / "days").glob(".*.tmp"))  # a killed save's leftovers are cleared
            for record_id, version in versions.items():
                stored = store.get(record_id)
                assert stored is not None and stored.version >= version
            for record_id in acknowledged:
                assert store.get(record_id).state == "sent"
            # the outbox and the counts agree with the records themselves
            pending = {r.id for r in store.iter_current() if r.state == "pending"}
            assert {r["id"] for r in store.outbox()} == pending
            assert store.counts()["pending"] == len(pending)
        finally:
            store.close()
    assert versions and acknowledged


def _two_days(folder: Path) -> tuple[list[str], list[str], Path]:
    """A store with records on two days; the later day's file has a backup."""
    from datetime import datetime, timedelta, timezone

    tz = timezone(timedelta(hours=3))
    store = RecordStore.open(folder)
    day1 = [store.create_call(call_data(), now=datetime(2026, 11, 24, 9, i, tzinfo=tz))["id"] for i in range(3)]
    day2 = [store.create_call(call_data(), now=datetime(2026, 11, 25, 9, i, tzinfo=tz))["id"] for i in range(3)]
    store.close()
    return day1, day2, folder / "days" / "2026-11-25.000.json"


@pytest.mark.parametrize("damage", ["truncated", "garbage"])
def test_a_damaged_file_is_moved_aside_and_the_last_good_copy_used(data_dir, damage):
    day1, day2, path = _two_days(data_dir)
    good = path.read_bytes()
    bad = good[: len(good) // 2] if damage == "truncated" else os.urandom(len(good))
    path.write_bytes(bad)

    store = RecordStore.open(data_dir)
    try:
        [problem] = store.problems
        assert problem.path == path and problem.restored_from == path.with_name(path.name + ".bak")
        assert problem.moved_to.parent == data_dir / "damaged"
        assert problem.moved_to.read_bytes() == bad  # kept exactly as found, never overwritten
        assert "moved aside" in problem.describe()
        held = {r.id for r in store.iter_current()}
        assert set(day1) <= held  # the other day is untouched
        assert set(day2[:2]) <= held  # the backup holds all but the last save of that file
        store.create_call(call_data())  # and the store takes new saves
    finally:
        store.close()
    assert RecordStore.open(data_dir).problems == []


def test_a_file_that_cannot_be_read_is_moved_aside(data_dir):
    day1, _, path = _two_days(data_dir)
    (data_dir / "days" / "2026-11-25.000.json.bak").unlink()
    path.unlink()
    path.mkdir()  # reading it fails with an OS error, even as root
    store = RecordStore.open(data_dir)
    try:
        [problem] = store.problems
        assert "cannot be read" in problem.reason and problem.restored_from is None
        assert problem.moved_to.is_dir()
        assert {r.id for r in store.iter_current()} == set(day1)
    finally:
        store.close()


def test_a_damaged_meta_file_keeps_the_device_id_from_its_backup(data_dir):
    store = RecordStore.open(data_dir)
    device = store.device_id
    store.set_meta("pull_cursor", "7")
    store.close()
    (data_dir / "meta.json").write_text('{"meta": {"1": {"device_id": ')
    again = RecordStore.open(data_dir)
    assert again.device_id == device and len(again.problems) == 1
    again.close()


def test_a_save_cut_between_its_two_renames_is_recovered(data_dir):
    _, day2, path = _two_days(data_dir)
    os.replace(path, path.with_name(path.name + ".bak"))  # as if killed right between them
    store = RecordStore.open(data_dir)
    try:
        assert store.problems == []
        assert set(day2[:2]) <= {r.id for r in store.day("2026-11-25")}
    finally:
        store.close()


def test_the_command_line_says_what_happened_and_where(data_dir, capsys):
    _two_days(data_dir)
    (data_dir / "days" / "2026-11-24.000.json").write_text("}{")
    assert fieldapp(["status", "--json", "--data", str(data_dir)]) == 0
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert "warning: 2026-11-24.000.json is not valid JSON" in captured.err
    assert str(data_dir / "damaged") in captured.err
    assert len(report["problems"]) == 1


def test_a_page_of_verdicts_fsyncs_every_file_it_writes_and_the_folder_once(data_dir, monkeypatch):
    """Power-cut safety at a page's cost: each chunk's bytes are on disk before its rename,
    the renames once, before the verdicts count as saved. A single save still syncs its own."""
    from datetime import datetime, timedelta

    from fieldapp.store import durable

    store = RecordStore.open(data_dir)
    start = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
    records = [store.create_call(call_data(), now=start + timedelta(minutes=i)) for i in range(150)]  # 4 chunks
    files, folders = [], []
    real_fsync, real_dir = os.fsync, durable.fsync_dir

    def fsync(fd):
        if not folders or folders[-1] is not None:  # not the folder's own fsync
            files.append(fd)
        real_fsync(fd)

    def fsync_dir(folder):
        folders.append(None)
        real_dir(folder)
        folders[-1] = folder

    monkeypatch.setattr(durable.os, "fsync", fsync)
    monkeypatch.setattr(durable, "fsync_dir", fsync_dir)
    try:
        store.record_verdicts([{"id": r["id"], "version": 1, "status": "accepted", "errors": []} for r in records])
        assert store.counts()["sent"] == 150
        assert len(files) == 4 and folders == [data_dir / "days"]
        files.clear(), folders.clear()
        store.create_call(call_data(), now=start)
        assert len(files) == 1 and folders == [data_dir / "days"]
    finally:
        store.close()
