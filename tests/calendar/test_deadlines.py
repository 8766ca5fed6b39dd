"""The deadline arithmetic of sla.md: worked examples, window edges, pauses and the warning point."""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

import pytest

from closeloop.calendar import (
    DurationUnit,
    WorkingCalendar,
    add,
    add_working_time,
    extend_for_pause,
    parse_duration,
    warning_at,
    working_time_between,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
DEFAULT = WorkingCalendar()
SIX_DAY = WorkingCalendar(name="home-furnishing", six_day_week=True)


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime.datetime:
    return datetime.datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


# -- the brief's worked examples ------------------------------------------------------------------------------


def test_friday_plus_two_working_days_is_tuesday() -> None:
    assert add(DEFAULT, at(2026, 11, 20, 10), parse_duration("2wd")) == at(2026, 11, 24, 10)


def test_friday_plus_two_working_days_counting_saturday_is_monday() -> None:
    assert add(SIX_DAY, at(2026, 11, 20, 10), "2wd") == at(2026, 11, 23, 10)


def test_national_day_week_is_skipped() -> None:
    assert add(DEFAULT, at(2026, 9, 30, 16), "2wd") == at(2026, 10, 9, 16)


def test_four_working_hours_from_friday_five_pm_is_monday_noon() -> None:
    assert add(DEFAULT, at(2026, 11, 20, 17), "4wh") == at(2026, 11, 23, 12)


# -- calendar time ----------------------------------------------------------------------------------------------


def test_calendar_time_is_elapsed_and_returned_in_the_calendar_zone() -> None:
    start_utc = datetime.datetime(2026, 11, 20, 2, tzinfo=datetime.UTC)  # 10:00 in Shanghai
    due = add(DEFAULT, start_utc, "30min")
    assert due == at(2026, 11, 20, 10, 30)
    assert due.tzinfo == SHANGHAI
    assert add(DEFAULT, at(2026, 9, 30, 16), "2d") == at(2026, 10, 2, 16)  # holidays do not matter


def test_elapsed_time_across_daylight_saving() -> None:
    berlin = WorkingCalendar(tz=ZoneInfo("Europe/Berlin"))
    start = datetime.datetime(2026, 3, 28, 12, tzinfo=berlin.tz)  # DST starts in the night of the 29th
    assert add(berlin, start, "24h") == datetime.datetime(2026, 3, 29, 13, tzinfo=berlin.tz)


# -- working hours: window edges --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "duration", "due"),
    [
        (at(2026, 11, 23, 9), "3wh", at(2026, 11, 23, 12)),  # used up exactly at the lunch break: 12:00, not 13:00
        (at(2026, 11, 23, 13), "5wh", at(2026, 11, 23, 18)),  # used up at the day's end: 18:00, not next 09:00
        (at(2026, 11, 23, 9), "8wh", at(2026, 11, 23, 18)),
        (at(2026, 11, 23, 11), "1wh", at(2026, 11, 23, 12)),
        (at(2026, 11, 23, 11), "61wmin", at(2026, 11, 23, 13, 1)),
        (at(2026, 11, 23, 12, 30), "1wh", at(2026, 11, 23, 14)),  # lunch: starts at 13:00
        (at(2026, 11, 23, 12), "1wh", at(2026, 11, 23, 14)),  # exactly at a window's end
        (at(2026, 11, 23, 20), "1wh", at(2026, 11, 24, 10)),  # evening: next morning
        (at(2026, 11, 24, 3), "1wh", at(2026, 11, 24, 10)),  # before opening
        (at(2026, 11, 22, 15), "1wh", at(2026, 11, 23, 10)),  # Sunday
        (at(2026, 10, 1, 10), "1wh", at(2026, 10, 8, 10)),  # National Day
        (at(2026, 10, 9, 17), "2wh", at(2026, 10, 10, 10)),  # Saturday 10 October is a make-up working day
        (at(2026, 11, 23, 9), "16wh", at(2026, 11, 24, 18)),  # two whole days
        (at(2026, 11, 23, 9), "17wh", at(2026, 11, 25, 10)),
    ],
)
def test_working_hours(start: datetime.datetime, duration: str, due: datetime.datetime) -> None:
    assert add(DEFAULT, start, duration) == due


