"""The screen models' fixture: the app's state on an English phone, a fixed clock and a recording worker."""

from __future__ import annotations

import pytest

from fieldapp.store import RecordStore
from fieldapp.ui.state import AppState
from tests.ui.models.support import NOW, FakeWorker


@pytest.fixture
def state(data_dir, monkeypatch):
    monkeypatch.setenv("FIELDAPP_LANG", "en")
    store = RecordStore.open(data_dir)
    app = AppState(store, data_dir, worker=FakeWorker(), now=lambda: NOW)
    yield app
    store.close()
