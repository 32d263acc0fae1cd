"""Approvals that mean what they say, and conflicts only where two people disagree (issue 23), on SQLite and
PostgreSQL, over real HTTP.

- An approval belongs to the content it approved: a volunteer's version whose content changed is stored
  unreviewed (its verdict says `review_cleared`); one identical in content keeps its review; a lead's
  version sets or keeps a review across a change of content.
- A push built on an older version than the server's current one is merged field by field against that
  base: a new version, naming the two it merges, that both devices pull; a review made on a base the
  other side changed does not carry into it. One the current version already says whole (the same change
  by two devices) is a `duplicate`: no new version.
- A conflict a volunteer settled stays in the lead's queue (`settled` in a pull) until a lead reviews it.
"""

from __future__ import annotations

import uuid

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fieldapp.core.merge import content, merge
from fieldapp.core.protocol import PullResponse, VerdictStatus
from fieldapp.core.records import normalize
from sync.server.db import open_database
from tests.records_factory import call_record, recovery_record

ACCEPTED, CONFLICT = VerdictStatus.ACCEPTED.value, VerdictStatus.CONFLICT.value
APPROVED = {"state": "approved"}


def edit(record: dict, device_id: str, review: dict | None = None, **data) -> dict:
    """The next version of `record`, from `device_id`, with these data fields changed; the review given or none."""
    changed = {k: v for k, v in record.items() if k not in ("review", "merged_from")}
    changed.update(version=record["version"] + 1, base_version=record["version"], device_id=device_id,
                   data={**record["data"], **data})
    if review is not None:
        changed["review"] = review
    return changed


def current(server, team: str) -> dict[str, dict]:
    db = open_database(server.database_url)
    try:
        return {r["id"]: r for r in db.current_records(team)}
    finally:
        db.close()


