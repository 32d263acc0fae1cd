"""The bundle carries the photos of its records (with personal fields), and verify-bundle checks each by hash.

A photo's bytes are a member named by the hash its record lists; a member changed,
removed or added is named. Without personal fields the photos (personal, like a
name) are withheld: the bundle says how many, and still verifies. SQLite and PostgreSQL.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import uuid

import pytest

from sync.server import bundle
from sync.server.db import Device
from tests.records_factory import call_record, recovery_data, recovery_record
from tests.server.test_chain import TEAM, db, execute, members, run, url  # noqa: F401  (fixtures)

TAKEN = "2026-11-25T11:31:00+03:00"


def jpeg(size: int) -> bytes:
    return b"\xff\xd8\xff\xe0" + os.urandom(size - 6) + b"\xff\xd9"


def described(data: bytes, kind: str, preview: bytes | None = None) -> dict:
    photo = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data), "media_type": "image/jpeg",
             "taken_at": TAKEN, "kind": kind}
    if preview is not None:
        photo["preview"] = {"sha256": hashlib.sha256(preview).hexdigest(), "size": len(preview),
                            "media_type": "image/jpeg"}
    return photo


def hold(db, folder, data: bytes) -> str:
    """As a finished upload leaves it: the bytes in the folder by hash, the team's row."""
    sha = hashlib.sha256(data).hexdigest()
    folder.mkdir(exist_ok=True)
    (folder / sha).write_bytes(data)
    execute(db, "INSERT INTO photos (team, sha256, size, media_type, sent_by, received_at) VALUES (?, ?, ?, ?, ?, ?)",
            TEAM, sha, len(data), "image/jpeg", "dev-a", "2026-11-25T09:00:00+00:00")
    return sha


def photographed(db, tmp_path) -> dict:
    """A call and a recovery with a body's face (and its preview) and its tag held, and one photo not yet sent."""
    db.enroll(team=TEAM, device_id="dev-a", role="volunteer", token_hash="hash-photos")
    face, face_preview, tag, unsent = jpeg(40_000), jpeg(8_000), jpeg(20_000), jpeg(30_000)
    call = call_record(device_id="inst-dev-a")
    recovery = recovery_record(call["id"], device_id="inst-dev-a",
                               data=recovery_data(call["id"], name="Ahmad K.", photos=[
                                   described(face, "face", face_preview), described(tag, "tag"),
                                   described(unsent, "clothing")]))
    assert [s.outcome.value for s in db.push(Device("dev-a", TEAM, "volunteer"), [call, recovery])] == ["accepted"] * 2
    folder = tmp_path / "photos"
    held = {name: hold(db, folder, data) for name, data in (("face", face), ("preview", face_preview), ("tag", tag))}
    return {"folder": folder, "held": held, "unsent": hashlib.sha256(unsent).hexdigest()}


def export(url, path, folder, *extra: str) -> str:  # noqa: F811
    code, out = run("export", "--format", "bundle", "--team", TEAM, "--output", str(path), "--photos", str(folder),
                    *extra, "--database", url)
    assert code == 0, out
    return out


def rezip(path, files: dict[str, bytes]) -> None:
    """A forger's bundle: members changed, added or removed, zipped again as the writer lays it out."""
    with open(path, "wb") as target:
        bundle._write_zip(target, [(name, io.BytesIO(data)) for name, data in files.items()])


def test_a_bundle_with_photos_carries_each_held_one_by_hash_and_verifies(db, url, tmp_path):  # noqa: F811
    shot = photographed(db, tmp_path)
    path = tmp_path / "photos.zip"
    out = export(url, path, shot["folder"], "--include-personal")
    assert "3 photo files carried, 1 not held by the server" in out, out
    files = members(path)
    held = sorted(shot["held"].values())
    assert list(files)[:4] == ["manifest.json", "chain.jsonl", "records.jsonl", "photos.jsonl"]
    assert list(files)[4:] == [f"photos/{sha}" for sha in held]
    for sha in held:
        assert hashlib.sha256(files[f"photos/{sha}"]).hexdigest() == sha
    listed = {line["sha256"]: line["held"] for line in map(json.loads, files["photos.jsonl"].splitlines())}
    assert listed == {**dict.fromkeys(held, True), shot["unsent"]: False}
    manifest = json.loads(files["manifest.json"])
    assert manifest["photos"] == {"withheld": False, "files": 4, "carried": 3, "not_held": 1}
    code, out = run("verify-bundle", str(path))
    assert code == 0, out
    assert "photos: 3 files carried, each hashing to the value its record lists" in out, out
    assert "1 photo file the server did not hold at export (not yet uploaded) is not in this bundle" in out, out


