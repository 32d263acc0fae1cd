"""`fieldapp` and `python -m fieldapp`: the device command line.

A server's install (`pip install fieldapp[server]`) has none of the phone's
packages; there the command says in one line which extra to install instead of
dying on an import.
"""

import sys

# The phone's own packages (the `phone` extra), by their import names.
PHONE_MODULES = ("tinydb", "httpx", "cryptography", "flet", "flet_charts", "flet_geolocator")
# sysexits' EX_UNAVAILABLE; the command line's own codes are listed in fieldapp.cli.
EXIT_NOT_INSTALLED = 69


def run() -> int:
    try:
        from fieldapp.cli import entry

        return entry()
    except ModuleNotFoundError as missing:
        module = (missing.name or "").split(".")[0]
        if module not in PHONE_MODULES:
            raise
        print(f"fieldapp: this install has no {module}, one of the phone's packages; "
              "install them with: pip install 'fieldapp[phone]'", file=sys.stderr)
        return EXIT_NOT_INSTALLED


if __name__ == "__main__":
    sys.exit(run())
