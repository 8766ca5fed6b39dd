"""Backup → change → restore gives back exactly the rows and files of the backup (SQLite, and PostgreSQL
when DATABASE_URL points there)."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import tarfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.db import connection
from django.db.migrations.loader import MigrationLoader

from closeloop.complaints.models import Attachment, Complaint, Event
from closeloop.complaints.services import complaint_transition
from closeloop.core.backup import backup_create, backup_restore, backup_verify
from closeloop.sla.models import Deadline

from .conftest import leftovers, media_checksums, table_counts

pytestmark = pytest.mark.django_db(transaction=True)


def read_manifest(archive: Path) -> dict:
    with tarfile.open(archive, "r:gz") as tar:
        return json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]


def test_round_trip_gives_back_every_row_and_file(
    seeded: list[Complaint], make_complaint: Callable[..., Complaint], agent: User, tmp_path: Path
) -> None:
    assert Event.objects.count() >= 4 and Deadline.objects.count() >= 3 and Attachment.objects.count() == 1
    rows_before, files_before = table_counts(), media_checksums()
    assert len(files_before) == 2

    result = backup_create(destination=tmp_path)

    # Then the data moves on: a new complaint, a transition, a deleted and a new file.
    make_complaint(description="新的投诉")
    complaint_transition(complaint=seeded[0], action="acknowledge", actor=agent, via="desk")
    default_storage.delete("reports/2026-10/summary.xlsx")
    default_storage.save("reports/2026-11/other.pdf", io.BytesIO(b"%PDF-1.4"))
    assert table_counts() != rows_before and media_checksums() != files_before

    restored = backup_restore(archive=result.path, force=True)

    assert table_counts() == rows_before
    assert media_checksums() == files_before
    assert restored.mismatches == [] and restored.pending_migrations == []
    assert restored.rows == sum(e["rows"] for e in result.manifest["counts"].values())
    assert leftovers() == []
    # The restored rows are usable: the photo opens through its row.
    attachment = Attachment.objects.get()
    with attachment.file.open("rb") as fh:
        assert fh.read()[:8] == b"\x89PNG\r\n\x1a\n"


def test_manifest_describes_the_archive(seeded: list[Complaint], tmp_path: Path) -> None:
    result = backup_create(destination=tmp_path)

    assert result.path.parent == tmp_path and result.path.name.startswith("closeloop-backup-")
    assert result.path.name.endswith(".tar.gz") and result.path.stat().st_mode & 0o077 == 0
    manifest = read_manifest(result.path)
    assert manifest == result.manifest
    assert manifest["format_version"] == 1 and manifest["database"]["vendor"] == connection.vendor
    assert manifest["closeloop_version"] and manifest["created_at"].endswith("Z")
    assert manifest["counts"]["complaints.complaint"] == {"table": "complaints_complaint", "rows": 3}
    assert manifest["counts"]["complaints.attachment"]["rows"] == 1
    assert manifest["counts"]["sla.deadline"]["rows"] == Deadline.objects.count()
    # Latest applied migration per app = the code's leaf (the test database is fully migrated).
    leaves = dict(MigrationLoader(connection).graph.leaf_nodes())
    assert manifest["migrations"]["complaints"] == leaves["complaints"]
    assert set(manifest["migrations"]) >= {"auth", "complaints", "sla", "handling", "followup"}
    # One SHA-256 per media file, equal to the file on disk and to the archived bytes.
    assert {rel: e["sha256"] for rel, e in manifest["media"]["files"].items()} == media_checksums()
    with tarfile.open(result.path, "r:gz") as tar:
        names = tar.getnames()
        dump = tar.extractfile(manifest["database"]["file"]).read()  # type: ignore[union-attr]
    assert hashlib.sha256(dump).hexdigest() == manifest["database"]["sha256"]
    assert names[-1] == "manifest.json" and any("裂纹" in name for name in names)
    assert backup_verify(manifest=manifest) == []


def test_restore_into_an_emptied_database_needs_no_force(seeded: list[Complaint], tmp_path: Path) -> None:
    rows_before, files_before = table_counts(), media_checksums()
    result = backup_create(destination=tmp_path)
    call_command("flush", interactive=False, verbosity=0)  # like a freshly migrated installation
    shutil.rmtree(settings.MEDIA_ROOT)
    assert Complaint.objects.count() == 0 and media_checksums() == {}

    out = io.StringIO()
    call_command("restore", str(result.path), stdout=out, stderr=io.StringIO())

    assert table_counts() == rows_before and media_checksums() == files_before
    assert "row counts and media SHA-256 equal to the manifest" in out.getvalue()


def test_backup_while_complaints_keep_arriving_is_consistent(
    seeded: list[Complaint], make_complaint: Callable[..., Complaint], tmp_path: Path
) -> None:
    """Writers go on during the backup; the archive is one snapshot whose manifest matches its dump."""
    stop = threading.Event()
    written: list[int] = []
    errors: list[BaseException] = []

    def writer() -> None:
        from django.db import connection as thread_connection

        try:
            while not stop.is_set() and len(written) < 200:
                written.append(make_complaint(description="并发写入").pk)
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            thread_connection.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        while len(written) < 3 and thread.is_alive():
            stop.wait(0.01)
        result = backup_create(destination=tmp_path)
    finally:
        stop.set()
        thread.join()
    assert errors == [] and written

    backed_up = result.manifest["counts"]["complaints.complaint"]["rows"]
    assert 3 <= backed_up <= 3 + len(written)
    restored = backup_restore(archive=result.path, force=True)
    # Every table's count (complaints, their events and deadlines) is the manifest's: one snapshot.
    assert restored.mismatches == []
    assert Complaint.objects.count() == backed_up
    assert Event.objects.filter(action="registered").count() == backed_up


def test_keep_deletes_the_oldest_archives(seeded: list[Complaint], tmp_path: Path) -> None:
    import datetime

    first = datetime.datetime(2026, 11, 1, 2, 0, tzinfo=datetime.UTC)
    paths = [
        backup_create(destination=tmp_path, now=first + datetime.timedelta(days=day), keep=2).path for day in range(4)
    ]
    assert sorted(p.name for p in tmp_path.glob("closeloop-backup-*.tar.gz")) == [paths[2].name, paths[3].name]
    assert paths[0].name == "closeloop-backup-20261101-020000.tar.gz"


def test_backup_command_writes_to_the_data_directory_by_default(seeded: list[Complaint], settings: Any) -> None:
    out = io.StringIO()
    call_command("backup", stdout=out, stderr=io.StringIO())

    archives = list((Path(settings.DATA_DIR) / "backups").glob("closeloop-backup-*.tar.gz"))
    assert len(archives) == 1
    assert f"Backup written: {archives[0]}" in out.getvalue()
    assert read_manifest(archives[0])["counts"]["complaints.complaint"]["rows"] == 3


def test_a_path_not_ending_in_tar_gz_is_a_directory(seeded: list[Complaint], tmp_path: Path) -> None:
    call_command("backup", str(tmp_path / "new" / "dir"), stdout=io.StringIO(), stderr=io.StringIO())
    call_command("backup", f"{tmp_path / 'other'}/", stdout=io.StringIO(), stderr=io.StringIO())
    assert [p.name.startswith("closeloop-backup-") for p in (tmp_path / "other").iterdir()] == [True]
    (archive,) = (tmp_path / "new" / "dir").iterdir()
    assert archive.name.startswith("closeloop-backup-") and archive.name.endswith(".tar.gz")
    call_command("backup", str(tmp_path / "named.tar.gz"), stdout=io.StringIO(), stderr=io.StringIO())
    assert read_manifest(tmp_path / "named.tar.gz")["counts"]["complaints.complaint"]["rows"] == 3
