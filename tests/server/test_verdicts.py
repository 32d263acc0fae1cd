"""The verdict rule on its own."""

from fieldapp.core.protocol import Role
from sync.server.verdicts import Current, Refusal, VerdictKind, decide, installation_refusal, review_refusal


def verdict(version=1, base=0, h="a", current=None, same=(), losing=()):
    return decide(version=version, base_version=base, content_hash=h, current=current,
                  same_version_hashes=set(same), losing_hashes=set(losing))


def test_new_record_is_accepted():
    assert verdict() is VerdictKind.ACCEPTED


def test_the_same_version_again_is_a_duplicate():
    assert verdict(current=Current(1, "a", False), same={"a"}) is VerdictKind.DUPLICATE


def test_an_edit_on_the_current_version_is_accepted():
    assert verdict(version=2, base=1, h="b", current=Current(1, "a", False)) is VerdictKind.ACCEPTED


def test_an_edit_on_an_older_version_is_a_conflict():
    assert verdict(version=3, base=1, h="c", current=Current(2, "b", False)) is VerdictKind.CONFLICT


def test_a_different_version_with_the_same_number_is_a_conflict():
    assert verdict(version=2, base=1, h="x", current=Current(2, "b", False), same={"b"}) is VerdictKind.CONFLICT


def test_the_losing_side_pushed_again_hears_of_the_open_conflict():
    assert verdict(version=2, base=1, h="x", current=Current(2, "b", True), same={"b", "x"}, losing={"x"}) is VerdictKind.CONFLICT_AGAIN


def test_once_resolved_the_losing_side_pushed_again_is_a_duplicate():
    assert verdict(version=2, base=1, h="x", current=Current(3, "r", False), same={"b", "x"}, losing={"x"}) is VerdictKind.DUPLICATE


def test_a_resolution_based_on_the_servers_version_is_accepted():
    assert verdict(version=4, base=3, h="r", current=Current(3, "c", True)) is VerdictKind.ACCEPTED


# --- who may send what ---------------------------------------------------------------------

APPROVED = {"state": "approved"}
FLAGGED = {"state": "flagged", "note": "count?"}


def volunteer_review(review, *base_reviews):
    return review_refusal(role=Role.VOLUNTEER, review=review, base_reviews=base_reviews)


def test_a_volunteer_may_keep_the_review_it_builds_on():
    assert volunteer_review(APPROVED, APPROVED) is None
    assert volunteer_review(FLAGGED, {"state": "flagged", "note": "count?"}) is None


def test_a_volunteer_may_drop_a_review():
    assert volunteer_review(None, APPROVED) is None
    assert volunteer_review({"state": "unreviewed"}, APPROVED) is None
    assert volunteer_review({"state": "unreviewed", "note": ""}, FLAGGED) is None


def test_a_volunteer_may_not_set_a_review_of_its_own():
    refusal = volunteer_review(APPROVED, None)
    assert isinstance(refusal, Refusal) and refusal.field == "review" and "lead" in refusal.message
    assert volunteer_review(APPROVED, FLAGGED) is not None
    assert volunteer_review({"state": "flagged", "note": "another note"}, FLAGGED) is not None
    # an unreviewed state with a note of its own is not a drop
    assert volunteer_review({"state": "unreviewed", "note": "looks fine"}, None) is not None


def test_a_volunteers_new_record_carries_no_review_or_an_empty_unreviewed_one():
    assert volunteer_review(None) is None
    assert volunteer_review({"state": "unreviewed"}) is None
    assert volunteer_review(APPROVED) is not None
    assert volunteer_review(FLAGGED) is not None


def test_on_both_sides_of_a_conflict_either_review_may_be_kept():
    assert volunteer_review(APPROVED, FLAGGED, APPROVED) is None


def test_a_lead_may_set_any_review():
    assert review_refusal(role=Role.LEAD, review=APPROVED, base_reviews=()) is None
    assert review_refusal(role=Role.LEAD, review=FLAGGED, base_reviews=(APPROVED,)) is None


def test_an_unknown_role_is_held_to_a_volunteers_rule():
    assert review_refusal(role="observer", review=APPROVED, base_reviews=()) is not None


def test_an_installation_speaks_through_the_enrolled_device_that_first_sent_it():
    assert installation_refusal(sender="phone-a", bound_to=None) is None  # new: bound to the sender
    assert installation_refusal(sender="phone-a", bound_to="phone-a") is None
    refusal = installation_refusal(sender="phone-b", bound_to="phone-a")
    assert refusal is not None and refusal.field == "device_id"
    assert "phone-a" not in refusal.message  # another device's name is not told
