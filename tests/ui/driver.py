"""The browser driver: the volunteer's app run by `fieldapp ui --web`, driven in a real headless Chromium at phone size.

It never waits a fixed time. After a tap, a tab, a visit or Back it waits for the app's answer:
the app's shell names each drawing of the screen in a marker of the accessibility tree
(`drawn-N`, fieldapp/ui/app.py), so a tap is answered when the marker has changed. Then it waits
for the screen to be still: every node of the accessibility tree in the same place for two
animation frames running (a list scrolling itself, a screen sliding in). A screenshot waits two
more frames, for the canvas to paint what the tree says.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import httpx
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
# Where the screenshots go: a scratch folder, unless FIELDAPP_SCREENSHOTS names
# another (FIELDAPP_SCREENSHOTS=docs/screenshots refreshes the documentation's).
SHOTS = Path(os.environ.get("FIELDAPP_SCREENSHOTS") or Path(tempfile.gettempdir()) / "fieldapp-screenshots").absolute()
PHONE = {"width": 412, "height": 915}
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
WAIT_MS = 30_000
STILL_MS = 60_000  # a screen standing still: at most this long, however slowly its frames come
FILLS = 5  # how often `type` fills a field that lost what was filled

# The accessibility tree's nodes with their places, frame after frame, until `frames` frames running
# change nothing: {still: true}. Otherwise, after `left` frames or `ms` milliseconds, whichever comes first,
# {still: false, moving: [...]}: the nodes that moved in the last frame, as [id, x, y, width, height] before and
# after. The time bound is for a screen that redraws without end: on a busy machine its frames come slowly, and
# 3000 of them had kept a test waiting past its 300 s.
STILL = """([selector, frames, left, ms]) => new Promise(done => {
    const shape = () => Array.from(document.querySelectorAll(selector), e => {
        const r = e.getBoundingClientRect();
        return [e.getAttribute('flt-semantics-identifier'), r.x, r.y, r.width, r.height];
    });
    const key = nodes => JSON.stringify(nodes);
    const until = performance.now() + ms;
    // what moved between two frames, named only when the wait gives up
    const moved = (before, after) => Array.from({length: Math.max(before.length, after.length)},
        (_, i) => [before[i] || null, after[i] || null]).filter(([a, b]) => key(a) !== key(b)).slice(0, 8);
    let last = shape(), lastKey = key(last), same = 0;
    const frame = () => {
        const now = shape(), nowKey = key(now);
        same = nowKey === lastKey ? same + 1 : 0;
        const before = last;
        last = now;
        lastKey = nowKey;
        if (same >= frames) done({still: true});
        else if (--left <= 0 || performance.now() > until) done({still: false, moving: moved(before, now)});
        else requestAnimationFrame(frame);
    };
    requestAnimationFrame(frame);
})"""
FRAMES = "n => new Promise(done => { const next = k => k ? requestAnimationFrame(() => next(k - 1)) : done(); next(n); })"
DRAWN = '[flt-semantics-identifier^="drawn-"]'
REDRAWN = f"""before => {{ const e = document.querySelector('{DRAWN}');
                          return e !== null && e.getAttribute('flt-semantics-identifier') !== before; }}"""
LAYOUT = """() => {
    const box = e => { if (!e) return null; const r = e.getBoundingClientRect();
                       return {x: r.x, y: r.y, width: r.width, height: r.height}; };
    const targets = document.querySelectorAll(
        'flt-semantics[role=button], flt-semantics[role=tab], flt-semantics[role=checkbox], flt-semantics[role=switch], ' +
        'flt-semantics[role=radio], flt-semantics[role=link], flt-semantics[role=menuitem], flt-semantics[role=combobox]');
    return {
        nav: box(document.querySelector('flt-semantics[role=tablist]')),
        badge: box(document.querySelector('[flt-semantics-identifier="sync-badge"]')),
        targets: Array.from(targets, e => { const r = e.getBoundingClientRect();
            return [e.getAttribute('role') + ':' + (e.getAttribute('aria-label') || e.innerText || '').slice(0, 40),
                    r.width, r.height, r.y, r.y + r.height <= window.innerHeight && r.y >= 0]; }),
    };
}"""
# The boxes of the nodes named (null for one not there).
BOXES = """ids => ids.map(id => { const e = document.querySelector(`[flt-semantics-identifier="${id}"]`);
                                 if (!e) return null; const r = e.getBoundingClientRect();
                                 return {x: r.x, y: r.y, width: r.width, height: r.height}; })"""
# The text field inside the node named `id` has the focus; it holds `text`.
FOCUSED = """id => { const e = document.activeElement;
                     return e !== null && ['INPUT', 'TEXTAREA'].includes(e.tagName)
                            && e.closest(`[flt-semantics-identifier="${id}"]`) !== null; }"""
HOLDS = """([id, text]) => { const e = document.querySelector(`[flt-semantics-identifier="${id}"] :is(input, textarea)`);
                            return e !== null && e.value === text; }"""
# A node's box, and the band of the screen between the sync badge and the navigation bar where a list shows it.
BAND = """id => { const r = e => e && e.getBoundingClientRect();
    const node = r(document.querySelector(`[flt-semantics-identifier="${id}"]`));
    const badge = r(document.querySelector('[flt-semantics-identifier="sync-badge"]'));
    const nav = r(document.querySelector('flt-semantics[role=tablist]'));
    // a list's node shows below the badge; the title bar's and the badge's own above it
    const top = badge && node && node.y + node.height > badge.y + 0.5 && id !== 'sync-badge' ? badge.y + badge.height : 0;
    return [node && {y: node.y, height: node.height}, [top, nav ? nav.y : window.innerHeight]]; }"""
# Directional isolates (U+2066..U+2069, around every value in an Arabic line: fieldapp/i18n.py) are invisible:
# left out on both sides, so a test looks for the words as a reader sees them.
SAYS = """text => Array.from(document.querySelectorAll('flt-semantics'),
                             e => e.innerText + ' ' + (e.getAttribute('aria-label') || '')).join(' ')
                        .replace(/[\u2066-\u2069]/g, '').includes(text.replace(/[\u2066-\u2069]/g, ''))"""


def start_app(data: Path, env: dict | None = None):
    """`fieldapp ui --web` on a free port, in its own session; returns (url, process) once it answers."""
    port = free_port()
    env = {**os.environ, "FIELDAPP_LANG": "en", **(env or {})}
    proc = subprocess.Popen([sys.executable, "-m", "fieldapp", "ui", "--web", "--port", str(port), "--data", str(data)],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            httpx.get(url, timeout=0.5)
            return url, proc
        except httpx.HTTPError:
            try:  # between tries, wait on the process itself: one that ended says why at once
                proc.wait(timeout=0.1)
            except subprocess.TimeoutExpired:
                continue
            raise RuntimeError(proc.stderr.read().decode(errors="replace")[-2000:]) from None
    stop_app(proc)
    raise RuntimeError(f"fieldapp ui --web did not answer on {url}")


def stop_app(proc) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


class Phone:
    """Drives the Flutter web client through its accessibility DOM."""

    def __init__(self, page):
        self.page = page
        self.outside: list[str] = []  # requests that reached the network layer for another host
        self.refused: list[str] = []  # requests the browser refused under the app's policy

    # --- the app in the page ----------------------------------------------------------------------

    def open(self, url: str) -> None:
        # The app's Content-Security-Policy must stop the browser before any
        # outside address; a request that got as far as the network shows here.
        self.page.on("requestfailed", lambda r: self.refused.append(r.url) if r.failure == "csp" else None)

        def route(r):
            if r.request.url.startswith("http://127.0.0.1"):
                return r.continue_()
            self.outside.append(r.request.url)
            return r.abort()

        self.page.route("**/*", route)
        self.load(url, "new-call")

    def load(self, url: str, ready: str) -> None:
        """Load the page at `url`, switch on Flutter's accessibility tree, and wait for the node `ready`."""
        self.page.goto(url)
        self.page.wait_for_selector("flt-semantics-placeholder", state="attached", timeout=60_000)
        self.page.locator("flt-semantics-placeholder").evaluate("e => e.click()")
        self.wait_for(ready, timeout=60_000)
        self.still()

    # --- waiting on the screen --------------------------------------------------------------------

    def drawn(self) -> str | None:
        """The app's marker of its latest drawing (None before the app's screens are drawn, as behind the lock)."""
        marker = self.page.locator(DRAWN)
        return marker.first.get_attribute("flt-semantics-identifier") if marker.count() else None

    def answered(self, before: str | None) -> None:
        """Wait until the app has drawn the screen again since `before`, and the screen is still."""
        try:
            self.page.wait_for_function(REDRAWN, arg=before, polling="raf", timeout=WAIT_MS)
        except Exception:
            self.page.screenshot(path=str(SHOTS / "failed-waiting-for-an-answer.png"))
            raise
        self.still()

    def still(self, frames: int = 2) -> None:
        """Wait until no node of the accessibility tree moves for two (or `frames`) animation frames running."""
        answer = self.page.evaluate(STILL, ["flt-semantics", frames, 3000, STILL_MS])
        if not answer["still"]:
            self.page.screenshot(path=str(SHOTS / "failed-standing-still.png"))
            raise AssertionError(f"the screen never stood still in {STILL_MS / 1000:.0f} s; moving: {answer['moving']}")

    def repaint(self) -> None:
        """Make Flutter draw the screen anew, as it stands: the page one pixel shorter for a moment, then back.

        On a busy machine Flutter's web canvas now and then keeps a frame it has already replaced: the tree says
        the new screen, the picture shows the old one until the app draws again (the README's known problems).
        A picture test that sees that asks for a new frame instead of waiting for one that is not coming.
        """
        size = self.page.viewport_size or PHONE
        self.page.set_viewport_size({"width": size["width"], "height": size["height"] - 1})
        self.frames(2)
        self.page.set_viewport_size(size)
        self.still()

    def frames(self, n: int = 2) -> None:
        self.page.evaluate(FRAMES, n)

    def node(self, identifier: str):
        return self.page.locator(f'[flt-semantics-identifier="{identifier}"]').first

    def wait_for(self, identifier: str, timeout: float = WAIT_MS) -> None:
        try:
            self.page.wait_for_selector(f'[flt-semantics-identifier="{identifier}"]', state="attached", timeout=timeout)
        except Exception as error:
            self.page.screenshot(path=str(SHOTS / f"failed-waiting-for-{identifier}.png"))
            error.add_note(f"the page says: {self.text()}")
            raise

    def wait_for_text(self, text: str, timeout: float = WAIT_MS) -> None:
        """Wait until the page says `text` (a node's text or the label a screen reader reads)."""
        self.page.wait_for_function(SAYS, arg=text, polling="raf", timeout=timeout)

    def settle(self, identifier: str) -> None:
        """Scroll a node into view and wait until the screen stops moving (a list scrolling itself).

        A screen the app draws anew (the sync's news) replaces its nodes: the node is looked up again.
        """
        self.still()
        for _ in range(30):
            box, band = self.page.evaluate(BAND, identifier)
            if box is None or band[0] - 0.5 <= box["y"] and box["y"] + box["height"] <= band[1] + 0.5:
                return
            # The mouse wheel moves the list at once; a browser scroll (scrollIntoView) makes Flutter animate
            # the list a frame or two later, and a tap can land as it starts to move.
            self.scroll(box["y"] + box["height"] / 2 - (band[0] + band[1]) / 2)
        raise AssertionError(f"{identifier} could not be scrolled into view")

    # --- acting on it -----------------------------------------------------------------------------

    def tap(self, identifier: str, *, answered: bool = True, at: dict | None = None) -> None:
        """Tap a node once it is still (at its middle, or at the point `at` in it); then wait for the app's answer.

        `answered=False` for a tap whose answer changes a part of the screen in place without drawing it
        anew (the lock's wrong PIN, Withdraw's question): the test then waits for that part.
        """
        self.wait_for(identifier)
        self.settle(identifier)
        self.click(self.node(identifier), answered=answered, at=at)

    def click(self, locator, *, answered: bool = True, at: dict | None = None) -> None:
        before = self.drawn()
        locator.click(position=at)
        if answered:
            self.answered(before)

    def tab(self, index: int) -> None:
        """The bottom navigation bar: 0 Calls, 1 Day queue, 2 Settings."""
        self.still()
        self.click(self.page.locator("flt-semantics[role=tab]").nth(index))

    def visit(self, route: str) -> None:
        """Go to a route as a link in the page would: the address changes, the app is not loaded again."""
        before = self.drawn()
        self.page.evaluate("r => { history.pushState(null, '', r); dispatchEvent(new PopStateEvent('popstate')); }", route)
        self.answered(before)

    def back(self) -> None:
        """The browser's Back, to a screen the app draws again."""
        before = self.drawn()
        self.page.go_back()
        self.answered(before)

    def scroll(self, dy: float) -> None:
        """The mouse wheel over the list, then wait until the list is still."""
        self.page.mouse.move(200, 500)
        self.page.mouse.wheel(0, dy)
        self.still()

    def type(self, identifier: str, text: str, *, check: bool = True) -> None:
        """Focus the field, fill it, and wait until it holds the text.

        `check=False` for a password field (the lock's PIN): Flutter's obscured field neither holds every
        typed text in its input (Arabic-Indic digits) nor always reports its focus after a reload, so it is
        tapped, filled, and the test waits for the app's answer instead.
        """
        self.wait_for(identifier)
        self.settle(identifier)
        box = self.node(identifier).locator("input, textarea").first
        if not check:
            # The lock's field, focused by its own autofocus or by the tap. Flutter keeps a field's input read-only
            # until the field has the focus; a tap that lands as the lock's autofocus moves it can leave it so:
            # tapped again until the input takes the text, after a blur: a tap on the field Flutter holds focused
            # left it read-only for 30 s (seen twice, after a refused PIN, on a busy machine).
            def tap_and_fill(timeout: float) -> None:
                box.click()
                self.frames()
                box.fill(text, timeout=timeout)

            def blur() -> None:
                box.evaluate("e => e.blur()")
                self.frames()

            self._again(tap_and_fill, f"failed-typing-into-{identifier}", between=blur)
            self.frames()
            return

        # Focus first: filling an unfocused field can send a stale value. A screen still taking its own
        # focus (the lock's autofocus) can take it away again on a busy machine: focused again until it holds.
        def focus(timeout: float) -> None:
            box.focus()
            self.page.wait_for_function(FOCUSED, arg=identifier, polling="raf", timeout=timeout)

        self._again(focus, f"failed-focusing-{identifier}")
        box.fill(text)

        # Flutter sets the field's text from its own state once it has taken the focus; on a busy machine
        # that can come after the fill and empty the field again, even after the field was seen holding it.
        # So the text is filled again until the field holds it, and still holds it a few frames later.
        def holds(timeout: float) -> None:
            self.page.wait_for_function(HOLDS, arg=[identifier, text], polling="raf", timeout=timeout)
            self.frames(3)
            if not self.page.evaluate(HOLDS, [identifier, text]):
                raise PlaywrightTimeout(f"{identifier} was emptied again after the fill")

        self._again(holds, f"failed-typing-into-{identifier}", between=lambda: box.fill(text))
        self.frames()

    def _again(self, attempt: Callable[[float], None], failed: str, *, between: Callable[[], object] | None = None) -> None:
        """`attempt(timeout)` up to FILLS times, the same 30 s in all, `between` before each try again; the last
        timeout leaves a screenshot named `failed` and is raised."""
        for left in range(FILLS, 0, -1):
            try:
                attempt(WAIT_MS / FILLS)
                return
            except PlaywrightTimeout:
                if left == 1:
                    self.page.screenshot(path=str(SHOTS / f"{failed}.png"))
                    raise
                if between is not None:
                    between()

    # --- what it shows ----------------------------------------------------------------------------

    def nav_box(self) -> dict:
        return self.page.locator("flt-semantics[role=tablist]").first.bounding_box()

    def targets(self) -> list[list]:
        """Every button, tab, chip, checkbox and switch on screen: [name, width, height, y, whole on screen]."""
        return self.layout()["targets"]

    def layout(self) -> dict:
        """Measured once the screen is still, in one look: the navigation bar's box, the sync badge's, every target's.

        A list still settling (a scroll's last frames, a screen drawn anew by the sync's news) can stand still for
        two frames and move again: the layout is measured until two looks a few frames apart agree.
        """
        self.still()
        last = self.page.evaluate(LAYOUT)
        for _ in range(50):
            self.frames(3)
            now = self.page.evaluate(LAYOUT)
            if now == last:
                return now
            self.still()
            last = now
        raise AssertionError("the layout never stood still for its measurement")

    def boxes(self, *identifiers: str) -> list[dict | None]:
        """The boxes of the nodes named, in one look, measured until two looks a few frames apart agree."""
        self.still()
        last = self.page.evaluate(BOXES, list(identifiers))
        for _ in range(50):
            self.frames(3)
            now = self.page.evaluate(BOXES, list(identifiers))
            if now == last:
                return now
            self.still()
            last = now
        raise AssertionError(f"{identifiers} never stood still for their measurement")

    def text(self) -> str:
        """What the page says: its nodes' texts and the labels a screen reader reads (without the invisible isolates)."""
        labels = self.page.eval_on_selector_all("flt-semantics", "els => els.map(e => e.getAttribute('aria-label') || '')")
        return re.sub("[\u2066-\u2069]", "", " ".join(self.page.locator("flt-semantics").all_inner_texts() + labels))

    def shot(self, name: str) -> None:
        """A screenshot (`picture`), saved as SHOTS/name.png."""
        image = self.picture(name)
        SHOTS.mkdir(parents=True, exist_ok=True)  # a test that takes one may run first, in any process
        (SHOTS / f"{name}.png").write_bytes(image)

    def picture(self, what: str = "a picture") -> bytes:
        """The screen as a PNG, once the screen is still and the canvas has painted it.

        The tree is still before the picture is: a screen fading or zooming in keeps its nodes in place.
        So the picture is taken until two taken two frames apart are the same, after a frame drawn anew
        (`repaint`): a canvas that kept an old frame had put the screen before into the documentation's
        pictures (the settings under the queue's name, Flet's start-up page under a refusal's), and the dark
        look into a test's reading of the light one. The mouse leaves the screen's controls first: a tab's
        tooltip stayed over the picture after a tap on it.
        """
        self.page.mouse.move(1, 1)
        self.repaint()
        last = None
        for _ in range(50):
            self.frames(2)
            image = self.page.screenshot()
            if image == last:
                return image
            last = image
        raise AssertionError(f"the screen never stood still for {what}")
