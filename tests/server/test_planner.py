"""The push planner on its own: what is stored in, the plan out, no database."""

from __future__ import annotations

from fieldapp.core.protocol import Role
from fieldapp.core.records import normalize
from sync.server import planner
from sync.server.verdicts import Current, VerdictKind
from tests.records_factory import call_record

APPROVED = {"state": "approved"}


def version(base: dict, number: int, device: str = "inst-v", review: dict | None = None, **data) -> dict:
    record = {k: v for k, v in base.items() if k != "review"}
    record.update(version=number, base_version=base["version"], device_id=device, data={**base["data"], **data})
    if review is not None:
        record["review"] = review
    return normalize(record)


def holdings(*stored: dict, in_conflict: bool = False, losing: tuple[dict, ...] = (), settled: str | None = None):
    """The database as it holds these versions of one record, the last current."""
    now = stored[-1]
    revisions: dict = {}
    for record in stored:
        revisions.setdefault((record["id"], record["version"]), {})[planner.content_hash(record)] = planner.Revision(False, record)
    for record in losing:
        revisions.setdefault((record["id"], record["version"]), {})[planner.content_hash(record)] = planner.Revision(True, record)
    return planner.Holdings({now["id"]: Current(now["version"], planner.content_hash(now), in_conflict, settled)},
                            revisions, {"inst-v": "vol", "inst-l": "lead", "inst-o": "other"}, {}, {},
                            {now["id"]: now})


def plan(held, *records, sender="vol", role=Role.VOLUNTEER):
    return planner.plan(sender=sender, role=role, records=list(records),
                        hashes=[planner.content_hash(r) for r in records], holdings=held)


CALL = normalize(call_record(device_id="inst-v"))


def test_a_new_record_is_a_new_row_holding_the_version_as_sent():
    made = plan(planner.Holdings({}, {}, {}, {}, {}), CALL)
    assert [v.kind for v in made.verdicts] == [VerdictKind.ACCEPTED]
    assert made.versions[0].incoming == 0 and made.rows[CALL["id"]].new and made.bindings == ["inst-v"]


def test_a_volunteers_change_of_content_is_planned_without_its_review():
    approved = version(CALL, 2, "inst-l", APPROVED)
    made = plan(holdings(CALL, approved), version(approved, 3, review=APPROVED, notes="more"))
    [verdict] = made.verdicts
    assert verdict.kind is VerdictKind.ACCEPTED and verdict.review_cleared
    assert "review" not in made.versions[0].record and made.versions[0].incoming is None


def test_a_volunteers_version_identical_in_content_keeps_the_review():
    approved = version(CALL, 2, "inst-l", APPROVED)
    made = plan(holdings(CALL, approved), version(approved, 3, review=APPROVED))
    assert not made.verdicts[0].review_cleared and made.versions[0].record["review"] == APPROVED


def test_a_leads_change_keeps_its_review():
    approved = version(CALL, 2, "inst-l", APPROVED)
    made = plan(holdings(CALL, approved), version(approved, 3, "inst-l", APPROVED, notes="more"), sender="lead",
                role=Role.LEAD)
    assert not made.verdicts[0].review_cleared and made.versions[0].record["review"] == APPROVED


def test_a_stale_edit_of_other_fields_is_stored_as_a_losing_side_and_merged_past_every_version():
    ours = version(CALL, 2, "inst-o", reported_people=4)
    ahead = version(CALL, 5, "inst-o", notes="a losing version ahead")  # lost a conflict earlier
    made = plan(holdings(CALL, ours, losing=(ahead,)), version(CALL, 2, notes="corrected"))
    [verdict] = made.verdicts
    assert verdict.kind is VerdictKind.MERGED
    stored, merged = made.versions
    assert stored.losing and stored.incoming == 0 and not merged.losing
    record = merged.record
    assert (record["version"], record["base_version"]) == (6, 2)
    assert record["data"]["reported_people"] == 4 and record["data"]["notes"] == "corrected"
    assert made.rows[CALL["id"]].current == 1 and not made.rows[CALL["id"]].in_conflict


def test_a_stale_edit_of_the_same_field_is_a_conflict_answered_with_the_current_version():
    ours = version(CALL, 2, "inst-o", reported_people=4)
    made = plan(holdings(CALL, ours), version(CALL, 2, reported_people=6))
    [verdict] = made.verdicts
    assert verdict.kind is VerdictKind.CONFLICT and verdict.server_record == CALL["id"]
    assert made.rows[CALL["id"]].in_conflict and made.rows[CALL["id"]].current == -1


def test_a_stale_edit_the_current_version_already_says_is_a_duplicate_storing_nothing():
    ours = version(CALL, 2, "inst-o", reported_people=4)
    made = plan(holdings(CALL, ours), version(CALL, 2, reported_people=4))
    assert [v.kind for v in made.verdicts] == [VerdictKind.DUPLICATE]
    assert made.versions == [] and made.rows == {} and made.bindings == []


def test_a_stale_approval_the_merge_drops_still_makes_a_merged_version():
    """Its merge says what the current version says, but the phone's version says more: it must take the merge."""
    ours = version(CALL, 2, "inst-o", reported_people=4)
    made = plan(holdings(CALL, ours), version(CALL, 2, "inst-l", APPROVED), sender="lead", role=Role.LEAD)
    assert [v.kind for v in made.verdicts] == [VerdictKind.MERGED]
    assert made.versions[-1].record["version"] == 3 and "review" not in made.versions[-1].record


def test_a_volunteers_settlement_is_marked_and_a_leads_approval_clears_the_mark():
    ours = version(CALL, 2, "inst-o", reported_people=4)
    settle = version(ours, 3, reported_people=4, notes="agreed")
    made = plan(holdings(CALL, ours, in_conflict=True), settle)
    assert made.verdicts[0].kind is VerdictKind.ACCEPTED and made.rows[CALL["id"]].settled_by == "vol"
    approve = version(settle, 4, "inst-l", APPROVED)
    made = plan(holdings(CALL, ours, settle, settled="vol"), approve, sender="lead", role=Role.LEAD)
    assert made.rows[CALL["id"]].settled_by is None
    # A volunteer's next edit keeps it waiting.
    made = plan(holdings(CALL, ours, settle, settled="vol"), version(settle, 4, notes="again"))
    assert made.rows[CALL["id"]].settled_by == "vol"


def test_refusals_stop_a_version_before_any_merge():
    ours = version(CALL, 2, "inst-o", reported_people=4)
    forged = version(CALL, 2, review={"state": "flagged", "note": "mine"}, notes="x")
    made = plan(holdings(CALL, ours), forged)
    assert made.verdicts[0].kind is VerdictKind.REJECTED and made.versions == []
    assert [r.field for r in made.verdicts[0].refusals] == ["review"]
