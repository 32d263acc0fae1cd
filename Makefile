# The two commands: `make run` and `make test`. Both set everything up first.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

.PHONY: run test bench setup clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[phone,server,dev]'
	touch $(STAMP)

# A plain command, no shell between: make then sends TERM straight to devrun, which
# stops the server and the app; INT and HUP that reach make alone, devrun notices itself.
run: $(STAMP)
	$(PY) -m fieldapp.devrun

# What the linter keeps in shape: all the code; the type checker: the phone's app and the server.
LINTED := fieldapp sync bench tests
TYPED  := fieldapp sync

test: $(STAMP)
	$(VENV)/bin/ruff check $(LINTED)
	$(VENV)/bin/mypy $(TYPED)
	$(PY) -m pytest

bench: $(STAMP)
	$(PY) -m bench

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
