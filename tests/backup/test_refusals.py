"""A restore that cannot be trusted refuses with a clear message, a non-zero exit code, and changes
nothing: a target that holds data (without --force), a damaged archive, a newer migration state, another
database vendor."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from closeloop.complaints.models import Complaint
from closeloop.core.backup import BackupError, CorruptArchive, backup_create, backup_restore

from .conftest import edit_manifest, leftovers, media_checksums, rewrite_archive, table_counts

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def archive(seeded: list[Complaint], make_complaint: Callable[..., Complaint], tmp_path: Path) -> Path:
    """A backup of the seeded data, after which the database moved on (one more complaint)."""
    path = backup_create(destination=tmp_path / "backups").path
    make_complaint(description="备份之后")
    return path


@pytest.fixture
def unchanged() -> Callable[[], None]:
    """Asserts, when called, that the database and the media are as they were when the fixture ran."""
    rows, files = table_counts(), media_checksums()

    def check() -> None:
        assert table_counts() == rows
        assert media_checksums() == files
        assert leftovers() == []

    return check


def test_a_database_with_data_is_not_replaced_without_force(archive: Path, unchanged: Callable[[], None]) -> None:
    with pytest.raises(CommandError, match=r"already holds data \(complaints: 4, customers: \d+, users: 1\).*--force"):
        call_command("restore", str(archive))
    unchanged()


def test_the_refusal_exits_non_zero(archive: Path, unchanged: Callable[[], None], tmp_path: Path) -> None:
    """The command line as an operator runs it, against this test's database."""
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        url = f"sqlite:///{s['NAME']}"
    else:
        auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
        url = f"postgres://{auth}@{s['HOST'] or 'localhost'}:{s['PORT'] or 5432}/{s['NAME']}"
    env = {**os.environ, "DATABASE_URL": url, "CLOSELOOP_DATA_DIR": str(tmp_path / "data")}
    env["MEDIA_ROOT"] = str(settings.MEDIA_ROOT)
    connection.close()
    proc = subprocess.run(
        [sys.executable, "-m", "closeloop", "restore", str(archive)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode != 0
    assert "already holds data" in proc.stderr and "--force" in proc.stderr
    unchanged()


def test_a_truncated_archive_is_refused(archive: Path, unchanged: Callable[[], None], tmp_path: Path) -> None:
    cut = tmp_path / "cut.tar.gz"
    data = archive.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(CorruptArchive, match="damaged or incomplete"):
        backup_restore(archive=cut, force=True)
    unchanged()


def test_a_damaged_archive_is_refused(archive: Path, unchanged: Callable[[], None], tmp_path: Path) -> None:
    damaged = tmp_path / "damaged.tar.gz"
    data = bytearray(archive.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 16] = bytes(b ^ 0xFF for b in data[middle : middle + 16])
    damaged.write_bytes(bytes(data))
    with pytest.raises(CorruptArchive):
        backup_restore(archive=damaged, force=True)
    unchanged()


def test_a_file_that_differs_from_its_checksum_is_refused(
    archive: Path, unchanged: Callable[[], None], tmp_path: Path
) -> None:
    tampered = tmp_path / "tampered.tar.gz"
    rewrite_archive(archive, tampered, lambda name, data: b"changed" if name.endswith("summary.xlsx") else data)
    with pytest.raises(CorruptArchive, match=r"checksum differs: media/reports/2026-10/summary\.xlsx"):
        backup_restore(archive=tampered, force=True)
    unchanged()


def test_an_archive_without_manifest_or_with_a_missing_file_is_refused(
    archive: Path, unchanged: Callable[[], None], tmp_path: Path
) -> None:
    no_manifest = tmp_path / "no-manifest.tar.gz"
    rewrite_archive(archive, no_manifest, lambda name, data: None if name == "manifest.json" else data)
    with pytest.raises(CorruptArchive, match=r"no manifest\.json"):
        backup_restore(archive=no_manifest, force=True)
    missing = tmp_path / "missing.tar.gz"
    rewrite_archive(archive, missing, lambda name, data: None if name.startswith("media/attachments/") else data)
    with pytest.raises(CorruptArchive, match="missing: media/attachments/"):
        backup_restore(archive=missing, force=True)
    not_an_archive = tmp_path / "notes.tar.gz"
    not_an_archive.write_text("hello")
    with pytest.raises(CorruptArchive):
        backup_restore(archive=not_an_archive, force=True)
    unchanged()


def test_a_newer_migration_state_is_refused(archive: Path, unchanged: Callable[[], None], tmp_path: Path) -> None:
    newer = tmp_path / "newer.tar.gz"

    def future(manifest: dict) -> None:
        manifest["migrations"]["complaints"] = "0099_from_the_future"
        manifest["closeloop_version"] = "9.0.0"

    edit_manifest(archive, newer, future)
    with pytest.raises(BackupError, match=r"newer migration state.*complaints\.0099_from_the_future.*9\.0\.0"):
        backup_restore(archive=newer, force=True)
    unchanged()


def test_another_vendors_backup_is_refused(archive: Path, unchanged: Callable[[], None], tmp_path: Path) -> None:
    other = "postgresql" if connection.vendor == "sqlite" else "sqlite"
    foreign = tmp_path / "foreign.tar.gz"
    edit_manifest(archive, foreign, lambda manifest: manifest["database"].update(vendor=other))
    with pytest.raises(BackupError, match="across database vendors is not supported"):
        backup_restore(archive=foreign, force=True)
    unchanged()


def test_backup_does_not_overwrite_an_existing_file(seeded: list[Complaint], tmp_path: Path) -> None:
    existing = tmp_path / "mine.tar.gz"
    existing.write_bytes(b"precious")
    with pytest.raises(CommandError, match="already exists"):
        call_command("backup", str(existing))
    assert existing.read_bytes() == b"precious"
