"""Read endpoints of the working calendar and the SLA policies."""

from __future__ import annotations

import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from pydantic import field_validator

from closeloop.calendar.durations import Duration, InvalidDuration
from closeloop.calendar.working import FIRST_YEAR, LAST_YEAR, add
from closeloop.core.api_responses import ONE_ERRORS, READ_ERRORS
from closeloop.core.errors import DomainError
from closeloop.sla.loader import calendar_for_row
from closeloop.sla.models import Calendar, Policy
from closeloop.sla.presentation import describe_day

router = Router(tags=["calendar and SLA"])


class CalendarOut(Schema):
    code: str
    name: str
    time_zone: str
    windows: list[list[str]]
    six_day_week: bool
    missing_years: list[int] = Field(description="this year and the next without a holiday schedule (fallback used)")


class DayOut(Schema):
    date: datetime.date
    is_working: bool
    reason: str
    source: str
    description: str


def _in_calendar_years(value: datetime.date) -> datetime.date:
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValueError(f"must be between {FIRST_YEAR} and {LAST_YEAR}")
    return value


class DaysQuery(Schema):
    start: datetime.date
    end: datetime.date

    _years = field_validator("start", "end")(_in_calendar_years)


class DeadlineQuery(Schema):
    start: datetime.datetime = Field(description="ISO 8601 with offset, e.g. 2026-09-30T16:00+08:00; 2000 to 2100")
    duration: str = Field(max_length=12, description="30min, 24h, 2d, 4wh, 90wmin or 2wd")

    _years = field_validator("start")(_in_calendar_years)


class DeadlineComputed(Schema):
    start: datetime.datetime
    duration: str
    deadline: datetime.datetime


class TargetOut(Schema):
    milestone: str
    label: str
    urgent: str
    important: str
    normal: str


class PolicyOut(Schema):
    code: str
    name: str
    calendar: str
    level_names: dict[str, list[str]]
    warning_fraction: float
    escalation: list[dict[str, Any]]
    is_default: bool
    targets: list[TargetOut]
    rules: list[dict[str, Any]]


def _calendar_out(row: Calendar) -> dict[str, Any]:
    today = datetime.date.today()
    calendar = calendar_for_row(row)
    return {
        "code": row.code,
        "name": row.label,
        "time_zone": row.time_zone,
        "windows": row.windows,
        "six_day_week": row.six_day_week,
        "missing_years": calendar.missing_years(today, datetime.date(today.year + 1, 12, 31)),
    }


@router.get("/calendars", response={200: list[CalendarOut], **READ_ERRORS})
def calendar_list(request: HttpRequest) -> list[dict[str, Any]]:
    return [_calendar_out(row) for row in Calendar.objects.all()]


@router.get("/calendars/{code}", response={200: CalendarOut, **ONE_ERRORS})
def calendar_detail(request: HttpRequest, code: str) -> dict[str, Any]:
    return _calendar_out(Calendar.objects.get(code=code))


@router.get("/calendars/{code}/days", response={200: list[DayOut], **ONE_ERRORS}, summary="Each day's status and why")
def calendar_days(request: HttpRequest, code: str, query: Query[DaysQuery]) -> list[dict[str, Any]]:
    if query.end < query.start or (query.end - query.start).days > 366:
        raise DomainError("end must be on or after start, at most 366 days later", field="end")
    calendar = calendar_for_row(Calendar.objects.get(code=code))
    days = []
    day = query.start
    while day <= query.end:
        status = calendar.day_status(day)
        days.append(
            {
                "date": day,
                "is_working": status.is_working,
                "reason": status.reason_code,
                "source": status.source,
                "description": describe_day(status),
            }
        )
        day += datetime.timedelta(days=1)
    return days


@router.get("/calendars/{code}/deadline", response={200: DeadlineComputed, **ONE_ERRORS}, summary="Compute a deadline")
def calendar_deadline(request: HttpRequest, code: str, query: Query[DeadlineQuery]) -> dict[str, Any]:
    calendar = calendar_for_row(Calendar.objects.get(code=code))
    try:
        duration = Duration.parse(query.duration)
    except InvalidDuration as exc:
        raise DomainError(str(exc), field="duration") from None
    start = query.start if query.start.tzinfo else query.start.replace(tzinfo=calendar.tz)
    return {"start": start, "duration": query.duration, "deadline": add(calendar, start, duration)}


def _policy_out(policy: Policy) -> dict[str, Any]:
    return {
        "code": policy.code,
        "name": policy.label,
        "calendar": policy.calendar.code,
        "level_names": policy.level_names,
        "warning_fraction": float(policy.warning_fraction),
        "escalation": policy.escalation,
        "is_default": policy.is_default,
        "targets": [
            {
                "milestone": t.milestone,
                "label": str(t.get_milestone_display()),
                "urgent": t.urgent,
                "important": t.important,
                "normal": t.normal,
            }
            for t in policy.targets.all()
        ],
        "rules": [
            {
                "order": r.order,
                "customer_kind": r.customer_kind,
                "product_line": r.product_line.code if r.product_line else None,
            }
            for r in policy.rules.all()
        ],
    }


@router.get("/policies", response={200: list[PolicyOut], **READ_ERRORS})
def policy_list(request: HttpRequest) -> list[dict[str, Any]]:
    policies = Policy.objects.select_related("calendar").prefetch_related("targets", "rules__product_line")
    return [_policy_out(p) for p in policies]


@router.get("/policies/{code}", response={200: PolicyOut, **ONE_ERRORS})
def policy_detail(request: HttpRequest, code: str) -> dict[str, Any]:
    policy = Policy.objects.select_related("calendar").prefetch_related("targets", "rules__product_line").get(code=code)
    return _policy_out(policy)
