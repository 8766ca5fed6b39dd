# CloseLoop — set-up and everyday commands. Needs only Python 3.11+ and make.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test lint format bench soak lock messages clean help

help:
	@echo "make run    - install, migrate, load demo data, start web + worker on SQLite"
	@echo "make test   - install test tools, lint, run the whole suite (SQLite, then PostgreSQL if reachable)"
	@echo "make bench  - calendar arithmetic; 100k complaints: intake rate and queue latency (SQLite, PostgreSQL); SLA sweep at 1M"
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

format: $(VENV)/.installed-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

BENCH_PG ?= postgres://postgres@127.0.0.1:5432/closeloop

bench: $(VENV)/.installed-dev
	$(BIN)/python bench/bench_calendar.py
	$(BIN)/python bench/bench_foundation.py --complaints $${BENCH_COMPLAINTS:-100000}
	@if $(BIN)/python -c "import psycopg; psycopg.connect('host=127.0.0.1 user=postgres dbname=postgres', connect_timeout=3)" 2>/dev/null; then \
	  $(BIN)/python bench/bench_foundation.py --complaints $${BENCH_COMPLAINTS:-100000} --database-url $(BENCH_PG); \
	  $(BIN)/python bench/bench_sla.py --complaints $${BENCH_SLA_COMPLAINTS:-1000000} --due 10000 --database-url $(BENCH_PG); \
	else echo "PostgreSQL not reachable: its benchmarks are skipped"; fi

SOAK_SECONDS ?= 600
soak: $(VENV)/.installed-dev
	$(BIN)/python bench/soak/run.py --duration $(SOAK_SECONDS) --users $${SOAK_USERS:-12}

messages: $(VENV)/.installed
	cd closeloop && ../$(BIN)/closeloop makemessages -l zh_Hans --no-obsolete -i "migrations/*" && ../$(BIN)/closeloop compilemessages

lock:
	scripts/lock.sh

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
