"""Quality's home: responsibility disputes waiting for quality's ruling and the open defect alerts,
each section with its count, its first rows and a link to the whole list. A fixed number of queries
whatever the number of rows (tests/desk/test_role_homes.py). It sits in defects, the lower of the
two packages that can read both."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path
from django.views.decorators.http import require_GET

from closeloop import authz
from closeloop.core.types import AuthenticatedHttpRequest
from closeloop.defects import selectors
from closeloop.defects.models import AlertStatus
from closeloop.handling.services.disputes import disputes_awaiting

# Rows shown per section; the link under it opens the whole list.
TOP = 5


@login_required
@require_GET
def quality_home(request: AuthenticatedHttpRequest) -> HttpResponse:
    if not authz.allowed(request.user, "defects.view_alerts"):
        raise PermissionDenied
    disputes = disputes_awaiting(user=request.user)
    alerts = selectors.alert_list(user=request.user, status="open")
    context = {
        "disputes": list(disputes[:TOP]),
        "disputes_count": disputes.count(),
        "alerts": list(alerts[:TOP]),
        "alerts_count": selectors.alerts_visible_to(request.user).filter(status=AlertStatus.OPEN).count(),
        "may_decide": authz.allowed(request.user, "handling.decide_dispute"),
    }
    return render(request, "defects/home.html", context)


urlpatterns: list[URLPattern] = [
    path("home/", quality_home, name="quality_home"),
]
