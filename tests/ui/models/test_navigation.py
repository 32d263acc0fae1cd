"""Routes and Back through AppState: every screen has a route, a saved form is stepped over (no client)."""

from __future__ import annotations

from fieldapp.ui.routing import Screen
from tests.ui.models.support import new_call


def test_every_screen_has_a_route_and_back_steps_down_its_stack(state):
    call = new_call(state)
    assert state.route() == f"/call/{call['id']}" and state.stack() == ["/", f"/call/{call['id']}"]
    state.open_route(f"/call/{call['id']}/recovery")
    assert state.screen is Screen.RECOVERY and state.stack() == ["/", f"/call/{call['id']}", f"/call/{call['id']}/recovery"]
    state.recovery.form.outcome = "rescued"
    recovery = state.recovery.save()
    state.open_route(f"/recovery/{recovery['id']}")
    assert state.screen is Screen.RECOVERY and state.recovery.recovery_id == recovery["id"] and state.recovery.form.outcome == "rescued"
    assert state.stack()[-2:] == [f"/call/{call['id']}", f"/recovery/{recovery['id']}"]
    state.open_route(f"/call/{call['id']}/edit")
    assert state.screen is Screen.NEW_CALL and state.call.editing == call["id"]
    for route, screen in (("/settings", "settings"), ("/queue", "queue"), ("/queue/figures", "figures"),
                          ("/sync", "outbox"), ("/new", "new_call"), ("/no/such", "home"), ("/call/unknown", "home")):
        state.open_route(route)
        assert state.screen == screen, route


def test_the_browsers_back_after_a_save_steps_over_the_form_it_left(state):
    # The browser's history after a new call is saved: /, /new, /call/<id>; its Back lands on /new.
    state.open_route("/new")
    assert state.stack() == ["/", "/new"]
    state.call.form.incident_type, state.call.form.place = "fire", "Jableh"
    call = state.call.save()
    here = f"/call/{call['id']}"
    assert state.stack() == ["/", here]
    state.open_route("/new", history=True)  # Back: the screen before the form, not an empty form
    assert state.screen is Screen.HOME and state.stack() == ["/"]
    state.open_route(here, history=True)  # Forward
    assert state.screen is Screen.CALL and state.stack() == ["/", here]
    # a recovery saved: Back from the call steps over its form to the call itself
    state.open_route(f"{here}/recovery")
    state.recovery.form.outcome = "rescued"
    assert state.recovery.save() is not None and state.stack() == ["/", here]
    state.open_route(f"{here}/recovery", history=True)
    assert state.route() == here
    # opened afresh (the New call button), a form a save left is a form again, and stays one
    state.open_route("/new")
    assert state.screen is Screen.NEW_CALL and state.call.form.place == ""
    state.go(Screen.HOME)
    state.open_route("/new", history=True)
    assert state.screen is Screen.NEW_CALL
    # a save refused in the form leaves it: Back comes back to the form as it was
    assert state.call.save() is None and state.stack() == ["/", "/new"]
    state.go(Screen.HOME)
    state.open_route("/new", history=True)
    assert state.screen is Screen.NEW_CALL


def test_the_day_queue_is_offered_unless_the_server_said_this_is_a_volunteers_phone(state):
    assert state.shows_queue()
    state.session.store.set_meta("role", "volunteer")
    assert not state.shows_queue()
    state.session.store.set_meta("role", "lead")
    assert state.shows_queue()
