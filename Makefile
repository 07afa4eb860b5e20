# Shipcheck. `make run` serves the demo on http://127.0.0.1:8000; `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
# The compiled translations (not committed): each locale/<lang>/LC_MESSAGES/django.po -> .mo,
# with Babel's pure-Python compiler, so no GNU gettext is needed.
MO_FILES := $(patsubst %.po,%.mo,$(wildcard locale/*/LC_MESSAGES/django.po))

# The test suite's environment: real PostgreSQL and Redis on their standard local ports.
TEST_ENV := DEBUG=1 SECRET_KEY=test-only-secret \
	DATABASE_URL=$${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/shipcheck} \
	REDIS_URL=$${TEST_REDIS_URL:-redis://127.0.0.1:6379/15} \
	DJANGO_ALLOW_ASYNC_UNSAFE=true

.PHONY: install run test lint format services bench clean

$(STAMP): pyproject.toml constraints.txt
	@test -n "$(PYTHON)" || { echo "Python 3.11 is needed (python3.11 not found)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP) $(MO_FILES)

%.mo: %.po | $(STAMP)
	$(VENV)/bin/pybabel -q compile -i $< -o $@

# Embedded default: SQLite, Celery tasks in-process, e-mail written to var/mail/. Celery beat
# runs beside the server so that the schedules (sweeper, reminders, digests, reports,
# announcements sent at a time) happen here too: with no broker it runs each due task itself.
run: install
	@mkdir -p var/static
	DEBUG=1 $(PY) manage.py migrate --noinput
	DEBUG=1 $(PY) manage.py demo
	@echo "Serving on http://127.0.0.1:8000  (admin: http://127.0.0.1:8000/admin/; e-mails written to var/mail/, read them as admin at http://127.0.0.1:8000/mail/)"
	DEBUG=1 $(PY) -m celery -A config beat --loglevel=warning & beat=$$!; trap "kill $$beat 2>/dev/null" EXIT; \
	DEBUG=1 $(PY) manage.py runserver 127.0.0.1:8000

# Starts PostgreSQL and Redis if they are installed but stopped; fails clearly if missing.
services:
	@bash tests/services.sh

test: install services
	@mkdir -p var/static
	$(TEST_ENV) $(PY) -m pytest -p no:cacheprovider

# How the busiest reads scale (PostgreSQL; see tests/bench/bench_api.py for the knobs), and a
# 10,000-address announcement through Celery and Redis against raw smtplib (bench_announce.py).
bench: install services
	$(PY) tests/bench/bench_api.py
	$(PY) tests/bench/bench_announce.py

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	DEBUG=1 $(PY) manage.py makemigrations --check --dry-run
	DEBUG=1 $(VENV)/bin/mypy .

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) var db.sqlite3 $(MO_FILES)
