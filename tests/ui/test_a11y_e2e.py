"""Screens a screen reader and large text can use, in a real Chromium (issue 25, items 7 and 8).

From Chromium's accessibility tree (Playwright's aria snapshot of the semantics tree Flutter's web engine
builds): every button, field and menu has a name and none is read twice; choices say whether they are
chosen; screen and section titles are headings; a notice, the sync badge and the lock's error are
announced (Flutter's live regions write into its announcement elements, recorded here as they change).
At text scale 2x (the browser's font size: Flutter's web engine takes its text scale from it, as Android's
font size on a phone), in English and Arabic, no label reaches its control's edge (a cut label), measured
on each screenshot.

The helpers below are shared with tests/ui/test_contrast_e2e.py.
"""

from __future__ import annotations

import io
import math
import re
import statistics
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from tests.ui.driver import PHONE, ROOT, SHOTS, Phone
from tests.ui.test_lock_e2e import sealed_app  # noqa: F401

# Roles a user acts on: each needs a name. A tab is named by its label; a heading is not a control.
CONTROL_ROLES = ("button", "textbox", "combobox", "switch", "checkbox", "radio", "tab", "link", "slider", "menuitem")
LINE = re.compile(r'^\s*- (?P<role>[a-z]+)(?: "(?P<name>(?:[^"\\]|\\.)*)")?(?P<rest>.*)$')

# Every announcement the page makes (Flutter's live regions write into these two elements), kept from the start.
RECORD_ANNOUNCEMENTS = """
(() => {
  window.__announced = [];
  const watch = () => {
    const host = document.querySelector('flt-announcement-host');
    if (!host) { requestAnimationFrame(watch); return; }
    new MutationObserver(() => host.querySelectorAll('[aria-live]').forEach(e => {
      const text = e.textContent.trim();
      if (text && window.__announced[window.__announced.length - 1] !== text) window.__announced.push(text);
    })).observe(host, {subtree: true, childList: true, characterData: true});
  };
  document.addEventListener('DOMContentLoaded', watch);
})();
"""
# The control nodes on screen, each with its box, what it says, and its identifier (if any).
CONTROLS = """() => {
  const roles = ['button', 'combobox', 'switch', 'checkbox', 'radio', 'link'];
  const shown = e => { const r = e.getBoundingClientRect();
                       return r.width > 4 && r.height > 4 && r.y >= 0 && r.y + r.height <= innerHeight; };
  const box = e => { const r = e.getBoundingClientRect(); return {x: r.x, y: r.y, width: r.width, height: r.height}; };
  const nodes = Array.from(document.querySelectorAll('flt-semantics'));
  const found = [];
  for (const e of nodes) {
    const id = e.getAttribute('flt-semantics-identifier') || '';
    const role = e.getAttribute('role') || '';
    const field = id.startsWith('field-') || id === 'lock-pin';
    if (!(roles.includes(role) || field) || !shown(e)) continue;
    if (role === 'button' && !id && e.closest('[flt-semantics-identifier]') !== e
        && e.parentElement.closest('[flt-semantics-identifier^="field-"]')) continue;  // a field's own parts
    found.push({id: id || (e.closest('[flt-semantics-identifier]') || e).getAttribute('flt-semantics-identifier') || '',
                role: field ? 'field' : role, text: (e.innerText || '').trim(),
                label: e.getAttribute('aria-label') || '', box: box(e)});
  }
  return found;
}"""


def controls_in_tree(phone: Phone) -> list[tuple[str, str]]:
    """The screen's controls as Chromium's accessibility tree has them: (role, name), name '' for none."""
    phone.still()
    tree = phone.page.locator("flt-semantics-host").aria_snapshot()
    found = []
    for line in tree.splitlines():
        m = LINE.match(line.replace("- '", "- ").rstrip("'"))
        if m and m["role"] in CONTROL_ROLES:
            found.append((m["role"], (m["name"] or "").strip()))
    return found


