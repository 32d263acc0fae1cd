"""The verdict rule on its own."""

from sync.server.verdicts import Current, Outcome, decide


def verdict(version=1, base=0, h="a", current=None, same=(), losing=()):
    return decide(version=version, base_version=base, content_hash=h, current=current,
                  same_version_hashes=set(same), losing_hashes=set(losing))


def test_new_record_is_accepted():
    assert verdict() is Outcome.ACCEPTED


def test_the_same_version_again_is_a_duplicate():
    assert verdict(current=Current(1, "a", False), same={"a"}) is Outcome.DUPLICATE


def test_an_edit_on_the_current_version_is_accepted():
    assert verdict(version=2, base=1, h="b", current=Current(1, "a", False)) is Outcome.ACCEPTED


def test_an_edit_on_an_older_version_is_a_conflict():
    assert verdict(version=3, base=1, h="c", current=Current(2, "b", False)) is Outcome.CONFLICT


def test_a_different_version_with_the_same_number_is_a_conflict():
    assert verdict(version=2, base=1, h="x", current=Current(2, "b", False), same={"b"}) is Outcome.CONFLICT


def test_the_losing_side_pushed_again_hears_of_the_open_conflict():
    assert verdict(version=2, base=1, h="x", current=Current(2, "b", True), same={"b", "x"}, losing={"x"}) is Outcome.CONFLICT_AGAIN


def test_once_resolved_the_losing_side_pushed_again_is_a_duplicate():
    assert verdict(version=2, base=1, h="x", current=Current(3, "r", False), same={"b", "x"}, losing={"x"}) is Outcome.DUPLICATE


def test_a_resolution_based_on_the_servers_version_is_accepted():
    assert verdict(version=4, base=3, h="r", current=Current(3, "c", True)) is Outcome.ACCEPTED
