"""Parsing SLA durations: the six written forms of the brief, and clear errors for anything else."""

from __future__ import annotations

import datetime

import pytest

from closeloop.calendar import Duration, DurationUnit, InvalidDuration, parse_duration


@pytest.mark.parametrize(
    ("text", "unit", "value"),
    [
        ("30min", DurationUnit.CALENDAR, 1800),
        ("24h", DurationUnit.CALENDAR, 86400),
        ("2d", DurationUnit.CALENDAR, 172800),
        ("4wh", DurationUnit.WORKING_HOURS, 14400),
        ("90wmin", DurationUnit.WORKING_HOURS, 5400),
        ("2wd", DurationUnit.WORKING_DAYS, 2),
        (" 2 WD ", DurationUnit.WORKING_DAYS, 2),
    ],
)
def test_parse(text: str, unit: DurationUnit, value: int) -> None:
    duration = parse_duration(text)
    assert duration == Duration(unit, value)
    assert Duration.parse(str(duration)) == duration


@pytest.mark.parametrize("text", ["", "2", "wd", "2w", "2 days", "1.5h", "-2h", "2wdx", "0wh", "h2", "2hh"])
def test_parse_rejects_with_the_text_in_the_message(text: str) -> None:
    with pytest.raises(InvalidDuration, match="Invalid duration") as excinfo:
        parse_duration(text)
    assert repr(text) in str(excinfo.value)
    assert isinstance(excinfo.value, ValueError)


def test_non_text_and_non_positive_values_are_refused() -> None:
    with pytest.raises(InvalidDuration):
        parse_duration(24)  # type: ignore[arg-type]
    with pytest.raises(InvalidDuration):
        Duration(DurationUnit.WORKING_DAYS, 0)


def test_canonical_text_and_accessors() -> None:
    assert str(parse_duration("120min")) == "2h"
    assert str(parse_duration("48h")) == "2d"
    assert str(parse_duration("60wmin")) == "1wh"
    assert str(parse_duration("90wmin")) == "90wmin"
    assert parse_duration("4wh").timedelta == datetime.timedelta(hours=4)
    assert parse_duration("3wd").days == 3
    with pytest.raises(TypeError):
        _ = parse_duration("3wd").timedelta
    with pytest.raises(TypeError):
        _ = parse_duration("3h").days


def test_addition_keeps_the_unit() -> None:
    assert parse_duration("1wh") + parse_duration("30wmin") == parse_duration("90wmin")
    with pytest.raises(TypeError):
        _ = parse_duration("1wh") + parse_duration("1h")
