"""The database tools a backup needs: a clear message when pg_dump is missing or older than the server,
and a SQLite restore that will not swap the file under a process that has it open."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from closeloop.complaints.models import Complaint
from closeloop.core.backup import BackupError, _pg_program, backup_create, backup_restore

from .conftest import leftovers, media_checksums, table_counts

VENDOR = "postgresql" if "postgresql" in settings.DATABASES["default"]["ENGINE"] else "sqlite"


def fake_program(directory: Path, name: str, version_line: str) -> None:
    path = directory / name
    path.write_text(f"#!/bin/sh\necho '{version_line}'\n")
    path.chmod(0o755)


def test_a_missing_pg_dump_names_the_package_to_install(tmp_path: Path) -> None:
    with pytest.raises(BackupError, match=r"pg_dump was not found in .*postgresql-client-15.*--pg-bin"):
        _pg_program("pg_dump", server_major=15, pg_bin=str(tmp_path))


def test_the_version_of_the_found_program_is_read(tmp_path: Path) -> None:
    fake_program(tmp_path, "pg_restore", "pg_restore (PostgreSQL) 16.4 (Debian 16.4-1)")
    assert _pg_program("pg_restore", server_major=15, pg_bin=str(tmp_path)) == (str(tmp_path / "pg_restore"), 16)


@pytest.mark.skipif(VENDOR != "postgresql", reason="needs PostgreSQL (DATABASE_URL)")
@pytest.mark.django_db(transaction=True)
def test_a_pg_dump_older_than_the_server_is_refused(seeded: list[Complaint], tmp_path: Path) -> None:
    fake_program(tmp_path, "pg_dump", "pg_dump (PostgreSQL) 9.6.24")
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(BackupError, match=r"pg_dump must be at least the server's version.*postgresql-client-"):
        backup_create(destination=out, pg_bin=str(tmp_path))
    assert list(out.iterdir()) == []


@pytest.mark.skipif(VENDOR != "sqlite", reason="SQLite only")
@pytest.mark.django_db(transaction=True)
def test_sqlite_restore_refuses_while_another_process_has_the_database_open(
    seeded: list[Complaint], make_complaint: Callable[..., Complaint], tmp_path: Path
) -> None:
    archive = backup_create(destination=tmp_path).path
    make_complaint(description="备份之后")
    rows, files = table_counts(), media_checksums()
    other = sqlite3.connect(str(connection.settings_dict["NAME"]))  # like an idle web worker
    other.execute("SELECT COUNT(*) FROM complaints_complaint").fetchone()
    try:
        with pytest.raises(BackupError, match="is in use: stop the web and worker processes"):
            backup_restore(archive=archive, force=True)
    finally:
        other.close()
    assert table_counts() == rows and media_checksums() == files and leftovers() == []
