# CloseLoop — set-up and everyday commands. Needs only Python 3.11+ and make.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test lint format bench lock messages clean help

help:
	@echo "make run    - install, migrate, load demo data, start web + worker on SQLite"
	@echo "make test   - install test tools, lint, run the whole suite (SQLite, then PostgreSQL if reachable)"
	@echo "make bench  - seed 100k complaints and print intake rate and queue latency"

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

bench: $(VENV)/.installed-dev
	$(BIN)/python bench/bench_foundation.py --complaints $${BENCH_COMPLAINTS:-100000}
	$(BIN)/python bench/bench_calendar.py

messages: $(VENV)/.installed
	cd closeloop && ../$(BIN)/closeloop makemessages -l zh_Hans --no-obsolete -i "migrations/*" && ../$(BIN)/closeloop compilemessages

lock:
	scripts/lock.sh

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
