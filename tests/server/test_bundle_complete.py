"""A bundle proves it is complete for the scope it names, and cannot exhaust the verifier.

A forger drops, repeats or adds a record line and makes the manifest again (counts,
seqs, hashes, the zip as the writer lays it out): verify-bundle must still fail. A
deflate bomb is refused unread, within 100 MB of memory.
"""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from sync.server import bundle
from sync.server.db import Device
from tests.records_factory import call_record
from tests.server.test_chain import TEAM, db, export, fill, members, run, url  # noqa: F401  (fixtures)

ROOT = Path(__file__).resolve().parents[2]


def forge(path: Path, files: dict[str, bytes]) -> None:
    """Members changed; the manifest made again to fit them (counts, seqs, hashes), zipped as the writer does."""
    manifest = json.loads(files["manifest.json"])
    seqs = [json.loads(line)["seq"] for line in files["records.jsonl"].splitlines()]
    manifest["records"] = {"count": len(seqs), "first_seq": seqs[0] if seqs else None,
                           "last_seq": seqs[-1] if seqs else None}
    for name in ("chain.jsonl", "records.jsonl"):
        manifest["files"][name] = {"sha256": hashlib.sha256(files[name]).hexdigest(), "bytes": len(files[name])}
    files["manifest.json"] = (json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode()
    with open(path, "wb") as target:
        bundle._write_zip(target, [(name, io.BytesIO(files[name])) for name in bundle.MEMBERS])


def with_records(files: dict[str, bytes], change) -> dict[str, bytes]:
    lines = files["records.jsonl"].splitlines(keepends=True)
    return {**files, "records.jsonl": b"".join(change(lines))}


def test_the_manifest_names_team_scope_seq_range_and_head(db, url, tmp_path):  # noqa: F811
    fill(db)
    path = tmp_path / "all.zip"
    export(url, path)
    manifest = json.loads(members(path)["manifest.json"])
    assert manifest["team"] == TEAM and manifest["scope"] == "every version" and manifest["day"] is None
    assert (manifest["first_seq"], manifest["last_seq"]) == (1, 9) and manifest["head"]["seq"] == 9
    code, out = run("verify-bundle", str(path))
    assert code == 0
    assert "every version" in out and "not proven" in out and "after seq 9" in out
    assert "personal fields left out" in out


@pytest.mark.parametrize("change, words", [
    (lambda lines: lines[:4] + lines[5:], "has no line in records.jsonl"),  # dropped
    (lambda lines: lines[:5] + [lines[4]] + lines[5:], "records.jsonl"),  # repeated
    (lambda lines: lines[:-1], "has no line in records.jsonl"),  # the last dropped
])
def test_an_every_version_bundle_with_a_record_dropped_or_repeated_fails(db, url, tmp_path, change, words):  # noqa: F811
    fill(db)
    path = tmp_path / "all.zip"
    export(url, path)
    forge(path, with_records(members(path), change))
    checked = bundle.verify_bundle(path)
    assert not checked.ok and words in checked.problem, checked.problem
    code, out = run("verify-bundle", str(path), "--head", db.chain_head(TEAM)["link"])
    assert code == 1 and out.startswith("NOT VERIFIED")


def test_a_bundle_with_a_record_added_fails(db, url, tmp_path):  # noqa: F811
    fill(db)
    path = tmp_path / "all.zip"
    export(url, path)

    def added(lines):
        extra = json.loads(lines[2])
        extra["record"] = {**extra["record"], "id": call_record()["id"]}
        return lines[:3] + [bundle._line(extra)] + lines[3:]

    forge(path, with_records(members(path), added))
    assert not bundle.verify_bundle(path).ok


def test_a_days_bundle_missing_one_version_of_its_day_fails(db, url, tmp_path):  # noqa: F811
    fill(db)
    for n in range(3):
        other = call_record(device_id="inst-dev-a")
        other["data"]["received_at"] = f"2026-11-26T0{n}:00:00+03:00"
        assert db.push(Device("dev-a", TEAM, "volunteer"), [other])[0].outcome.value == "accepted"
    path = tmp_path / "day.zip"
    export(url, path, "--day", "2026-11-26")
    files = members(path)
    assert len(files["records.jsonl"].splitlines()) == 3
    code, out = run("verify-bundle", str(path))
    assert code == 0 and "no version of day 2026-11-26 is missing" in out, out
    forge(path, with_records(files, lambda lines: lines[:1] + lines[2:]))
    checked = bundle.verify_bundle(path)
    assert not checked.ok and "2026-11-26" in checked.problem and "missing" in checked.problem, checked.problem


def _raw_zip(path: Path, packed: bytes, unpacked: int, crc: int) -> None:
    import struct

    out = bytearray()
    central = bytearray()
    entries = [("manifest.json", 8, packed, unpacked, crc), ("chain.jsonl", 0, b"", 0, 0), ("records.jsonl", 0, b"", 0, 0)]
    for name, method, data, size, checksum in entries:
        offset = len(out)
        encoded = name.encode()
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, method, 0, 0x21, checksum, len(data), size,
                           len(encoded), 0) + encoded + data
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, method, 0, 0x21, checksum, len(data), size,
                               len(encoded), 0, 0, 0, 0, 0, offset) + encoded
    start = len(out)
    out += central + struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(central), start, 0)
    path.write_bytes(bytes(out))


