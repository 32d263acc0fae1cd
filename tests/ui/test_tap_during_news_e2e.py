"""A tap the sync's news lands in, in a real headless Chromium: the button under the finger stays the same button.

The worker's news (a count that changed) draws the call's screen again. A tap reaches Flutter's
web engine as a click on the button's node of the accessibility tree, and becomes a tap on that
node: if the news has replaced the node meanwhile, the tap is lost. (In CI the evidence test's
Add recovery, tapped as the first recovery's push came back, never opened the form.) So the
screen drawn again keeps its controls (fieldapp/ui/views/adopt.py), and their nodes with them.
"""

from __future__ import annotations

from tests.ui.driver import PHONE, REDRAWN, Phone

# The node of the accessibility tree Flutter made for a control (its DOM id names it).
NODE_OF = "id => { const e = document.querySelector(`[flt-semantics-identifier=\"${id}\"]`); return e && e.id; }"


def _new_call(phone: Phone, place: str) -> None:
    phone.tap("new-call")
    phone.tap("type-bodies_found")
    phone.type("field-place", place)
    phone.tap("save-call")


def test_the_sync_news_keeps_the_button_a_tap_is_landing_on(app, browser):
    url, _data = app
    volunteer = Phone(browser.new_page(viewport=PHONE, locale="en-US"))
    other = Phone(browser.new_page(viewport=PHONE, locale="en-US"))  # another page of the same app: one worker
    volunteer.open(url)
    _new_call(volunteer, "Jableh")
    volunteer.wait_for("add-recovery")
    other.open(url)
    volunteer.still()
    node = volunteer.page.evaluate(NODE_OF, "add-recovery")
    before = volunteer.drawn()

    _new_call(other, "Latakia")  # a save: the worker's counts change, and its news draws the volunteer's call again
    volunteer.page.wait_for_function(REDRAWN, arg=before, polling="raf", timeout=30_000)
    volunteer.still()
    assert "2 waiting" in volunteer.text()  # the news is on the screen
    assert volunteer.page.evaluate(NODE_OF, "add-recovery") == node  # the same node: a tap on it still reaches it
    volunteer.tap("add-recovery")
    volunteer.wait_for("save-recovery")
