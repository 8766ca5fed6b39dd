"""Reads for the calendar page."""

from __future__ import annotations

import calendar as stdlib_calendar
import datetime
from dataclasses import dataclass

from closeloop.calendar.working import DayReason, DaySource, WorkingCalendar
from closeloop.sla.presentation import describe_day


@dataclass(frozen=True)
class MonthDay:
    date: datetime.date
    is_working: bool
    css: str
    why: str


def calendar_month(*, calendar: WorkingCalendar, year: int, month: int) -> list[list[MonthDay | None]]:
    """Weeks (Monday first) of the month; None pads the first and last week."""
    weeks: list[list[MonthDay | None]] = []
    for week in stdlib_calendar.Calendar(firstweekday=0).monthdatescalendar(year, month):
        row: list[MonthDay | None] = []
        for day in week:
            if day.month != month:
                row.append(None)
                continue
            status = calendar.day_status(day)
            css = ["work" if status.is_working else "off"]
            if status.reason_code == DayReason.MAKEUP_WORKDAY:
                css.append("makeup")
            if status.source == DaySource.OVERRIDE:
                css.append("override")
            if status.source == DaySource.FALLBACK:
                css.append("fallback")
            row.append(MonthDay(day, status.is_working, " ".join(css), describe_day(status)))
        weeks.append(row)
    return weeks
