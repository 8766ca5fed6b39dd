"""The complaints behind the dashboard's figures that are not KPIs: a cost-of-quality figure (the
complaints of the granted solutions it sums or counts) and a league table's SLA breaches (the complaints
whose deadlines breached in the period, for a department or a handler).

Each list is the queue's (same columns, same masking, the viewing of unmasked data logged as the KPI
drill-down logs it), narrowed to what the user may see; the page states the figure and what the listed
complaints add up to, which are the same number.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from closeloop.complaints import selectors as complaint_selectors
from closeloop.complaints.services import personal_data_access_record
from closeloop.core.masking import can_see_personal_data
from closeloop.core.types import AuthenticatedHttpRequest
from closeloop.directory.models import CauseCategory, Department, Product
from closeloop.insight import analysis
from closeloop.insight.kpis import breached_deadlines
from closeloop.insight.views.dashboard import _filters, _page_context

BREACH_GROUPS = ("department", "handler")


def _listing(request: AuthenticatedHttpRequest, behind: QuerySet[Any]) -> dict[str, Any]:
    """The complaints whose ids `behind` gives, as the queue lists them to this user, one page of them."""
    qs = complaint_selectors.complaint_queue(
        user=request.user, filters=complaint_selectors.QueueFilters(sort="-received_at")
    ).filter(pk__in=behind)
    paginator = Paginator(qs, settings.QUEUE_PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    complaints = list(page.object_list)
    rows = [(c, complaint_selectors.customer_contact(customer=c.customer, user=request.user)) for c in complaints]
    if can_see_personal_data(request.user):
        personal_data_access_record(user=request.user, complaints=complaints, where="kpi")
    return {"page": page, "rows": rows, "total": paginator.count, "listed_qs": qs}


def _respond(request: AuthenticatedHttpRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    context.pop("listed_qs", None)
    partial = request.htmx and not request.htmx.boosted
    response = render(request, "desk/_queue_results.html" if partial else template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _cost_group(group: str, raw: str) -> tuple[int | None, str]:
    """The group's key (None: the row without one) and its name; 404 for a key that names nothing."""
    if raw == analysis.NO_KEY:
        return None, "—"
    if not raw.isdigit():
        raise Http404(_("No such figure."))
    key = int(raw)
    model: Any = {"department": Department, "model": Product, "cause": CauseCategory}[group]
    found = model.objects.filter(pk=key).first()
    if found is None or (group == "cause" and found.parent_id is not None):
        raise Http404(_("No such figure."))
    return key, found.label if group != "model" else str(found)


@login_required
@require_GET
def cost_drilldown(request: AuthenticatedHttpRequest, measure: str) -> HttpResponse:
    """The complaints behind one cost figure of the period: `by` (department, model, cause) and `key`
    pick a row of the dashboard's tables; a month's figure is the same page with that month."""
    if measure not in analysis.COST_MEASURES:
        raise Http404(_("No such figure."))
    group = request.GET.get("by", "")
    if group not in ("", *analysis.COST_GROUPS):
        raise Http404(_("No such figure."))
    form, period, cuts = _filters(request)
    key, group_label = _cost_group(group, request.GET.get("key", "")) if group else (None, "")
    solutions = analysis.cost_solutions(period, cuts, measure, group, key)
    listing = _listing(request, solutions.values("complaint_id"))
    context = {
        **_page_context(form, period, request),
        **listing,
        "measure": measure,
        "group": group,
        "group_label": group_label,
        "figure": analysis.cost_figure(solutions),
        # What the listed complaints (those this user may see) add up to: the figure again.
        "listed": analysis.cost_figure(solutions.filter(complaint__in=listing["listed_qs"])),
    }
    return _respond(request, "insight/cost_complaints.html", context)


@login_required
@require_GET
def breach_drilldown(request: AuthenticatedHttpRequest, group: str) -> HttpResponse:
    """The complaints whose deadlines breached in the period, of the department or the handler the
    filters name (a league table's row): deadlines owed by the department, or the handler's task clocks."""
    if group not in BREACH_GROUPS:
        raise Http404(_("No such figure."))
    form, period, cuts = _filters(request)
    if getattr(cuts, group) is None:
        raise Http404(_("No such figure."))
    deadlines = breached_deadlines(period, cuts, of_handlers=group == "handler")
    listing = _listing(request, deadlines.values("complaint_id"))
    context = {
        **_page_context(form, period, request),
        **listing,
        "group": group,
        "breaches": deadlines.count(),
        # The breaches of the listed complaints (those this user may see): the figure again.
        "listed_breaches": deadlines.filter(complaint__in=listing["listed_qs"]).count(),
    }
    return _respond(request, "insight/breach_complaints.html", context)


urlpatterns = [
    path("cost/<str:measure>/", cost_drilldown, name="cost_complaints"),
    path("breaches/<str:group>/", breach_drilldown, name="breach_complaints"),
]
