"""`closeloop import complaints FILE [--dry-run]` and `closeloop import template [FILE]` — the history import."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from closeloop.core.errors import DomainError
from closeloop.imports.models import ImportSource
from closeloop.imports.reading import read_table
from closeloop.imports.services import ImportResult, complaints_import
from closeloop.imports.template import import_template_xlsx

BAR_WIDTH = 30


class ProgressLine:
    """One stderr line rewritten in place: `write  4000/10000 [############------------------]  40%`."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.shown = False

    def __call__(self, phase: str, done: int, total: int) -> None:
        filled = BAR_WIDTH * done // max(total, 1)
        percent = 100 * done // max(total, 1)
        bar = "#" * filled + "-" * (BAR_WIDTH - filled)
        self.stream.write(f"\r{phase:<6} {done:>7}/{total} [{bar}] {percent:>3}%")
        self.stream.flush()
        self.shown = True

    def end(self) -> None:
        if self.shown:
            self.stream.write("\n")
            self.stream.flush()


class Command(BaseCommand):
    help = "Import past complaints from an .xlsx or .csv file (the 投诉汇总表), or write the import template."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="what", required=True)
        complaints = sub.add_parser("complaints", help="import complaints; nothing is written if a row is wrong")
        complaints.add_argument("file")
        complaints.add_argument("--dry-run", action="store_true", help="check every row, write nothing")
        complaints.add_argument("--user", default="", help="username recorded as the importer")
        template = sub.add_parser("template", help="write the .xlsx template with the summary table's columns")
        template.add_argument("file", nargs="?", default="complaints-import-template.xlsx")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["what"] == "template":
            Path(options["file"]).write_bytes(import_template_xlsx())
            self.stdout.write(options["file"])
            return
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        actor = None
        if options["user"]:
            actor = get_user_model().objects.filter(username=options["user"]).first()
            if actor is None:
                raise CommandError(f"unknown user {options['user']!r}")
        progress = ProgressLine(sys.stderr)
        try:
            _headers, rows = read_table(data=path.read_bytes(), file_name=path.name)
            result = complaints_import(
                rows=rows,
                actor=actor,
                source=ImportSource.CLI,
                file_name=path.name,
                dry_run=options["dry_run"],
                progress=progress,
            )
        except DomainError as exc:
            progress.end()
            raise CommandError(str(exc.message)) from None
        progress.end()
        self._report(result)

    def _report(self, result: ImportResult) -> None:
        for error in result.errors:
            self.stdout.write(
                _("row %(row)s, %(column)s: %(message)s")
                % {"row": error.row, "column": error.column or "—", "message": error.message}
            )
        if result.errors:
            raise CommandError(
                _("%(count)d errors in %(rows)d rows; nothing was imported.")
                % {"count": len(result.errors), "rows": result.rows}
            )
        if result.dry_run:
            self.stdout.write(
                _("%(rows)d rows checked, no errors; nothing was written (dry run).") % {"rows": result.rows}
            )
            return
        self.stdout.write(
            _("%(rows)d complaints imported (%(customers)d new customers, %(followups)d follow-ups).")
            % {"rows": result.rows, "customers": result.customers_created, "followups": result.followups}
        )