def test_working_days_from_outside_windows_and_non_working_days() -> None:
    # A working day keeps its clock time even outside windows.
    assert add(DEFAULT, at(2026, 11, 23, 20), "1wd") == at(2026, 11, 24, 20)
    assert add(DEFAULT, at(2026, 11, 23, 12, 30), "1wd") == at(2026, 11, 24, 12, 30)
    # A Sunday start moves to Monday 09:00 first, then counts Tuesday and Wednesday.
    assert add(DEFAULT, at(2026, 11, 22, 15), "2wd") == at(2026, 11, 25, 9)
    # A holiday start moves to the first working day after it.
    assert add(DEFAULT, at(2026, 10, 3, 11), "1wd") == at(2026, 10, 9, 9)
    # The make-up Saturday counts.
    assert add(DEFAULT, at(2026, 10, 9, 10), "1wd") == at(2026, 10, 10, 10)
    # Six-day week: a statutory-holiday Saturday stays a holiday.
    assert add(SIX_DAY, at(2026, 9, 30, 16), "2wd") == at(2026, 10, 9, 16)


def test_beyond_the_package_the_fallback_computes() -> None:
    assert add(DEFAULT, at(2027, 1, 4, 10), "2wd") == at(2027, 1, 6, 10)
    assert DEFAULT.day_status(datetime.date(2027, 1, 6)).source == "fallback"
    assert DEFAULT.missing_years(at(2027, 1, 4, 10), add(DEFAULT, at(2027, 1, 4, 10), "2wd")) == [2027]
    # Late December 2026 with a deadline in 2027: no exception.
    assert add(DEFAULT, at(2026, 12, 31, 10), "3wd") == at(2027, 1, 5, 10)
    assert add(DEFAULT, at(2026, 12, 31, 17), "2wh") == at(2027, 1, 1, 10)  # unknown New Year counts Mon–Fri


def test_imported_year_drives_2027() -> None:
    calendar = WorkingCalendar(
        imported={
            datetime.date(2027, 1, 1): (False, "元旦"),
            datetime.date(2027, 1, 4): (False, "元旦"),
            datetime.date(2027, 1, 9): (True, "调休"),
        }
    )
    assert add(calendar, at(2026, 12, 31, 17), "2wh") == at(2027, 1, 5, 10)
    assert add(calendar, at(2027, 1, 7, 10), "2wd") == at(2027, 1, 9, 10)  # Fri 8th, make-up Sat 9th
    assert calendar.missing_years(at(2027, 1, 1), at(2027, 12, 31)) == []


def test_override_changes_deadlines() -> None:
    calendar = WorkingCalendar(overrides={datetime.date(2026, 11, 23): (False, "Office move")})
    assert add(calendar, at(2026, 11, 20, 10), "2wd") == at(2026, 11, 25, 10)
    worked_holiday = WorkingCalendar(overrides={datetime.date(2026, 10, 2): (True, "Peak season")})
    assert add(worked_holiday, at(2026, 9, 30, 16), "2wd") == at(2026, 10, 8, 16)


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        add(DEFAULT, datetime.datetime(2026, 11, 23, 10), "1wh")
    with pytest.raises(ValueError, match="aware"):
        add(DEFAULT, datetime.datetime(2026, 11, 23, 10), "1h")


# -- working time between two instants ---------------------------------------------------------------------------


def test_working_time_between() -> None:
    hours = datetime.timedelta(hours=1)
    assert working_time_between(DEFAULT, at(2026, 11, 20, 17), at(2026, 11, 23, 12)) == 4 * hours
    assert working_time_between(DEFAULT, at(2026, 11, 23, 11), at(2026, 11, 23, 14)) == 2 * hours
    assert working_time_between(DEFAULT, at(2026, 9, 30, 0), at(2026, 10, 9, 0)) == 16 * hours
    assert working_time_between(DEFAULT, at(2026, 11, 23, 14), at(2026, 11, 23, 11)) == datetime.timedelta(0)
    assert working_time_between(DEFAULT, at(2026, 11, 21), at(2026, 11, 23)) == datetime.timedelta(0)


