"""The CS supervisor's home: solutions waiting for their approval and the escalated (overdue) open
complaints, each section with its count, its first rows and a link to the whole list. A fixed number
of queries whatever the number of rows (tests/desk/test_role_homes.py)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path
from django.views.decorators.http import require_GET

from closeloop import authz
from closeloop.complaints.selectors import OPEN, QueueFilters, complaint_queue
from closeloop.core.types import AuthenticatedHttpRequest
from closeloop.handling.services import solutions as services

# Rows shown per section; the link under it opens the whole list.
TOP = 5


@login_required
@require_GET
def supervisor_home(request: AuthenticatedHttpRequest) -> HttpResponse:
    if not authz.allowed(request.user, "handling.view_approvals"):
        raise PermissionDenied
    waiting = services.solutions_awaiting(user=request.user)
    overdue = complaint_queue(user=request.user, filters=QueueFilters(status=OPEN, due="overdue"))
    top_overdue = list(overdue.select_related(None).select_related("product", "type", "department")[:TOP])
    context = {
        "approvals": [
            {
                "solution": s,
                "level": s.approved_levels + 1,
                "levels": len(s.required_levels),
            }
            for s in waiting[:TOP]
        ],
        "approvals_count": len(waiting),
        "overdue": top_overdue,
        "overdue_count": overdue.count(),
    }
    return render(request, "handling/homes/supervisor.html", context)


urlpatterns: list[URLPattern] = [
    path("home/supervisor/", supervisor_home, name="supervisor_home"),
]
