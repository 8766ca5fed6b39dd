"""bench/instructions.py's pure parts: its arguments and the count it reads from valgrind's report."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest

from tests.bench import bench_script


def _instructions() -> ModuleType:
    return bench_script("instructions.py", "bench_instructions")


def test_the_count_is_valgrinds_total() -> None:
    report = "==12997== Events    : Ir\n==12997== Collected : 1737470376\n==12997== I   refs:      1,737,470,376\n"
    assert _instructions().instructions_collected(report) == 1_737_470_376


def test_a_report_without_a_count_is_an_error_not_zero() -> None:
    with pytest.raises(RuntimeError, match="no instruction count"):
        _instructions().instructions_collected("==1== Memcheck, a memory error detector\n")


def test_the_workloads_and_their_options() -> None:
    module = _instructions()
    form = module.parse_args(["--database", "x.sqlite3", "--requests", "50", "intake", "--form"])
    assert (form.workload, form.form, form.requests, form.child) == ("intake", True, 50, False)
    # The child gets its options before the workload's: argparse hands later ones to the sub-command.
    page = module.parse_args(["--child", "--data-dir", "d", "--database", "x.sqlite3", "page", "/desk/"])
    assert (page.workload, page.path, page.user) == ("page", "/desk/", "supervisor")
    assert (page.child, page.data_dir) == (True, Path("d"))
    with pytest.raises(SystemExit):
        module.parse_args(["--database", "x.sqlite3", "--requests", "0", "intake"])
