"""`closeloop anonymise [--dry-run]`: anonymise the personal data of complaints archived longer than
RETENTION_YEARS ago (the weekly job does the same); the dry run only reports what would change."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from closeloop.followup.services.retention import complaints_anonymise


class Command(BaseCommand):
    help = "Anonymise personal data of complaints archived past the retention period."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="report what would change, change nothing")

    def handle(self, *args: Any, **options: Any) -> None:
        result = complaints_anonymise(dry_run=options["dry_run"])
        verb = "Would anonymise" if result.dry_run else "Anonymised"
        self.stdout.write(
            f"{verb} {len(result.complaints)} complaint(s) archived before {result.cutoff:%Y-%m-%d}, "
            f"{result.customers} customer(s), {result.contacts} contact summaries, {result.attachments} attachment(s)."
        )
        for number in result.complaints:
            self.stdout.write(f"  {number}")
