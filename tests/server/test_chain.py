"""Tamper evidence: each team's hash chain, `verify`, the investigator's bundle, on SQLite and PostgreSQL.

The link's bytes (sync/server/chain.py) are recomputed here with hashlib alone, as
an investigator would; rows are edited, deleted, swapped and relinked directly in
SQL, and `fieldapp-server verify` must find and name each; a bundle with any one
byte changed fails `verify-bundle`.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile

import httpx
import pytest

from fieldapp.core.exports import PERSONAL_DATA_FIELDS
from sync.server import bundle, chain, cli
from sync.server.db import Device, migrations, open_database
from tests.records_factory import call_record, recovery_record

TEAM = "team-chain"


@pytest.fixture(params=["sqlite", "postgres"])
def url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'chain.db'}"
    return request.getfixturevalue("postgres_database")()


@pytest.fixture
def db(url):
    database = open_database(url)
    yield database
    database.close()


def run(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    code = cli.main(list(args), out=out)
    return code, out.getvalue()


def edit(record: dict, **data) -> dict:
    return {**record, "version": record["version"] + 1, "base_version": record["version"],
            "data": {**record["data"], **data}}


def fill(db, team: str = TEAM, pushes: int = 3, device: str = "dev-a") -> list[dict]:
    """A few pushes of calls and recoveries, some with personal fields, one edit: the team's versions in seq order."""
    who = Device(device, team, "volunteer")
    db.enroll(team=team, device_id=device, role="volunteer", token_hash=f"hash-{team}-{device}")
    stored = []
    for k in range(pushes):
        call = call_record(device_id=f"inst-{device}")
        call["data"].update(caller_phone=f"+963 933 000 11{k}", notes="family of four under the rubble")
        recovery = recovery_record(call["id"], device_id=f"inst-{device}")
        recovery["data"].update(name="Ahmad K.", tag=f"{team}-{device}-T{k}")
        batch = [call, recovery, edit(call, status="dispatched")]
        assert [s.outcome.value for s in db.push(who, batch)] == ["accepted"] * 3
        stored += batch
    return stored


def rows(db, team: str = TEAM) -> list[tuple]:
    with db.transaction(write=False) as cur:
        cur.execute(db.sql("SELECT seq, id, version, hash, losing, device_id, sent_by, received_at, record, salt, link "
                           "FROM revisions WHERE team = ? ORDER BY seq"), (team,))
        return [tuple(r) for r in cur.fetchall()]


def execute(db, sql: str, *params) -> None:
    with db.transaction(write=True) as cur:
        cur.execute(db.sql(sql), params)


def broken(db, team: str = TEAM) -> chain.Break:
    [result] = list(db.verify_chains(team))
    assert isinstance(result, chain.Break), result
    return result


# --- the link's bytes ---------------------------------------------------------------------------


def test_a_link_is_sha256_of_the_documented_canonical_json_array():
    record = recovery_record(str("c" * 32))
    record["data"].update(name="أحمد", notes="بجانب المسجد", handover={"to": "morgue", "receiver": "Dr. S."})
    salt, previous = "ab" * 16, chain.GENESIS
    public = {**record, "data": {k: v for k, v in record["data"].items() if k not in ("name", "notes")}}
    public["data"]["handover"] = {"to": "morgue"}
    personal = {"data.handover.receiver": "Dr. S.", "data.name": "أحمد", "data.notes": "بجانب المسجد"}

    def canon(value) -> bytes:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")

    public_digest = hashlib.sha256(canon(public)).hexdigest()
    personal_digest = hashlib.sha256(canon([salt, personal])).hexdigest()
    expected = hashlib.sha256(canon(["fieldapp-chain/1", TEAM, 7, previous, record["id"], 1, "dev-a",
                                     "2026-11-25T09:00:00.000+00:00", public_digest, personal_digest])).hexdigest()
    text = chain.canonical_json(record)
    assert chain.link(previous, text, "dev-a", "2026-11-25T09:00:00.000+00:00", 7, team=TEAM, salt=salt) == expected
    assert chain.link(bytes(32), record, "dev-a", "2026-11-25T09:00:00.000+00:00", 7, team=TEAM, salt=salt) == expected
    assert chain.digests(text, salt) == chain.digests(record, salt) == (public_digest, personal_digest)
    # without personal fields the public digest is the SHA-256 of the stored text
    plain = chain.canonical_json(call_record())
    assert chain.digests(plain, salt)[0] == hashlib.sha256(plain.encode()).hexdigest()
    assert "name" not in json.dumps(record["data"]) or record["data"]["name"] == "أحمد"  # the caller's record untouched


