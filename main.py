"""The phone's entry point: what `flet build apk` packages and the APK runs.

flet-cli looks for `main.py` at the root of `[tool.flet.app].path` (here the
project's root, which also holds `assets/`, `fieldapp/` and `sync/`). On a
phone the data folder is Flet's app storage (`FLET_APP_STORAGE_DATA`), which
`fieldapp.config.data_dir` picks when neither `--data` nor `FIELDAPP_DATA` is
given. On a computer, `fieldapp ui` is the same app.
"""

from fieldapp.config import data_dir
from fieldapp.ui.app import run

if __name__ == "__main__":
    run(data_dir(), web=False)
