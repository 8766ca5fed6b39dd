#!/usr/bin/env bash
# Regenerate the zh_Hans catalogue: collect the messages, fill translations from
# scripts/translations/*.zh.json (one file per area), compile. `make messages` runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${VENV:-.venv}/bin
PO=closeloop/locale/zh_Hans/LC_MESSAGES/django.po
(cd closeloop && "../$BIN/closeloop" makemessages -l zh_Hans --no-obsolete -i "migrations/*" >/dev/null)
"$BIN/python" scripts/po_fill.py "$PO" scripts/translations/*.zh.json
(cd closeloop && "../$BIN/closeloop" compilemessages >/dev/null)