def pull(server, token: str, since: str = "0") -> PullResponse:
    answer = httpx.get(server.url + "/api/v1/pull", params={"since": since, "limit": 1000},
                       headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert answer.status_code == 200, answer.text
    return PullResponse.model_validate(answer.json())


def verify(server, team: str) -> None:
    checked = server.cli("verify", "--team", team)
    assert checked.returncode == 0, checked.stdout + checked.stderr


# --- an approval belongs to the content it approved ------------------------------------------


def test_a_volunteers_changed_content_is_stored_unreviewed_and_the_verdict_says_so(server, team):
    lead, volunteer = server.enroll(team, role="lead"), server.enroll(team)
    recovery = recovery_record(device_id="phone-v", data={**recovery_record()["data"], "count": 10,
                                                          "conditions": ["bound", "blindfolded"]})
    assert server.statuses(volunteer, [recovery]) == [ACCEPTED]
    approved = edit(recovery, "phone-l", APPROVED)
    assert server.statuses(lead, [approved]) == [ACCEPTED]
    # The case: withdrawn, the count set to 1, the approval kept as it came.
    changed = edit(approved, "phone-v", APPROVED, count=1, withdrawn=True)
    [verdict] = server.push(volunteer, [changed]).json()["results"]
    assert verdict["status"] == ACCEPTED and verdict["review_cleared"] is True
    stored = current(server, team)[recovery["id"]]
    assert stored["data"]["count"] == 1 and "review" not in stored
    # Pushed again (its answer lost): the same version, a duplicate, still unreviewed.
    assert server.statuses(volunteer, [changed]) == [VerdictStatus.DUPLICATE.value]
    verify(server, team)


def test_identical_content_keeps_the_review(server, team):
    lead, volunteer = server.enroll(team, role="lead"), server.enroll(team)
    call = call_record(device_id="phone-v")
    assert server.statuses(volunteer, [call]) == [ACCEPTED]
    approved = edit(call, "phone-l", APPROVED)
    assert server.statuses(lead, [approved]) == [ACCEPTED]
    again = edit(approved, "phone-v", APPROVED)  # bookkeeping only: a new version, the same content
    [verdict] = server.push(volunteer, [again]).json()["results"]
    assert verdict["status"] == ACCEPTED and "review_cleared" not in verdict
    assert current(server, team)[call["id"]]["review"] == APPROVED


def test_a_leads_change_of_content_keeps_or_sets_its_review(server, team):
    lead = server.enroll(team, role="lead")
    call = call_record(device_id="phone-l")
    approved = edit(call, "phone-l", APPROVED, notes="checked at the scene")  # sets it with a change
    kept = edit(approved, "phone-l", APPROVED, reported_people=4)  # keeps it across another
    results = server.push(lead, [call, approved, kept]).json()["results"]
    assert [r["status"] for r in results] == [ACCEPTED] * 3 and not any("review_cleared" in r for r in results)
    assert current(server, team)[call["id"]]["review"] == APPROVED


# --- conflicts only where two people changed the same thing ------------------------------------


def test_a_correction_and_a_stale_approval_merge_with_no_conflict_unreviewed(server, team):
    """The issue's scenario: a volunteer corrects place and count; the lead, not synced, approves the old version."""
    lead, volunteer = server.enroll(team, role="lead"), server.enroll(team)
    call = call_record(device_id="phone-v", data={**call_record()["data"], "reported_people": 3})
    assert server.statuses(volunteer, [call]) == [ACCEPTED]
    assert len(pull(server, lead).records) == 1  # the lead's phone has version 1
    place = {"place": "Jableh, the old market", "lat": 35.36, "lon": 35.93}
    corrected = edit(call, "phone-v", location=place, reported_people=5)
    assert server.statuses(volunteer, [corrected]) == [ACCEPTED]
    approval = edit(call, "phone-l", APPROVED)  # built on version 1 too
    [verdict] = server.push(lead, [approval]).json()["results"]
    assert verdict["status"] == ACCEPTED  # no conflict
    merged = verdict["merged_record"]
    assert merged["data"]["location"] == place and merged["data"]["reported_people"] == 5
    assert "review" not in merged  # the approval was of the content the volunteer changed
    assert merged["merged_from"] == [{"version": 2, "device_id": "phone-v"}, {"version": 2, "device_id": "phone-l"}]
    assert merged["version"] == 3 and merged["base_version"] == 2
    stored = current(server, team)[call["id"]]
    assert stored == merged
    # The approval pushed again (its answer lost): the same version, a duplicate; nothing new stored.
    assert server.statuses(lead, [approval]) == [VerdictStatus.DUPLICATE.value]
    assert current(server, team)[call["id"]] == merged
    # Both phones pull the merge: the volunteer's (another device's push), and the lead's own (it made it).
    for token in (volunteer, lead):
        page = pull(server, token, since="1")
        assert merged in page.records and not page.conflicts
    verify(server, team)


def test_the_same_pushes_the_other_way_round_merge_alike(server, team):
    lead, volunteer = server.enroll(team, role="lead"), server.enroll(team)
    call = call_record(device_id="phone-v")
    assert server.statuses(volunteer, [call]) == [ACCEPTED]
    approval = edit(call, "phone-l", APPROVED)
    assert server.statuses(lead, [approval]) == [ACCEPTED]
    corrected = edit(call, "phone-v", reported_people=5)
    [verdict] = server.push(volunteer, [corrected]).json()["results"]
    assert verdict["status"] == ACCEPTED
    merged = verdict["merged_record"]
    assert merged["data"]["reported_people"] == 5 and "review" not in merged
    verify(server, team)


def test_a_field_both_changed_to_different_values_is_still_a_conflict_with_both_kept(server, team):
    lead, volunteer = server.enroll(team, role="lead"), server.enroll(team)
    call = call_record(device_id="phone-v")
    assert server.statuses(volunteer, [call]) == [ACCEPTED]
    assert server.statuses(volunteer, [edit(call, "phone-v", reported_people=5)]) == [ACCEPTED]
    [verdict] = server.push(lead, [edit(call, "phone-l", reported_people=7, notes="x")]).json()["results"]
    assert verdict["status"] == CONFLICT and verdict["server_record"]["data"]["reported_people"] == 5
    assert "merged_record" not in verdict
    records, conflicts = server.pull_all(lead)
    assert {r["data"].get("reported_people") for r in records if r["id"] == call["id"]} >= {5, 7}
    assert call["id"] in conflicts
    verify(server, team)


def test_the_same_change_from_the_same_base_by_two_devices_makes_no_new_version(server, team):
    """A stale edit whose changes the current version holds already: nothing to merge, nothing for anyone to pull."""
    first, second = server.enroll(team), server.enroll(team)
    call = call_record(device_id="phone-a")
    assert server.statuses(first, [call]) == [ACCEPTED]
    assert server.statuses(first, [edit(call, "phone-a", status="dispatched")]) == [ACCEPTED]
    held = current(server, team)[call["id"]]
    cursor = pull(server, second).cursor
    same = edit(call, "phone-b", status="dispatched")
    [verdict] = server.push(second, [same]).json()["results"]
    # Already on the server: the phone counts it sent and takes the server's version.
    assert verdict["status"] == VerdictStatus.DUPLICATE.value, verdict
    assert verdict.get("merged_record") in (None, held), verdict
    assert current(server, team)[call["id"]] == held and "merged_from" not in held
    assert [r for r in pull(server, second, cursor).records if r.id == call["id"]] == [], "nothing new to pull"
    # Pushed again (its answer lost): the same answer, still one version.
    assert server.statuses(second, [same]) == [VerdictStatus.DUPLICATE.value]
    assert current(server, team)[call["id"]] == held
    verify(server, team)


# --- a volunteer's settlement goes to the lead -------------------------------------------------


def test_a_volunteers_settlement_stays_in_the_leads_queue_until_a_lead_reviews_it(server, team):
    lead, volunteer, other = server.enroll(team, role="lead"), server.enroll(team), server.enroll(team)
    call = call_record(device_id="phone-v")
    assert server.statuses(volunteer, [call]) == [ACCEPTED]
    ours = edit(call, "phone-v", reported_people=5)
    assert server.statuses(volunteer, [ours]) == [ACCEPTED]
    assert server.statuses(other, [edit(call, "phone-o", reported_people=9)]) == [CONFLICT]
    settled = edit(ours, "phone-v", reported_people=9)  # on the server's current version, the conflict open
    assert server.statuses(volunteer, [settled]) == [ACCEPTED]
    page = pull(server, lead)
    assert not page.conflicts
    assert [(s.id, s.settled_by) for s in page.settled] == [(call["id"], server_device(server, volunteer))]
    # A volunteer's next edit leaves it waiting; a lead's approval takes it off the queue.
    later = edit(settled, "phone-v", notes="counted again")
    assert server.statuses(volunteer, [later]) == [ACCEPTED]
    assert [s.id for s in pull(server, lead).settled] == [call["id"]]
    assert server.statuses(lead, [edit(later, "phone-l", APPROVED)]) == [ACCEPTED]
    assert pull(server, lead).settled == []
    verify(server, team)


def server_device(server, token: str) -> str:
    from sync.server.auth import token_hash

    db = open_database(server.database_url)
    try:
        found = db.device_for_token(token_hash(token))
    finally:
        db.close()
    assert found is not None
    return found.device_id


# --- the merge's properties, through the real server -------------------------------------------

FIELDS = {
    "reported_people": st.integers(0, 500),
    "missing_people": st.integers(0, 50),
    "notes": st.text(alphabet="abcdefgh ", min_size=1, max_size=10).map(str.strip).filter(bool),
    "location": st.sampled_from([{"place": "the old market"}, {"lat": 35.1, "lon": 35.9}]),
    "incident_type": st.sampled_from(["airstrike", "fire", "flood"]),
}


@st.composite
def two_sides(draw):
    names = draw(st.lists(st.sampled_from(sorted(FIELDS)), min_size=1, max_size=len(FIELDS), unique=True))
    split = draw(st.integers(0, len(names)))
    return ({n: draw(FIELDS[n]) for n in names[:split]}, {n: draw(FIELDS[n]) for n in names[split:]})


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(two_sides())
def test_random_disjoint_edits_merge_on_the_server_as_the_shared_function_merges_them(server, sides):
    team = f"team-{uuid.uuid4().hex[:8]}"
    lead, volunteer = server.enroll(team, role="lead"), server.enroll(team)
    call = call_record(device_id="phone-v")
    assert server.statuses(volunteer, [call]) == [ACCEPTED]
    first, second = edit(call, "phone-v", **sides[0]), edit(call, "phone-l", **sides[1])
    assert server.statuses(volunteer, [first]) == [ACCEPTED]
    [verdict] = server.push(lead, [second]).json()["results"]
    assert verdict["status"] == ACCEPTED
    stored = current(server, team)[call["id"]]
    expected = merge(*(normalize(r) for r in (call, first, second))).record  # as the server holds them
    assert content(stored) == content(expected)
    for name, value in {**sides[0], **sides[1]}.items():  # no change lost
        assert stored["data"][name] == value


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from(sorted(FIELDS)).flatmap(
    lambda n: st.tuples(st.just(n), st.lists(FIELDS[n], min_size=2, max_size=2, unique_by=repr))))
def test_one_field_changed_two_ways_is_always_a_conflict_on_the_server(server, change):
    name, (one, other) = change
    team = f"team-{uuid.uuid4().hex[:8]}"
    lead, volunteer = server.enroll(team, role="lead"), server.enroll(team)
    call = call_record(device_id="phone-v")
    if call["data"].get(name) in (one, other):
        return  # one side would not have changed it
    assert server.statuses(volunteer, [call, edit(call, "phone-v", **{name: one})]) == [ACCEPTED, ACCEPTED]
    assert server.statuses(lead, [edit(call, "phone-l", **{name: other})]) == [CONFLICT]