def read_twice(name: str) -> bool:
    """A name that is the same words twice over ("Airstrike Airstrike"), or a line said twice."""
    words = name.split()
    half = len(words) // 2
    if half and len(words) % 2 == 0 and words[:half] == words[half:]:
        return True
    lines = [line.strip() for line in name.splitlines() if line.strip()]
    return len(lines) != len(set(lines))


def current(phone: Phone, identifier: str) -> str | None:
    """The selected state a screen reader is told for a node: Flutter says it as aria-current (aria-selected on a tab)."""
    node = phone.node(identifier)
    return node.get_attribute("aria-current") or node.get_attribute("aria-selected")


def announced(phone: Phone) -> list[str]:
    return phone.page.evaluate("() => window.__announced || []")


def demo_day(data: Path) -> None:
    subprocess.run([sys.executable, "-m", "fieldapp", "demo", "--calls", "8", "--seed", "4", "--data", str(data)],
                   cwd=ROOT, capture_output=True, check=True, timeout=120)


def painted(phone: Phone, name: str) -> Image.Image:
    """A screenshot of the screen once the app is painted (not Flet's start-up page, a screen of one colour)."""
    for attempt in range(50):
        phone.shot(name)
        image = Image.open(SHOTS / f"{name}.png").convert("RGB")
        common = max(image.getcolors(1 << 20) or [(0, None)])[0]
        if common < 0.9 * image.width * image.height:
            return image
        phone.frames(10)
        if attempt % 5 == 4:
            phone.repaint()  # a canvas left behind its tree (Phone.repaint)
    raise AssertionError(f"{name}: the app was never painted")


# --- contrast (WCAG 2.1) -----------------------------------------------------------------------------------

