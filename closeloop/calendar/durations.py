"""SLA target durations: the three units of the brief (calendar time, working hours, working days).

A duration is written the way the policy tables write it — ``30min``, ``24h``, ``2d``, ``4wh``, ``90wmin``, ``2wd`` —
and is stored normalised: seconds for the two time units, a count of days for working days.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from enum import StrEnum


class DurationUnit(StrEnum):
    CALENDAR = "calendar"  # elapsed time, 24/7
    WORKING_HOURS = "working_hours"  # only time inside working windows of working days counts
    WORKING_DAYS = "working_days"  # same local clock time on the N-th following working day


class InvalidDuration(ValueError):
    """The text is not a duration CloseLoop understands."""


# suffix -> (unit, seconds per step); working days count days, not seconds.
_SUFFIXES: dict[str, tuple[DurationUnit, int]] = {
    "min": (DurationUnit.CALENDAR, 60),
    "h": (DurationUnit.CALENDAR, 3600),
    "d": (DurationUnit.CALENDAR, 86400),
    "wmin": (DurationUnit.WORKING_HOURS, 60),
    "wh": (DurationUnit.WORKING_HOURS, 3600),
    "wd": (DurationUnit.WORKING_DAYS, 1),
}
_PATTERN = re.compile(r"\s*(\d{1,7})\s*(min|h|d|wmin|wh|wd)\s*", re.IGNORECASE)
_HELP = "a whole number followed by min, h or d (calendar time), wmin or wh (working hours) or wd (working days)"


@dataclass(frozen=True, slots=True)
class Duration:
    """An SLA duration. ``value`` is in seconds for CALENDAR and WORKING_HOURS, in days for WORKING_DAYS.

    Always positive: a zero target is a configuration mistake, and refusing it keeps the arithmetic's
    properties simple (``add(add(S, a), b) == add(S, a + b)``).
    """

    unit: DurationUnit
    value: int

    def __post_init__(self) -> None:
        if not isinstance(self.value, int) or isinstance(self.value, bool) or self.value <= 0:
            raise InvalidDuration(f"Duration value must be a positive whole number, got {self.value!r}")
        object.__setattr__(self, "unit", DurationUnit(self.unit))

    @classmethod
    def parse(cls, text: str) -> Duration:
        """Parse ``30min``, ``24h``, ``2d``, ``4wh``, ``90wmin`` or ``2wd`` (spaces and case are tolerated)."""
        if not isinstance(text, str):
            raise InvalidDuration(f"Invalid duration {text!r}: expected text such as '24h', '4wh' or '2wd'")
        match = _PATTERN.fullmatch(text)
        if match is None:
            raise InvalidDuration(f"Invalid duration {text!r}: expected {_HELP}, e.g. '24h', '4wh' or '2wd'")
        number, suffix = int(match.group(1)), match.group(2).lower()
        if number == 0:
            raise InvalidDuration(f"Invalid duration {text!r}: it must be greater than zero")
        unit, step = _SUFFIXES[suffix]
        return cls(unit, number * step)

    @classmethod
    def calendar(cls, delta: datetime.timedelta) -> Duration:
        return cls(DurationUnit.CALENDAR, _whole_seconds(delta))

    @classmethod
    def working_hours(cls, delta: datetime.timedelta) -> Duration:
        return cls(DurationUnit.WORKING_HOURS, _whole_seconds(delta))

    @classmethod
    def working_days(cls, days: int) -> Duration:
        return cls(DurationUnit.WORKING_DAYS, days)

    @property
    def timedelta(self) -> datetime.timedelta:
        """The time span of a CALENDAR or WORKING_HOURS duration."""
        if self.unit is DurationUnit.WORKING_DAYS:
            raise TypeError("A working-days duration has no fixed time span; use .days")
        return datetime.timedelta(seconds=self.value)

    @property
    def days(self) -> int:
        """The number of working days of a WORKING_DAYS duration."""
        if self.unit is not DurationUnit.WORKING_DAYS:
            raise TypeError(f"A {self.unit} duration is not a number of working days; use .timedelta")
        return self.value

    def __add__(self, other: object) -> Duration:
        if not isinstance(other, Duration):
            return NotImplemented
        if other.unit is not self.unit:
            raise TypeError(f"Cannot add a {other.unit} duration to a {self.unit} duration")
        return Duration(self.unit, self.value + other.value)

    def __str__(self) -> str:
        """The canonical text, which ``parse`` reads back to an equal duration."""
        if self.unit is DurationUnit.WORKING_DAYS:
            return f"{self.value}wd"
        prefix = "w" if self.unit is DurationUnit.WORKING_HOURS else ""
        if self.value % 60:  # only reachable through Duration.calendar()/working_hours() with odd seconds
            return f"{self.value}s ({self.unit})"
        if self.unit is DurationUnit.CALENDAR and self.value % 86400 == 0:
            return f"{self.value // 86400}d"
        if self.value % 3600 == 0:
            return f"{self.value // 3600}{prefix}h"
        return f"{self.value // 60}{prefix}min"


def parse_duration(text: str) -> Duration:
    """Shorthand for :meth:`Duration.parse`."""
    return Duration.parse(text)


def _whole_seconds(delta: datetime.timedelta) -> int:
    if delta.microseconds:
        raise InvalidDuration(f"Duration {delta} is not a whole number of seconds")
    return delta.days * 86400 + delta.seconds
