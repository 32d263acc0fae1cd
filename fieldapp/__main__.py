import sys

from fieldapp.cli import entry

sys.exit(entry())
