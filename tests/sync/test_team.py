"""The device learns its team from its first pull, and its exports name it."""

from __future__ import annotations

import io
import json

from fieldapp.cli import main as fieldapp
from fieldapp.demo import populate
from fieldapp.sync.session import run_pass


def test_the_team_learnt_at_the_pull_is_named_in_the_devices_export(link, tmp_path):
    folder = tmp_path / "device"
    store = link.device(folder, direct=True)
    populate(store, 3, seed=5)
    assert store.get_meta("team") is None
    assert run_pass(store, folder).error is None
    assert store.get_meta("team") == link.team
    assert store.get_meta("role") == "volunteer"
    store.close()
    out = io.StringIO()
    assert fieldapp(["export", "--data", str(folder)], out=out) == 0
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert lines and {line["team"] for line in lines} == {link.team}


def test_a_phone_on_a_new_team_never_gets_its_own_records_back(link, tmp_path):
    from fieldapp.sync.client import SyncClient

    folder = tmp_path / "device"
    store = link.device(folder, direct=True)
    populate(store, 20, seed=6)
    received = []
    real = SyncClient.pull

    def counting(self, since, limit, **kwargs):
        page = real(self, since, limit, **kwargs)
        received.extend(page.records)
        return page

    SyncClient.pull = counting
    try:
        assert run_pass(store, folder).error is None
        assert run_pass(store, folder).error is None
    finally:
        SyncClient.pull = real
    assert received == [] and store.counts()["sent"] == store.counts()["total"]
    store.close()
