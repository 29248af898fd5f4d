# Two commands for a fresh machine: `make run` and `make test` (README.md).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)
PORT ?= 8000

.PHONY: run test lint typecheck test-sqlite test-postgres browser-deps bench messages

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	rm -f $(VENV)/.installed-* && touch $@

run: $(STAMP)
	PORT=$(PORT) bin/run-embedded

# Debian's chromium drives the browser tests; Playwright's own browser download is not used.
browser-deps:
	@command -v chromium >/dev/null || { \
	  echo "Installing Debian's chromium for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .

test: $(STAMP) browser-deps lint
	$(BIN)/python manage.py makemigrations --check --dry-run
	@echo "== the suite on SQLite"
	env -u DATABASE_URL -u TEST_DATABASE_URL $(BIN)/pytest -n 2 -q
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
	  echo "== again on PostgreSQL"; \
	  DATABASE_URL="$$TEST_DATABASE_URL" $(BIN)/pytest -n 2 -q; \
	fi

messages: $(STAMP)
	cd backgroundmusic && ../$(BIN)/django-admin makemessages -l ru --no-location && \
	  ../$(BIN)/django-admin compilemessages
