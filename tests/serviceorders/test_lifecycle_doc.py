"""The per-kind tables in docs/architecture.md are the code's; each kind's rows stay inside the merged table."""

from __future__ import annotations

from pathlib import Path

from django.utils import translation

from closeloop.serviceorders.lifecycle import LIFECYCLE, LIFECYCLES, Kind

DOC = Path(__file__).resolve().parents[2] / "docs" / "architecture.md"


def test_each_kinds_table_is_in_the_docs() -> None:
    text = DOC.read_text(encoding="utf-8")
    with translation.override("en"):
        for kind in Kind:
            assert LIFECYCLES[kind.value].as_markdown() in text, kind


def test_every_kind_row_is_in_the_merged_table() -> None:
    for table in LIFECYCLES.values():
        for row in table.transitions:
            merged = LIFECYCLE.by_action[row.action]
            assert row.sources <= merged.sources and row.target == merged.target
