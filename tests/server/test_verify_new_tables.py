"""`verify` covers what the server reads that landed after the chain and the acts: `records.settled_by`.

A conflict a volunteer's device settled waits for a lead (migration 9; sync/server/verdicts.py
settled_by). verify derives each record's mark from the replay of its versions (who sent
each, that device's role as the operator's acts give it, whether it closed an open
conflict, its review) and names a records row whose settled_by was edited, set or cleared
in SQL, on SQLite and PostgreSQL (sync/server/derived.py).
"""

from __future__ import annotations

import pytest

from sync.server.db import Device
from tests import aio
from tests.records_factory import call_record
from tests.server.test_chain import TEAM, db, edit, execute, run, url  # noqa: F401  (fixtures)
from tests.server.test_verify_acts import named

LEAD = Device("dev-a", TEAM, "lead")
VOLUNTEER = Device("dev-b", TEAM, "volunteer")
OTHER = Device("dev-c", TEAM, "volunteer")
APPROVED = {"state": "approved"}


def db_url(database) -> str:
    return getattr(database, "url", None) or f"sqlite:///{database.path}"


def statuses(database, device: Device, records: list[dict]) -> list[str]:
    return [s.outcome.value for s in database.push(device, records)]


def contested(database) -> tuple[dict, dict]:
    """A call the lead edited and another volunteer's phone changed the same field of: the conflict open."""
    call = call_record(device_id="inst-a")
    assert statuses(database, LEAD, [call]) == ["accepted"]
    mine = edit(call, status="completed")
    assert statuses(database, LEAD, [mine]) == ["accepted"]
    theirs = {**edit(call, status="cancelled"), "device_id": "inst-c"}
    assert statuses(database, OTHER, [theirs]) == ["conflict"]
    return call, mine


def settled(database) -> dict[str, str]:
    """Three records: one a volunteer settled (waiting for a lead), one settled then approved by the lead (cleared),
    one a volunteer's stale edit merged into (no conflict closed: no mark)."""
    for device in (LEAD, VOLUNTEER, OTHER):
        database.enroll(team=TEAM, device_id=device.device_id, role=device.role, token_hash=f"hash-{device.device_id}")
    assert statuses(database, VOLUNTEER, [call_record(device_id="inst-b")]) == ["accepted"]  # binds inst-b
    waiting, now = contested(database)
    assert statuses(database, VOLUNTEER, [{**edit(now, notes="counted again"), "device_id": "inst-b"}]) == ["accepted"]
    cleared, now = contested(database)
    settle = {**edit(now, notes="counted again"), "device_id": "inst-b"}
    assert statuses(database, VOLUNTEER, [settle]) == ["accepted"]
    assert statuses(database, LEAD, [{**edit(settle), "device_id": "inst-a", "review": APPROVED}]) == ["accepted"]
    merged = call_record(device_id="inst-a")
    assert statuses(database, LEAD, [merged]) == ["accepted"]
    assert statuses(database, LEAD, [edit(merged, status="completed")]) == ["accepted"]
    stale = {**edit(merged, notes="two more under the stairs"), "device_id": "inst-c"}
    assert statuses(database, OTHER, [stale]) == ["merged"]
    with database.transaction(write=False) as cur:
        cur.execute(database.sql("SELECT id, settled_by FROM records WHERE team = ?"), (TEAM,))
        marks = dict(cur.fetchall())
    assert (marks[waiting["id"]], marks[cleared["id"]], marks[merged["id"]]) == ("dev-b", None, None)
    return {"waiting": waiting["id"], "cleared": cleared["id"], "merged": merged["id"]}


def test_an_untouched_database_with_settlements_verifies_whole(db):  # noqa: F811
    settled(db)
    code, out = run("verify", "--database", db_url(db))
    assert code == 0, out


def test_a_settlement_is_judged_by_the_senders_role_when_it_arrived(db):  # noqa: F811
    """The volunteer made a lead afterwards (and back): its settlement still stands, as the push set it."""
    made = settled(db)
    db.enroll(team=TEAM, device_id="dev-b", role="lead", token_hash="hash-dev-b-2")
    code, out = run("verify", "--database", db_url(db))
    assert code == 0, out
    execute(db, "UPDATE records SET settled_by = NULL WHERE team = ? AND id = ?", TEAM, made["waiting"])
    named(db, "records row edited", made["waiting"], "the chain gives 'dev-b'")


