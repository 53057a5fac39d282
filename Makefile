# The two commands a newcomer needs: `make start` (run locally) and `make test`.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PYTHON ?= $(shell command -v python3.11 || command -v python3)

.PHONY: setup start test lint token demo bench clean

setup: $(VENV)/.installed node_modules/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is needed, found " + sys.version'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

start: setup
	$(PY) -m devtools.start

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

test: lint
	$(PY) -m pytest

bench: setup
	$(PY) -m benchmarks.run

demo: setup
	$(PY) -m devtools.demo

token: setup
	@$(PY) -m devtools.dev_token $(ARGS)

clean:
	rm -rf $(VENV) node_modules .azurite .dev .pytest_cache .mypy_cache .ruff_cache
