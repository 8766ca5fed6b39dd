"""`closeloop backup [PATH]`: one archive with the database, the media files and a manifest.

Runs while the application runs. The logic lives in closeloop/core/backup.py.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError

from closeloop.core.backup import BackupError, backup_create


class Command(BaseCommand):
    help = (
        "Write a backup archive (database, media files, manifest with counts and checksums). PATH is the "
        "archive's name when it ends in .tar.gz, else a directory; default "
        "var/backups/closeloop-backup-YYYYmmdd-HHMMSS.tar.gz (UTC)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", nargs="?", metavar="PATH", help="directory, or the archive's name (*.tar.gz)")
        parser.add_argument(
            "--keep", type=int, metavar="N", help="afterwards delete all but the newest N archives in that directory"
        )
        parser.add_argument("--pg-bin", metavar="DIR", help="directory holding pg_dump (PostgreSQL only)")
        parser.add_argument(
            "--compress-level", type=int, default=1, choices=range(0, 10), metavar="0-9", help="gzip level (1)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["keep"] is not None and options["keep"] < 1:
            raise CommandError("--keep must be at least 1.")
        try:
            result = backup_create(
                destination=options["path"] or None,
                keep=options["keep"],
                pg_bin=options["pg_bin"],
                compresslevel=options["compress_level"],
                log=lambda message: self.stderr.write(message) if options["verbosity"] >= 1 else None,
            )
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        except DatabaseError as exc:
            raise CommandError(f"The configured database cannot be used: {exc}".strip()) from exc
        manifest = result.manifest
        rows = sum(entry["rows"] for entry in manifest["counts"].values())
        size = result.path.stat().st_size
        self.stdout.write(self.style.SUCCESS(f"Backup written: {result.path}"))
        self.stdout.write(
            f"  database: {manifest['database']['vendor']}, {len(manifest['counts'])} tables, {rows} rows; "
            f"media: {manifest['media']['count']} files; archive {size / 1024 / 1024:.1f} MB; "
            f"{result.seconds:.1f} s"
        )
        for path in result.pruned:
            self.stdout.write(f"  deleted old backup {path.name}")