@pytest.mark.parametrize("odd", ['quote " and \\ backslash', "new\nline\ttab\x01", "عربي ✓ 🚑", "\u2028", ""])
def test_the_written_out_link_message_is_the_canonical_json_array(odd):
    message = ["fieldapp-chain/1", odd, 12, chain.GENESIS, odd, 3, odd, odd, "a" * 64, "b" * 64]
    expected = hashlib.sha256(json.dumps(message, sort_keys=True, separators=(",", ":"),
                                         ensure_ascii=False).encode("utf-8")).hexdigest()
    assert chain.link_from_digests(chain.GENESIS, team=odd, seq=12, record_id=odd, version=3, sent_by=odd,
                                   received_at=odd, public_digest="a" * 64, personal_digest="b" * 64) == expected
    for salt in ("ab" * 16, odd):
        assert chain.personal_digest(salt, {}) == hashlib.sha256(
            json.dumps([salt, {}], separators=(",", ":"), ensure_ascii=False).encode("utf-8")).hexdigest()


@pytest.mark.parametrize("name", ["Ahmad K.", '"name":"x"', 'a,"notes":"b"', "", "أحمد"])
def test_the_push_cuts_personal_fields_out_of_the_stored_text_as_the_long_way_does(name):
    call = call_record(review={"state": "flagged", "note": f'see "notes": {name}'})
    call["data"].update(caller_phone="+963 933", notes=name or "n")
    recovery = recovery_record()
    recovery["data"].update(name=name, handover={"to": "morgue", "receiver": name, "at": "2026-11-25T12:00:00+03:00"})
    only = recovery_record()
    only["data"] = {"notes": name}
    for record in (call, recovery, only, call_record()):
        text = chain.canonical_json(record)
        assert chain.digests_of_stored(record, text, "ab" * 16) == chain.digests(record, "ab" * 16) == chain.digests(text, "ab" * 16)


def test_the_chains_personal_fields_cover_the_exports_personal_fields():
    # A personal field the exports leave out must be one a bundle can leave out and still check.
    assert {f"data.{path}" for path in PERSONAL_DATA_FIELDS} <= set(chain.PERSONAL_PATHS)
    assert "review.note" in chain.PERSONAL_PATHS


# --- verify: a whole chain, and each kind of tampering named ---------------------------------------


def test_pushes_build_a_whole_chain_whose_head_is_on_the_teams_row(db, url):
    fill(db)
    fill(db, team="team-other")
    stored = rows(db)
    assert [r[0] for r in stored] == list(range(1, 10))
    previous = chain.GENESIS
    for seq, _, _, _, _, _, sent_by, received_at, record, salt, link in stored:
        assert link == chain.link(previous, record, sent_by, received_at, seq, team=TEAM, salt=salt, chain_format=2)
        previous = link
    assert db.chain_head(TEAM) == {"seq": 9, "link": previous}
    results = list(db.verify_chains())
    assert [(r.team, r.count, r.head) for r in results] == [(TEAM, 9, previous), ("team-other", 9, db.chain_head("team-other")["link"])]
    code, out = run("verify", "--database", url)
    assert code == 0 and out.count("whole:") == 2, out
    code, out = run("verify", "--team", TEAM, "--database", url)
    assert code == 0 and f"whole: team {TEAM}: 9 versions, head seq 9 link {previous}" in out