def luminance(rgb: tuple[int, int, int]) -> float:
    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4
    r, g, b = (channel(c) for c in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def boundary_contrast(image: Image.Image, box: dict, *, depth: int = 10) -> float:
    """How well a control's edge shows against what is around it.

    Across the middle half of its top and its bottom side, on each line across the edge: the colour 3 px
    outside the control's box is what surrounds it; walking from 2 px outside to `depth` px inside, the pixel
    most unlike it is the control's edge (a border, or its fill). Each side says the median of its lines;
    the control, the weaker side.
    """
    px = image.load()
    w, h = image.size
    x0, y0 = round(box["x"]), round(box["y"])
    x1, y1 = round(box["x"] + box["width"]) - 1, round(box["y"] + box["height"]) - 1
    sides = []
    for outside, inward in ((y0 - 3, 1), (y1 + 3, -1)):
        if not 0 <= outside < h:
            continue
        lines = []
        for x in range(x0 + (x1 - x0) // 4, x1 - (x1 - x0) // 4 + 1, 2):
            around = px[x, outside]
            edge = [px[x, y] for y in range(outside + inward, outside + inward * (3 + depth), inward) if 0 <= y < h]
            lines.append(max(contrast(around, p) for p in edge))
        if lines:
            sides.append(statistics.median(lines))
    return min(sides) if sides else 0.0


def glyph_contrast(image: Image.Image, box: dict) -> float:
    """An icon-only control (Back, Show this day): its glyph against the colour at its corner."""
    crop = image.crop((round(box["x"]), round(box["y"]), round(box["x"] + box["width"]), round(box["y"] + box["height"])))
    around = crop.getpixel((1, 1))
    return max(contrast(around, p) for p in crop.get_flattened_data())


def commonest(image: Image.Image) -> tuple[int, int, int]:
    """The colour most of a picture is (a control's fill, inside its edges)."""
    return max(image.getcolors(1 << 20) or [(0, (0, 0, 0))])[1]


def ink_at_edges(image: Image.Image, box: dict, *, inset: int = 2, band: int = 3) -> bool:
    """A label cut by its control: the words' ink reaches the rows just inside its top or bottom edge.

    On each of those rows, ink is a pixel at least 3:1 against both the row's commonest colour (the fill, or
    a border drawn along the row) and the control's fill (its commonest colour inside). Words that fit leave
    the padding between them and the edge to the fill and the border alone.
    """
    corner = max(24, min(box["height"] / 2, box["width"] / 4))  # clear of rounded corners (a stadium's too)
    left, right = round(box["x"] + corner), round(box["x"] + box["width"] - corner)
    top, bottom = round(box["y"]), round(box["y"] + box["height"])
    if right - left < 8 or bottom - top < 2 * (inset + band) + 4:
        return False
    inside = image.crop((left, top + inset + band, right, bottom - inset - band))
    fill = commonest(inside)
    px = image.load()
    for rows in (range(top + inset, top + inset + band), range(bottom - inset - band, bottom - inset)):
        for y in rows:
            row = [px[x, y] for x in range(left, right)]
            common = max(set(row), key=row.count)
            if sum(1 for p in row if contrast(p, common) >= 3 and contrast(p, fill) >= 3) >= 2:
                return True
    return False


def ink_at_sides(image: Image.Image, box: dict, *, inset: int = 6, band: int = 3) -> bool:
    """Words cut at a control's left or right side (a chip's words that do not wrap, clipped by its edge): ink
    at least 3:1 against the control's fill in the columns just inside either side.

    Only the rows where a rounded side (a stadium's at most: radius half the height) is within 4 px of
    straight are looked at, and `inset` clears an edge drawn inside the node (a card's margin and border): words that fit
    leave the side's padding to the fill alone. A column ink from top to bottom is an edge, not words.
    """
    left, right = round(box["x"]), round(box["x"] + box["width"])
    top, bottom = round(box["y"]), round(box["y"] + box["height"])
    clear = math.ceil(0.3 * box["height"])
    rows = range(top + clear, bottom - clear)
    if right - left < 2 * (inset + band) + 8 or len(rows) < 6:
        return False
    inside = image.crop((left + inset + band, rows.start, right - inset - band, rows.stop))
    fill = commonest(inside)
    px = image.load()
    for columns in (range(left + inset, left + inset + band), range(right - inset - band, right - inset)):
        for x in columns:
            ink = sum(1 for y in rows if contrast(px[x, y], fill) >= 3)
            if 2 <= ink <= len(rows) - 2:
                return True
    return False


def ink_beside(image: Image.Image, box: dict, *, gap: int = 1) -> bool:
    """Words that run past a control's sides: ink in the screen beside its box, on the rows its words lie in.

    A row of a switch and its words is as wide as the list; words that do not wrap run on past it, to and off
    the screen's edge. Ink is a pixel at least 3:1 against its row's commonest colour (the page); the list's
    scroll bar, which lies beside it too, is 1.2:1.
    """
    px = image.load()
    width = image.width
    sides = (range(0, max(0, round(box["x"]) - gap)), range(min(width, round(box["x"] + box["width"]) + gap), width))
    for y in range(max(0, round(box["y"]) + 4), min(image.height, round(box["y"] + box["height"]) - 4)):
        row = [px[x, y] for x in range(width)]
        common = max(set(row), key=row.count)
        if any(sum(1 for x in side if contrast(row[x], common) >= 3) >= 2 for side in sides):
            return True
    return False


def cut_by_edges(image: Image.Image, box: dict) -> bool:
    return ink_at_edges(image, box) or ink_at_sides(image, box)


def decode(png: bytes) -> Image.Image:
    return Image.open(io.BytesIO(png)).convert("RGB")


# --- the screens -------------------------------------------------------------------------------------------

PAGES = ("home", "new_call", "call", "recovery", "outbox", "settings", "queue", "figures")
HEADINGS = {"new_call": ["New call", "What happened"], "call": ["Status", "People brought out"],
            "settings": ["Settings", "Language"], "figures": ["Calls and people by hour"], "queue": ["Day queue"]}


def record_ids(data: Path) -> dict[str, str]:
    """A call with people brought out, and one of its recoveries (the demo's, on this phone)."""
    from fieldapp.store import RecordStore

    store = RecordStore.open(data)
    try:
        calls = [r for r in store.iter_current() if r.type == "call"]
        with_people = next(c for c in calls if store.recoveries_of(c.id))
        return {"call": with_people.id, "recovery": store.recoveries_of(with_people.id)[0].id}
    finally:
        store.close()


def open_page(phone: Phone, page: str, ids: dict[str, str]) -> None:
    """Go to one of PAGES, ready to be read: the queue with its filters shown, the new call with a type chosen."""
    routes = {"home": "/", "new_call": "/new", "call": f"/call/{ids['call']}", "recovery": f"/recovery/{ids['recovery']}",
              "outbox": "/sync", "settings": "/settings", "queue": "/queue", "figures": "/queue/figures"}
    ready = {"home": "new-call", "new_call": "save-call", "call": "add-recovery", "recovery": "save-recovery",
             "outbox": "send-now", "settings": "send-now", "queue": "filters", "figures": "hour-chart"}
    from urllib.parse import urlparse

    if (urlparse(phone.page.url).path or "/") != routes[page]:  # the screen shown is not drawn again
        phone.visit(routes[page])
    phone.wait_for(ready[page])
    if page == "queue" and phone.node("filters").get_attribute("aria-expanded") != "true":
        phone.tap("filters")
    if page == "new_call" and current(phone, "type-building_collapse") != "true":
        phone.tap("type-building_collapse")


def test_every_control_is_named_once_choices_say_their_state_and_titles_are_headings(app, phone):
    url, data = app
    demo_day(data)
    ids = record_ids(data)
    phone.page.add_init_script(RECORD_ANNOUNCEMENTS)
    phone.open(url)
    unnamed, twice, missing_headings = [], [], []
    for page in PAGES:
        open_page(phone, page, ids)
        found = controls_in_tree(phone)
        assert len(found) > 3, (page, found)
        unnamed += [(page, role) for role, name in found if not name]
        twice += [(page, name) for _, name in found if read_twice(name)]
        tree = phone.page.locator("flt-semantics-host").aria_snapshot()
        headings = re.findall(r'- heading "([^"]+)"', tree)
        missing_headings += [(page, h) for h in HEADINGS.get(page, []) if h not in headings]
        assert headings, (page, "no heading at all")
    assert unnamed == [], unnamed
    assert twice == [], twice
    assert missing_headings == [], missing_headings

    # a choice says whether it is chosen: incident tiles, status steps, Approve and Flag, the languages, filters
    open_page(phone, "new_call", ids)
    assert current(phone, "type-building_collapse") == "true" and current(phone, "type-fire") == "false"
    open_page(phone, "call", ids)
    phone.tap("status-on_scene")
    assert current(phone, "status-on_scene") == "true" and current(phone, "status-completed") == "false"
    open_page(phone, "settings", ids)
    assert current(phone, "lang-en") == "true" and current(phone, "lang-ar") == "false"
    open_page(phone, "queue", ids)
    assert phone.node("filters").get_attribute("aria-expanded") == "true"
    assert current(phone, "filter-all") == "true" and current(phone, "filter-refused") == "false"
    approve = phone.page.locator('[flt-semantics-identifier^="approve-"]:not([flt-semantics-identifier="approve-all"])'
                                 ).first.get_attribute("flt-semantics-identifier")  # a card's, not Approve all (above)
    assert current(phone, approve) == "false"
    phone.tap(approve)
    assert current(phone, approve) == "true"
    assert current(phone, approve.replace("approve-", "flag-", 1)) == "false"

    # the sync badge is announced, and so is a notice (Send now's), wherever the reader's focus is
    assert any("waiting" in said for said in announced(phone)), announced(phone)
    open_page(phone, "outbox", ids)
    phone.tap("send-now")
    phone.wait_for("notice")
    try:
        phone.page.wait_for_function("() => (window.__announced || []).some(t => t.includes('now. The bar at the top'))",
                                     polling="raf", timeout=30_000)
    except Exception as error:
        error.add_note(f"announced: {announced(phone)}; notice node: {phone.node('notice').evaluate('e => e.outerHTML')}")
        raise


def test_a_wrong_pin_is_announced_on_the_lock_screen(sealed_app, browser):
    url, _ = sealed_app
    phone = Phone(browser.new_page(viewport=PHONE, locale="en-US"))
    phone.page.add_init_script(RECORD_ANNOUNCEMENTS)
    phone.load(url, "lock-pin")
    assert re.search(r'- heading "[^"]+"', phone.page.locator("flt-semantics-host").aria_snapshot())
    assert all(name for _, name in controls_in_tree(phone)), controls_in_tree(phone)
    phone.type("lock-pin", "111111", check=False)
    phone.tap("lock-open", answered=False)
    phone.page.wait_for_function("() => (window.__announced || []).some(t => t.startsWith('Wrong PIN'))",
                                 polling="raf", timeout=30_000)


# --- large text --------------------------------------------------------------------------------------------

def text_scale(page, scale: float) -> None:
    """The browser's font size, which Flutter's web engine takes as the system's text scale (16 px is 1x),
    from the page's start on."""
    page.add_init_script(f"document.addEventListener('DOMContentLoaded', () => "
                         f"document.documentElement.style.fontSize = '{16 * scale}px')")


def rescale(phone: Phone, scale: float) -> None:
    """Change the text scale of the page shown (the engine watches the font size), and wait for the new layout."""
    phone.page.evaluate(f"() => document.documentElement.style.fontSize = '{16 * scale}px'")
    phone.frames(3)
    phone.still()


def band(phone: Phone) -> tuple[float, float]:
    """The part of the screen a list shows its nodes whole in: below the sync badge, above the Save bar and the
    navigation."""
    layout = phone.layout()
    badge, nav = layout["badge"], layout["nav"]
    top = badge["y"] + badge["height"] if badge else 0
    bottom = nav["y"] if nav else PHONE["height"]
    footer = phone.page.locator('[flt-semantics-identifier^="save-"]')
    if footer.count():
        box = footer.first.bounding_box()
        if box and box["y"] > PHONE["height"] / 2:
            bottom = min(bottom, box["y"] - 8)
    return top, bottom


FIXED = {"sync-badge", "back", "save-call", "save-recovery"}  # the parts that do not scroll
# An icon does not grow with text; the New call button is Material's extended floating button, 56 px high by
# its own design (its one line fits at 2x: the ink check covers it).
UNSCALED = {"back", "show-day", "new-call"}


def buttons_shown(phone: Phone) -> list[dict]:
    """The buttons wholly on screen with words on them. A menu and a text field float their label on their edge
    by design (and grow with the text of their own accord); an icon does not grow with text."""
    top, bottom = band(phone)
    shown = []
    for c in phone.page.evaluate(CONTROLS):
        b = c["box"]
        if c["role"] != "button" or not c["text"] or c["id"] in ("filter-type", "filter-status", "wipe-after"):
            continue
        # one the list's edge clips ends at that edge (4 px under the badge): it is measured when wholly in view
        if c["id"] in FIXED or top + 5 < b["y"] and b["y"] + b["height"] < bottom - 1:
            shown.append(c)
    return shown


def switches_shown(phone: Phone) -> list[dict]:
    """The switches wholly on screen (each a node of the switch and its words)."""
    top, bottom = band(phone)
    return [c for c in phone.page.evaluate(CONTROLS)
            if c["role"] == "switch" and top + 5 < c["box"]["y"] and c["box"]["y"] + c["box"]["height"] < bottom - 1]


def floating_box(phone: Phone) -> dict | None:
    """Where the New call button floats, if the screen has it."""
    button = phone.page.locator('[flt-semantics-identifier="new-call"]')
    return button.first.bounding_box() if button.count() else None


def overlaps(box: dict, other: dict | None) -> bool:
    return other is not None and (box["x"] < other["x"] + other["width"] and other["x"] < box["x"] + box["width"]
                                  and box["y"] < other["y"] + other["height"] and other["y"] < box["y"] + box["height"])


def walk(phone: Phone, where: str, *, shots: bool) -> tuple[dict[str, float], list[str]]:
    """Through a whole screen, a screenful at a time: each named button's height, and the labels cut (with `shots`)."""
    heights: dict[str, float] = {}
    cut: list[str] = []
    phone.scroll(-5000)
    for part in range(10):
        image, shown = None, buttons_shown(phone)
        for _ in range(20):  # the tree read before and after the picture is the same: the picture shows that tree
            if not shots:
                break
            image = painted(phone, where + (f"-{part}" if part else ""))
            again = buttons_shown(phone)
            if again == shown:
                break
            shown = again
        suspects: list[dict] = []
        floating = floating_box(phone)
        # a switch's words lie in a row beside it, not inside an edge: cut, they run past the row's sides
        beside = [c for c in switches_shown(phone) if ink_beside(image, c["box"])] if image is not None else []
        for c in shown:
            if c["id"]:  # a node the list's edge clips reports its visible part: its height is its tallest
                heights[c["id"]] = max(heights.get(c["id"], 0), c["box"]["height"])
            # the badge's node keeps its box of before when its words change in place (the screenshots show it whole)
            # New call floats over the list by design (the list ends with room to read its last card clear of it):
            # its own ink over a card passing under it is not that card's words.
            under_it = c["id"] != "new-call" and overlaps(c["box"], floating)
            if image is not None and c["id"] != "sync-badge" and not under_it and cut_by_edges(image, c["box"]):
                suspects.append(c)
        if suspects or beside:  # a cut label stays cut: one seen cut is looked at again in a new picture
            phone.frames(10)
            image = painted(phone, where + (f"-{part}" if part else ""))
            cut += [f"{where}: {c['id'] or c['text'][:30]!r} {c['box']}" for c in suspects
                    if buttons_shown(phone) == shown and cut_by_edges(image, c["box"])]
            cut += [f"{where}: {c['id']!r} runs past its sides {c['box']}" for c in switches_shown(phone)
                    if c in beside and ink_beside(image, c["box"])]
        before = phone.page.evaluate(CONTROLS)
        phone.scroll(450)
        if phone.page.evaluate(CONTROLS) == before:
            break
    return heights, cut


@pytest.mark.parametrize("language", ["en", "ar"])
def test_at_text_scale_2x_no_label_is_cut(app, phone, language):
    """At 2x every button's words are whole: no fixed height holds them (each button is taller than at 1x by
    at least a line's growth), no words reach a button's edges (top, bottom or sides), and no switch's words
    run past the row they lie in (measured on each screenshot).
    """
    url, data = app
    demo_day(data)
    ids = record_ids(data)
    phone.open(url)
    if language == "ar":
        open_page(phone, "settings", ids)
        phone.tap("lang-ar")
    SHOTS.mkdir(parents=True, exist_ok=True)
    cut: list[str] = []
    held: list[str] = []
    for page_name in PAGES:
        open_page(phone, page_name, ids)
        normal, _ = walk(phone, page_name, shots=False)
        rescale(phone, 2)
        assert phone.page.evaluate("() => getComputedStyle(document.documentElement).fontSize") == "32px"
        large, cut_here = walk(phone, f"large-{page_name}-{language}", shots=True)
        cut += cut_here
        held += [f"{page_name}: {i} {normal[i]:.0f} px at 1x, {large[i]:.0f} px at 2x"
                 for i in normal.keys() & large.keys() if large[i] < normal[i] + 12 and i not in UNSCALED]
        assert len(normal.keys() & large.keys()) >= 2, (page_name, normal, large)
        rescale(phone, 1)
    assert held == [], "\n".join(held)
    assert cut == [], cut
