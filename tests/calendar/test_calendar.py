"""Which dates are worked: override, then the statutory schedule, then an imported year, then Mon–Fri fallback."""

from __future__ import annotations

import dataclasses
import datetime
import logging

import chinese_calendar
import pytest

from closeloop.calendar import DayReason, DayRule, DaySource, WorkingCalendar, statutory_covers

D = datetime.date


@pytest.fixture
def calendar() -> WorkingCalendar:
    return WorkingCalendar()


def test_ordinary_days(calendar: WorkingCalendar) -> None:
    monday = calendar.day_status(D(2026, 11, 23))
    assert (monday.is_working, monday.reason_code, monday.source) == (True, DayReason.WORKDAY, DaySource.STATUTORY)
    sunday = calendar.day_status(D(2026, 11, 22))
    assert (sunday.is_working, sunday.reason_code) == (False, DayReason.WEEKEND)


def test_statutory_holiday_has_its_name(calendar: WorkingCalendar) -> None:
    status = calendar.day_status(D(2026, 10, 1))
    assert not status.is_working
    assert status.reason_code is DayReason.HOLIDAY
    assert status.reason_text == "National Day"
    assert status.holiday_name_zh == "国庆节"
    assert status.source is DaySource.STATUTORY


def test_2026_makeup_working_days_count(calendar: WorkingCalendar) -> None:
    makeup = [d for d in chinese_calendar.get_workdays(D(2026, 1, 1), D(2026, 12, 31)) if d.weekday() >= 5]
    # 2026's 调休: Sun 4 Jan, Sat 14 Feb, Sat 28 Feb, Sat 9 May, Sun 20 Sep, Sat 10 Oct.
    assert makeup == [D(2026, 1, 4), D(2026, 2, 14), D(2026, 2, 28), D(2026, 5, 9), D(2026, 9, 20), D(2026, 10, 10)]
    for day in makeup:
        status = calendar.day_status(day)
        assert status.is_working, day
        assert status.reason_code is DayReason.MAKEUP_WORKDAY
    assert "National Day" in calendar.day_status(D(2026, 10, 10)).reason_text


def test_six_day_week_counts_saturday_but_not_a_statutory_holiday_saturday() -> None:
    six = WorkingCalendar(name="home", six_day_week=True)
    assert six.day_status(D(2026, 11, 21)).is_working  # an ordinary Saturday
    assert not six.day_status(D(2026, 11, 22)).is_working  # Sunday
    national_day_saturday = six.day_status(D(2026, 10, 3))
    assert not national_day_saturday.is_working
    assert national_day_saturday.reason_code is DayReason.HOLIDAY
    assert six.day_status(D(2026, 9, 20)).is_working  # a make-up Sunday is worked anyway


def test_overrides_beat_the_statutory_schedule() -> None:
    calendar = WorkingCalendar(
        overrides={D(2026, 10, 2): (True, "Stocktaking"), D(2026, 11, 23): DayRule(False, "Office move")}
    )
    worked = calendar.day_status(D(2026, 10, 2))
    assert (worked.is_working, worked.source, worked.reason_text) == (True, DaySource.OVERRIDE, "Stocktaking")
    closed = calendar.day_status(D(2026, 11, 23))
    assert (closed.is_working, closed.reason_code, closed.source) == (False, DayReason.HOLIDAY, DaySource.OVERRIDE)


def test_uncovered_year_falls_back_to_monday_to_friday(
    calendar: WorkingCalendar, caplog: pytest.LogCaptureFixture
) -> None:
    assert not statutory_covers(2027)
    fallback_calendar = dataclasses.replace(calendar, name="fallback-logging")
    with caplog.at_level(logging.WARNING, logger="closeloop.sla"):
        friday = fallback_calendar.day_status(D(2027, 1, 1))  # New Year's Day, but nobody told us
        saturday = fallback_calendar.day_status(D(2027, 1, 2))
    assert (friday.is_working, friday.source) == (True, DaySource.FALLBACK)
    assert (saturday.is_working, saturday.source) == (False, DaySource.FALLBACK)
    assert "2027" in caplog.text
    assert WorkingCalendar(six_day_week=True).day_status(D(2027, 1, 2)).is_working
    assert calendar.missing_years(D(2026, 12, 20), D(2028, 1, 10)) == [2027, 2028]
    assert calendar.missing_years(D(2026, 1, 1), D(2026, 12, 31)) == []
    assert calendar.year_source(2027) is DaySource.FALLBACK


def test_imported_year_is_used_when_the_package_stops() -> None:
    imported = {
        D(2027, 1, 1): (False, "元旦"),
        D(2027, 2, 6): (True, "春节调休"),  # a Saturday made a working day
    }
    calendar = WorkingCalendar(imported=imported)
    new_year = calendar.day_status(D(2027, 1, 1))
    assert (new_year.is_working, new_year.reason_code, new_year.source) == (False, DayReason.HOLIDAY, "imported")
    makeup = calendar.day_status(D(2027, 2, 6))
    assert (makeup.is_working, makeup.reason_code) == (True, DayReason.MAKEUP_WORKDAY)
    ordinary = calendar.day_status(D(2027, 1, 4))
    assert (ordinary.is_working, ordinary.source) == (True, DaySource.IMPORTED)
    assert calendar.missing_years(D(2026, 12, 1), D(2027, 12, 31)) == []
    # Statutory data still wins for a covered year even if an import mentions it.
    assert not WorkingCalendar(imported={D(2026, 10, 1): (True, "x")}).day_status(D(2026, 10, 1)).is_working


def test_calendar_is_hashable_and_validated() -> None:
    one = WorkingCalendar(overrides={D(2026, 1, 5): (False, "x")}, tz="Asia/Shanghai")  # type: ignore[arg-type]
    two = WorkingCalendar(overrides={D(2026, 1, 5): (False, "x")})
    assert one == two and hash(one) == hash(two)
    assert {one: 1}[two] == 1
    with pytest.raises(ValueError, match="ends before"):
        WorkingCalendar(windows=((datetime.time(12), datetime.time(9)),))
    with pytest.raises(ValueError, match="overlap"):
        WorkingCalendar(windows=(("09:00", "12:00"), ("11:00", "18:00")))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="at least one"):
        WorkingCalendar(windows=())
    with pytest.raises(TypeError):
        WorkingCalendar(overrides={datetime.datetime(2026, 1, 5): (False, "x")})
