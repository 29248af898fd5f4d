# Two commands for a fresh machine: `make run` and `make test` (README.md).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)
PORT ?= 8000

.PHONY: run test lint typecheck test-sqlite test-postgres browser-deps imap-deps gettext-deps icu-deps pdf-deps pg-deps nginx-deps redis-deps deploy-check-deps test-scale load bench messages

$(STAMP): pyproject.toml | icu-deps pdf-deps
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	rm -f $(VENV)/.installed-* && touch $@

run: $(STAMP) pdf-deps
	PORT=$(PORT) bin/run-embedded

# PyICU (look-alike usernames, accounts/usernames.py) is built against Debian's ICU.
icu-deps:
	@pkg-config --exists icu-uc 2>/dev/null || { \
	  echo "Installing Debian's ICU headers for PyICU"; \
	  if [ "$$(id -u)" -eq 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libicu-dev pkg-config g++ >/dev/null; }
	@pkg-config --exists icu-uc || { echo "ICU (libicu-dev) is still missing" >&2; exit 1; }

# WeasyPrint (documents as PDF, core/documents.py) opens Pango, HarfBuzz's subsetter and
# fontconfig from the system; DejaVu Sans is the documents' font (Latin and Cyrillic). On a bare
# Debian bookworm these four bring the rest (glib, harfbuzz, fontconfig, freetype).
PDF_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core
PDF_PACKAGES_MISSING = [ "$$(dpkg-query -W -f='$${db:Status-Abbrev}\n' $(PDF_PACKAGES) 2>/dev/null | grep -c '^ii')" -ne $(words $(PDF_PACKAGES)) ]
pdf-deps:
	@if $(PDF_PACKAGES_MISSING); then \
	  echo "Installing Debian's Pango, HarfBuzz subsetter and DejaVu fonts for PDF documents"; \
	  if [ "$$(id -u)" -eq 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(PDF_PACKAGES) >/dev/null; fi
	@if $(PDF_PACKAGES_MISSING); then echo "Some of $(PDF_PACKAGES) are still missing" >&2; exit 1; fi

# Debian's chromium drives the browser tests; Playwright's own browser download is not used.
# The tests launch /usr/bin/chromium itself (tests/browser/conftest.py), so that is what we check;
# apt-get runs through sudo when we are not root.
CHROMIUM := /usr/bin/chromium
browser-deps:
	@test -x $(CHROMIUM) || { \
	  echo "Installing Debian's chromium for the browser tests"; \
	  if [ "$$(id -u)" -eq 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }
	@test -x $(CHROMIUM) || { echo "$(CHROMIUM) is still missing" >&2; exit 1; }

# Debian's dovecot is the IMAP server the inbox tests start on their own (unprivileged, on a free
# port, with a temporary config: backgroundmusic/inbox/tests/dovecot.py); the system service it
# installs is not used.
DOVECOT := /usr/sbin/dovecot
imap-deps:
	@test -x $(DOVECOT) || { \
	  echo "Installing Debian's dovecot-imapd for the inbox tests"; \
	  if [ "$$(id -u)" -eq 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dovecot-imapd >/dev/null; }
	@test -x $(DOVECOT) || { echo "$(DOVECOT) is still missing" >&2; exit 1; }

# Debian's gettext (msgfmt) for `make messages` and the translation test; `make run` needs none,
# the compiled .mo files are committed (docs/decisions/0004-compiled-translations-are-committed.md).
gettext-deps:
	@command -v msgfmt >/dev/null || { \
	  echo "Installing Debian's gettext for the translations"; \
	  if [ "$$(id -u)" -eq 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gettext >/dev/null; }
	@command -v msgfmt >/dev/null || { echo "msgfmt (Debian's gettext) is still missing" >&2; exit 1; }

# Debian's postgresql-client: pg_dump and pg_restore for `manage.py backup` and `restore` on
# PostgreSQL (privacy/backups.py), which the restore drill in the suite runs for real.
pg-deps:
	@command -v pg_dump >/dev/null && command -v pg_restore >/dev/null || { \
	  echo "Installing Debian's postgresql-client for backups"; \
	  if [ "$$(id -u)" -eq 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-client >/dev/null; }
	@command -v pg_dump >/dev/null && command -v pg_restore >/dev/null || { echo "pg_dump/pg_restore (Debian's postgresql-client) are still missing" >&2; exit 1; }

# Debian's nginx: the secure-link tests start it on a free port with the deploy template
# rendered (backgroundmusic/media/tests/nginx_server.py), as bench/streaming.py and the scale-out
# stack (tests/scale/stack.py) do; the system service it installs is not used.
nginx-deps:
	@command -v nginx >/dev/null || test -x /usr/sbin/nginx || { \
	  echo "Installing Debian's nginx for the secure-link tests"; \
	  if [ "$$(id -u)" -eq 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light >/dev/null; }
	@command -v nginx >/dev/null || test -x /usr/sbin/nginx || { echo "Debian's nginx is still missing" >&2; exit 1; }

# The Redis task backend's tests (core/tests/conftest.py) use TEST_REDIS_URL's Redis, by default
# databases 14 and 15 of the local one; a machine without a Redis answering gets Debian's, started
# in the background without persistence.
redis-deps:
	@command -v redis-server >/dev/null || { \
	  echo "Installing Debian's redis-server for the Redis task backend's tests"; \
	  if [ "$$(id -u)" -eq 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null; }
	@if [ -z "$$TEST_REDIS_URL" ] && ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then \
	  echo "Starting redis-server on 127.0.0.1:6379 (no persistence) for the tests"; \
	  redis-server --bind 127.0.0.1 --port 6379 --save '' --appendonly no --daemonize yes >/dev/null; \
	fi

# tests/test_deploy.py checks the systemd units with systemd-analyze and the compose file's nginx
# site with nginx -t (Debian's systemd and nginx-light; nothing is started).
deploy-check-deps:
	@command -v systemd-analyze >/dev/null && command -v nginx >/dev/null || { \
	  echo "Installing Debian's systemd-analyze and nginx to check deploy/"; \
	  if [ "$$(id -u)" -eq 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq systemd nginx-light >/dev/null; }
	@command -v systemd-analyze >/dev/null && command -v nginx >/dev/null || { echo "systemd-analyze or nginx is still missing" >&2; exit 1; }

# The scale-out stack on one machine (docs/operations.md, decision 0043): nginx, two app servers,
# two task workers, the machine's PostgreSQL and Redis, the S3 double; the browser journeys and
# the killed-server test of tests/scale/ through nginx, then everything stopped. `test` runs it after the PostgreSQL pass.
test-scale: $(STAMP) browser-deps nginx-deps
	$(BIN)/python -m tests.scale.stack journeys

# The load test against the same stack: LOAD_USERS (200) visitors for LOAD_SECONDS (600), then
# LOAD_STREAMS (2000) listeners; the summary goes to var/scale/load-<time>.txt.
load: $(STAMP) nginx-deps
	$(BIN)/python -m tests.scale.stack load

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .
	$(BIN)/lint-imports

# The PostgreSQL pass leaves out the browser tests: they drive in Chromium pages whose database
# work the rest of the suite tests on PostgreSQL view by view, and their time goes to the
# scale-out stack's journeys, which drive Chromium against PostgreSQL through nginx (decision
# 0043).
test: $(STAMP) pdf-deps browser-deps imap-deps gettext-deps pg-deps nginx-deps redis-deps deploy-check-deps lint
	$(BIN)/python manage.py makemigrations --check --dry-run
	@echo "== the suite on SQLite"
	env -u DATABASE_URL -u TEST_DATABASE_URL -u KEYS_DATABASE_URL $(BIN)/pytest -n 2 -q
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
	  echo "== again on PostgreSQL, analytics and the key store in databases of their own"; \
	  DATABASE_URL="$$TEST_DATABASE_URL" \
	  ANALYTICS_DATABASE_URL="$${TEST_DATABASE_URL%/*}/bm_analytics" \
	  KEYS_DATABASE_URL="$${TEST_DATABASE_URL%/*}/bm_keys" $(BIN)/pytest -n 2 -q \
	    --ignore=tests/browser && \
	  echo "== the scale-out stack: nginx, two app servers, two workers, PostgreSQL, Redis, S3 double" && \
	  SCALE_POSTGRES_URL="$${TEST_DATABASE_URL%/*}" $(BIN)/python -m tests.scale.stack journeys; \
	fi

DJANGO_ADMIN_ARGS := --settings=config.settings --pythonpath=..

messages: $(STAMP) gettext-deps
	cd backgroundmusic && \
	  ../$(BIN)/django-admin makemessages -l ru --no-location $(DJANGO_ADMIN_ARGS) && \
	  ../$(BIN)/django-admin compilemessages $(DJANGO_ADMIN_ARGS)

# Every benchmark in bench/ (each prints our numbers next to an anchor measured in the same run).
bench: $(STAMP)
	@for script in bench/*.py; do \
	  echo "== $$script"; \
	  $(BIN)/python "$$script" || exit 1; \
	done
