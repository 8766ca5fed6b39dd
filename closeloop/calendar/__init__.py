"""The working calendar and deadline arithmetic: pure Python, no models (sla builds its rows and sweep on it)."""

from closeloop.calendar.durations import Duration, DurationUnit, InvalidDuration, parse_duration
from closeloop.calendar.working import (
    DEFAULT_CALENDAR,
    DEFAULT_WARNING_FRACTION,
    DayReason,
    DayRule,
    DaySource,
    DayStatus,
    FrozenDateMap,
    WorkingCalendar,
    add,
    add_working_time,
    extend_for_pause,
    statutory_covers,
    warning_at,
    working_time_between,
)

__all__ = [
    "DEFAULT_CALENDAR",
    "DEFAULT_WARNING_FRACTION",
    "DayReason",
    "DayRule",
    "DaySource",
    "DayStatus",
    "Duration",
    "DurationUnit",
    "FrozenDateMap",
    "InvalidDuration",
    "WorkingCalendar",
    "add",
    "add_working_time",
    "extend_for_pause",
    "parse_duration",
    "statutory_covers",
    "warning_at",
    "working_time_between",
]
