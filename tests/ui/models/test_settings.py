"""Settings: language, callsign, night mode, linking, Wipe (no client)."""

from __future__ import annotations

import pytest

from fieldapp.i18n import Translator
from fieldapp.sync import errors
from fieldapp.ui import messages
from fieldapp.ui.models.session import Ask
from fieldapp.ui.state import AppState
from tests.ui.models.support import NOW, new_call


def test_settings_language_callsign_night_mode_persist(state, data_dir):
    state.settings.set_language("ar")
    state.settings.set_callsign("  Falcon-3 ")
    state.settings.set_dark(True)
    assert state.t("home.new_call") == "بلاغ جديد" and state.t.rtl
    again = AppState(state.session.store, data_dir, now=lambda: NOW)
    assert (again.language, again.session.callsign, again.dark) == ("ar", "Falcon-3", True)
    record = new_call(again)
    assert record["recorded_by"] == "Falcon-3"


def test_enrolling_with_a_bad_address_says_why_and_send_now_asks_the_worker(state):
    assert state.settings.enroll("http://10.1.2.3:8000", "token") is False
    assert "https" in state.session.errors["server"]
    state.outbox.send_now()
    assert state.session.worker.sends == 1


def test_the_device_language_is_used_unless_the_volunteer_chose(state, data_dir):
    state.use_device_locales(["ar", "en"])
    assert state.settings.language == "ar" and state.t("home.new_call") == "بلاغ جديد"
    state.settings.set_language("en")
    again = AppState(state.session.store, data_dir, now=lambda: NOW)
    again.use_device_locales(["ar"])
    assert again.language == "en"


def test_linking_problems_are_said_in_the_users_language(state):
    state.settings.set_language("ar")
    assert state.settings.enroll("http://10.1.2.3:8000", "token") is False
    assert state.session.errors["server"] == "عنوان \u2066http\u2069 العادي يكشف رمز الجهاز: استخدم \u2066https\u2069."
    assert state.settings.enroll("not an address", "token") is False and "https://sync.example.org" in state.session.errors["server"]


def test_wipe_disarms_when_settings_is_left_whichever_way(state):
    new_call(state)
    new_call(state, place="Ariha")
    leaving = {
        "the tab bar": lambda: state.open_route("/"),
        "another tab": lambda: state.open_route("/queue"),
        "the title bar's Back": lambda: state.open_route(state.stack()[-2]),
        "the browser's Back": lambda: state.open_route("/", history=True),
    }
    for way, leave in leaving.items():
        state.open_route("/settings")
        assert not state.settings.wipe() and state.settings.wipe_armed, way
        leave()
        state.open_route("/settings")
        assert not state.settings.wipe_armed, way
    assert not state.settings.wipe()  # back on Settings, a tap only asks again
    assert not state.settings.wipe() and state.settings.wipe_armed  # a second tap on Wipe itself (a double tap) only asks
    assert state.session.store.counts()["total"] == 2


def test_the_armed_wipe_says_how_many_records_go_and_that_it_cannot_be_undone(state):
    first = new_call(state)
    new_call(state, place="Ariha")
    state.session.store.record_verdicts([{"id": first["id"], "version": 1, "status": "accepted"}])
    state.open_route("/settings")
    state.settings.wipe()
    assert state.session.confirming is not None and state.session.confirming.ask == Ask.WIPE
    text = state.session.confirming.message
    assert "records: 2" in text and "not yet on the server: 1" in text and "cannot be undone" in text
    state.session.dismiss()
    assert not state.settings.wipe_armed
    state.settings.set_language("ar")
    state.settings.wipe()
    arabic = state.session.confirming.message
    assert "2" in arabic and "1" in arabic and "لا يمكن التراجع" in arabic and "محو" in arabic