# -- pauses -----------------------------------------------------------------------------------------------------


def test_pause_extends_a_calendar_target_by_the_elapsed_pause() -> None:
    due = at(2026, 11, 21, 10)
    assert extend_for_pause(DEFAULT, due, DurationUnit.CALENDAR, at(2026, 11, 20, 20), at(2026, 11, 21, 2)) == at(
        2026, 11, 21, 16
    )


def test_pause_extends_a_working_hours_target_by_working_time_in_the_pause() -> None:
    # Due Monday 12:00; paused Friday 17:30 to Monday 09:30 = 1 working hour (17:30-18:00, 09:00-09:30).
    due = at(2026, 11, 23, 12)
    extended = extend_for_pause(DEFAULT, due, parse_duration("4wh"), at(2026, 11, 20, 17, 30), at(2026, 11, 23, 9, 30))
    assert extended == at(2026, 11, 23, 14)  # 12:00 is a window end, so the hour is taken 13:00-14:00


def test_pause_extends_a_working_days_target_with_working_hours_arithmetic() -> None:
    due = at(2026, 11, 24, 10)
    # Paused 2.5 working hours (Monday 10:00-12:00 and 13:00-13:30).
    extended = extend_for_pause(DEFAULT, due, DurationUnit.WORKING_DAYS, at(2026, 11, 23, 10), at(2026, 11, 23, 13, 30))
    assert extended == at(2026, 11, 24, 13, 30)
    # A due outside the windows moves to the next window first.
    evening_due = at(2026, 11, 24, 20)
    one_hour = (at(2026, 11, 23, 10), at(2026, 11, 23, 11))
    assert extend_for_pause(DEFAULT, evening_due, DurationUnit.WORKING_DAYS, *one_hour) == at(2026, 11, 25, 10)


def test_pause_without_working_time_leaves_the_due_alone() -> None:
    due = at(2026, 11, 24, 20)
    weekend = (at(2026, 11, 21, 9), at(2026, 11, 22, 18))
    assert extend_for_pause(DEFAULT, due, DurationUnit.WORKING_HOURS, *weekend) == due
    assert extend_for_pause(DEFAULT, due, DurationUnit.CALENDAR, weekend[1], weekend[0]) == due


# -- warning point ----------------------------------------------------------------------------------------------


def test_warning_at_eighty_percent_in_the_target_unit() -> None:
    assert warning_at(DEFAULT, at(2026, 11, 20, 10), "24h") == at(2026, 11, 21, 5, 12)
    assert warning_at(DEFAULT, at(2026, 11, 20, 17), "4wh") == at(2026, 11, 23, 11, 12)  # 3h12m of working time
    assert warning_at(DEFAULT, at(2026, 11, 23, 10), "1wh") == at(2026, 11, 23, 10, 48)
    # 2wd from Monday 10:00 allows 16 working hours; 80 % = 12h48m -> Tuesday 15:48.
    assert warning_at(DEFAULT, at(2026, 11, 23, 10), "2wd") == at(2026, 11, 24, 15, 48)
    # Configurable fraction.
    assert warning_at(DEFAULT, at(2026, 11, 23, 10), "1wh", fraction=0.5) == at(2026, 11, 23, 10, 30)
    assert warning_at(DEFAULT, at(2026, 11, 23, 10), "2wd", fraction=1) <= add(DEFAULT, at(2026, 11, 23, 10), "2wd")
    with pytest.raises(ValueError, match="fraction"):
        warning_at(DEFAULT, at(2026, 11, 23, 10), "1wh", fraction=1.5)


def test_zero_working_time_is_the_identity() -> None:
    assert add_working_time(DEFAULT, at(2026, 11, 23, 20), datetime.timedelta(0)) == at(2026, 11, 23, 20)
    with pytest.raises(ValueError, match="negative"):
        add_working_time(DEFAULT, at(2026, 11, 23, 20), datetime.timedelta(hours=-1))
