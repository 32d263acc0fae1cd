"""`fieldapp-server` with bad arguments: one line, a non-zero exit, no traceback, no file made.

Only `serve` and `enroll` may create a database, and only once their arguments are good.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run(cwd: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "FIELDAPP_DATABASE_URL"}
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run([sys.executable, "-m", "sync.server.cli", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120, env=env, input=stdin)


def files_under(folder: Path) -> set[Path]:
    return set(folder.rglob("*"))


def one_line_refusal(done: subprocess.CompletedProcess) -> str:
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode != 0, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr + done.stdout, done.stderr
    assert len(lines) == 1, done.stderr
    assert done.stdout == "", done.stdout
    assert lines[0].startswith("fieldapp-server"), lines[0]
    return lines[0]


@pytest.fixture
def existing(tmp_path) -> str:
    """A database that exists: one team, `team-a`, with one device enrolled."""
    url = f"sqlite:///{tmp_path / 'db' / 'server.db'}"
    done = run(tmp_path, "enroll", "--team", "team-a", "--device", "phone-1", "--database", url)
    assert done.returncode == 0, done.stderr
    return url


MISSING = "sqlite:///{tmp}/typo/x.db"
BAD_ARGUMENTS = [
    # (arguments, a word the line must hold); {db} an existing database, {missing} one that is not there
    (["verify", "--database", "{missing}"], "no database"),
    (["summary", "--day", "2026-11-25", "--database", "{missing}"], "no database"),
    (["export", "--database", "{missing}"], "no database"),
    (["export", "--format", "bundle", "--team", "team-a", "--output", "{tmp}/b.zip", "--database", "{missing}"],
     "no database"),
    (["revoke", "--device", "phone-1", "--database", "{missing}"], "no database"),
    (["verify", "--database", "mysql://host/x"], "database URL"),
    (["verify", "--database", "postgresql://postgres@127.0.0.1:1/nosuch"], "cannot reach"),
    (["verify", "--team", "nosuch", "--database", "{db}"], "nosuch"),
    (["verify", "--team", "", "--database", "{db}"], "team"),
    (["summary", "--day", "foo", "--database", "{db}"], "foo"),
    (["summary", "--day", "2026-11-25", "--team", "nosuch", "--database", "{db}"], "nosuch"),
    (["export", "--team", "nosuch", "--database", "{db}"], "nosuch"),
    (["export", "--day", "2026-13-01", "--database", "{db}"], "2026-13-01"),
    (["export", "--format", "bundle", "--team", "nosuch", "--output", "{tmp}/b.zip", "--database", "{db}"], "nosuch"),
    (["export", "--format", "bundle", "--team", "team-a", "--database", "{db}"], "--output"),
    (["export", "--format", "bundle", "--team", "team-a", "--output", "{tmp}/none/b.zip", "--database", "{db}"],
     "no stored version"),
    (["export", "--output", "{tmp}/none/x.jsonl", "--database", "{db}"], "cannot write"),
    (["export", "--format", "xml", "--database", "{db}"], "xml"),
    (["enroll", "--team", "", "--device", "phone-2", "--database", "{missing}"], "team"),
    (["enroll", "--team", "team-a", "--device", "", "--database", "{missing}"], "device"),
    (["enroll", "--team", "  ", "--device", "phone-2", "--database", "{missing}"], "team"),
    (["enroll", "--team", "team-a", "--device", "phone-2", "--role", "boss", "--database", "{missing}"], "boss"),
    (["enroll", "--team", "team-a", "--device", "phone-2", "--database", "mysql://host/x"], "database URL"),
    (["revoke", "--device", "", "--database", "{db}"], "device"),
    (["enroll", "--team", "team\x01", "--device", "phone-2", "--database", "{missing}"], "control character"),
    (["enroll", "--team", "team-a", "--device", "phone-2", "--installation", "", "--database", "{missing}"],
     "installation"),
    (["revoke", "--device", "nosuch", "--database", "{db}"], "nosuch"),
    # (verify-bundle on a missing file: its NOT VERIFIED line, tests/server/test_chain.py)
    (["verify-bundle", "{tmp}/b.zip", "--head", "xyz"], "head"),
    (["serve", "--port", "99999", "--database", "{missing}"], "port"),
    (["serve", "--port", "http", "--database", "{missing}"], "port"),
    (["serve", "--workers", "0", "--database", "{missing}"], "workers"),
    (["serve", "--ssl-certfile", "{tmp}/none.pem", "--ssl-keyfile", "{tmp}/none.key", "--database", "{missing}"],
     "none.pem"),
    (["serve", "--ssl-certfile", "{tmp}/cert.pem", "--database", "{missing}"], "ssl-keyfile"),
    (["serve", "--ssl-certfile", "{tmp}/cert.pem", "--ssl-keyfile", "{tmp}/cert.pem", "--database", "{missing}"],
     "cert.pem"),
    (["nosuch"], "nosuch"),
    ([], "command"),
    (["verify", "--database"], "--database"),
]


@pytest.mark.parametrize("arguments, word", BAD_ARGUMENTS, ids=[" ".join(a) or "(none)" for a, _ in BAD_ARGUMENTS])
def test_each_command_with_bad_arguments_says_one_line_and_makes_no_file(tmp_path, existing, arguments, word):
    (tmp_path / "cert.pem").write_text("not a certificate\n")
    before = files_under(tmp_path)
    values = {"tmp": str(tmp_path), "db": existing, "missing": MISSING.format(tmp=tmp_path)}
    line = one_line_refusal(run(tmp_path, *[a.format(**values) for a in arguments]))
    assert word.lower() in line.lower(), line
    assert files_under(tmp_path) == before


def test_the_default_database_is_not_created_by_a_command_that_reads(tmp_path):
    for arguments in (["verify"], ["summary", "--day", "2026-11-25"], ["export"], ["revoke", "--device", "x"]):
        one_line_refusal(run(tmp_path, *arguments))
        assert list(tmp_path.iterdir()) == []


def test_enroll_creates_the_database_and_verify_then_reads_it(tmp_path, existing):
    done = run(tmp_path, "verify", "--database", existing)
    assert done.returncode == 0 and "Traceback" not in done.stderr
    done = run(tmp_path, "summary", "--day", "2026-11-25", "--team", "team-a", "--database", existing)
    assert done.returncode == 0, done.stderr
