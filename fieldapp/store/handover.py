"""An export's working copy: in the data folder only while it is handed over.

A lead's export leaves the phone through the system's save dialog or share
sheet (a download in a browser). The dialog is given a file, so the export is
written to `exports/` first; once handed over it is removed, and anything left
there (a hand-over a kill cut short) is removed by retention, wipe, and
sealing a folder with a PIN, so no plain export stays on the phone.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from .durable import atomic_write

EXPORTS = "exports"


def working_copy(folder: Path | str, name: str, payload: bytes) -> Path:
    """Write an export for the hand-over; the caller removes it after (`handed_over`)."""
    exports = Path(folder) / EXPORTS
    exports.mkdir(exist_ok=True)
    path = exports / Path(name).name
    atomic_write(path, payload, durable=False)  # lost to a power cut, it is made again
    return path


def handed_over(path: Path) -> None:
    """The export has left the phone (or the hand-over failed): its copy goes."""
    path.unlink(missing_ok=True)


def remove_exports(folder: Path | str) -> None:
    """Every export left in the folder: they may quote any record."""
    shutil.rmtree(Path(folder) / EXPORTS, ignore_errors=True)
