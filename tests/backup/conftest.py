"""Helpers for the backup tests: a few complaints with events, deadlines and files, and the exact state
of the database (rows per table) and of MEDIA_ROOT (SHA-256 per file) to compare before and after."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection

from closeloop.complaints.models import Complaint
from closeloop.complaints.services import AttachmentUpload, complaint_attach, complaint_transition

# The smallest valid PNG (1×1 pixel), so that the attachment's type is sniffed from real bytes.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c63f8cfc0f01f0005000201a5d1b0b50000000049454e44ae426082"
)


def table_counts() -> dict[str, int]:
    """Rows in every table of the configured database (not only the ones the manifest counts)."""
    counts = {}
    with connection.cursor() as cursor:
        for table in sorted(connection.introspection.table_names()):
            cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")  # noqa: S608
            counts[table] = cursor.fetchone()[0]
    return counts


def media_checksums() -> dict[str, str]:
    root = Path(settings.MEDIA_ROOT)
    return {
        path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


@pytest.fixture(autouse=True)
def _web_stopped_and_a_data_directory_of_its_own(
    other_threads_connections_closed: None, settings: Any, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """A restore needs the database to itself, as an operator stops the web and worker first; in the test
    process the web is the live server an earlier test used. The data directory, where a restore stages
    its files, is the test's own: `leftovers()` must not see another test's restore running alongside."""
    settings.DATA_DIR = tmp_path_factory.mktemp("data")


def leftovers() -> list[str]:
    """Staging files a restore must never leave behind."""
    media = [p.name for p in Path(settings.MEDIA_ROOT).glob(".closeloop-*")]
    data = [p.name for p in Path(settings.DATA_DIR).glob(".closeloop-restore-*")]
    if connection.vendor == "sqlite":
        db = Path(str(connection.settings_dict["NAME"]))
        data += [p.name for p in db.parent.glob(f".{db.name}.restore-*")]
    return media + data


def rewrite_archive(source: Path, target: Path, change: Callable[[str, bytes], bytes | None]) -> None:
    """Copy an archive member by member; `change(name, data)` returns new bytes, or None to drop it."""
    with tarfile.open(source, "r:gz") as old, tarfile.open(target, "w:gz", format=tarfile.PAX_FORMAT) as new:
        for member in old:
            data = old.extractfile(member).read()  # type: ignore[union-attr]
            changed = change(member.name, data)
            if changed is None:
                continue
            info = tarfile.TarInfo(member.name)
            info.size = len(changed)
            new.addfile(info, io.BytesIO(changed))


def edit_manifest(source: Path, target: Path, edit: Callable[[dict[str, Any]], None]) -> None:
    def change(name: str, data: bytes) -> bytes:
        if name != "manifest.json":
            return data
        manifest = json.loads(data)
        edit(manifest)
        return json.dumps(manifest).encode()

    rewrite_archive(source, target, change)


@pytest.fixture
def seeded(make_complaint: Callable[..., Complaint], agent: User) -> list[Complaint]:
    """Three complaints (registered, acknowledged, one with a photo) and a generated report file."""
    complaints = [make_complaint(), make_complaint(description="灯罩破裂"), make_complaint(priority=3)]
    complaint_transition(complaint=complaints[1], action="acknowledge", actor=agent, via="desk")
    complaint_attach(
        complaint=complaints[2],
        upload=AttachmentUpload(name="裂纹.png", file=io.BytesIO(PNG), size=len(PNG)),
        actor=agent,
        via="desk",
    )
    default_storage.save("reports/2026-10/summary.xlsx", ContentFile(b"PK\x03\x04 not really a workbook"))
    return complaints
