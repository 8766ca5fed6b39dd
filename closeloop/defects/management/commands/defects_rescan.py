"""`closeloop defects_rescan --from 2026-01-01 [--to 2026-03-31] [--notify]`: run the early-warning
check over the complaints received in a period (local days, both included), oldest first — after
importing history, or to catch up after the worker was down. Idempotent. Quality is notified only
with --notify (spikes found in old history are listed in the desk, not mailed)."""

from __future__ import annotations

import datetime
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from closeloop.defects.services.spikes import spikes_rescan


def _day(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{value!r} is not a date (YYYY-MM-DD)") from None


class Command(BaseCommand):
    help = "Run the defect early-warning check over the complaints received in a period."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--from", dest="start", required=True, help="first day (YYYY-MM-DD, local time)")
        parser.add_argument("--to", dest="end", help="last day, included (default: today)")
        parser.add_argument("--notify", action="store_true", help="notify quality of the alerts raised")

    def handle(self, *args: Any, **options: Any) -> None:
        start = _day(options["start"])
        end = _day(options["end"]) if options["end"] else timezone.localdate()
        if end < start:
            raise CommandError("--to is before --from")

        def midnight(day: datetime.date) -> datetime.datetime:
            return timezone.make_aware(datetime.datetime.combine(day, datetime.time()))

        result = spikes_rescan(
            start=midnight(start), end=midnight(end + datetime.timedelta(days=1)), notify=options["notify"]
        )
        self.stdout.write(
            f"Checked {result.checked} complaint(s) received {start} … {end}: "
            f"{len(result.raised)} alert(s) raised, {result.joined} joined an open alert or incident."
        )
