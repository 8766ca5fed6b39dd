#!/usr/bin/env bash
# Lint and type-check, then the whole suite on SQLite, then again on PostgreSQL with Redis-backed Huey and cache.
# With CI=true a missing PostgreSQL, Redis or Chromium is a failure, not a skip.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${VENV:-.venv}/bin
PG_URL=${TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/closeloop_ci}
TEST_REDIS_URL=${TEST_REDIS_URL:-redis://127.0.0.1:6379/15}

echo "== ruff"
"$BIN/ruff" check .
"$BIN/ruff" format --check .

echo "== mypy"
"$BIN/mypy"

echo "== migrations are complete"
"$BIN/python" -m closeloop makemigrations --check --dry-run >/dev/null

if [ "${CI:-}" = "true" ] && [ ! -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ]; then
  echo "CI: Chromium is missing at ${CHROMIUM_PATH:-/usr/bin/chromium}" >&2
  exit 1
fi

# pytest exits 5 when no test ran; set -e turns that into a failure, as it must be.
echo "== pytest on SQLite"
env -u DATABASE_URL -u REDIS_URL CLOSELOOP_DATA_DIR="$(mktemp -d)" "$BIN/pytest" -q -n 2 "$@"

pg_ok=0
"$BIN/python" - "$PG_URL" <<'PY' && pg_ok=1 || true
import sys, psycopg, dj_database_url
cfg = dj_database_url.parse(sys.argv[1])
psycopg.connect(host=cfg["HOST"], port=cfg["PORT"] or 5432, user=cfg["USER"], dbname="postgres", connect_timeout=3).close()
PY
redis_ok=0
"$BIN/python" - "$TEST_REDIS_URL" <<'PY' && redis_ok=1 || true
import sys, redis
redis.Redis.from_url(sys.argv[1], socket_connect_timeout=3).ping()
PY

if [ "$pg_ok" = 1 ] && [ "$redis_ok" = 1 ]; then
  echo "== pytest on PostgreSQL with Redis"
  # Only what can answer differently on PostgreSQL runs again (tests/conftest.py, SECOND_DATABASE).
  CLOSELOOP_TEST_SECOND_DATABASE=true DATABASE_URL="$PG_URL" REDIS_URL="$TEST_REDIS_URL" CLOSELOOP_DATA_DIR="$(mktemp -d)" \
    "$BIN/pytest" -q -n 2 --create-db "$@"
  # The short soak restarts PostgreSQL, so it runs alone, after the suite (`make soak` is the long one).
  echo "== soak: 2 web + 2 workers, a worker SIGKILLed, PostgreSQL restarted, then the audit"
  CLOSELOOP_DATA_DIR="$(mktemp -d)" SOAK_SECONDS=${SOAK_SECONDS:-60} "$BIN/pytest" -q -m soak tests/soak
elif [ "${CI:-}" = "true" ]; then
  echo "CI: PostgreSQL reachable=$pg_ok, Redis reachable=$redis_ok — both are required" >&2
  exit 1
else
  echo "== PostgreSQL or Redis not reachable: the PostgreSQL run is skipped (it is required in CI)"
fi
