"""The service orders' KPIs by kind (售服单及时回复率 beside the complaint's), a month at a time."""

from __future__ import annotations

import datetime

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from closeloop import authz
from closeloop.core.types import AuthenticatedHttpRequest
from closeloop.insight.kpis import Period
from closeloop.insight.service_kpis import SERVICE_KPIS, service_kpis


@login_required
@require_GET
def service_kpi_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    if not authz.allowed(request.user, "insight.view_kpis"):
        raise PermissionDenied(_("Your role may not see the KPIs."))
    try:
        first = datetime.date.fromisoformat(request.GET.get("month", "") + "-01")
    except ValueError:
        first = timezone.localdate().replace(day=1)
    period = Period.month_of(first)
    rows = [{"figures": f, "rates": [(f.counts[k], f.rate(k)) for k in SERVICE_KPIS]} for f in service_kpis(period)]
    context = {"rows": rows, "kpis": list(SERVICE_KPIS.values()), "period": period, "month": f"{first:%Y-%m}"}
    return render(request, "insight/service_kpis.html", context)


urlpatterns = [path("service-kpis/", service_kpi_page, name="service_kpis")]
