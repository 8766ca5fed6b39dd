"""`closeloop calendar deadline|day|import` — the working calendar from the command line."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from closeloop.calendar.durations import Duration, InvalidDuration
from closeloop.calendar.working import add
from closeloop.sla.loader import calendar_get
from closeloop.sla.models import Calendar, CalendarDay
from closeloop.sla.presentation import describe_day
from closeloop.sla.services import CalendarImportError, calendar_days_set, calendar_import_parse


class Command(BaseCommand):
    help = "Compute a deadline, explain a day, or import a year's holidays and make-up working days."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        deadline = sub.add_parser("deadline", help="print the deadline as ISO 8601 with offset")
        deadline.add_argument("--start", required=True, help="e.g. 2026-09-30T16:00+08:00")
        deadline.add_argument("--duration", required=True, help="e.g. 30min, 24h, 4wh, 2wd")
        deadline.add_argument("--calendar", default="default")
        day = sub.add_parser("day", help="whether a date is a working day, and why")
        day.add_argument("date", help="YYYY-MM-DD")
        day.add_argument("--calendar", default="default")
        imp = sub.add_parser("import", help="import holidays and make-up days from a CSV or JSON file")
        imp.add_argument("file")
        imp.add_argument("--calendar", default="default")

    def _calendar(self, code: str) -> Any:
        try:
            return calendar_get(code)
        except Calendar.DoesNotExist:
            known = ", ".join(Calendar.objects.values_list("code", flat=True))
            raise CommandError(f"unknown calendar {code!r} (known: {known})") from None

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "deadline":
            calendar = self._calendar(options["calendar"])
            try:
                start = datetime.datetime.fromisoformat(options["start"])
            except ValueError:
                raise CommandError(f"--start {options['start']!r} is not an ISO 8601 date-time") from None
            if start.tzinfo is None:
                start = start.replace(tzinfo=calendar.tz)
            try:
                duration = Duration.parse(options["duration"])
            except InvalidDuration as exc:
                raise CommandError(str(exc)) from None
            self.stdout.write(add(calendar, start, duration).isoformat())
        elif action == "day":
            calendar = self._calendar(options["calendar"])
            try:
                day = datetime.date.fromisoformat(options["date"])
            except ValueError:
                raise CommandError(f"{options['date']!r} is not a date (YYYY-MM-DD)") from None
            status = calendar.day_status(day)
            verdict = "working day" if status.is_working else "not a working day"
            self.stdout.write(f"{day.isoformat()} {verdict}: {describe_day(status)}")
        else:
            row = Calendar.objects.filter(code=options["calendar"]).first()
            if row is None:
                raise CommandError(f"unknown calendar {options['calendar']!r}")
            path = Path(options["file"])
            try:
                rows = calendar_import_parse(text=path.read_text(encoding="utf-8-sig"), filename=path.name)
            except (OSError, CalendarImportError) as exc:
                raise CommandError(f"{path}: {exc}") from None
            count = calendar_days_set(calendar=row, rows=rows, source=CalendarDay.Source.IMPORTED)
            years = sorted({r[0].year for r in rows})
            self.stdout.write(f"imported {count} days for {', '.join(map(str, years))} into calendar {row.code}")
