"""Calendars as data: overrides, imports for years the package lacks, the CLI, the loader's cache."""

from __future__ import annotations

import datetime
import io

import pytest
from django.core.management import CommandError, call_command

from closeloop.sla.loader import calendar_get
from closeloop.sla.models import Calendar, CalendarDay
from closeloop.sla.services import (
    CalendarImportError,
    calendar_days_set,
    calendar_import_parse,
    calendar_missing_years,
)

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("calendar", *args, stdout=out)
    return out.getvalue().strip()


def test_cli_deadline_matches_the_worked_examples():
    assert run("deadline", "--start", "2026-09-30T16:00+08:00", "--duration", "2wd") == "2026-10-09T16:00:00+08:00"
    assert (
        run("deadline", "--start", "2026-11-20T10:00+08:00", "--duration", "2wd", "--calendar", "six-day")
        == "2026-11-23T10:00:00+08:00"
    )
    assert run("deadline", "--start", "2026-11-20T17:00+08:00", "--duration", "4wh") == "2026-11-23T12:00:00+08:00"


def test_cli_day_explains_make_up_days_and_uncovered_years():
    assert run("day", "2026-10-10").startswith("2026-10-10 working day")
    assert run("day", "2026-10-03").startswith("2026-10-03 not a working day")
    assert "2027-01-04 working day" in run("day", "2027-01-04")


def test_cli_refuses_bad_input_clearly():
    with pytest.raises(CommandError, match="3wk"):
        run("deadline", "--start", "2026-09-30T16:00+08:00", "--duration", "3wk")
    with pytest.raises(CommandError, match="unknown calendar"):
        run("day", "2026-10-10", "--calendar", "nope")


def test_import_of_a_year_the_package_does_not_cover(tmp_path):
    calendar = Calendar.objects.get(code="default")
    assert 2027 in calendar_missing_years(calendar=calendar, today=datetime.date(2026, 12, 20))
    path = tmp_path / "2027.csv"
    path.write_text("date,working,reason\n2027-01-01,0,元旦\n2027-02-06,1,春节调休\n", encoding="utf-8")

    assert "imported 2 days for 2027" in run("import", str(path))

    assert run("day", "2027-01-01").startswith("2027-01-01 not a working day")
    assert run("day", "2027-02-06").startswith("2027-02-06 working day")  # a Saturday made a working day
    calendar.refresh_from_db()
    assert 2027 not in calendar_missing_years(calendar=calendar, today=datetime.date(2026, 12, 20))
    # Friday 2026-12-31 10:00 + 1wd skips the imported New Year holiday: Monday 2027-01-04.
    assert run("deadline", "--start", "2026-12-31T10:00+08:00", "--duration", "1wd") == "2027-01-04T10:00:00+08:00"


def test_import_json_both_shapes():
    rows = calendar_import_parse(text='{"holidays": ["2027-10-01"], "workdays": ["2027-09-26"]}', filename="x.json")
    assert rows == [(datetime.date(2027, 10, 1), False, ""), (datetime.date(2027, 9, 26), True, "")]
    rows = calendar_import_parse(
        text='[{"date": "2027-05-01", "working": false, "reason": "劳动节"}]', filename="y.JSON"
    )
    assert rows == [(datetime.date(2027, 5, 1), False, "劳动节")]


@pytest.mark.parametrize(
    ("text", "name", "message"),
    [
        ("2027-13-01,0\n", "a.csv", "line 1"),
        ("2027-01-01,maybe\n", "a.csv", "line 1"),
        ("{", "a.json", "JSON"),
        ("", "a.csv", "no dates"),
    ],
)
def test_import_errors_name_the_row(text, name, message):
    with pytest.raises(CalendarImportError, match=message):
        calendar_import_parse(text=text, filename=name)


def test_override_beats_the_statutory_schedule_and_the_cache_notices():
    calendar = Calendar.objects.get(code="default")
    monday = datetime.date(2026, 11, 23)
    assert calendar_get("default").is_working_day(monday)

    calendar_days_set(calendar=calendar, rows=[(monday, False, "停电")], source=CalendarDay.Source.OVERRIDE)

    status = calendar_get("default").day_status(monday)
    assert not status.is_working and status.source == "override"
