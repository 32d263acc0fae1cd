"""The central server: `sync.server`, its own deployment (`pip install .[server]`), importing nothing of Flet."""
