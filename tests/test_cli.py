"""The device command line as a volunteer or a script uses it."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def fieldapp(*args: str, data: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "fieldapp", *args, "--data", str(data)],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
    )


def test_demo_then_status_and_export_show_every_record_pending(data_dir):
    demo = fieldapp("demo", "--calls", "200", "--echo", data=data_dir)
    assert demo.returncode == 0, demo.stderr
    echoed = demo.stdout.split()
    assert len(echoed) > 200 and len(set(echoed)) == len(echoed)

    status = fieldapp("status", "--json", data=data_dir)
    report = json.loads(status.stdout)
    assert report["records"]["pending"] == report["records"]["total"] == len(echoed)
    assert report["problems"] == []

    exported = [json.loads(line) for line in fieldapp("export", data=data_dir).stdout.splitlines()]
    assert {r["id"] for r in exported} == set(echoed)
    assert {r["type"] for r in exported} == {"call", "recovery"}
    assert all(r["version"] >= 1 for r in exported)

    text = fieldapp("status", data=data_dir).stdout
    assert f"pending:     {len(echoed)}" in text


def test_csv_export_has_the_hxl_row_and_no_phone_numbers(data_dir):
    assert fieldapp("demo", "--calls", "20", "--seed", "3", data=data_dir).returncode == 0
    rows = list(csv.reader(io.StringIO(fieldapp("export", "--format", "csv", data=data_dir).stdout)))
    assert rows[1][0].startswith("#") and "#geo+lat" in rows[1]
    assert "caller_phone" not in rows[0]


def test_bad_arguments_are_named():
    result = subprocess.run([sys.executable, "-m", "fieldapp", "export", "--day", "yesterday"],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 2 and "'yesterday' is not a day" in result.stderr
    result = subprocess.run([sys.executable, "-m", "fieldapp", "demo", "--calls", "0"],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 2 and "at least 1" in result.stderr


def test_export_leaves_names_and_phones_out_in_every_format_unless_asked(data_dir):
    assert fieldapp("demo", "--calls", "20", "--seed", "3", data=data_dir).returncode == 0
    for fmt in ("jsonl", "csv"):
        plain = fieldapp("export", "--format", fmt, data=data_dir)
        assert plain.returncode == 0, plain.stderr
        assert "Demo Name" not in plain.stdout and "+963" not in plain.stdout, fmt
        asked = fieldapp("export", "--format", fmt, "--include-personal", data=data_dir)
        assert "Demo Name" in asked.stdout and "+963" in asked.stdout, fmt
    lines = [json.loads(line) for line in fieldapp("export", data=data_dir).stdout.splitlines()]
    assert not any(key in r["data"] for r in lines for key in ("name", "caller_phone", "notes"))
    rows = list(csv.reader(io.StringIO(fieldapp("export", "--format", "csv", "--include-personal", data=data_dir).stdout)))
    assert rows[0][-2:] == ["caller_phone", "names"]


def test_export_names_the_team_once_the_device_has_pulled(data_dir):
    from fieldapp.store import RecordStore

    assert fieldapp("demo", "--calls", "3", "--seed", "1", data=data_dir).returncode == 0
    lines = [json.loads(line) for line in fieldapp("export", data=data_dir).stdout.splitlines()]
    assert lines and all(r["team"] is None and r["delivered_by"] is None for r in lines)  # not pulled yet
    rows = list(csv.DictReader(io.StringIO(fieldapp("export", "--format", "csv", data=data_dir).stdout)))
    assert rows[1:] and all(r["team"] == "" for r in rows[1:])

    store = RecordStore.open(data_dir)
    store.set_meta("team", "team-idlib")  # what a pull keeps
    store.close()
    lines = [json.loads(line) for line in fieldapp("export", data=data_dir).stdout.splitlines()]
    assert {r["team"] for r in lines} == {"team-idlib"}
    rows = list(csv.DictReader(io.StringIO(fieldapp("export", "--format", "csv", data=data_dir).stdout)))
    assert rows[0]["team"] == "#org+name" and {r["team"] for r in rows[1:]} == {"team-idlib"}
