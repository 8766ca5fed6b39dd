"""`closeloop restore PATH [--force]`: replace the configured database and MEDIA_ROOT with a backup's,
then verify row counts and checksums against its manifest. Stop the web and worker processes first.

The logic lives in closeloop/core/backup.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError

from closeloop.core.backup import BackupError, backup_restore, summary_lines


class Command(BaseCommand):
    help = (
        "Restore a `closeloop backup` archive into the configured database and MEDIA_ROOT. Refuses a target "
        "that already holds complaints, customers or users unless --force is given."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", metavar="PATH", help="the archive written by `closeloop backup`")
        parser.add_argument("--force", action="store_true", help="replace a database that already holds data")
        parser.add_argument("--pg-bin", metavar="DIR", help="directory holding pg_restore (PostgreSQL only)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = backup_restore(
                archive=Path(options["path"]),
                force=options["force"],
                pg_bin=options["pg_bin"],
                log=lambda message: self.stderr.write(message) if options["verbosity"] >= 1 else None,
            )
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        except DatabaseError as exc:
            raise CommandError(f"The configured database cannot be used: {exc}".strip()) from exc
        lines = summary_lines(result)
        if result.mismatches:
            self.stdout.write("\n".join(lines))
            raise CommandError(
                f"Restored {options['path']}, but the result differs from the backup's manifest (see above)."
            )
        self.stdout.write(self.style.SUCCESS(f"Restored {options['path']}"))
        self.stdout.write("\n".join(lines))
