"""`closeloop` on a fresh clone: a command against a database that is not migrated (or not reachable)
says what to run, without a traceback; `closeloop --help` lists CloseLoop's own commands first."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import OperationalError, ProgrammingError

from closeloop.cli.launcher import _missing_table, database_ready, unapplied_migrations

ROOT = Path(__file__).resolve().parents[2]


def closeloop(tmp_path: Path, *args: str, database_url: str | None = None) -> subprocess.CompletedProcess[str]:
    keep = {"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "VIRTUAL_ENV"}
    environment = {k: v for k, v in os.environ.items() if k in keep}
    environment["CLOSELOOP_DATA_DIR"] = str(tmp_path / "data")
    environment["DATABASE_URL"] = database_url or f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    return subprocess.run(
        [sys.executable, "-m", "closeloop", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_command_on_a_database_that_is_not_migrated_says_to_migrate(tmp_path: Path) -> None:
    result = closeloop(tmp_path, "calendar", "deadline", "--start", "2026-09-30T16:00+08:00", "--duration", "2wd")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and "no such table" not in result.stderr
    assert "The database is not migrated" in result.stderr
    assert "closeloop migrate" in result.stderr


def test_a_command_on_an_unreachable_database_says_so(tmp_path: Path) -> None:
    result = closeloop(tmp_path, "token", "list", database_url="postgres://nobody@127.0.0.1:9/closeloop")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "cannot reach its database" in result.stderr and "DATABASE_URL" in result.stderr


def test_help_lists_closeloops_commands_first(tmp_path: Path) -> None:
    result = closeloop(tmp_path, "--help")
    assert result.returncode == 0, result.stderr
    text = result.stdout
    own, django = text.index("CloseLoop's commands:"), text.index("Django's commands:")
    assert own < text.index("    calendar ") < django < text.index("    migrate")
    assert "Compute a deadline" in text[own:django]


@pytest.mark.django_db
def test_the_test_database_is_migrated_and_ready() -> None:
    assert unapplied_migrations() == []
    database_ready()


def test_a_missing_table_is_recognised_on_sqlite_and_postgresql() -> None:
    assert _missing_table(OperationalError("no such table: sla_calendar"))
    assert _missing_table(ProgrammingError('relation "sla_calendar" does not exist'))
    assert not _missing_table(OperationalError("database is locked"))
