"""Where the device keeps its data.

In order: `--data DIR`, the `FIELDAPP_DATA` variable, Flet's app data folder on
a phone (`FLET_APP_STORAGE_DATA`), then the user's data folder
(`$XDG_DATA_HOME/fieldapp`, by default `~/.local/share/fieldapp`).
"""

from __future__ import annotations

import os
from pathlib import Path


def data_dir(explicit: str | os.PathLike | None = None) -> Path:
    if explicit:
        return Path(explicit).expanduser()
    if os.environ.get("FIELDAPP_DATA"):
        return Path(os.environ["FIELDAPP_DATA"]).expanduser()
    if os.environ.get("FLET_APP_STORAGE_DATA"):
        return Path(os.environ["FLET_APP_STORAGE_DATA"]) / "fieldapp"
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "fieldapp"
