"""The phone's networks, told to the sync worker: when one comes or goes, and whether one is Wi-Fi (Flet's
connectivity service). Originals held for Wi-Fi (the settings' switch) go only on one (fieldapp/sync/photos.py)."""

from __future__ import annotations

import asyncio

import flet as ft

from fieldapp.sync.worker import SyncWorker


def watch_network(worker: SyncWorker) -> None:
    """Tell the worker when the phone gets or loses a network, and which networks it is on from the start."""

    def changed(e) -> None:
        worker.on_networks([k.value for k in e.connectivity])

    try:
        service = ft.Connectivity(on_change=changed)  # registers itself with the current page
    except Exception:  # not on this platform: the periodic pass still runs
        return

    async def first_word() -> None:
        # A change event comes only on a change: a phone on Wi-Fi all day would otherwise never say so.
        try:
            kinds = await asyncio.wait_for(service.get_connectivity(), timeout=10)
        except Exception:  # not answered: taken to be a paid network until a change says otherwise
            return
        worker.on_networks([k.value for k in kinds], changed=False)

    try:
        ft.context.page.run_task(first_word)
    except Exception:  # no page here (a test's worker): the change events still come
        pass