def test_a_photo_member_with_a_byte_changed_is_named(db, url, tmp_path):  # noqa: F811
    shot = photographed(db, tmp_path)
    path = tmp_path / "photos.zip"
    export(url, path, shot["folder"], "--include-personal")
    files = members(path)
    name = f"photos/{shot['held']['face']}"
    changed = bytearray(files[name])
    changed[len(changed) // 2] ^= 0x01
    rezip(path, {**files, name: bytes(changed)})
    checked = bundle.verify_bundle(path)
    assert not checked.ok and shot["held"]["face"] in checked.problem and "changed" in checked.problem, checked.problem
    code, out = run("verify-bundle", str(path))
    assert code == 1 and out.startswith("NOT VERIFIED") and shot["held"]["face"] in out


def test_a_photo_member_removed_is_named(db, url, tmp_path):  # noqa: F811
    shot = photographed(db, tmp_path)
    path = tmp_path / "photos.zip"
    export(url, path, shot["folder"], "--include-personal")
    files = members(path)
    del files[f"photos/{shot['held']['tag']}"]
    rezip(path, files)
    checked = bundle.verify_bundle(path)
    assert not checked.ok and shot["held"]["tag"] in checked.problem and "missing" in checked.problem, checked.problem


def test_a_photo_member_added_is_named(db, url, tmp_path):  # noqa: F811
    shot = photographed(db, tmp_path)
    path = tmp_path / "photos.zip"
    export(url, path, shot["folder"], "--include-personal")
    files = members(path)
    stranger = jpeg(5_000)
    sha = hashlib.sha256(stranger).hexdigest()
    rezip(path, {**files, f"photos/{sha}": stranger})
    checked = bundle.verify_bundle(path)
    assert not checked.ok and sha in checked.problem, checked.problem


def test_a_bundle_without_personal_fields_withholds_the_photos_and_says_so(db, url, tmp_path):  # noqa: F811
    shot = photographed(db, tmp_path)
    path = tmp_path / "public.zip"
    out = export(url, path, shot["folder"])
    assert "4 photo files withheld" in out, out
    files = members(path)
    assert list(files) == ["manifest.json", "chain.jsonl", "records.jsonl"]
    whole = b"".join(files.values())
    for sha in (*shot["held"].values(), shot["unsent"]):
        assert sha.encode() not in whole  # a hash could confirm a guessed photo, as a digest a guessed name
    assert json.loads(files["manifest.json"])["photos"] == {"withheld": True, "files": 4, "carried": 0, "not_held": 0}
    code, out = run("verify-bundle", str(path))
    assert code == 0, out
    assert "photos withheld with the personal fields: 4 photo files" in out, out


def test_a_team_without_photos_still_writes_the_three_members(db, url, tmp_path):  # noqa: F811
    db.enroll(team=TEAM, device_id="dev-a", role="volunteer", token_hash="hash-none")
    assert db.push(Device("dev-a", TEAM, "volunteer"), [call_record(device_id=str(uuid.uuid4()))])[0].outcome.value \
        == "accepted"
    path = tmp_path / "none.zip"
    export(url, path, tmp_path / "no-photos", "--include-personal")
    assert list(members(path)) == ["manifest.json", "chain.jsonl", "records.jsonl"]
    assert run("verify-bundle", str(path))[0] == 0


def test_a_photo_the_server_holds_damaged_is_named_and_no_bundle_is_written(db, url, tmp_path, capsys):  # noqa: F811
    shot = photographed(db, tmp_path)
    stored = shot["folder"] / shot["held"]["tag"]
    stored.write_bytes(stored.read_bytes()[:-1] + b"\x00")
    path = tmp_path / "photos.zip"
    code, _ = run("export", "--format", "bundle", "--team", TEAM, "--output", str(path), "--photos",
                  str(shot["folder"]), "--include-personal", "--database", url)
    said = capsys.readouterr().err
    assert code == 1 and shot["held"]["tag"] in said and "verify" in said, said
    assert not path.exists() and not list(tmp_path.glob("*.partial"))


def test_a_bundle_written_before_photos_still_verifies(db, url, tmp_path):  # noqa: F811
    db.enroll(team=TEAM, device_id="dev-a", role="volunteer", token_hash="hash-old")
    assert db.push(Device("dev-a", TEAM, "volunteer"), [call_record(device_id="inst-dev-a")])[0].outcome.value \
        == "accepted"
    path = tmp_path / "old.zip"
    export(url, path, tmp_path / "no-photos", "--include-personal")
    files = members(path)
    manifest = json.loads(files["manifest.json"])
    del manifest["photos"]  # as the writer laid it out before bundles carried photos
    rezip(path, {**files, "manifest.json": (json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True)
                                            + "\n").encode()})
    code, out = run("verify-bundle", str(path))
    assert code == 0 and "photos" not in out, out


# The bytes of the zip do not depend on the database: SQLite is enough (a parameter, not a skip).
@pytest.mark.parametrize("url", ["sqlite"], indirect=True)
def test_a_byte_changed_anywhere_in_a_bundle_with_photos_fails(db, url, tmp_path):  # noqa: F811
    shot = photographed(db, tmp_path)
    path = tmp_path / "photos.zip"
    export(url, path, shot["folder"], "--include-personal")
    whole = path.read_bytes()
    target = tmp_path / "flipped.zip"
    passed = []
    for position in range(0, len(whole), 41):  # every 41st byte: headers, lists and photos alike
        changed = bytearray(whole)
        changed[position] ^= 0x01
        target.write_bytes(bytes(changed))
        if bundle.verify_bundle(target).ok:
            passed.append(position)
    assert passed == [], f"byte(s) changed without verify-bundle noticing: {passed[:10]}"
