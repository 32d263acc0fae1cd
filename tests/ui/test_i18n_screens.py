"""What the Arabic screens say, from the state and the views behind them: no English word outside an isolated value.

The values the app inserts (a place typed in Latin letters, a tag, a file name, a server's own words)
may be Latin, each inside a directional isolate; everything else a screen says is Arabic. The views
are built as the app builds them (no client): their texts are read from the control tree.
"""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import datetime
from types import SimpleNamespace

import flet as ft
import pytest

from fieldapp.demo import populate
from fieldapp.i18n import Translator
from fieldapp.store import RecordStore
from fieldapp.sync import enrollment
from fieldapp.ui import views
from fieldapp.ui.look import locale_configuration
from fieldapp.ui.models.conflict import conflict_value
from fieldapp.ui.models.lock import AppLock
from fieldapp.ui.models.recovery import evidence_lines
from fieldapp.ui.state import AppState
from fieldapp.ui.views.call import call as call_view
from fieldapp.ui.views.conflict import conflict as conflict_view
from fieldapp.ui.views.home import home as home_view
from fieldapp.ui.views.lock import lock_view
from fieldapp.ui.views.queue import queue as queue_view
from tests.records_factory import call_in_conflict, recovery_data
from tests.ui.driver import ROOT
from tests.ui.models.support import NOW, TZ, FakeWorker, new_call

ISOLATE = re.compile("[\u2066\u2067\u2068][^\u2066\u2067\u2068\u2069]*\u2069")


def _bare(text: str) -> str:
    """The text without its isolated values (innermost first)."""
    while True:
        stripped = ISOLATE.sub("", text)
        if stripped == text:
            return text
        text = stripped


def _english(texts: list[str]) -> list[str]:
    return [t for t in texts if re.search("[A-Za-z]", _bare(t))]


class _Nowhere:
    """The app around a view, for a view built only to be read: no tap reaches it."""

    def go(self, route): ...
    def back(self): ...
    def redraw(self): ...
    def restyle(self): ...
    def restart(self): ...
    async def locate(self, _=None): ...
    async def offer_file(self, path): ...


def _controls(control, *, in_view_only: bool = False) -> list[ft.BaseControl]:
    """Every control in a tree (a view, its bars, its cards), once each; with `in_view_only`, none of a hidden part."""
    found: list[ft.BaseControl] = []
    seen: set[int] = set()

    def walk(node) -> None:
        if isinstance(node, list | tuple):
            for item in node:
                walk(item)
            return
        if not isinstance(node, ft.BaseControl) or id(node) in seen \
                or in_view_only and getattr(node, "visible", True) is False:
            return
        seen.add(id(node))
        found.append(node)
        for field in dataclasses.fields(node):  # a Flet control is a dataclass: its children are among its fields
            if not field.name.startswith("_") and not field.name.startswith("on_"):
                walk(getattr(node, field.name, None))

    walk(control)
    return found


def _texts(control) -> list[str]:
    """Every ft.Text's words in a control tree."""
    return [node.value for node in _controls(control) if isinstance(node, ft.Text) and isinstance(node.value, str)]


def _lines(view) -> list[str]:
    """A view's texts split into lines (a card's Text holds two)."""
    return [line for text in _texts(view) for line in text.split("\n") if line]


@pytest.fixture
def arabic(data_dir, monkeypatch):
    monkeypatch.setenv("FIELDAPP_LANG", "ar")
    store = RecordStore.open(data_dir)
    app = AppState(store, data_dir, worker=FakeWorker(), now=lambda: NOW)
    yield app
    store.close()


def test_the_badge_the_outbox_and_a_refusal_say_nothing_in_english(arabic):
    call = new_call(arabic, place="Jableh")
    other = new_call(arabic, place="Latakia, the port")
    new_call(arabic, place="جبلة")
    arabic.session.store.record_verdicts([
        {"id": call["id"], "version": 1, "status": "rejected",
         "errors": [{"field": "base_version", "message": "must equal the version the server holds"},
                    {"field": "data.location.place", "message": "String should have at most 200 characters"}]},
        {"id": other["id"], "version": 1, "status": "conflict"},
    ])
    rows = arabic.outbox.rows()
    said = [arabic.badge(), *(r.title for r in rows), *(line for r in rows for line in r.reasons)]
    said += list(arabic.call.page(call["id"]).errors.values())
    assert _english(said) == [], said
    assert any("\u2068Jableh\u2069" in line for line in said)  # the Latin place name, isolated
    assert any("النسخة التي بُني عليها التعديل" in line for line in said)  # base_version, named in Arabic


