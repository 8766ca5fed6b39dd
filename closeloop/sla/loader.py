"""Turns calendar rows into the pure `WorkingCalendar` the arithmetic uses, cached per process.

A cached calendar is reused while its row's `updated_at` is unchanged; every service that edits a
calendar or its days touches that column, so all processes pick up the change on their next load.
"""

from __future__ import annotations

import datetime
import threading

from closeloop.calendar.working import WorkingCalendar
from closeloop.sla.models import Calendar, CalendarDay

_cache: dict[str, tuple[datetime.datetime, WorkingCalendar]] = {}
_lock = threading.Lock()


def build_calendar(row: Calendar) -> WorkingCalendar:
    overrides: dict[datetime.date, tuple[bool, str]] = {}
    imported: dict[datetime.date, tuple[bool, str]] = {}
    for day in CalendarDay.objects.filter(calendar=row).only("date", "source", "is_working", "reason"):
        target = overrides if day.source == CalendarDay.Source.OVERRIDE else imported
        target[day.date] = (day.is_working, day.reason)
    return WorkingCalendar(
        name=row.code,
        tz=row.time_zone,  # type: ignore[arg-type]  # the row's JSON and time zone name, as WorkingCalendar reads them
        windows=tuple(tuple(w) for w in row.windows),
        six_day_week=row.six_day_week,
        overrides=overrides,  # type: ignore[arg-type]  # the row's JSON and time zone name, as WorkingCalendar reads them
        imported=imported,  # type: ignore[arg-type]  # the row's JSON and time zone name, as WorkingCalendar reads them
    )


def calendar_get(code: str) -> WorkingCalendar:
    """The working calendar `code`; raises Calendar.DoesNotExist for an unknown code."""
    return calendar_for_row(Calendar.objects.get(code=code))


def calendar_for_row(row: Calendar) -> WorkingCalendar:
    cached = _cache.get(row.code)
    if cached is not None and cached[0] == row.updated_at:
        return cached[1]
    calendar = build_calendar(row)
    with _lock:
        _cache[row.code] = (row.updated_at, calendar)
    return calendar
