# textdesk: one way to run things.  `make run` and `make test` work on a fresh machine.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# No TEXTDESK_DEMO here: `demo seed` records demo mode under ./var/, so `make run` and
# commands typed later in a new shell see the same install.

.PHONY: run test lint typecheck unit integration e2e bench faults install dev chromium vendor clean designer-screenshots

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# The stamp is rebuilt when pyproject.toml changes, so a new dependency is installed.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
dev: $(VENV)/.installed-dev

## run: install, migrate, seed the demo and serve on http://127.0.0.1:8000
run: install
	$(BIN)/textdesk migrate
	$(BIN)/textdesk demo seed
	$(BIN)/textdesk serve

## designer-screenshots: docs/images/designer-*.png, the designer at 1280×800 on a demo desk
designer-screenshots: dev chromium
	$(BIN)/python scripts/designer_screenshots.py

# Browser tests drive Debian's Chromium; never a downloaded browser.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium for the browser tests"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium >/dev/null; }

lint: dev
	$(BIN)/ruff check src tests benchmarks faults
	$(BIN)/ruff format --check src tests benchmarks faults

typecheck: dev
	$(BIN)/mypy

## test: lint, type-check and the whole suite (unit, integration on SQLite + PostgreSQL, e2e)
test: dev chromium lint typecheck
	$(BIN)/pytest -p no:cacheprovider -n 2

unit: dev
	$(BIN)/pytest -q tests/unit

integration: dev
	$(BIN)/pytest -q tests/integration

e2e: dev chromium
	$(BIN)/pytest -q tests/e2e

## bench: throughput and latency against the two floors (see benchmarks/README.md)
bench: dev
	$(BIN)/python -m benchmarks.webhook

## vendor: re-fetch the pinned front-end libraries (web/static/vendor/vendor.txt) from npm
VENDOR_DIR := src/textdesk/web/static/vendor
vendor:
	@set -euo pipefail; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	grep -v '^#' $(VENDOR_DIR)/vendor.txt | while read -r spec files; do \
	  name=$${spec%@*}; rm -rf "$$tmp/package"; \
	  (cd "$$tmp" && npm pack --silent "$$spec" >/dev/null); \
	  tar xzf "$$tmp"/*.tgz -C "$$tmp"; rm "$$tmp"/*.tgz; \
	  mkdir -p "$(VENDOR_DIR)/$$name"; \
	  for f in $$files; do cp "$$tmp/package/$$f" "$(VENDOR_DIR)/$$name/"; done; \
	  echo "vendored $$spec"; \
	done

## faults: kill -9, a Twilio outage, replays, lost callbacks, fuzzing; one table (docs/reliability.md)
faults: dev
	$(BIN)/python -m faults

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache
