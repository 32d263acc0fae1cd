"""`fieldapp ui --web` answers its own page only: foreign Origins and Hosts are refused.

A page of any site the user has open can make the browser connect to the app on
127.0.0.1 (a foreign Origin), or have a name of its own resolve to 127.0.0.1 (DNS
rebinding: a foreign Host). The app, run as the command runs it, refuses both,
to a plain client and in real Chromium, and its own page still works.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from tests.ui.driver import CHROMIUM_ARGS

EVIL = "evil.example"


def port_of(url: str) -> int:
    port = urlsplit(url).port
    assert port is not None
    return port


@pytest.mark.parametrize("host", [EVIL, f"{EVIL}:{{port}}", "127.0.0.1:1", "localhost.evil.example:{port}"])
def test_a_page_request_with_a_foreign_host_is_refused(app, host):
    url, _ = app
    response = httpx.get(url, headers={"Host": host.format(port=port_of(url))}, timeout=10)
    assert response.status_code == 403
    assert response.text.startswith("refused: Host") and "is not this app's address" in response.text


def test_a_page_request_with_a_foreign_origin_is_refused_and_its_own_answered(app):
    url, _ = app
    refused = httpx.get(url, headers={"Origin": f"http://{EVIL}"}, timeout=10)
    assert refused.status_code == 403 and "Origin 'http://evil.example'" in refused.text
    for own in (url, f"http://localhost:{port_of(url)}"):
        assert httpx.get(url, headers={"Origin": own}, timeout=10).status_code == 200
    assert httpx.get(f"http://localhost:{port_of(url)}", timeout=10).status_code == 200


@pytest.mark.parametrize("origin", [f"http://{EVIL}", "http://127.0.0.1:1", "null", None])
def test_a_websocket_from_a_foreign_origin_or_none_is_refused(app, origin):
    url, _ = app
    with pytest.raises(InvalidStatus) as refused:
        connect(url.replace("http://", "ws://") + "/ws", origin=origin, open_timeout=10).close()
    assert refused.value.response.status_code == 403


def test_a_websocket_with_a_foreign_host_is_refused_even_from_its_own_origin(app):
    url, _ = app
    with pytest.raises(InvalidStatus) as refused:
        connect(url.replace("http://", "ws://") + "/ws", origin=url, additional_headers={"Host": f"{EVIL}:{port_of(url)}"},
                open_timeout=10).close()
    assert refused.value.response.status_code == 403


def test_the_apps_own_websocket_opens(app):
    url, _ = app
    with connect(url.replace("http://", "ws://") + "/ws", origin=url, open_timeout=10) as socket:
        assert socket.protocol.state.name == "OPEN"


def test_in_chromium_the_own_page_works_and_a_foreign_page_cannot_connect(app, phone, browser):
    url, _ = app
    phone.open(url)  # the app's own page: its websocket opens and the first screen shows
    assert "Not linked" not in phone.text()

    # Another site's page, as the browser would load it, tries the app's websocket and page.
    page = browser.new_page()
    page.route(f"http://{EVIL}/**", lambda r: r.fulfill(status=200, content_type="text/html", body="<html></html>"))
    page.goto(f"http://{EVIL}/")
    outcome = page.evaluate("""url => new Promise(done => {
        const socket = new WebSocket(url);
        socket.onopen = () => done("open");
        socket.onerror = () => done("refused");
    })""", url.replace("http://", "ws://") + "/ws")
    assert outcome == "refused"
    page.close()


def test_in_chromium_a_name_rebound_to_this_machine_is_refused(app, chromium_path, playwright):
    url, _ = app
    # evil.example resolves to 127.0.0.1, as an attacker's DNS would make it after the page loaded
    rebound = playwright.chromium.launch(executable_path=chromium_path,
                                         args=[*CHROMIUM_ARGS, f"--host-resolver-rules=MAP {EVIL} 127.0.0.1"])
    try:
        page = rebound.new_page()
        response = page.goto(f"http://{EVIL}:{port_of(url)}/")
        assert response is not None and response.status == 403
        assert "is not this app's address" in page.content()
    finally:
        rebound.close()
