"""The working calendar and the deadline arithmetic of CloseLoop (brief: ``sla.md``).

Pure Python, no database: sla's rows build a :class:`WorkingCalendar` (overrides, imported years; see
``closeloop/sla/loader.py``) and call the functions at the bottom of this module. Everything here is exact
and normative — two correct implementations give the same instant for the same input — so change a rule
only together with ``tests/calendar``.

Time is handled in the calendar's local *wall clock*: working windows are wall-clock intervals and working time
is measured on the wall clock. Asia/Shanghai has no daylight saving time, so this is exact there; in a zone with
DST a window crossing a transition counts its wall-clock length.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from fractions import Fraction
from typing import NamedTuple
from zoneinfo import ZoneInfo

import chinese_calendar

from closeloop.calendar.durations import Duration, DurationUnit

logger = logging.getLogger("closeloop.sla")

DEFAULT_TZ = ZoneInfo("Asia/Shanghai")
DEFAULT_WINDOWS: tuple[tuple[datetime.time, datetime.time], ...] = (
    (datetime.time(9), datetime.time(12)),
    (datetime.time(13), datetime.time(18)),
)
DEFAULT_WARNING_FRACTION = 0.8
# The years deadlines are computed in. Outside them the arithmetic overflows (year 9999 plus a duration)
# or meets the time zone's local mean time (Asia/Shanghai before 1901 is +08:05:43, which no ISO 8601
# offset can say); no complaint's clock runs there, so inputs outside are refused.
FIRST_YEAR, LAST_YEAR = 2000, 2100

_US_PER_DAY = 86_400_000_000
_UTC = datetime.UTC
_ZERO = datetime.timedelta(0)


class DaySource(StrEnum):
    """Which rule decided a date, in the order of the brief."""

    OVERRIDE = "override"  # an admin's override for that date
    STATUTORY = "statutory"  # China's schedule from the chinese-calendar package
    IMPORTED = "imported"  # a year's holidays and make-up days imported by an admin
    FALLBACK = "fallback"  # no schedule for the year: Mon–Fri (Mon–Sat for a six-day week); admins are warned


class DayReason(StrEnum):
    WORKDAY = "workday"  # an ordinary working day (incl. Saturday of a six-day week, or an override)
    WEEKEND = "weekend"  # an ordinary rest day
    HOLIDAY = "holiday"  # a statutory/imported holiday, or a date an admin closed
    MAKEUP_WORKDAY = "makeup_workday"  # 调休: a weekend day made a working day


class DayRule(NamedTuple):
    """An override or an imported entry: whether the date is worked, and why (shown to admins)."""

    is_working: bool
    reason: str = ""


@dataclass(frozen=True, slots=True)
class DayStatus:
    is_working: bool
    reason_code: DayReason
    reason_text: str  # the holiday's name (English, from the package), the admin's reason, or a description
    source: DaySource
    holiday_name_zh: str = ""  # Chinese name of a statutory holiday / make-up day, when known


# chinese-calendar names its holidays in English only.
HOLIDAY_NAMES_ZH: dict[str, str] = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "Mid-autumn Festival": "中秋节",
    "National Day": "国庆节",
    "Anti-Fascist 70th Day": "中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日",
}

_statutory_years: dict[int, bool] = {}


def statutory_covers(year: int) -> bool:
    """Whether the installed chinese-calendar package knows ``year`` (it raises NotImplementedError otherwise)."""
    covered = _statutory_years.get(year)
    if covered is None:
        try:
            chinese_calendar.get_holiday_detail(datetime.date(year, 6, 1))
            covered = True
        except NotImplementedError:
            covered = False
        _statutory_years[year] = covered
    return covered


class FrozenDateMap(Mapping[datetime.date, DayRule]):
    """An immutable, hashable ``date -> DayRule`` mapping, so a calendar can be a dict key or an lru_cache argument.

    Values may be given as ``DayRule``, ``(is_working, reason)`` or a bare ``bool``.
    """

    __slots__ = ("_data", "_hash")

    def __init__(
        self,
        data: Mapping[datetime.date, DayRule | tuple[bool, str] | bool]
        | Iterable[tuple[datetime.date, DayRule | tuple[bool, str] | bool]] = (),
    ) -> None:
        items = data.items() if isinstance(data, Mapping) else data
        normalised: dict[datetime.date, DayRule] = {}
        for day, value in items:
            if isinstance(day, datetime.datetime) or not isinstance(day, datetime.date):
                raise TypeError(f"Calendar entries are keyed by date, got {day!r}")
            rule = DayRule(value) if isinstance(value, bool) else DayRule(bool(value[0]), str(value[1]))
            normalised[day] = rule
        self._data = normalised
        self._hash: int | None = None

    def __getitem__(self, key: datetime.date) -> DayRule:
        return self._data[key]

    def get(self, key: datetime.date, default: DayRule | None = None) -> DayRule | None:  # type: ignore[override]  # the narrower signature is intended
        return self._data.get(key, default)

    def __iter__(self) -> Iterator[datetime.date]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash(frozenset(self._data.items()))
        return self._hash

    def __eq__(self, other: object) -> bool:
        if isinstance(other, FrozenDateMap):
            return self._data == other._data
        return NotImplemented

    def __repr__(self) -> str:
        return f"FrozenDateMap({self._data!r})"


def _parse_time(value: datetime.time | str) -> datetime.time:
    if isinstance(value, datetime.time):
        if value.tzinfo is not None:
            raise ValueError(f"Working windows are local wall-clock times, got an aware time {value}")
        return value
    return datetime.time.fromisoformat(value)


def _us_of_day(value: datetime.time) -> int:
    return ((value.hour * 60 + value.minute) * 60 + value.second) * 1_000_000 + value.microsecond


@dataclass(frozen=True)
class WorkingCalendar:
    """Which dates are worked and which hours of them, in one time zone.

    ``overrides`` (admin, per date) beat everything; ``imported`` holds the holidays and make-up days of years the
    chinese-calendar package does not cover (the years present among its keys count as imported). Both accept a
    plain dict of ``date -> (is_working, reason)`` and are frozen, so the calendar is hashable.

    ``day_status`` results are cached per instance; build a new calendar (``dataclasses.replace``) when the
    underlying data change.
    """

    name: str = "default"
    tz: ZoneInfo = DEFAULT_TZ
    windows: tuple[tuple[datetime.time, datetime.time], ...] = DEFAULT_WINDOWS
    six_day_week: bool = False
    overrides: Mapping[datetime.date, DayRule] = field(default_factory=FrozenDateMap)
    imported: Mapping[datetime.date, DayRule] = field(default_factory=FrozenDateMap)

    # Derived data and caches, not part of equality or hashing.
    _windows_us: tuple[tuple[int, int], ...] = field(init=False, repr=False, compare=False)
    _day_us: int = field(init=False, repr=False, compare=False)
    _imported_years: frozenset[int] = field(init=False, repr=False, compare=False)
    _status_cache: dict[datetime.date, DayStatus] = field(init=False, repr=False, compare=False)
    _working_cache: dict[int, bool] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        if isinstance(self.tz, str):
            set_(self, "tz", ZoneInfo(self.tz))
        windows = tuple((_parse_time(start), _parse_time(end)) for start, end in self.windows)
        if not windows:
            raise ValueError(f"Calendar {self.name!r} needs at least one working window")
        windows_us = tuple((_us_of_day(start), _us_of_day(end)) for start, end in windows)
        previous_end = 0
        for (start, end), (start_us, end_us) in zip(windows, windows_us, strict=True):
            if end_us <= start_us:
                raise ValueError(f"Working window {start}–{end} of calendar {self.name!r} ends before it starts")
            if start_us < previous_end:
                raise ValueError(f"Working windows of calendar {self.name!r} must be in order and not overlap")
            previous_end = end_us
        set_(self, "windows", windows)
        set_(self, "_windows_us", windows_us)
        set_(self, "_day_us", sum(end - start for start, end in windows_us))
        for name in ("overrides", "imported"):
            value = getattr(self, name)
            if not isinstance(value, FrozenDateMap):
                set_(self, name, FrozenDateMap(value))
        set_(self, "_imported_years", frozenset(day.year for day in self.imported))
        set_(self, "_status_cache", {})
        set_(self, "_working_cache", {})

    # -- which dates are worked ------------------------------------------------------------------------------

    def day_status(self, day: datetime.date) -> DayStatus:
        """Whether ``day`` is a working day and why: override, then statutory, then imported, then fallback."""
        if isinstance(day, datetime.datetime):
            raise TypeError("day_status takes a date; convert an instant with .astimezone(calendar.tz).date()")
        status = self._status_cache.get(day)
        if status is None:
            status = self._decide(day)
            self._status_cache[day] = status
        return status

    def is_working_day(self, day: datetime.date) -> bool:
        return self._is_working_ordinal(day.toordinal())

    def year_source(self, year: int) -> DaySource:
        """Where the schedule of ``year`` comes from (ignoring per-date overrides)."""
        if statutory_covers(year):
            return DaySource.STATUTORY
        if year in self._imported_years:
            return DaySource.IMPORTED
        return DaySource.FALLBACK

    def missing_years(self, from_date: datetime.date, to_date: datetime.date) -> list[int]:
        """Years between the two dates (inclusive) with neither a statutory nor an imported schedule.

        Deadlines in those years are still computed (Mon–Fri, or Mon–Sat for a six-day week); the caller warns
        admins in the desk. Datetimes are read in the calendar's time zone.
        """
        first, last = self._as_local_date(from_date), self._as_local_date(to_date)
        if last < first:
            first, last = last, first
        return [y for y in range(first.year, last.year + 1) if self.year_source(y) is DaySource.FALLBACK]

    def _as_local_date(self, value: datetime.date) -> datetime.date:
        if isinstance(value, datetime.datetime):
            return value.astimezone(self.tz).date() if value.tzinfo else value.date()
        return value

    def _regular_working(self, weekday: int) -> bool:
        return weekday < (6 if self.six_day_week else 5)

    def _decide(self, day: datetime.date) -> DayStatus:
        rule = self.overrides.get(day)
        if rule is not None:
            code = DayReason.WORKDAY if rule.is_working else DayReason.HOLIDAY
            return DayStatus(rule.is_working, code, rule.reason, DaySource.OVERRIDE)
        weekday = day.weekday()
        regular = self._regular_working(weekday)
        if statutory_covers(day.year):
            is_holiday, name = chinese_calendar.get_holiday_detail(day)
            zh = HOLIDAY_NAMES_ZH.get(name or "", "")
            if is_holiday and name:  # statutory holiday — stays a holiday even on a six-day week's Saturday
                return DayStatus(False, DayReason.HOLIDAY, name, DaySource.STATUTORY, zh)
            if is_holiday:  # an ordinary weekend day
                if regular:
                    return DayStatus(True, DayReason.WORKDAY, "Saturday (six-day week)", DaySource.STATUTORY)
                return DayStatus(False, DayReason.WEEKEND, _weekday_name(weekday), DaySource.STATUTORY)
            if weekday >= 5:  # 调休: a weekend day worked to make up for a holiday
                text = f"Make-up working day ({name})" if name else "Make-up working day"
                return DayStatus(True, DayReason.MAKEUP_WORKDAY, text, DaySource.STATUTORY, zh)
            return DayStatus(True, DayReason.WORKDAY, _weekday_name(weekday), DaySource.STATUTORY)
        if day.year in self._imported_years:
            rule = self.imported.get(day)
            if rule is None:
                return _weekly_status(weekday, regular, DaySource.IMPORTED)
            if not rule.is_working:
                return DayStatus(False, DayReason.HOLIDAY, rule.reason, DaySource.IMPORTED)
            code = DayReason.WORKDAY if regular else DayReason.MAKEUP_WORKDAY
            return DayStatus(True, code, rule.reason, DaySource.IMPORTED)
        _warn_missing_year(self.name, day.year)
        return _weekly_status(weekday, regular, DaySource.FALLBACK)

    def _is_working_ordinal(self, ordinal: int) -> bool:
        working = self._working_cache.get(ordinal)
        if working is None:
            working = self.day_status(datetime.date.fromordinal(ordinal)).is_working
            self._working_cache[ordinal] = working
        return working

    # -- instants <-> (local date ordinal, microseconds since local midnight) -----------------------------------

    def _split(self, moment: datetime.datetime) -> tuple[int, int]:
        if moment.tzinfo is None:
            raise ValueError(f"Deadline arithmetic needs an aware datetime, got naive {moment.isoformat()}")
        local = moment.astimezone(self.tz)
        return (
            local.toordinal(),
            ((local.hour * 60 + local.minute) * 60 + local.second) * 1_000_000 + local.microsecond,
        )

    def _join(self, ordinal: int, us: int) -> datetime.datetime:
        wall = datetime.datetime.fromordinal(ordinal) + datetime.timedelta(microseconds=us)
        return wall.replace(tzinfo=self.tz)

    def _next_working_ordinal(self, ordinal: int) -> int:
        ordinal += 1
        while not self._is_working_ordinal(ordinal):
            ordinal += 1
        return ordinal


_WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _weekday_name(weekday: int) -> str:
    return _WEEKDAY_NAMES[weekday]


def _weekly_status(weekday: int, regular: bool, source: DaySource) -> DayStatus:
    code = DayReason.WORKDAY if regular else DayReason.WEEKEND
    return DayStatus(regular, code, _weekday_name(weekday), source)


_warned: set[tuple[str, int]] = set()


def _warn_missing_year(calendar_name: str, year: int) -> None:
    if (calendar_name, year) not in _warned:
        _warned.add((calendar_name, year))
        logger.warning(
            "Working calendar %r has no holiday schedule for %s: counting Monday to Friday (or Saturday) as working "
            "days. Import the year's holidays and make-up days.",
            calendar_name,
            year,
        )


DEFAULT_CALENDAR = WorkingCalendar()


# -- arithmetic -------------------------------------------------------------------------------------------------


def add(calendar: WorkingCalendar, start: datetime.datetime, duration: Duration | str) -> datetime.datetime:
    """The deadline ``duration`` after ``start``, as an aware datetime in the calendar's time zone.

    - calendar time: ``start + duration`` (elapsed time);
    - working hours: see :func:`add_working_time`;
    - working days: if ``start``'s local date is not a working day, first move to the start of the first window of
      the next working day; then count the following dates, only working days, until N are counted; the deadline
      is that date at the (possibly moved) start's local clock time.
    """
    if isinstance(duration, str):
        duration = Duration.parse(duration)
    unit = duration.unit
    if unit is DurationUnit.WORKING_HOURS:
        return add_working_time(calendar, start, duration.timedelta)
    if unit is DurationUnit.WORKING_DAYS:
        ordinal, us = calendar._split(start)
        if not calendar._is_working_ordinal(ordinal):
            ordinal = calendar._next_working_ordinal(ordinal)
            us = calendar._windows_us[0][0]
        for _ in range(duration.value):
            ordinal = calendar._next_working_ordinal(ordinal)
        return calendar._join(ordinal, us)
    return _add_elapsed(calendar, start, duration.timedelta)


def add_working_time(
    calendar: WorkingCalendar, start: datetime.datetime, amount: datetime.timedelta
) -> datetime.datetime:
    """``start`` plus ``amount`` of working time (the working-hours arithmetic).

    If ``start`` is not inside a working window it moves to the start of the next window on a working day; the
    amount is then consumed across windows of working days. An amount used up exactly at a window's end ends
    there, not at the next window's start. A zero amount returns ``start`` unchanged (in the calendar's zone).
    """
    if amount < _ZERO:
        raise ValueError(f"Working time to add must not be negative, got {amount}")
    if not amount:
        if start.tzinfo is None:
            raise ValueError(f"Deadline arithmetic needs an aware datetime, got naive {start.isoformat()}")
        return start.astimezone(calendar.tz)
    remaining = (amount.days * 86_400 + amount.seconds) * 1_000_000 + amount.microseconds
    ordinal, us = calendar._split(start)
    windows = calendar._windows_us
    day_us = calendar._day_us
    is_working = calendar._is_working_ordinal
    while True:
        if is_working(ordinal):
            if us == 0 and remaining > day_us:  # a whole working day: skip it in one step
                remaining -= day_us
            else:
                for window_start, window_end in windows:
                    if us >= window_end:
                        continue
                    begin = us if us > window_start else window_start
                    available = window_end - begin
                    if remaining <= available:
                        return calendar._join(ordinal, begin + remaining)
                    remaining -= available
        ordinal += 1
        us = 0


def working_time_between(calendar: WorkingCalendar, a: datetime.datetime, b: datetime.datetime) -> datetime.timedelta:
    """The working time (inside windows of working days) between two instants; zero if ``b`` is not after ``a``."""
    if b <= a:
        return _ZERO
    first, first_us = calendar._split(a)
    last, last_us = calendar._split(b)
    windows = calendar._windows_us
    day_us = calendar._day_us
    is_working = calendar._is_working_ordinal
    total = 0
    for ordinal in range(first, last + 1):
        if not is_working(ordinal):
            continue
        low = first_us if ordinal == first else 0
        high = last_us if ordinal == last else _US_PER_DAY
        if low == 0 and high == _US_PER_DAY:
            total += day_us
            continue
        for window_start, window_end in windows:
            begin = low if low > window_start else window_start
            end = high if high < window_end else window_end
            if end > begin:
                total += end - begin
    return datetime.timedelta(microseconds=total)


def extend_for_pause(
    calendar: WorkingCalendar,
    due: datetime.datetime,
    duration_unit: DurationUnit | Duration,
    pause_start: datetime.datetime,
    pause_end: datetime.datetime,
) -> datetime.datetime:
    """The due instant after a pause ("waiting for the customer") from ``pause_start`` to ``pause_end``.

    A calendar-time target is extended by the elapsed pause; a working-hours or working-days target by the working
    time that passed during the pause, added to ``due`` with the working-hours arithmetic (so a working-days due
    at 20:00 extended by one working hour becomes 10:00 on the next working day). A pause with no working time in it
    leaves such a due unchanged.
    """
    unit = duration_unit.unit if isinstance(duration_unit, Duration) else DurationUnit(duration_unit)
    if pause_end <= pause_start:
        return due.astimezone(calendar.tz)
    if unit is DurationUnit.CALENDAR:
        return _add_elapsed(calendar, due, pause_end - pause_start)
    return add_working_time(calendar, due, working_time_between(calendar, pause_start, pause_end))


def warning_at(
    calendar: WorkingCalendar,
    start: datetime.datetime,
    duration: Duration | str,
    fraction: float = DEFAULT_WARNING_FRACTION,
) -> datetime.datetime:
    """The warning instant: ``fraction`` (default 80 %) of the allowed time, measured in the target's unit.

    - calendar time: ``start + fraction × duration`` (elapsed);
    - working hours: ``start + fraction × duration`` with the working-hours arithmetic;
    - working days: a working-days target has no fixed length, so it is measured by the working time it allows:
      ``W = working_time_between(start, due)``, and the warning is ``start + fraction × W`` with the working-hours
      arithmetic. E.g. Monday 10:00 + 2wd (due Wednesday 10:00, W = 16 working hours) warns after 12.8 working
      hours, on Tuesday 15:48. Decision: we chose working time over "fraction of N days at the same clock time"
      because it is continuous in ``fraction`` and agrees with how pauses extend working-days targets.

    The partial time is rounded down to whole seconds.
    """
    if not 0 <= fraction <= 1:
        raise ValueError(f"Warning fraction must be between 0 and 1, got {fraction}")
    if isinstance(duration, str):
        duration = Duration.parse(duration)
    if duration.unit is DurationUnit.WORKING_DAYS:
        allowed = working_time_between(calendar, start, add(calendar, start, duration))
    else:
        allowed = duration.timedelta
    # Fraction of the decimal text: 0.8 × 3600 s must be exactly 2880 s, not 2879.999… rounded down.
    exact = Fraction(str(fraction)) * (allowed.days * 86_400 + allowed.seconds)
    part = datetime.timedelta(seconds=int(exact))
    if duration.unit is DurationUnit.CALENDAR:
        return _add_elapsed(calendar, start, part)
    return add_working_time(calendar, start, part)


def _add_elapsed(calendar: WorkingCalendar, start: datetime.datetime, delta: datetime.timedelta) -> datetime.datetime:
    # Aware + timedelta in Python is wall-clock arithmetic; elapsed time must be added in UTC.
    if start.tzinfo is None:
        raise ValueError(f"Deadline arithmetic needs an aware datetime, got naive {start.isoformat()}")
    return (start.astimezone(_UTC) + delta).astimezone(calendar.tz)
