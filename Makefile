# CloseLoop — set-up and everyday commands. Needs only Python 3.11+ and make.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test lint typecheck format bench bench-full bench-helpdesk soak lock messages clean help

help:
	@echo "make run    - install, migrate, load demo data, start web + worker on SQLite"
	@echo "make test   - install test tools, lint, type-check, run the whole suite (SQLite, then PostgreSQL if reachable)"
	@echo "make bench  - the calendar, e-mail intake (500 mails), triage learned from 100k complaints, a 10,000-row history import, the suite at 100k complaints on SQLite (queues, search, pages, dashboard, reports, sweep, intake), service orders at 10,000 (queues, intake; BENCH_SERVICE_ORDERS) and django-helpdesk side by side"
	@echo "make bench-full - the suite at 1,000,000 complaints on PostgreSQL"
	@echo "make soak   - 10 minutes: 2 web + 2 workers on PostgreSQL + Redis under load, a worker killed, PostgreSQL restarted; then the audit"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(BIN)/python requirements.lock pyproject.toml
	$(BIN)/pip install -q --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.lock
	$(BIN)/pip install -q --disable-pip-version-check -r requirements-dev.lock
	@touch $@

run: $(VENV)/.installed
	$(BIN)/closeloop serve

test: $(VENV)/.installed-dev
	scripts/test.sh

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# mypy with django-stubs over closeloop/ (configuration in pyproject.toml); also the second step of `make test`.
typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy

format: $(VENV)/.installed-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

BENCH_PG ?= postgres://postgres@127.0.0.1:5432/closeloop

bench: $(VENV)/.installed-dev
	$(BIN)/python bench/bench_calendar.py
	$(BIN)/python bench/bench_mail.py
	$(BIN)/python bench/bench_triage.py --complaints $${BENCH_COMPLAINTS:-100000}
	$(BIN)/python bench/bench_import.py --rows $${BENCH_IMPORT_ROWS:-10000}
	$(BIN)/python bench/bench_suite.py --complaints $${BENCH_COMPLAINTS:-100000} $${BENCH_ARGS:-}
	$(BIN)/python bench/helpdesk/compare.py --tickets $${BENCH_COMPLAINTS:-100000}
	$(BIN)/python bench/bench_service.py --orders $${BENCH_SERVICE_ORDERS:-10000}
	$(BIN)/python bench/report.py

# Only the side-by-side with django-helpdesk (its own throwaway venv under var/bench-helpdesk/).
bench-helpdesk: $(VENV)/.installed
	$(BIN)/python bench/helpdesk/compare.py --tickets $${BENCH_HELPDESK_TICKETS:-100000} $(BENCH_HELPDESK_ARGS)

# 1,000,000 complaints with their whole history on PostgreSQL (seeding alone takes about an hour on 2 cores;
# BENCH_ARGS=--reuse measures an earlier run's database again).
bench-full: $(VENV)/.installed-dev
	$(BIN)/python bench/bench_suite.py --complaints 1000000 --database-url $(BENCH_PG) $${BENCH_ARGS:-}
	$(BIN)/python bench/bench_sla.py --complaints 1000000 --due 10000 --database-url $(BENCH_PG)

SOAK_SECONDS ?= 600
soak: $(VENV)/.installed-dev
	$(BIN)/python bench/soak/run.py --duration $(SOAK_SECONDS) --users $${SOAK_USERS:-12}

messages: $(VENV)/.installed-dev
	scripts/messages.sh

lock:
	scripts/lock.sh

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .mypy_cache
