"""What the screen models share (models/session.py): times typed, a screen's messages left behind, saves."""

from __future__ import annotations

import pytest

from fieldapp.store import RecordNotFound
from fieldapp.ui.models.session import Ask, clock
from fieldapp.ui.routing import Place, Screen
from tests.ui.models.support import new_call


@pytest.mark.parametrize(("text", "hm"), [("14:05", (14, 5)), ("١٤:٠٥", (14, 5)), ("14.05", (14, 5)), ("1405", (14, 5)),
                                          ("905", (9, 5)), ("24:00", None), ("12:60", None), ("noon", None), ("", None)])
def test_a_time_of_day_as_typed(text, hm):
    assert clock(text) == hm


def test_a_screen_left_takes_its_problems_notice_question_and_withheld_fields_with_it(state):
    s = state.session
    s.errors, s.warnings, s.notice, s.withheld = {"place": "x"}, {"tag": "y"}, "said", frozenset({"name"})
    s.ask(Ask.WIPE, "sure?")
    assert s.asking(Ask.WIPE) and not s.asking(Ask.WIPE, "another subject")
    s.go(Place(Screen.SETTINGS))
    assert (s.errors, s.warnings, s.notice, s.withheld, s.confirming) == ({}, {}, None, frozenset(), None)
    assert state.screen is Screen.SETTINGS


def test_times_today_and_a_time_later_than_now_said_once(state):
    s = state.session
    assert s.today() == "2026-11-25"
    assert s.time_today("") .startswith("2026-11-25T14:05")  # empty: now
    assert s.time_today("9:30") == "2026-11-25T09:30:00.000+03:00" and s.time_today("late") is None
    later = s.time_today("14:06")  # within the slack of a watch: not said
    assert not s.future("received_at", "14:06", later)
    later = s.time_today("18:00")
    assert s.future("received_at", "18:00", later) and not s.future("received_at", "18:00", later)


def test_a_save_nudges_the_worker_and_makes_drawn_screens_stale(state):
    generation, nudges = state.generation, state.session.worker.nudges
    call = new_call(state)
    assert state.generation == generation + 1 and state.session.worker.nudges == nudges + 1
    assert state.session.resend(call["id"], {**call["data"], "notes": "x" * 5000}) is None  # refused by the schema
    assert "notes" in state.session.errors and state.generation == generation + 1
    with pytest.raises(RecordNotFound):
        state.session.open("no-such-record")
