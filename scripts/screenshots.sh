#!/usr/bin/env bash
# Regenerate the user guide's pictures (docs/images/*.png): each role's home at 1440×900 in Chinese on the
# demo data, and the customer's and the dealer's status page on a phone. Needs Chromium (/usr/bin/chromium).
#   scripts/screenshots.sh            # writes docs/images/
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${VENV:-.venv}/bin
"$BIN/pytest" -q -n 0 -p no:cacheprovider tests/browser/test_role_journeys.py::test_role_homes_for_the_user_guide \
  --screenshots "$(pwd)/docs/images"
ls -1 docs/images/*.png