def test_a_damaged_file_is_reported_in_arabic(data_dir, monkeypatch):
    monkeypatch.setenv("FIELDAPP_LANG", "ar")
    store = RecordStore.open(data_dir)
    store.create_call({"received_at": "2026-11-25T09:00:00+03:00", "incident_type": "fire", "location": {"place": "x"},
                       "status": "received"}, now=datetime(2026, 11, 25, 9, 0, tzinfo=TZ))
    store.close()
    [page] = (data_dir / "days").glob("*.json")
    page.write_bytes(b"{ not json")
    store = RecordStore.open(data_dir)
    try:
        app = AppState(store, data_dir, worker=FakeWorker(), now=lambda: NOW)
        assert len(app.problems) == 1
        assert _english(app.problems) == [], app.problems
        assert "تالف" in app.problems[0]
        app.settings.set_language("en")  # said again in the language the volunteer switches to
        assert not has_arabic(app.problems[0]), app.problems
    finally:
        store.close()


def has_arabic(text: str) -> bool:
    return bool(re.search("[\u0600-\u06ff]", text))


def test_evidence_and_conflict_values_keep_their_order_and_arabic_commas(arabic):
    t = arabic.t
    lines = evidence_lines({"recovered_at": "2026-11-25T14:05:00+03:00", "conditions": ["burns", "fractures"],
                            "handover": {"to": "hospital", "receiver": "Dr. Haddad", "at": "2026-11-26T01:10:00+03:00"},
                            "tag": "JBL-7"}, t)
    said = [f"{label}: {value}" for label, value in lines]
    assert _english(said) == [], said
    assert "حروق، كسور" in said[0] and ", " not in _bare(said[0])
    assert "\u2068Dr. Haddad\u2069" in said[1] and "\u206801:10\u2069" in said[1]
    when = conflict_value(t, "data.received_at", "2026-11-24T23:40:00+03:00")
    assert when.endswith("\u206823:40\u2069") and _english([when]) == []


def test_the_home_card_isolates_its_place_and_times_and_says_no_english(arabic):
    new_call(arabic, place="Jableh")
    older = arabic.session.store.create_call(
        {"received_at": "2026-11-24T22:15:00+03:00", "incident_type": "building_collapse", "location": {"place": "Ariha"},
         "status": "received"}, now=datetime(2026, 11, 24, 22, 15, tzinfo=TZ))  # still open from yesterday
    arabic.open_route("/")
    lines = _lines(home_view(arabic, _Nowhere()))
    assert _english(lines) == [], lines
    assert any("\u2068Jableh\u2069" in line and "·" in line for line in lines), lines  # incident · place
    assert any("\u2068Ariha\u2069" in line for line in lines), lines
    assert any("\u206822:15\u2069" in line for line in lines), lines  # the older call's time, isolated
    assert older["data"]["status"] == "received"


def test_the_call_page_reads_its_coordinates_left_to_right_and_isolates_its_counts(arabic):
    arabic.open_route("/new")
    arabic.call.form.incident_type, arabic.call.form.place = "fire", ""
    arabic.call.set_location(36.634, 35.9312, 10.0)
    call = arabic.call.save()
    store = arabic.session.store
    store.create_recovery(recovery_data(call["id"], outcome="deceased", count=3, tag="JBL-7",
                                        recovered_at="2026-11-25T13:30:00+03:00"))
    arabic.open_route(f"/call/{call['id']}")
    lines = _lines(call_view(arabic, _Nowhere(), call["id"]))
    assert _english(lines) == [], lines
    # The coordinate pair reads left to right in the Arabic page (not "35.9312 ,36.6340").
    assert "\u206636.6340, 35.9312\u2069" in lines, lines
    assert any("× \u20683\u2069" in line for line in lines), lines  # the recovery's count
    assert any("\u2068JBL-7\u2069" in line and "\u206813:30\u2069" in line for line in lines), lines
    assert any("\u206814:05\u2069" in line for line in lines), lines  # the call's own time beside its status


