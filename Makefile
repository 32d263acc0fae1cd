# The two commands: `make run` and `make test`. Both set everything up first.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

.PHONY: run test bench setup clean

setup: $(STAMP)

# The phone's exact versions (the APK's pins, [tool.flet.android].dependencies) hold
# here too, so every test of the phone's code runs on what the APK installs.
PINS := $(VENV)/phone-pins.txt

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -c "import tomllib; d = tomllib.load(open('pyproject.toml', 'rb')); \
	  print('\n'.join(r.split('#')[0].strip() for r in d['tool']['flet']['android']['dependencies'] if '==' in r))" > $(PINS)
	$(PY) -m pip install --quiet -e '.[phone,server,dev]' --constraint $(PINS)
	touch $(STAMP)

# A plain command, no shell between: make then sends TERM straight to devrun, which
# stops the server and the app; INT and HUP that reach make alone, devrun notices itself.
run: $(STAMP)
	$(PY) -m fieldapp.devrun

# What the linter keeps in shape: all the code; the type checker: the phone's app and the server.
LINTED := fieldapp sync bench tests
TYPED  := fieldapp sync

# The suite in TEST_PROCESSES processes (pytest-xdist), one per core of this two-core machine: four were
# faster (7.5 min) but left a browser test short of CPU often enough to time out (1 run in 2, idle machine).
# Each process takes a share of the tests and, when it runs out, takes half of what another still has.
TEST_PROCESSES ?= 2

test: $(STAMP)
	$(VENV)/bin/ruff check $(LINTED)
	$(VENV)/bin/mypy $(TYPED)
	$(PY) -m pytest -n $(TEST_PROCESSES) --dist worksteal

bench: $(STAMP)
	$(PY) -m bench

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
