#!/usr/bin/env bash
# Re-pin requirements.lock and requirements-dev.lock from the *.in files in throwaway environments.
set -euo pipefail
cd "$(dirname "$0")/.."
py=${PYTHON:-python3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
$py -m venv "$tmp/run"
"$tmp/run/bin/pip" install -q -r requirements.in
{ echo "# Pinned by scripts/lock.sh from requirements.in — do not edit by hand."; "$tmp/run/bin/pip" freeze --all | grep -v -E '^(pip|wheel)=='; } > requirements.lock
$py -m venv "$tmp/dev"
"$tmp/dev/bin/pip" install -q -r requirements.lock -r requirements-dev.in
{ echo "# Pinned by scripts/lock.sh from requirements-dev.in — do not edit by hand."; "$tmp/dev/bin/pip" freeze --all | grep -v -E '^(pip|wheel)==' | grep -vxF -f <(grep -v '^#' requirements.lock); } > requirements-dev.lock
echo "locked: $(grep -vc '^#' requirements.lock) runtime, $(grep -vc '^#' requirements-dev.lock) dev packages"
