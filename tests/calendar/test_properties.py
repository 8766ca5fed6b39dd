"""Properties of the deadline arithmetic, over starts from 2025 into the fallback year 2027."""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from closeloop.calendar import Duration, DurationUnit, WorkingCalendar, add, working_time_between

SHANGHAI = ZoneInfo("Asia/Shanghai")
CALENDARS = [
    WorkingCalendar(),
    WorkingCalendar(name="six-day", six_day_week=True),
    WorkingCalendar(
        name="odd-windows",
        windows=((datetime.time(8, 30), datetime.time(11, 45)), (datetime.time(14), datetime.time(20, 15))),
        overrides={datetime.date(2026, 11, 23): (False, "closed"), datetime.date(2026, 11, 22): (True, "open")},
    ),
]
PROFILE = settings(max_examples=200, deadline=None)

calendars = st.sampled_from(CALENDARS)
starts = st.datetimes(
    min_value=datetime.datetime(2025, 12, 1), max_value=datetime.datetime(2027, 2, 1), timezones=st.just(SHANGHAI)
).map(lambda moment: moment.replace(microsecond=0))
working_hours = st.integers(min_value=1, max_value=60 * 80).map(lambda m: Duration(DurationUnit.WORKING_HOURS, m * 60))
working_days = st.integers(min_value=1, max_value=15).map(Duration.working_days)
calendar_time = st.integers(min_value=1, max_value=60 * 24 * 30).map(lambda m: Duration(DurationUnit.CALENDAR, m * 60))
durations = st.one_of(working_hours, working_days, calendar_time)


def same_unit_pair(draw: st.DrawFn) -> tuple[Duration, Duration]:
    strategy = draw(st.sampled_from([working_hours, working_days, calendar_time]))
    first, second = draw(strategy), draw(strategy)
    return (first, second) if first.value <= second.value else (second, first)


ordered_durations = st.composite(same_unit_pair)()


def in_window_or_at_its_end(calendar: WorkingCalendar, moment: datetime.datetime) -> bool:
    local = moment.astimezone(calendar.tz)
    if not calendar.is_working_day(local.date()):
        return False
    clock = local.time()
    return any(start < clock <= end for start, end in calendar.windows)


@PROFILE
@given(calendars, starts, durations)
def test_deadline_is_never_before_start(calendar: WorkingCalendar, start: datetime.datetime, d: Duration) -> None:
    due = add(calendar, start, d)
    assert due > start
    assert due.tzinfo == calendar.tz


@PROFILE
@given(calendars, starts, starts, durations)
def test_monotone_in_the_start(
    calendar: WorkingCalendar, a: datetime.datetime, b: datetime.datetime, d: Duration
) -> None:
    early, late = min(a, b), max(a, b)
    early_due, late_due = add(calendar, early, d), add(calendar, late, d)
    if d.unit is not DurationUnit.WORKING_DAYS:
        assert early_due <= late_due
        return
    # sla.md's working-days rule is monotone except in one corner it implies: a start on a non-working day moves
    # to the first window's opening, while a later start on a working day *before* opening keeps its early clock
    # time (see test_working_days_are_not_monotone_before_opening). The inversion is confined to that morning.
    if early_due > late_due:
        opening = calendar.windows[0][0]
        assert not calendar.is_working_day(early.astimezone(calendar.tz).date())
        assert late.astimezone(calendar.tz).time() < opening
        assert early_due.date() == late_due.date() and early_due.time() == opening


def test_working_days_are_not_monotone_before_opening() -> None:
    calendar = CALENDARS[0]
    saturday_midnight = datetime.datetime(2027, 1, 30, 0, 0, tzinfo=SHANGHAI)
    monday_midnight = datetime.datetime(2027, 2, 1, 0, 0, tzinfo=SHANGHAI)
    one = Duration.working_days(1)
    # Saturday moves to Monday 09:00 and counts Tuesday; Monday 00:00 is a working day and keeps 00:00.
    assert add(calendar, saturday_midnight, one) == datetime.datetime(2027, 2, 2, 9, 0, tzinfo=SHANGHAI)
    assert add(calendar, monday_midnight, one) == datetime.datetime(2027, 2, 2, 0, 0, tzinfo=SHANGHAI)


@PROFILE
@given(calendars, starts, ordered_durations)
def test_monotone_in_the_duration(
    calendar: WorkingCalendar, start: datetime.datetime, pair: tuple[Duration, Duration]
) -> None:
    shorter, longer = pair
    assert add(calendar, start, shorter) <= add(calendar, start, longer)


@PROFILE
@given(calendars, starts, working_hours, working_hours)
def test_working_hours_compose(calendar: WorkingCalendar, start: datetime.datetime, a: Duration, b: Duration) -> None:
    assert add(calendar, add(calendar, start, a), b) == add(calendar, start, a + b)


@PROFILE
@given(calendars, starts, working_hours)
def test_working_hours_deadline_lands_in_a_window(
    calendar: WorkingCalendar, start: datetime.datetime, d: Duration
) -> None:
    assert in_window_or_at_its_end(calendar, add(calendar, start, d))


@PROFILE
@given(calendars, starts, working_hours)
def test_working_time_between_inverts_add(calendar: WorkingCalendar, start: datetime.datetime, d: Duration) -> None:
    due = add(calendar, start, d)
    # From inside a window exactly d of working time passes; from outside, the same once start is moved.
    assert working_time_between(calendar, start, due) == d.timedelta


@PROFILE
@given(calendars, starts, working_days)
def test_working_days_keep_the_clock_or_open_the_day(
    calendar: WorkingCalendar, start: datetime.datetime, d: Duration
) -> None:
    due = add(calendar, start, d)
    assert calendar.is_working_day(due.date())
    if calendar.is_working_day(start.date()):
        assert due.time() == start.time()
    else:
        assert due.time() == calendar.windows[0][0]
    assert working_time_between(calendar, start, due) >= d.value * datetime.timedelta(hours=1)
