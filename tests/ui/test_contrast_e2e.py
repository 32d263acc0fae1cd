"""Every control's edge at least 3:1 against what surrounds it (WCAG 2.1 AA, 1.4.11), light and dark, measured on
screenshots in a real Chromium; the figures' two series told apart by more than colour (issue 25, item 9).

For each button, tile, chip, card, menu and text field on screen: across the middle half of its top and its
bottom side, the colour just outside it against the most unlike pixel of its edge (tests/ui/test_a11y_e2e.py,
`boundary_contrast`); an icon-only control, its glyph against its ground. The figures measured are printed.
"""

from __future__ import annotations

from collections import Counter

import flet as ft
import flet_charts as fch
import pytest
from PIL import ImageChops

from tests.ui.driver import Phone
from tests.ui.test_a11y_e2e import (
    CONTROLS,
    FIXED,
    PAGES,
    band,
    boundary_contrast,
    demo_day,
    glyph_contrast,
    open_page,
    painted,
    record_ids,
)

# A switch's node holds its words beside its track: the track is found in the picture and measured (see `track`).
TRACKED_ROLES = ("switch",)
# The bottom navigation's tabs, each with its box and whether it is the one chosen.
TABS = """() => Array.from(document.querySelectorAll('flt-semantics[role=tab]')).map(e => {
  const r = e.getBoundingClientRect();
  return {box: {x: r.x, y: r.y, width: r.width, height: r.height}, selected: e.getAttribute('aria-selected') === 'true',
          text: (e.innerText || e.getAttribute('aria-label') || '').trim()};
})"""


def _runs(columns: list[bool]) -> list[tuple[int, int]]:
    runs, start = [], None
    for i, inked in enumerate([*columns, False]):
        if inked and start is None:
            start = i
        elif not inked and start is not None:
            runs.append((start, i))
            start = None
    return runs


def ink_box(image, box: dict, ground, *, rows: tuple[float, float] = (0.0, 1.0)) -> list[dict]:
    """The parts drawn in a box (its columns of pixels unlike `ground`, run by run), each with its own height:
    a switch's track beside its words, a tab's indicator above its label."""
    from tests.ui.test_a11y_e2e import contrast

    px = image.load()
    x0, x1 = round(box["x"]), round(box["x"] + box["width"])
    y0 = round(box["y"] + box["height"] * rows[0])
    y1 = round(box["y"] + box["height"] * rows[1])
    inked = [[y for y in range(y0, y1) if contrast(px[x, y], ground) > 1.1] for x in range(x0, x1)]
    parts = []
    for a, b in _runs([bool(col) for col in inked]):
        ys = [y for col in inked[a:b] for y in col]
        parts.append({"x": x0 + a, "y": min(ys), "width": b - a, "height": max(ys) - min(ys) + 1})
    return parts


def track(image, box: dict) -> dict | None:
    """A switch's track: the part of its node as tall as a track (Material's is 52 by 32 px), not its words."""
    ground = image.getpixel((round(box["x"]) + 1, round(box["y"]) + 1))
    parts = [p for p in ink_box(image, box, ground) if 24 <= p["height"] <= 40 and 40 <= p["width"] <= 64]
    return parts[0] if parts else None


def tab_figures(image, tabs: list[dict]) -> list[tuple[str, float]]:
    """Each tab: its icon and words against the bar (what shows it is a control); the chosen one's indicator
    against the bar (what shows which is chosen)."""
    from tests.ui.test_a11y_e2e import glyph_contrast

    figures = []
    for tab in tabs:
        name = f"tab:{tab['text'][:12]}"
        figures.append((name, glyph_contrast(image, tab["box"])))
        if tab["selected"]:
            ground = image.getpixel((round(tab["box"]["x"]) + 1, round(tab["box"]["y"]) + 1))
            parts = [p for p in ink_box(image, tab["box"], ground, rows=(0.0, 0.62)) if p["width"] >= 40]
            assert parts, f"{name}: no indicator behind the chosen tab's icon"
            figures.append((f"{name} (chosen)", boundary_contrast(image, parts[0], depth=4)))
    return figures