@pytest.mark.parametrize("which, value, says", [
    ("waiting", "dev-c", "settled_by 'dev-c', the chain gives 'dev-b'"),  # edited
    ("cleared", "dev-b", "settled_by 'dev-b', the chain gives None"),  # set after the lead's approval
    ("merged", "dev-c", "settled_by 'dev-c', the chain gives None"),  # set where no conflict was settled
    ("waiting", None, "settled_by None, the chain gives 'dev-b'"),  # cleared without a lead's review
])
def test_an_sql_edit_of_settled_by_is_named(db, which, value, says):  # noqa: F811
    made = settled(db)
    execute(db, "UPDATE records SET settled_by = ? WHERE team = ? AND id = ?", value, TEAM, made[which])
    named(db, "records row edited", made[which], says)


# --- photos ----------------------------------------------------------------------------------
# A photo's arrival is logged as an operator act with its row (sync/server/acts.py); verify holds `photos`
# against the acts, and each stored photo's bytes in the photos' folder against its hash.


def photographed(database, folder) -> dict[str, str]:
    """Two photos sent by the volunteer, one by the lead; a settlement beside them."""
    import hashlib

    from sync.server.photos import PhotoFolder

    made = settled(database)
    photos = PhotoFolder(database, folder)

    async def send(device: Device, data: bytes) -> str:
        sha = hashlib.sha256(data).hexdigest()
        upload = photos.create(device, sha, len(data), "image/jpeg")

        async def chunks():
            yield data

        assert await photos.append(upload, 0, chunks()) == len(data)
        return sha

    for name, device, data in (("first", VOLUNTEER, b"\xff\xd8 rubble, east side" * 50),
                               ("second", VOLUNTEER, b"\xff\xd8 the stairwell" * 70),
                               ("lead", LEAD, b"\xff\xd8 the street from the roof" * 30)):
        made[name] = aio.run(send(device, data))
    return made


@pytest.fixture
def folder(tmp_path, monkeypatch):
    path = tmp_path / "photos"
    monkeypatch.setenv("FIELDAPP_PHOTOS_DIR", str(path))  # verify's default folder, as serve's
    return path


def test_an_untouched_database_with_photos_and_a_settlement_verifies_whole(db, folder):  # noqa: F811
    photographed(db, folder)
    code, out = run("verify", "--database", db_url(db), "--photos", str(folder))
    assert code == 0, out
    assert "photos: the bytes of 3 stored photo(s)" in out, out
    code, out = run("verify", "--database", db_url(db), "--team", TEAM)
    assert code == 0, out


@pytest.mark.parametrize("sql, params, words", [
    ("UPDATE photos SET sent_by = 'dev-a' WHERE sha256 = ?", ("first",), ("column sent_by", "'dev-b'")),
    ("UPDATE photos SET team = 'team-other' WHERE sha256 = ?", ("second",), ("added", "deleted")),
    ("UPDATE photos SET media_type = 'text/html' WHERE sha256 = ?", ("lead",), ("column media_type",)),
    ("UPDATE photos SET size = 1 WHERE sha256 = ?", ("first",), ("column size",)),
    ("UPDATE photos SET received_at = '2020-01-01T00:00:00.000+00:00' WHERE sha256 = ?", ("first",),
     ("column received_at",)),
    ("DELETE FROM photos WHERE sha256 = ?", ("second",), ("deleted",)),
])
def test_an_sql_edit_of_photos_is_named(db, folder, sql, params, words):  # noqa: F811
    made = photographed(db, folder)
    sha = made[params[0]]
    execute(db, sql, sha)
    named(db, "photos row", sha, *words)


def test_an_inserted_photos_row_is_named(db, folder):  # noqa: F811
    made = photographed(db, folder)
    execute(db, "INSERT INTO photos (team, sha256, size, media_type, sent_by, received_at) "
                "VALUES (?, ?, 10, 'image/jpeg', 'dev-c', '2026-12-05T00:00:00.000+00:00')", "team-x", made["lead"])
    named(db, f"photos row team-x/{made['lead']}", "no act logged", "added")


@pytest.mark.parametrize("how", ["flipped", "deleted"])
def test_a_photos_bytes_changed_in_the_folder_are_named(db, folder, how):  # noqa: F811
    made = photographed(db, folder)
    path = folder / made["second"]
    if how == "flipped":
        data = bytearray(path.read_bytes())
        data[100] ^= 0x01
        path.write_bytes(bytes(data))
    else:
        path.unlink()
    named(db, f"photo {made['second']}", "changed" if how == "flipped" else "deleted")
    code, out = run("verify", "--database", db_url(db), "--photos", str(folder))
    assert code == 1 and f"BROKEN: photo {made['second']}" in out, out