def test_a_record_edited_in_sql_is_named(db, url):
    fill(db)
    seq, rid, version, *_ = rows(db)[3]
    execute(db, "UPDATE revisions SET record = REPLACE(record, 'building_collapse', 'fire') WHERE team = ? AND seq = ?", TEAM, seq)
    found = broken(db)
    assert (found.seq, found.record_id, found.version, found.what) == (4, rid, version, "content edited")
    assert "hash stored beside it" in found.detail
    code, out = run("verify", "--team", TEAM, "--database", url)
    assert code == 1 and f"BROKEN: team {TEAM}, seq 4 (record {rid} version {version}): content edited" in out


def test_a_sender_or_arrival_edited_is_named(db):
    fill(db)
    execute(db, "UPDATE revisions SET received_at = '2026-11-20T00:00:00.000+00:00' WHERE team = ? AND seq = 2", TEAM)
    assert (broken(db).seq, broken(db).what) == (2, "content edited")


def test_a_deleted_row_is_named_as_missing(db):
    fill(db)
    execute(db, "DELETE FROM revisions WHERE team = ? AND seq = 5", TEAM)
    found = broken(db)
    assert (found.seq, found.what) == (5, "row missing") and "seq 5 not found" in found.detail


def test_the_last_row_deleted_is_named_against_the_head(db):
    fill(db)
    execute(db, "DELETE FROM revisions WHERE team = ? AND seq = 9", TEAM)
    found = broken(db)
    assert (found.seq, found.what) == (9, "row missing") and "the head says seq 9" in found.detail