@pytest.mark.parametrize(("failure", "key"), [
    (errors.BadAddress("?"), "enroll.address"), (errors.PlainHttp("?"), "enroll.http"),
    (errors.EmptyToken("?"), "enroll.token_empty"), (errors.DataLocked("?"), "enroll.locked"),
    (errors.Unreachable("?"), "enroll.unreachable"), (errors.CertificateRefused("?"), None),
    (errors.TokenRefused("?"), "enroll.token_refused"), (errors.RoleRefused("?"), "enroll.token_refused"),
    (errors.ServerError("?"), "enroll.server_error"), (errors.OddAnswer("?"), "enroll.server_error"),
    (errors.DamagedLink("enrollment.json is damaged"), None),
])
def test_each_linking_failure_is_said_by_its_class_whatever_its_words(failure, key):
    t = Translator("en")
    assert messages.problem_key(type(failure), messages.ENROLL_PROBLEMS) == key
    assert messages.enroll_problem(failure, t) == (t(key) if key else str(failure))


def test_the_four_linking_refusals_are_raised_as_their_own_classes(data_dir, tmp_path):
    from fieldapp.store import RecordStore, protect
    from fieldapp.sync import enrollment

    for server, token, kind in (("not an address", "t", errors.BadAddress), ("http://10.1.2.3:8000", "t", errors.PlainHttp),
                                ("https://sync.example.org", "  ", errors.EmptyToken)):
        with pytest.raises(kind):
            enrollment.enroll(data_dir, server, token)
    sealed = tmp_path / "sealed"
    RecordStore.open(sealed).close()
    protect.set_pin(sealed, "135790")
    protect.forget(sealed)  # the app's lock: the key is no longer in this process
    with pytest.raises(errors.DataLocked):
        enrollment.save(sealed, enrollment.Enrollment("https://sync.example.org", "t"))


def test_night_mode_does_not_save_the_devices_language_and_each_follows_the_device_by_default(state, data_dir):
    """Issue 23: turning Night mode on must not make the device's language a choice; the device's dark is followed."""
    from fieldapp.ui.models.settings import SETTINGS

    state.use_device_locales(["en"])
    assert state.settings.dark_chosen is None and not state.dark
    state.settings.use_device_dark(True)
    assert state.dark  # the device's dark setting, followed
    state.settings.set_dark(True)
    assert state.session.store.get_meta(SETTINGS)["language"] is None  # not chosen: not saved
    again = AppState(state.session.store, data_dir, now=lambda: NOW)
    again.use_device_locales(["ar"])  # the device's language changed: followed
    assert again.language == "ar" and again.dark
    again.settings.set_dark(False)  # chosen off on a dark device
    again.settings.use_device_dark(True)
    assert not again.dark
    again.settings.set_dark(None)  # back to the device's
    assert again.dark and again.session.store.get_meta(SETTINGS)["theme"] is None
    again.settings.set_language(None)
    assert not again.settings.language_chosen


def test_follow_the_device_goes_back_to_the_devices_language_and_night_mode(state, data_dir):
    """Issue 23: a language or a night mode once chosen can be given back to the device, each on its own."""
    from fieldapp.ui.models.settings import SETTINGS

    settings = state.settings
    state.use_device_locales(["ar-SY", "en"])
    settings.use_device_dark(True)
    assert settings.follows_device_language and settings.follows_device_dark
    assert (state.language, state.dark) == ("ar", True)
    settings.set_language("en")
    settings.set_dark(False)
    assert (state.language, state.dark) == ("en", False)
    assert not settings.follows_device_language and not settings.follows_device_dark
    assert state.t("home.new_call") == "New call"
    settings.set_language(None)  # Follow the device: the device's language as last heard, not the process's
    assert settings.follows_device_language and state.language == "ar" and state.t("home.new_call") == "بلاغ جديد"
    assert not settings.follows_device_dark and not state.dark  # the night mode stays chosen
    settings.set_dark(None)
    assert settings.follows_device_dark and state.dark
    assert state.session.store.get_meta(SETTINGS)["language"] is None
    assert state.session.store.get_meta(SETTINGS)["theme"] is None
    state.use_device_locales(["en-GB"])  # the device changed its language: followed again
    settings.use_device_dark(False)
    assert (state.language, state.dark) == ("en", False)
    again = AppState(state.session.store, data_dir, now=lambda: NOW)
    assert again.settings.follows_device_language and again.settings.follows_device_dark
