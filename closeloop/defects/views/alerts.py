"""Desk pages of defect alerts: the list (open first) and one alert with quality's three decisions —
dismiss it, open a defect incident from it, or link it to an incident already open for the model.
A refused form is shown again on the alert's page with its message and everything typed (422)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.http import require_GET, require_POST

from closeloop.complaints.models import Via
from closeloop.core.errors import DomainError
from closeloop.core.types import AuthenticatedHttpRequest
from closeloop.defects import selectors
from closeloop.defects.forms import DismissForm, LinkIncidentForm, OpenIncidentForm
from closeloop.defects.models import AlertStatus, DefectAlert
from closeloop.defects.services import incidents as services
from closeloop.defects.services.common import may_manage
from closeloop.defects.services.spikes import alert_summary
from closeloop.defects.views.common import PAGE_SIZE, check_view, event_rows, permission_refusal, refusal

TABS = {
    "": gettext_lazy("All"),
    "open": pgettext_lazy("defect alerts tab", "Open"),
    "incident": gettext_lazy("Incident opened"),
    "dismissed": gettext_lazy("Dismissed"),
}


@login_required
@require_GET
def alert_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    check_view(request)
    status = request.GET.get("status", "")
    status = status if status in TABS else ""
    page = Paginator(selectors.alert_list(user=request.user, status=status), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "defects/alerts.html", {"page": page, "tabs": TABS.items(), "status": status})


def _alert_or_404(request: HttpRequest, pk: int) -> DefectAlert:
    try:
        return selectors.alert_get(user=request.user, pk=pk)
    except DefectAlert.DoesNotExist:
        raise Http404(_("No such alert.")) from None


def _page(
    request: HttpRequest,
    alert: DefectAlert,
    *,
    bound: dict[str, forms.Form] | None = None,
    exc: DomainError | None = None,
) -> HttpResponse:
    """The alert's page; with `bound`, a refused form shown again with its errors (422, or 403)."""
    status = 200
    page_errors: list[str] = []
    for form in (bound or {}).values():
        status = refusal(form, exc)
        page_errors.extend(str(e) for e in form.non_field_errors())
    may_act = may_manage(request.user) and alert.status == AlertStatus.OPEN
    visible: list[Any] = alert.visible_complaints  # type: ignore[attr-defined]  # set by the selector (annotation or prefetch)
    context: dict[str, Any] = {
        "alert": alert,
        "complaints": visible,
        "hidden": alert.complaint_count - len(visible),  # type: ignore[attr-defined]  # set by the selector (annotation or prefetch)
        "events": event_rows(
            selectors.events_of(alert=alert),
            visible=None if request.user.has_perm("complaints.view_all_complaints") else {c.number for c in visible},
        ),
        "may_act": may_act,
        "page_errors": page_errors,
    }
    if may_act:
        candidates = selectors.open_incidents_for(product_id=alert.product_id)
        context["forms"] = {
            "dismiss": DismissForm(prefix="dismiss"),
            "incident": OpenIncidentForm(
                prefix="incident",
                initial={
                    "title": alert_summary(alert=alert, product=alert.product, count=alert.complaint_count),  # type: ignore[attr-defined]  # set by the selector (annotation or prefetch)
                    "batch_no": alert.batch_no,
                },
            ),
            "link": LinkIncidentForm(prefix="link", incidents=candidates) if candidates.exists() else None,
            **(bound or {}),
        }
    return render(request, "defects/alert.html", context, status=status)


@login_required
@require_GET
def alert_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    return _page(request, _alert_or_404(request, pk))


@login_required
@require_POST
def alert_dismiss(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    alert = _alert_or_404(request, pk)
    form = DismissForm(request.POST, prefix="dismiss")
    exc = permission_refusal(request)
    if exc is None and form.is_valid():
        try:
            services.alert_dismiss(
                alert=alert,
                reason=form.cleaned_data["reason"],
                actor=request.user,
                via=Via.DESK,
            )
        except DomainError as error:
            exc = error
        else:
            messages.success(request, _("Alert dismissed."))
            return redirect("defects:alert", pk=alert.pk)
    return _page(request, alert, bound={"dismiss": form}, exc=exc)


@login_required
@require_POST
def alert_open_incident(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    alert = _alert_or_404(request, pk)
    form = OpenIncidentForm(request.POST, prefix="incident")
    exc = permission_refusal(request)
    if exc is None and form.is_valid():
        try:
            incident = services.alert_open_incident(
                alert=alert,
                title=form.cleaned_data["title"],
                description=form.cleaned_data["description"],
                batch_no=form.cleaned_data["batch_no"],
                actor=request.user,
                via=Via.DESK,
            )
        except DomainError as error:
            exc = error
        else:
            messages.success(request, _("Defect incident %(number)s opened.") % {"number": incident.number})
            return redirect("defects:incident", pk=incident.pk)
    return _page(request, alert, bound={"incident": form}, exc=exc)


@login_required
@require_POST
def alert_link(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    alert = _alert_or_404(request, pk)
    form = LinkIncidentForm(
        request.POST, prefix="link", incidents=selectors.open_incidents_for(product_id=alert.product_id)
    )
    exc = permission_refusal(request)
    if exc is None and form.is_valid():
        try:
            incident = services.alert_link_incident(
                alert=alert,
                incident=form.cleaned_data["incident"],
                actor=request.user,
                via=Via.DESK,
            )
        except DomainError as error:
            exc = error
        else:
            messages.success(request, _("The alert's complaints joined %(number)s.") % {"number": incident.number})
            return redirect("defects:incident", pk=incident.pk)
    return _page(request, alert, bound={"link": form}, exc=exc)


urlpatterns: list[URLPattern] = [
    path("alerts/", alert_list, name="alerts"),
    path("alerts/<int:pk>/", alert_detail, name="alert"),
    path("alerts/<int:pk>/dismiss/", alert_dismiss, name="alert_dismiss"),
    path("alerts/<int:pk>/incident/", alert_open_incident, name="alert_open_incident"),
    path("alerts/<int:pk>/link/", alert_link, name="alert_link"),
]
