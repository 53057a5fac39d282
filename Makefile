# The two commands a newcomer needs: `make start` (run locally) and `make test`.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PYTHON ?= $(shell command -v python3.11 || command -v python3.12 || command -v python3.13 || command -v python3)

.PHONY: setup start test test-unit test-storage test-e2e lint token demo bench clean chromium

CHECKOV := .venv-checkov

setup: $(VENV)/.installed node_modules/.installed

# checkov pins an older `packaging` than pytest needs, so it lives in a venv of its own.
$(CHECKOV)/.installed:
	$(PYTHON) -m venv $(CHECKOV)
	$(CHECKOV)/bin/pip install --quiet checkov==3.3.30
	@touch $@

$(VENV)/.installed: requirements.txt requirements-dev.txt
	@$(PYTHON) -c 'import sys; assert (3, 11) <= sys.version_info[:2] <= (3, 13), "Python 3.11 to 3.13 is needed, found " + sys.version'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

start: setup
	$(PY) -m devtools.start

lint: setup $(CHECKOV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(CHECKOV)/bin/checkov --skip-download -d infra --config-file infra/checkov.yaml

# The browser tests drive Debian's Chromium (Playwright's own download cannot work here).
CHROMIUM ?= /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

chromium:
	@if [ ! -x "$(CHROMIUM)" ]; then \
		echo "Installing Debian's chromium for the browser tests (apt-get install chromium)"; \
		$(SUDO) apt-get install -y -q chromium >/dev/null 2>&1 || \
		{ $(SUDO) apt-get update -q >/dev/null && $(SUDO) apt-get install -y -q chromium >/dev/null; }; \
	fi

# Three speeds, as cosmicpython's Makefile has them. test-unit needs no Node and no
# Chromium (fakes only, seconds); test-storage starts Azurite; test-e2e starts the
# local runner as a process and drives the portal in Chromium.
UNIT_TESTS := tests/unit
STORAGE_TESTS := tests/integration tests/functions
E2E_TESTS := tests/e2e tests/browser

test-unit: $(VENV)/.installed
	$(PY) -m pytest $(UNIT_TESTS)

test-storage: setup
	$(PY) -m pytest $(STORAGE_TESTS)

test-e2e: setup chromium
	$(PY) -m pytest $(E2E_TESTS)

test: lint chromium
	$(PY) -m pytest $(UNIT_TESTS) $(STORAGE_TESTS) $(E2E_TESTS)

bench: setup
	$(PY) -m benchmarks.run

demo: setup
	$(PY) -m devtools.demo

token: setup
	@$(PY) -m devtools.dev_token $(ARGS)

clean:
	rm -rf $(VENV) $(CHECKOV) node_modules .azurite .dev .pytest_cache .mypy_cache .ruff_cache
