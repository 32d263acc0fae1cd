"""The routing module alone: routes read and written, the screens Back steps down, forms a save has left."""

from __future__ import annotations

import pytest

from fieldapp.ui import routing
from fieldapp.ui.routing import History, Place, Screen

ROUTES = [
    ("/", Place()),
    ("/new", Place(Screen.NEW_CALL)),
    ("/call/c1", Place(Screen.CALL, "c1")),
    ("/call/c1/edit", Place(Screen.NEW_CALL, "c1", editing=True)),
    ("/call/c1/recovery", Place(Screen.RECOVERY, "c1")),
    ("/recovery/r1", Place(Screen.RECOVERY, recovery_id="r1")),
    ("/sync", Place(Screen.OUTBOX)),
    ("/settings", Place(Screen.SETTINGS)),
    ("/queue", Place(Screen.QUEUE)),
    ("/queue/figures", Place(Screen.FIGURES)),
    ("/conflict/c1", Place(Screen.CONFLICT, "c1")),
    ("/record/c1", Place(Screen.RECORD, "c1")),
]


@pytest.mark.parametrize(("text", "place"), ROUTES)
def test_every_route_reads_as_its_place_and_back(text, place):
    assert routing.parse(text) == place
    assert routing.route(place) == text


def test_every_screen_has_a_route():
    named = {routing.parse(text).screen for text, _ in ROUTES}
    assert named == set(Screen)


@pytest.mark.parametrize("text", ["/no/such", "/call", "/call/c1/other", "/recovery", "/conflict", "/queue/x/y"])
def test_a_route_the_app_has_not_is_none(text):
    assert routing.parse(text) is None


def test_a_query_string_or_fragment_and_doubled_slashes_do_not_change_the_place():
    assert routing.parse("/queue?day=2026-11-25") == Place(Screen.QUEUE)
    assert routing.parse("/call/c1#3") == Place(Screen.CALL, "c1")
    assert routing.parse("//call//c1/") == Place(Screen.CALL, "c1")
    assert routing.parse("") == routing.parse(None) == Place()


def test_a_place_without_its_record_is_home():
    for screen in (Screen.CALL, Screen.RECOVERY, Screen.CONFLICT):
        assert routing.route(Place(screen)) == "/"
    assert routing.route(Place(Screen.NEW_CALL, editing=True)) == "/new"  # nothing to correct: a new call
    # a recovery's own route wins over its call's
    assert routing.route(Place(Screen.RECOVERY, "c1", "r1")) == "/recovery/r1"


def test_back_steps_down_to_home_through_the_call_or_the_queue():
    assert routing.stack(Place()) == ["/"]
    for screen in (Screen.OUTBOX, Screen.SETTINGS, Screen.QUEUE, Screen.NEW_CALL):
        assert routing.stack(Place(screen)) == ["/", routing.route(Place(screen))]
    assert routing.stack(Place(Screen.CALL, "c1")) == ["/", "/call/c1"]
    assert routing.stack(Place(Screen.NEW_CALL, "c1", editing=True)) == ["/", "/call/c1", "/call/c1/edit"]
    assert routing.stack(Place(Screen.RECOVERY, "c1")) == ["/", "/call/c1", "/call/c1/recovery"]
    assert routing.stack(Place(Screen.RECOVERY, "c1", "r1")) == ["/", "/call/c1", "/recovery/r1"]
    assert routing.stack(Place(Screen.FIGURES)) == ["/", "/queue", "/queue/figures"]
    assert routing.stack(Place(Screen.CONFLICT, "c1")) == ["/", "/queue", "/conflict/c1"]


def test_the_bottom_bar_tab_of_each_route():
    assert [routing.section(r) for r in ("/", "/call/c1", "/sync", "/queue", "/queue/figures", "/conflict/c1",
                                         "/settings")] == ["/", "/", "/", "/queue", "/queue", "/queue", "/settings"]


def test_a_form_a_save_left_is_stepped_over_by_history_only():
    history = History()
    history.leave(routing.stack(Place(Screen.NEW_CALL)))
    assert history.resolve("/new", history=True) == "/"  # the browser's Back: the screen under the form
    assert history.resolve("/new", history=True) == "/"  # and again, as long as it is not opened afresh
    assert history.resolve("/new", history=False) == "/new"  # a tap on New call: a form again
    assert history.resolve("/new", history=True) == "/new"  # and it stays one
    history.leave(["/"])  # nothing under home: nothing to step over
    assert history.left == {}