def same_picture(a, b) -> bool:
    return a is not None and a.size == b.size and ImageChops.difference(a, b).getbbox() is None


def scrolled(before: list[dict], after: list[dict]) -> bool:
    """Whether the list moved under its fixed parts (the badge, the New call button that floats over the list): a
    control came or went, or stands elsewhere below the badge.

    Not the tree as a whole: the badge's words change as the app retries its server ("Sending 0 of 22", then "No
    answer from the server since 15:40", a line taller, the cards below it lower), and a list that fits on the
    screen does not scroll at all (the home page lists today's calls only: of the demo's few days, at some hours
    three).
    """
    def under_badge(controls: list[dict]) -> list[tuple[str, float]]:
        badge = next((c["box"] for c in controls if c["id"] == "sync-badge"), None)
        floor = badge["y"] + badge["height"] if badge else 0.0
        return sorted((c["id"] or c["text"], c["box"]["y"] - floor) for c in controls
                      if c["id"] not in FIXED | {"new-call"})

    return under_badge(before) != under_badge(after)


def measure(phone: Phone, where: str, before=None) -> tuple[list[tuple[str, float]], object]:
    """The controls wholly in view (a list's edge, the New call button over a card: measured when scrolled).

    The picture is taken again until the tree read before and after it is the same, and it is not the screen
    before this one still on the canvas (a screen drawn anew in the other theme paints a moment later).
    """
    controls = phone.page.evaluate(CONTROLS)
    why = ""
    for attempt in range(50):
        phone.page.mouse.move(1 + attempt % 2, 1)  # off every control (no hover's tint), and an event to draw on
        image = painted(phone, where)
        again = phone.page.evaluate(CONTROLS)
        badge = next((c["box"] for c in again if c["id"] == "sync-badge"), None)
        # The badge stands in the same place on every screen: a picture of the screen before still sliding
        # away (Flutter's transition, now and then still on the canvas) does not show it where the tree does.
        edge = boundary_contrast(image, badge) if badge is not None else None
        if again != controls:
            why = f"the tree moved: {[c for c in again if c not in controls]} for {[c for c in controls if c not in again]}"
        elif same_picture(before, image):
            why = "the picture is still the screen before"
            if attempt % 5 == 4:
                phone.repaint()  # a canvas left behind its tree (Phone.repaint)
        elif edge is not None and edge < 3:
            why = f"the badge's edge at {edge:.2f}:1 in the picture"
        else:
            break
        controls = again
        phone.frames(5)
    else:
        raise AssertionError(f"{where}: the picture never showed the screen the accessibility tree has ({why})")
    top, bottom = band(phone)
    fab = phone.page.locator('[flt-semantics-identifier="new-call"]')
    fab_box = fab.first.bounding_box() if fab.count() else None
    figures = []
    for c in controls:
        box = c["box"]
        if c["id"] not in FIXED | {"new-call"} and not (top + 5 < box["y"] and box["y"] + box["height"] < bottom - 1):
            continue
        if fab_box and c["id"] != "new-call" and box["y"] + box["height"] > fab_box["y"] - 4:
            continue
        icon = c["id"] in ("back", "show-day")
        if c["role"] in TRACKED_ROLES:
            found = track(image, box)
            assert found is not None, f"{where}: no track found in the switch {c['id']}"
            figures.append((f"switch:{c['id']}", boundary_contrast(image, found)))
            continue
        else:
            ratio = glyph_contrast(image, box) if icon else boundary_contrast(image, box)
        figures.append((c["id"].split("-")[0] if len(c["id"]) > 30 else c["id"] or c["text"][:20], ratio))
    figures += tab_figures(image, phone.page.evaluate(TABS))
    return figures, image