def test_two_rows_contents_swapped_are_named_as_reordered(db):
    fill(db)
    stored = rows(db)
    a, b = stored[2], stored[6]  # seq 3 and seq 7
    columns = "id, version, hash, losing, device_id, sent_by, received_at, record, salt, chain_format"
    execute(db, "DELETE FROM revisions WHERE team = ? AND seq IN (3, 7)", TEAM)
    for seq, row, link in ((3, b, a[10]), (7, a, b[10])):  # each keeps its place's seq and link
        execute(db, f"INSERT INTO revisions (team, seq, link, {columns}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                TEAM, seq, link, *row[1:10], 2)
    found = broken(db)
    assert (found.seq, found.record_id, found.what) == (3, b[1], "rows reordered")
    assert f"stored at seq 7 (record {a[1]} version {a[2]})" in found.detail


def test_two_rows_moved_with_their_links_are_named_as_reordered(db):
    fill(db)
    execute(db, "UPDATE revisions SET seq = -1 WHERE team = ? AND seq = 4", TEAM)
    execute(db, "UPDATE revisions SET seq = 4 WHERE team = ? AND seq = 8", TEAM)
    execute(db, "UPDATE revisions SET seq = 8 WHERE team = ? AND seq = -1", TEAM)
    found = broken(db)
    assert (found.seq, found.what) == (4, "rows reordered") and "stored at seq 8" in found.detail


def test_an_edited_link_is_named(db):
    fill(db)
    execute(db, "UPDATE revisions SET link = ? WHERE team = ? AND seq = 6", "f" * 64, TEAM)
    found = broken(db)
    assert (found.seq, found.what) == (6, "link edited")


def test_an_edit_relinked_to_the_end_still_breaks_against_the_head(db):
    # Whoever edits a row and recomputes every later link must also change the head on
    # the teams row; against a head written down before, the chain no longer matches.
    fill(db)
    published = db.chain_head(TEAM)
    stored = rows(db)
    previous = stored[2][10]
    execute(db, "UPDATE revisions SET record = REPLACE(record, 'building_collapse', 'fire') WHERE team = ? AND seq = 4", TEAM)
    # (and the content hash beside it, which verify holds against the record too)
    [(edited,)] = [(r[8],) for r in rows(db) if r[0] == 4]
    execute(db, "UPDATE revisions SET hash = ? WHERE team = ? AND seq = 4", chain.sha256_hex(edited), TEAM)
    for seq, _, _, _, _, _, sent_by, received_at, _, salt, _ in stored[3:]:
        [(record,)] = [(r[8],) for r in rows(db) if r[0] == seq]
        previous = chain.link(previous, record, sent_by, received_at, seq, team=TEAM, salt=salt, chain_format=2)
        execute(db, "UPDATE revisions SET link = ? WHERE team = ? AND seq = ?", previous, TEAM, seq)
    found = broken(db)
    assert (found.seq, found.what) == (9, "head mismatch")
    execute(db, "UPDATE teams SET head = ? WHERE team = ?", previous, TEAM)
    [whole] = list(db.verify_chains(TEAM))
    assert isinstance(whole, chain.Walked) and whole.head != published["link"]  # the published head tells


def test_a_head_edited_on_the_teams_row_is_named(db):
    fill(db)
    execute(db, "UPDATE teams SET head = ? WHERE team = ?", "e" * 64, TEAM)
    found = broken(db)
    assert (found.seq, found.what) == (9, "head mismatch")


def test_the_migration_links_what_a_database_already_holds(url, monkeypatch):
    with monkeypatch.context() as m:
        m.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS[:2])
        db = open_database(url)
    try:
        with db.transaction(write=True) as cur:
            for team in ("t1", "t2"):
                cur.execute(db.sql("INSERT INTO teams (team, seq) VALUES (?, ?)"), (team, 7))
                for seq in range(1, 8):
                    record = call_record() if seq % 2 else recovery_record()
                    record["data"]["notes"] = f"note {seq}"
                    text = chain.canonical_json(record)
                    cur.execute(db.sql("INSERT INTO revisions (team, id, version, hash, seq, losing, device_id, sent_by, "
                                       "received_at, record) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
                                (team, record["id"], 1, chain.sha256_hex(text), seq, False, record["device_id"], "dev",
                                 f"2026-11-25T10:0{seq}:00", text))
                    cur.execute(db.sql("INSERT INTO records (team, id, version, hash, type, record, in_conflict, seq) "
                                       "VALUES (?, ?, ?, ?, ?, ?, ?, ?)"),
                                (team, record["id"], 1, chain.sha256_hex(text), record["type"], text, False, seq))
        monkeypatch.setattr(migrations, "BATCH", 3)  # several batches per team
        assert db.migrate() == [n for n, *_ in migrations.MIGRATIONS[2:]]
        assert [(r.team, getattr(r, "count", str(r))) for r in db.verify_chains()] == [("t1", 7), ("t2", 7)]
        assert all(r[10] and len(r[9]) == 32 for r in rows(db, "t1"))
        # and pushes carry on from the migrated head
        fill(db, team="t1", pushes=1)
        assert [(r.team, r.count) for r in db.verify_chains()] == [("t1", 10), ("t2", 7)]
        assert db.migrate() == []
    finally:
        db.close()


# --- the lead's summary shows the head ---------------------------------------------------------------


def test_the_leads_summary_shows_the_teams_chain_head(server, team):
    lead = server.enroll(team, role="lead")
    call = call_record()
    assert server.statuses(lead, [call, recovery_record(call["id"])]) == ["accepted", "accepted"]
    figures = httpx.get(server.url + "/api/v1/summary", params={"day": "2026-11-25"},
                        headers={"Authorization": f"Bearer {lead}"}).json()
    db = open_database(server.database_url)
    try:
        head = db.chain_head(team)
    finally:
        db.close()
    assert figures["chain_head"] == head and head["seq"] == 2 and len(head["link"]) == 64
    printed = server.cli("summary", "--day", "2026-11-25", "--team", team)
    assert json.loads(printed.stdout)["chain_head"] == head


# --- the investigator's bundle ---------------------------------------------------------------------------


def export(url: str, path, *extra: str) -> str:
    code, out = run("export", "--format", "bundle", "--team", TEAM, "--output", str(path), *extra, "--database", url)
    assert code == 0, out
    return out


def members(path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def test_a_bundle_carries_the_chain_the_records_and_a_manifest_and_verifies(db, url, tmp_path):
    stored = fill(db)
    head = db.chain_head(TEAM)
    path = tmp_path / "bundle.zip"
    export(url, path)
    files = members(path)
    assert list(files) == ["manifest.json", "chain.jsonl", "records.jsonl"]
    manifest = json.loads(files["manifest.json"])
    assert manifest["head"] == head and manifest["count"] == 9 and (manifest["first_seq"], manifest["last_seq"]) == (1, 9)
    assert manifest["team"] == TEAM and manifest["format"] == "fieldapp-evidence-bundle/1" and manifest["exported_at"]
    for name in ("chain.jsonl", "records.jsonl"):
        assert manifest["files"][name]["sha256"] == hashlib.sha256(files[name]).hexdigest()
    lines = [json.loads(line) for line in files["records.jsonl"].splitlines()]
    assert [(l["record"]["id"], l["record"]["version"]) for l in lines] == [(r["id"], r["version"]) for r in stored]
    assert all(l["sent_by"] == "dev-a" and l["received_at"] and l["team"] == TEAM for l in lines)
    # no personal field, no salt by default
    assert b"Ahmad" not in files["records.jsonl"] and b"933 000 11" not in files["records.jsonl"] and b"salt" not in files["records.jsonl"]
    assert lines[1]["record"]["data"]["tag"] == f"{TEAM}-dev-a-T0"
    code, out = run("verify-bundle", str(path))
    assert code == 0 and f"chain of 9 versions whole from seq 1 to seq 9, head {head['link']}" in out, out
    code, out = run("verify-bundle", str(path), "--head", head["link"][:20])
    assert code == 0 and "is the link of seq 9" in out


def test_a_bundle_with_personal_fields_verifies_them_too(db, url, tmp_path):
    fill(db)
    path = tmp_path / "personal.zip"
    export(url, path, "--include-personal")
    records = members(path)["records.jsonl"]
    assert b"Ahmad K." in records and b"+963 933 000 110" in records and b'"salt"' in records
    assert run("verify-bundle", str(path))[0] == 0


def test_a_days_bundle_carries_every_link_and_only_the_days_versions(db, url, tmp_path):
    fill(db)
    other = call_record(device_id="inst-dev-a")
    other["data"]["received_at"] = "2026-11-26T08:00:00+03:00"
    assert db.push(Device("dev-a", TEAM, "volunteer"), [other])[0].outcome.value == "accepted"
    path = tmp_path / "day.zip"
    export(url, path, "--day", "2026-11-26")
    files = members(path)
    manifest = json.loads(files["manifest.json"])
    assert manifest["day"] == "2026-11-26" and manifest["count"] == 10
    assert manifest["records"] == {"count": 1, "first_seq": 10, "last_seq": 10}
    assert len(files["chain.jsonl"].splitlines()) == 10
    assert run("verify-bundle", str(path))[0] == 0


def test_an_old_head_published_before_more_pushes_is_found_in_a_later_bundle(db, url, tmp_path):
    fill(db, pushes=1)
    published = db.chain_head(TEAM)["link"]
    fill(db, pushes=2, device="dev-b")
    path = tmp_path / "later.zip"
    export(url, path)
    code, out = run("verify-bundle", str(path), "--head", published)
    assert code == 0 and "is the link of seq 3" in out
    code, out = run("verify-bundle", str(path), "--head", "1234" * 8)
    assert code == 1 and "is not a link of this chain" in out


@pytest.fixture
def small_bundle(tmp_path) -> bytes:
    """A small bundle on SQLite, for flipping every one of its bytes."""
    db = open_database(f"sqlite:///{tmp_path / 'small.db'}")
    try:
        fill(db, pushes=1)
    finally:
        db.close()
    path = tmp_path / "small.zip"
    export(f"sqlite:///{tmp_path / 'small.db'}", path, "--include-personal")
    return path.read_bytes()


def test_a_bundle_with_any_one_byte_changed_fails(small_bundle, tmp_path):
    target = tmp_path / "flipped.zip"
    target.write_bytes(small_bundle)
    assert bundle.verify_bundle(target).ok
    with zipfile.ZipFile(target) as zf:
        spans = {info.filename: (info.header_offset, info.header_offset + 30 + len(info.filename) + info.file_size)
                 for info in zf.infolist()}
    passed = []
    for position in range(len(small_bundle)):
        changed = bytearray(small_bundle)
        changed[position] ^= 0x01 if position % 2 else 0x20
        target.write_bytes(changed)
        if bundle.verify_bundle(target).ok:
            passed.append(position)
    assert passed == [], f"byte(s) changed without verify-bundle noticing: {passed[:10]}"
    # and over the command line, a byte in each member's data is named
    for name, (start, end) in spans.items():
        changed = bytearray(small_bundle)
        changed[(start + end) // 2] ^= 0x01
        target.write_bytes(changed)
        code, out = run("verify-bundle", str(target))
        assert code == 1 and out.startswith(f"NOT VERIFIED: {target}:") and name in out, out


def _rezip(path, files: dict[str, bytes]) -> None:
    """A forger's bundle: members changed, the manifest's hashes and the zip made again as the writer does."""
    manifest = json.loads(files["manifest.json"])
    for name in ("chain.jsonl", "records.jsonl"):
        manifest["files"][name] = {"sha256": hashlib.sha256(files[name]).hexdigest(), "bytes": len(files[name])}
    files["manifest.json"] = (json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode()
    with open(path, "wb") as target:
        bundle._write_zip(target, [(name, io.BytesIO(files[name])) for name in bundle.MEMBERS])


def test_a_forged_bundle_with_consistent_hashes_is_named(small_bundle, tmp_path):
    path = tmp_path / "forged.zip"
    original = members(io.BytesIO(small_bundle))

    def forged(change) -> str:
        files = dict(original)
        change(files)
        _rezip(path, files)
        checked = bundle.verify_bundle(path)
        assert not checked.ok
        return checked.problem

    def records(edit_line):
        def change(files):
            lines = [json.loads(l) for l in files["records.jsonl"].splitlines()]
            edit_line(lines)
            files["records.jsonl"] = b"".join(bundle._line(l) for l in lines)
        return change

    def outcome(lines):
        lines[1]["record"]["data"]["outcome"] = "rescued"

    def name(lines):
        lines[1]["record"]["data"]["name"] = "someone else"

    def dropped(lines):
        del lines[0]

    def swapped(lines):
        lines[0]["record"], lines[1]["record"] = lines[1]["record"], lines[0]["record"]

    assert "content edited" in forged(records(outcome))
    assert "personal fields or salt edited" in forged(records(name))
    assert "records" in forged(records(dropped))
    assert "rows swapped" in forged(records(swapped))

    def relinked(files):
        lines = [json.loads(l) for l in files["chain.jsonl"].splitlines()]
        lines[1]["link"] = "0" * 64
        files["chain.jsonl"] = b"".join(bundle._line(l) for l in lines)

    assert "link edited" in forged(relinked)
    # the same bytes, rezipped as the writer does: still whole
    _rezip(path, dict(original))
    assert bundle.verify_bundle(path).ok


def test_verify_bundle_on_a_missing_or_odd_file_says_why(tmp_path):
    code, out = run("verify-bundle", str(tmp_path / "absent.zip"))
    assert code == 1 and "cannot be read" in out
    (tmp_path / "odd.zip").write_text("not a zip")
    code, out = run("verify-bundle", str(tmp_path / "odd.zip"))
    assert code == 1 and "damaged" in out