def test_the_queue_rows_and_the_conflict_lines_isolate_their_values_and_say_no_english(arabic):
    store = arabic.session.store
    conflicted = call_in_conflict(store, notes="ours", their_notes="all out", their_device="dev-b")
    day = conflicted["data"]["received_at"][:10]
    store.create_recovery(recovery_data(conflicted["id"], count=2, recovered_at=f"{day}T11:30:00+03:00"))
    arabic.open_route("/queue")
    arabic.queue.set_day(day)
    rows = _lines(queue_view(arabic, _Nowhere()))
    assert _english(rows) == [], rows
    assert any("× \u20682\u2069" in line for line in rows), rows  # the recovery's count, isolated
    arabic.open_route(f"/conflict/{conflicted['id']}")
    lines = _lines(conflict_view(arabic, _Nowhere()))
    assert _english(lines) == [], lines
    assert any("\u2068all out\u2069" in line for line in lines), lines  # the other device's typed words
    # What the conflict is about: its place (Latin and Arabic mixed) and its time, each isolated.
    place = conflicted["data"]["location"]["place"]
    assert any(f"\u2068{place}\u2069" in line and "\u206810:00\u2069" in line for line in lines), lines


def test_the_lock_screen_is_right_to_left_in_arabic(data_dir):
    """The lock is drawn before the app's state exists: its view and the page's locale (set by the app
    before the lock is drawn, fieldapp/ui/app.py) carry the language: right to left, Material in Arabic."""
    view = lock_view(Translator("ar"), AppLock(data_dir), on_open=lambda: None)
    assert view.rtl is True
    assert _english(_texts(view)) == [], _texts(view)
    assert locale_configuration("ar").current_locale.language_code == "ar"
    assert lock_view(Translator("en"), AppLock(data_dir), on_open=lambda: None).rtl is False


# --- every screen, built in Arabic over a demo day -------------------------------------------------------------------

# The texts a control shows or a screen reader says, by the field that holds them (a Text's and a menu choice's
# words, a field's label, hint, helper and error, a tab's label, the New call button's words, a node's name).
# A field's typed value and a menu's key are the volunteer's data or an identifier, not the app's words.
SHOWN = ("label", "hint_text", "helper", "error", "error_text", "helper_text", "text", "tooltip", "prefix_text",
         "suffix_text", "counter_text", "semantics_label")
ALLOWED = json.loads((ROOT / "assets" / "translations" / "glossary.json").read_text(encoding="utf-8"))[
    "latin_in_arabic"]["allowed"]


def _said(control) -> list[str]:
    """Every string a screen shows or names, from every control in view (a hidden part is not in view)."""
    found: list[str] = []
    for node in _controls(control, in_view_only=True):
        if isinstance(node, ft.Text) and isinstance(node.value, str):
            found.append(node.value)
        for name in SHOWN:
            value = getattr(node, name, None)
            if isinstance(value, str) and value:
                found.append(value)
        if isinstance(node, ft.FloatingActionButton) and isinstance(node.content, str):
            found.append(node.content)
    return [line for text in found for line in text.split("\n") if line]


def _latin(lines: list[str]) -> list[str]:
    """The lines with a Latin letter outside an isolate, once the agreed Latin words are taken out."""
    left = []
    for line in lines:
        bare = _bare(line)
        for word in sorted(ALLOWED, key=len, reverse=True):
            bare = bare.replace(word, "")
        if re.search("[A-Za-z]", bare):
            left.append(line)
    return left


def _find(control, identifier: str):
    """The control a semantics identifier names (what a test taps)."""
    stack = [control]
    while stack:
        node = stack.pop()
        if isinstance(node, list | tuple):
            stack.extend(node)
            continue
        if not isinstance(node, ft.BaseControl):
            continue
        if isinstance(node, ft.Semantics) and node.identifier == identifier:
            return node.content
        stack.extend(getattr(node, f.name, None) for f in dataclasses.fields(node)
                     if not f.name.startswith("_") and not f.name.startswith("on_"))
    raise LookupError(identifier)


@pytest.fixture
def demo_day(arabic):
    """The Arabic app over a demo day (fieldapp/demo.py: places, people, handovers, tags), with a refused call,
    a conflict, a flagged and a withdrawn record among them."""
    store = arabic.session.store
    populate(store, 12, seed=25, now=NOW)
    conflicted = call_in_conflict(store, notes="ours", their_notes="all out", their_device="dev-b")
    refused = new_call(arabic, place="Jableh")
    recovery = store.create_recovery(recovery_data(refused["id"], outcome="injured", count=1, tag="JBL-9",
                                                   recovered_at="2026-11-25T13:30:00+03:00"))
    store.record_verdicts([
        {"id": refused["id"], "version": 1, "status": "rejected",
         "errors": [{"field": "base_version", "message": "must equal the version the server holds"},
                    {"field": "data.location.place", "message": "String should have at most 200 characters"}]},
        {"id": recovery["id"], "version": 1, "status": "rejected",
         "errors": [{"field": "data.tag", "message": "tag already used by another recovery"}]},
    ])
    arabic.open_route("/")
    return SimpleNamespace(app=arabic, conflicted=conflicted, refused=refused, recovery=recovery)


