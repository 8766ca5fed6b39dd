"""The database tools a backup needs: a clear message when pg_dump is missing or older than the server,
and a SQLite restore that will not swap the file under a process that has it open."""

from __future__ import annotations

import http.client
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

from closeloop.complaints.models import Complaint
from closeloop.core.backup import BackupError, _pg_program, backup_create, backup_restore
from tests.conftest import close_other_threads_connections

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


@pytest.mark.skipif(VENDOR != "sqlite", reason="SQLite only")
@pytest.mark.django_db(transaction=True)
def test_sqlite_restore_refuses_while_a_thread_of_the_web_keeps_its_connection(
    seeded: list[Complaint], live_server: Any, tmp_path: Path
) -> None:
    """A web thread keeps its connection between requests (DB_CONN_MAX_AGE) while its client keeps the
    socket open: the restore refuses until the web lets go, here as the suite's fixture does for every
    backup test after another test used the live server."""
    archive = backup_create(destination=tmp_path).path
    host, port = live_server.url.removeprefix("http://").rsplit(":", 1)
    client = http.client.HTTPConnection(host, int(port), timeout=60)  # HTTP/1.1: the socket stays open
    try:
        client.request("GET", "/api/v1/complaints", headers={"Authorization": "Bearer not-a-key"})
        answer = client.getresponse()
        answer.read()
        assert answer.status == 401 and answer.getheader("Connection") != "close"
        with pytest.raises(BackupError, match="is in use"):
            backup_restore(archive=archive, force=True)
        assert close_other_threads_connections() == 1
        backup_restore(archive=archive, force=True)
    finally:
        client.close()
