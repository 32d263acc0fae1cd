"""A device's pull leaves out the versions it delivered itself, except from cursor 0.

On SQLite and on PostgreSQL, over real HTTP. The cursor still steps over what is
left out, so no version of another device is ever skipped, page size whatever.
"""

from __future__ import annotations

import io

import httpx

from fieldapp.sync import enrollment
from tests.records_factory import call_data, call_record


def pull(server, token: str, since: str = "0", limit: int = 1000) -> dict:
    response = httpx.get(server.url + "/api/v1/pull", params={"since": since, "limit": limit},
                         headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert response.status_code == 200, response.text
    page = response.json()
    assert len(page["delivered_by"]) == len(page["records"])
    return page


def pull_from(server, token: str, since: str, limit: int) -> tuple[list[tuple[str, int, str]], dict, str, int]:
    """Every page from `since`: ((id, version, delivered_by) in order, conflicts, last cursor, empty pages with more)."""
    got, conflicts, empty_but_more = [], {}, 0
    while True:
        page = pull(server, token, since, limit)
        assert int(page["cursor"]) >= int(since)
        got += [(r["id"], r["version"], by) for r, by in zip(page["records"], page["delivered_by"])]
        conflicts.update({c["id"]: c["server_record"] for c in page["conflicts"]})
        empty_but_more += not page["records"] and page["more"]
        since = page["cursor"]
        if not page["more"]:
            return got, conflicts, since, empty_but_more


def edit(record: dict, device_id: str, **data) -> dict:
    return {**record, "version": record["version"] + 1, "base_version": record["version"], "device_id": device_id,
            "data": {**record["data"], **data}}


def test_after_pushing_a_device_pulls_every_other_devices_versions_and_none_of_its_own(server, team):
    a_name, b_name = "own-a-" + team, "own-b-" + team
    a, b = server.enroll(team, a_name), server.enroll(team, b_name)
    server.statuses(a, [call_record(device_id="inst-a") for _ in range(3)])
    server.statuses(b, [call_record(device_id="inst-b") for _ in range(2)])
    _, _, cursor, _ = pull_from(server, a, "0", 1000)
    mine = [call_record(device_id="inst-a") for _ in range(4)]
    theirs = [call_record(device_id="inst-b") for _ in range(3)]
    server.statuses(a, mine[:2])
    server.statuses(b, theirs[:1])
    server.statuses(a, mine[2:])
    server.statuses(b, theirs[1:])
    got, _, _, _ = pull_from(server, a, cursor, 1000)
    assert got == [(r["id"], 1, b_name) for r in theirs]
    # b, likewise, from where it would be: everything of a's since then, nothing of its own
    got_b, _, _, _ = pull_from(server, b, cursor, 1000)
    assert got_b == [(r["id"], 1, a_name) for r in mine]


def test_from_cursor_0_a_device_gets_everything_its_own_included(server, team):
    a_name, b_name = "zero-a-" + team, "zero-b-" + team
    a, b = server.enroll(team, a_name), server.enroll(team, b_name)
    first = [call_record(device_id="inst-a") for _ in range(3)]
    second = [call_record(device_id="inst-b") for _ in range(2)]
    server.statuses(a, first)
    server.statuses(b, second)
    everything = [(r["id"], 1, a_name) for r in first] + [(r["id"], 1, b_name) for r in second]
    for limit in (1000, 2, 1):  # a phone installed again recovers its own records, on every page of the pull from 0
        got, _, cursor, _ = pull_from(server, a, "0", limit)
        assert got == everything, limit
        assert not cursor.startswith("0")
    # once that pull has reached its end, the device's own versions are left out again
    server.statuses(a, [call_record(device_id="inst-a")])
    assert pull_from(server, a, cursor, 1)[0] == []
    assert pull_from(server, b, cursor, 1)[0] != []


def test_the_pull_from_0_says_so_in_its_cursors_to_its_last_page(server, team):
    a = server.enroll(team, "mark-a-" + team)
    server.statuses(a, [call_record(device_id="inst-a") for _ in range(3)])
    cursors, since = [], "0"
    while True:
        page = pull(server, a, since, 2)
        cursors.append((page["cursor"], page["more"]))
        since = page["cursor"]
        if not page["more"]:
            break
    (first, more), (last, done) = cursors
    assert more and not done
    assert first.startswith("0") and int(first) > 0  # still the pull from 0: the same number to the server
    assert not last.startswith("0") and int(last) > int(first)
    # a marked cursor is the same place as the plain one, with the device's own versions kept
    assert len(pull(server, a, first, 10)["records"]) == 1
    assert pull(server, a, first.lstrip("0"), 10)["records"] == []


def test_long_runs_of_own_versions_are_stepped_over_page_by_page_and_nothing_else_is_skipped(server, team):
    a_name, b_name, c_name = "runs-a-" + team, "runs-b-" + team, "runs-c-" + team
    a, b, c = server.enroll(team, a_name), server.enroll(team, b_name), server.enroll(team, c_name)
    server.statuses(b, [call_record(device_id="inst-b")])
    start = pull(server, a, "0", 1)["cursor"]  # a cursor past 0, as a phone that pulled before holds
    assert int(start) > 0 and not start.startswith("0")
    # runs of a's own versions, some longer than any page, between b's
    for run_a, run_b in [(13, 1), (1, 2), (0, 1), (25, 3), (7, 0), (1, 1), (40, 1), (3, 0)]:
        if run_a:
            server.statuses(a, [call_record(device_id="inst-a") for _ in range(run_a)])
        if run_b:
            server.statuses(b, [call_record(device_id="inst-b") for _ in range(run_b)])
    # the full set after `start`, as another device of the team sees it
    everything, _, end, _ = pull_from(server, c, "0", 1000)
    everything = everything[1:]  # b's first record: at or before `start`
    assert len(everything) == 90 + 9
    others = [v for v in everything if v[2] != a_name]
    assert len(others) == 9
    for limit in (1, 2, 3, 5, 8, 1000):
        got, _, cursor, empty_but_more = pull_from(server, a, start, limit)
        assert got == others, limit
        assert cursor == end, limit  # at the end: the next pull starts after everything
        if limit * 20 < 40:  # a run of a's own longer than one answer reads (20 pages' worth)
            assert empty_but_more > 0, limit  # a page of only a's own versions: empty, and more to come
    # b sees all of a's, none of its own
    got_b, _, _, _ = pull_from(server, b, start, 4)
    assert got_b == [v for v in everything if v[2] == a_name]


def test_a_device_still_learns_of_a_conflict_on_a_record_it_delivered(server, team):
    a_name, b_name = "conf-a-" + team, "conf-b-" + team
    a, b = server.enroll(team, a_name), server.enroll(team, b_name)
    call = call_record(device_id="inst-a")
    server.statuses(a, [call])
    theirs = edit(call, "inst-a", status="completed")
    assert server.statuses(a, [theirs]) == ["accepted"]
    cursor = pull(server, b, "0", 1000)["cursor"]  # b holds both of a's versions
    ours = edit(call, "inst-b", status="cancelled")  # built on version 1, offline
    assert server.statuses(b, [ours]) == ["conflict"]
    # b's pull: its own losing version is left out, the note of the conflict is not
    page = pull(server, b, cursor, 1000)
    assert page["records"] == [] and page["more"] is False
    assert {c["id"]: c["server_record"]["data"]["status"] for c in page["conflicts"]} == {call["id"]: "completed"}
    # a gets b's side and the note
    got, conflicts, _, _ = pull_from(server, a, cursor, 1000)
    assert got == [(call["id"], 2, b_name)]
    assert conflicts[call["id"]]["data"]["status"] == "completed"
    # and from 0, both sides for either
    records = pull(server, b, "0", 1000)["records"]
    assert sorted((r["version"], r["data"]["status"]) for r in records) == [(1, "received"), (2, "cancelled"), (2, "completed")]


def test_a_sync_once_pass_pulls_back_none_of_the_300_records_it_pushed(server, team, tmp_path, monkeypatch):
    from fieldapp.cli import main as fieldapp
    from fieldapp.store import RecordStore
    from fieldapp.sync.client import SyncClient

    folder = tmp_path / "phone"
    store = RecordStore.open(folder)
    token = server.enroll(team, store.device_id)
    enrollment.save(folder, enrollment.Enrollment(server.url, token))
    other = server.enroll(team, "other-" + team)
    server.statuses(other, [call_record(device_id="inst-other")])
    store.create_call(call_data())  # a phone that has synced before: its cursor is past 0
    store.close()
    assert fieldapp(["sync", "--once", "--data", str(folder)], out=io.StringIO(), err=io.StringIO()) == 0

    store = RecordStore.open(folder)
    for _ in range(300):
        store.create_call(call_data())
    store.close()
    server.statuses(other, [call_record(device_id="inst-other") for _ in range(5)])
    received: list[str] = []
    real_pull = SyncClient.pull

    def counting_pull(self, since, limit, **kwargs):
        page = real_pull(self, since, limit, **kwargs)
        received.extend(page.delivered_by)
        return page

    monkeypatch.setattr(SyncClient, "pull", counting_pull)
    out = io.StringIO()
    assert fieldapp(["sync", "--once", "--data", str(folder)], out=out, err=io.StringIO()) == 0, out.getvalue()
    assert "all sent (300 now" in out.getvalue()
    assert received.count(store.device_id) == 0
    assert received == ["other-" + team] * 5


def test_a_run_of_own_versions_is_stepped_over_in_one_answer(server, team):
    a, b = server.enroll(team, "step-a-" + team), server.enroll(team, "step-b-" + team)
    server.statuses(b, [call_record(device_id="inst-b")])
    start = pull(server, a, "0", 1)["cursor"]
    server.statuses(a, [call_record(device_id="inst-a") for _ in range(600)])
    server.statuses(b, [call_record(device_id="inst-b")])
    page = pull(server, a, start, 500)
    assert [r["device_id"] for r in page["records"]] == ["inst-b"] and page["more"] is False


def test_own_false_leaves_a_devices_own_out_even_from_cursor_0(server, team):
    a, b = server.enroll(team, "ownf-a-" + team), server.enroll(team, "ownf-b-" + team)
    server.statuses(a, [call_record(device_id="inst-a") for _ in range(3)])
    server.statuses(b, [call_record(device_id="inst-b")])
    headers = {"Authorization": f"Bearer {a}"}
    whole = httpx.get(server.url + "/api/v1/pull", params={"since": "0"}, headers=headers).json()
    mine_out = httpx.get(server.url + "/api/v1/pull", params={"since": "0", "own": "false"}, headers=headers).json()
    assert len(whole["records"]) == 4  # a phone installed again gets its own back
    assert [r["device_id"] for r in mine_out["records"]] == ["inst-b"] and mine_out["cursor"] == whole["cursor"]