def _screen(app, route: str):
    app.open_route(route)
    return views.build(app, _Nowhere(), app.route(), top=True)


def _check(app, route: str) -> list[str]:
    lines = _said(_screen(app, route))
    assert lines, route
    assert _latin(lines) == [], (route, _latin(lines))
    return lines


def test_every_screen_says_no_english_in_arabic(demo_day):
    app, store = demo_day.app, demo_day.app.session.store
    home = _check(app, "/")
    assert any("\u2068" in line for line in home)  # demo places and times, isolated
    _check(app, "/sync")
    _check(app, "/new")
    _check(app, f"/call/{demo_day.refused['id']}")
    _check(app, f"/call/{demo_day.refused['id']}/edit")
    _check(app, f"/call/{demo_day.refused['id']}/recovery")
    _check(app, f"/recovery/{demo_day.recovery['id']}")  # refused
    for call_id in [r.id for r in app.home.rows()]:  # every demo call on its page
        _check(app, f"/call/{call_id}")
    _check(app, f"/conflict/{demo_day.conflicted['id']}")
    _check(app, "/queue/figures")
    # The recovery withdrawn: the question asked first, then the record as withdrawn.
    view = _screen(app, f"/recovery/{demo_day.recovery['id']}")
    _find(view, "withdraw-recovery").on_click(None)
    assert _latin(_said(view)) == [], _latin(_said(view))
    app.recovery.withdraw()
    _check(app, f"/recovery/{demo_day.recovery['id']}")
    _check(app, f"/call/{demo_day.refused['id']}")
    assert store.get(demo_day.recovery["id"]).record["data"]["withdrawn"] is True


def test_the_queue_in_every_state_says_no_english_in_arabic(demo_day):
    app = demo_day.app
    q = app.queue
    app.open_route("/queue")
    q.set_day(NOW.date().isoformat())
    _check(app, "/queue")
    q.filters_open = True
    _check(app, "/queue")
    q.filter, q.incident_type, q.status, q.search = "refused", "fire", "received", "Jableh"
    _check(app, "/queue")
    q.filter, q.incident_type, q.status, q.search = None, None, None, ""
    first = next(r for item in q.items() for r in item.records())
    q.start_flag(first.id, "")
    _check(app, "/queue")
    q.note = "count of injured?"
    q.save_flag()
    q.approve_all()  # asks, with a count
    assert q.asking_approve_all()
    _check(app, "/queue")
    q.set_day(demo_day.conflicted["data"]["received_at"][:10])
    _check(app, "/queue")
    _check(app, "/queue/figures")


def test_settings_in_every_state_say_no_english_in_arabic(demo_day, data_dir):
    app = demo_day.app
    _check(app, "/settings")
    enrollment.save(data_dir, enrollment.Enrollment("https://sync.example.org", "token-never-shown"))
    lines = _check(app, "/settings")
    assert any("\u2068https://sync.example.org\u2069" in line for line in lines), lines  # the server, isolated
    app.settings.wipe()  # asked, with its count
    assert app.settings.wipe_armed
    _check(app, "/settings")


def test_the_lock_screen_in_every_state_says_no_english_in_arabic(data_dir):
    lock = AppLock(data_dir)
    t = Translator("ar")
    assert _latin(_said(lock_view(t, lock, on_open=lambda: None))) == []
    # Each thing the lock can say (set as its model sets them: tests/ui/test_lock.py drives them for real).
    for error, params in (("lock.empty", {}), ("lock.wrong", {}), ("pin.wait", {"seconds": 30}),
                          ("lock.keystore_unreachable", {})):
        lock.error, lock.error_params = error, params
        said = _said(lock_view(t, lock, on_open=lambda: None))
        assert _latin(said) == [] and len(said) > 1, said
    lock.error, lock.error_params, lock.key_gone = "lock.keystore", {}, True
    assert _latin(_said(lock_view(t, lock, on_open=lambda: None))) == []
    lock.asking_start_again = True  # Start again's question
    said = _said(lock_view(t, lock, on_open=lambda: None))
    assert _latin(said) == [], said
