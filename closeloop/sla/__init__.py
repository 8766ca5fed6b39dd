"""SLA: working calendars and deadline arithmetic (pure Python; models and sweeps build on it)."""

from closeloop.sla.calendar import (
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
from closeloop.sla.durations import Duration, DurationUnit, InvalidDuration, parse_duration

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