def measured(phone: Phone, where: str, before=None) -> tuple[list[tuple[str, float]], object]:
    """`measure`, and a figure under 3:1 measured again on a frame drawn anew: a canvas left a frame behind its
    tree (Phone.repaint) shows a control where the tree has none, measured as 1:1. A low figure must hold on both."""
    figures, image = measure(phone, where, before)
    if any(ratio < 3.0 for _, ratio in figures):
        phone.repaint()
        figures, image = measure(phone, where, before)
    return figures, image


@pytest.mark.parametrize("look", ["light", "dark"])
def test_every_control_edge_is_at_least_3_to_1_against_the_page(app, phone, look):
    url, data = app
    demo_day(data)
    ids = record_ids(data)
    phone.open(url)
    if look == "dark":
        open_page(phone, "settings", ids)
        phone.tap("dark")
        # The page opened again, dark from its start: after the restyle in place Flutter's web canvas can keep
        # Settings painted over the next screens (the tree moves on, the picture does not; an open bug, see the
        # README's known problems), and this test measures the theme's colours, not that repaint.
        phone.open(url)
    low: list[str] = []
    weakest: dict[str, float] = {}
    image = None
    for page in PAGES:
        open_page(phone, page, ids)
        figures, image = measured(phone, f"contrast-{page}-{look}", image)
        top = phone.page.evaluate(CONTROLS)
        phone.scroll(5000)  # the list's end too (the queue's export switch and buttons, Settings' Wipe)
        if scrolled(top, phone.page.evaluate(CONTROLS)):
            more, image = measured(phone, f"contrast-{page}-end-{look}", image)
            figures += more
            phone.scroll(-5000)
        for name, ratio in figures:
            key = f"{page}:{name}"
            weakest[key] = min(weakest.get(key, 99.0), ratio)
            if ratio < 3.0:
                low.append(f"{key} {ratio:.2f}:1")
    print(f"\nboundary contrast ({look}), weakest first:")
    for key, ratio in sorted(weakest.items(), key=lambda kv: kv[1])[:15]:
        print(f"  {ratio:5.2f}:1  {key}")
    print(f"switches and tabs ({look}):")
    for key, ratio in sorted(weakest.items()):
        if ":switch:" in key or ":tab:" in key:
            print(f"  {ratio:5.2f}:1  {key}")
    assert any(":switch:" in key for key in weakest) and any("(chosen)" in key for key in weakest), weakest
    assert len(weakest) > 40, weakest
    assert low == [], low


def test_the_chart_tells_its_two_series_apart_by_more_than_colour(tmp_path):
    """Calls are solid bars; people are striped (bands of the page's colour across the bar); the legend the same."""
    from fieldapp.core.figures import record_day
    from fieldapp.store import RecordStore
    from fieldapp.ui import views
    from fieldapp.ui.state import AppState

    demo_day(tmp_path / "device")
    store = RecordStore.open(tmp_path / "device")
    try:
        state = AppState(store, tmp_path / "device")
        state.open_route("/queue/figures")
        # The day most people were brought out on: the latest call's day is today, which just after midnight
        # holds a call or two and no one yet.
        days = Counter(record_day(r.record) for r in store.iter_current() if r.type == "recovery")
        state.queue.day = days.most_common(1)[0][0]

        class Still:
            def __getattr__(self, name):
                return lambda *a, **k: None

        view = views.build(state, Still(), "/queue/figures", top=True)
    finally:
        store.close()

    def walk(control):
        yield control
        for name in ("content", "controls"):
            inner = getattr(control, name, None)
            for child in inner if isinstance(inner, list) else [inner] if isinstance(inner, ft.Control) else []:
                yield from walk(child)

    [chart] = [c for root in view.controls for c in walk(root) if isinstance(c, fch.BarChart)]
    people = [g.rods[1] for g in chart.groups if g.rods[1].to_y]
    assert people, "a day with people brought out"
    for calls_rod in (g.rods[0] for g in chart.groups):
        assert calls_rod.stack_items == []  # solid
    for rod in people:
        colours = [item.color for item in rod.stack_items]
        assert ft.Colors.SURFACE in colours and len(set(colours)) == 2, colours  # striped across
        assert rod.stack_items[-1].to_y == rod.to_y
