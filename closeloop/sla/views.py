"""The calendar page: a month with each day's status and why."""

from __future__ import annotations

import datetime

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from closeloop.core.types import AuthenticatedHttpRequest
from closeloop.sla.loader import calendar_for_row
from closeloop.sla.models import Calendar
from closeloop.sla.selectors import calendar_month
from closeloop.sla.services import calendar_missing_years


def _month(value: str | None) -> tuple[int, int]:
    try:
        parsed = datetime.datetime.strptime(value or "", "%Y-%m")
    except ValueError:
        today = timezone.localdate()
        return today.year, today.month
    return parsed.year, parsed.month


@login_required
@require_GET
def month(request: AuthenticatedHttpRequest) -> HttpResponse:
    calendars = list(Calendar.objects.all())
    row = next((c for c in calendars if c.code == request.GET.get("calendar")), None) or next(
        (c for c in calendars if c.code == "default"), calendars[0]
    )
    year, month_number = _month(request.GET.get("month"))
    first = datetime.date(year, month_number, 1)
    previous = (first - datetime.timedelta(days=1)).strftime("%Y-%m")
    following = (first + datetime.timedelta(days=32)).strftime("%Y-%m")
    context = {
        "calendars": calendars,
        "current": row,
        "weeks": calendar_month(calendar=calendar_for_row(row), year=year, month=month_number),
        "first": first,
        "previous": previous,
        "following": following,
        "missing_years": calendar_missing_years(calendar=row),
        "weekdays": [datetime.date(2026, 11, 23) + datetime.timedelta(days=i) for i in range(7)],
    }
    return render(request, "sla/month.html", context)
