"""The README's benchmark tables are generated (bench/report.py), never typed: they must be what
bench/results/summary.json says, and summary.json what the results' JSON files say."""

from __future__ import annotations

import json
from types import ModuleType

from tests.bench import bench_script


def _report() -> ModuleType:
    return bench_script("report.py", "bench_report")


def test_the_readme_tables_are_the_summary_rendered() -> None:
    report = _report()
    summary = json.loads(report.SUMMARY.read_text(encoding="utf-8"))
    readme = report.README.read_text(encoding="utf-8")
    assert report.readme_block(readme) == report.render(summary), "run: python bench/report.py"


def test_the_summary_is_what_the_results_say() -> None:
    report = _report()
    assert json.loads(report.SUMMARY.read_text(encoding="utf-8")) == report.collect(), "run: python bench/report.py"


def test_every_source_carries_its_load_and_every_row_names_its_sources() -> None:
    summary = _report().collect()
    assert summary["sources"], "no results"
    for source in summary["sources"].values():
        assert set(source["load"]) == {"before", "after"}
    for table in summary["tables"].values():
        for row in table["rows"]:
            assert row["sources"] and len(row["cells"]) == len(table["header"]) - 1
