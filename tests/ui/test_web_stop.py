"""`fieldapp ui --web` stops when told, even with a page still connected.

`make run` and an operator stop the app with TERM. A page left open (a lead's
browser tab, or any client holding the websocket) must not keep it running.
"""

from __future__ import annotations

import os
import signal
import subprocess

from websockets.sync.client import connect

from fieldapp.store import RecordStore
from tests.ui.driver import start_app, stop_app

# Ample for a clean stop on a loaded machine; the fault was a stop that never came.
STOPS_WITHIN_S = 30


def test_term_stops_the_app_while_a_page_holds_its_websocket(tmp_path):
    data = tmp_path / "device"
    RecordStore.open(data).close()
    url, proc = start_app(data)
    try:
        with connect(url.replace("http://", "ws://") + "/ws", origin=url, open_timeout=10) as socket:
            assert socket.protocol.state.name == "OPEN"
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                code = proc.wait(timeout=STOPS_WITHIN_S)
            except subprocess.TimeoutExpired:
                code = None
        assert code is not None, "TERM did not stop the app while a websocket was open"
    finally:
        if proc.poll() is None:
            stop_app(proc)