# The peak resident memory of the checking process, from /proc (getrusage's ru_maxrss can keep the
# forking parent's peak across exec).
CHECK = """
import sys
from sync.server import bundle
checked = bundle.verify_bundle(sys.argv[1])
print(checked.ok, checked.problem)
print(next(line.split()[1] for line in open("/proc/self/status") if line.startswith("VmHWM:")))
"""


def test_a_deflate_bomb_is_refused_within_100_mb_of_memory(tmp_path):
    path = tmp_path / "bomb.zip"
    _raw_zip(path, *_packed(1 << 30))  # 1 GiB of spaces in about 1 MB
    assert path.stat().st_size < 2 * 1024 * 1024
    done = subprocess.run([sys.executable, "-c", CHECK, str(path)], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    verdict, peak_kb = done.stdout.splitlines()
    print(f"peak memory of verify-bundle on a 1 GiB deflate bomb: {int(peak_kb) / 1024:.1f} MB")
    assert verdict.startswith("False") and "compressed" in verdict, verdict
    assert int(peak_kb) < 100 * 1024, f"{int(peak_kb) / 1024:.0f} MB"
    code, out = run("verify-bundle", str(path))
    assert code == 1 and "manifest.json is compressed" in out, out


def _packed(unpacked: int) -> tuple[bytes, int, int]:
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = b" " * (1 << 20)
    packed, crc = bytearray(), 0
    for _ in range(unpacked // len(block)):
        packed += packer.compress(block)
        crc = zlib.crc32(block, crc)
    packed += packer.flush()
    return bytes(packed), unpacked, crc


def test_a_days_bundle_over_versions_linked_before_format_2_says_what_it_cannot_prove(db, url, tmp_path):  # noqa: F811
    from sync.server import chain
    from tests.server.test_chain import execute, rows

    fill(db, pushes=1)
    previous = chain.GENESIS
    for seq, _, _, _, _, _, sent_by, received_at, record, salt, _ in rows(db):  # as migration 3 linked them
        previous = chain.link(previous, record, sent_by, received_at, seq, team=TEAM, salt=salt, chain_format=1)
        execute(db, "UPDATE revisions SET link = ?, chain_format = 1 WHERE team = ? AND seq = ?", previous, TEAM, seq)
    execute(db, "UPDATE teams SET head = ? WHERE team = ?", previous, TEAM)
    other = call_record(device_id="inst-dev-a")
    other["data"]["received_at"] = "2026-11-25T20:00:00+03:00"
    assert db.push(Device("dev-a", TEAM, "volunteer"), [other])[0].outcome.value == "accepted"
    path = tmp_path / "day.zip"
    export(url, path, "--day", "2026-11-25")
    code, out = run("verify-bundle", str(path))
    assert code == 0, out
    assert "the 3 versions stored before (chain format 1) do not say their day" in out and "not proven" in out
    # the day's format 2 version left out is still found
    forge(path, with_records(members(path), lambda lines: lines[:-1]))
    assert "a version of the day is missing" in bundle.verify_bundle(path).problem


def test_versions_after_the_published_head_are_called_out(db, url, tmp_path):  # noqa: F811
    fill(db, pushes=1)
    published = db.chain_head(TEAM)["link"]
    fill(db, pushes=1, device="dev-b")
    path = tmp_path / "later.zip"
    export(url, path)
    code, out = run("verify-bundle", str(path), "--head", published[:16])
    assert code == 0 and "is the link of seq 3" in out
    assert "seqs 4 to 6 were stored after the published head: it does not vouch for them" in out, out
