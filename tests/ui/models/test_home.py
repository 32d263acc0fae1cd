"""Home: today's calls and every call still open (no client)."""

from __future__ import annotations

from datetime import timedelta

from tests.ui.models.support import NOW, new_call


def test_home_lists_todays_calls_newest_first(state):
    new_call(state, received_at="09:00", place="A")
    new_call(state, received_at="11:30", place="B")
    assert [r.place for r in state.home.rows()] == ["B", "A"]


def test_home_shows_todays_calls_and_every_call_still_open(state):
    yesterday_open = new_call(state, place="Open since yesterday")
    closed = new_call(state, place="Closed yesterday")
    state.call.set_status("completed")
    state.session.now = lambda: NOW + timedelta(days=1)
    new_call(state, place="Today")
    places = [r.place for r in state.home.rows()]
    assert places == ["Today", "Open since yesterday"] and closed["id"] not in [r.id for r in state.home.rows()]
    assert state.home.rows()[1].day == yesterday_open["data"]["received_at"][:10] and state.home.rows()[1].state == "pending"


def test_home_comes_a_page_at_a_time_and_each_row_has_its_sync_state(state):
    from fieldapp.store.document import SyncState
    from fieldapp.ui.models.home import HOME_PAGE

    for _ in range(HOME_PAGE + 1):
        new_call(state)
    rows = state.home.rows()
    assert len(rows) == HOME_PAGE + 1 and state.home.limit == HOME_PAGE
    assert {row.state for row in rows} == {SyncState.PENDING}
    state.home.more()
    assert state.home.limit == 2 * HOME_PAGE
