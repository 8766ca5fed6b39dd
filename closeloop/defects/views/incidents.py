"""Desk pages of defect incidents (批次问题): the list, and one incident with its complaints (and the
remedy each has), quality's forms (add or remove a complaint, apply the remedy to all, close), its
alerts, the improvement actions linked to it and its history. A refused form is shown again on the
incident's page with its message and everything typed (422)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.http import require_GET, require_POST

from closeloop.complaints.lifecycle import NOT_COUNTED_STATUSES, Status
from closeloop.complaints.models import Complaint, Via
from closeloop.complaints.selectors import complaint_get
from closeloop.core.errors import DomainError
from closeloop.core.types import AuthenticatedHttpRequest
from closeloop.defects import selectors
from closeloop.defects.forms import AddComplaintForm, CloseIncidentForm, RemedyForm, RemoveComplaintForm
from closeloop.defects.models import DefectIncident
from closeloop.defects.services import incidents as services
from closeloop.defects.services.common import LIVE_INCIDENT, may_manage
from closeloop.defects.views.common import PAGE_SIZE, check_view, event_rows, permission_refusal, refusal

TABS = {
    "live": pgettext_lazy("defect incidents tab", "Open"),
    "closed": gettext_lazy("Closed"),
    "": gettext_lazy("All"),
}


@login_required
@require_GET
def incident_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    check_view(request)
    status = request.GET.get("status", "live")
    status = status if status in TABS else "live"
    page = Paginator(selectors.incident_list(user=request.user, status=status), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "defects/incidents.html", {"page": page, "tabs": TABS.items(), "status": status})


def _incident_or_404(request: HttpRequest, pk: int) -> DefectIncident:
    try:
        return selectors.incident_get(user=request.user, pk=pk)
    except DefectIncident.DoesNotExist:
        raise Http404(_("No such incident.")) from None


def improvement_create_url(incident: DefectIncident) -> str:
    """The improvement app's create page, told which incident the action comes from."""
    try:
        base = reverse("improvement:create")
    except NoReverseMatch:
        base = "/desk/improvement/new/"
    return f"{base}?incident={incident.pk}"


def _action_url(pk: int) -> str | None:
    try:
        return reverse("improvement:detail", args=[pk])
    except NoReverseMatch:
        return None


def _page(
    request: HttpRequest,
    incident: DefectIncident,
    *,
    bound: dict[str, forms.Form] | None = None,
    exc: DomainError | None = None,
) -> HttpResponse:
    """The incident's page; with `bound`, a refused form shown again with its errors (422, or 403)."""
    status = 200
    page_errors: list[str] = []
    for form in (bound or {}).values():
        status = refusal(form, exc)
        page_errors.extend(str(e) for e in form.non_field_errors())
    user = request.user
    rows = selectors.incident_complaint_rows(incident)
    numbers = [row.complaint.number for row in rows]
    sees_all = user.has_perm("complaints.view_all_complaints")
    live = incident.status in LIVE_INCIDENT
    may_act = may_manage(user) and live
    pending = [
        row
        for row in rows
        if row.remedy is None and row.complaint.status not in (Status.ARCHIVED, *NOT_COUNTED_STATUSES)
    ]
    actions = [
        {"action": action, "url": _action_url(action.pk)} for action in selectors.improvement_actions_of(incident)
    ]
    context: dict[str, Any] = {
        "incident": incident,
        "rows": rows,
        "hidden": incident.complaint_count - len(rows),  # type: ignore[attr-defined]  # set by the selector (annotation or prefetch)
        "pending": len(pending),
        "alerts": list(incident.alerts.order_by("raised_at")),
        "actions": actions,
        "improvement_url": improvement_create_url(incident)
        if user.has_perm("improvement.manage_improvement")
        else None,
        "events": event_rows(selectors.events_of(incident=incident), visible=None if sees_all else set(numbers)),
        "may_act": may_act,
        "page_errors": page_errors,
    }
    if may_act:
        context["forms"] = {
            "add": AddComplaintForm(prefix="add"),
            "remove": RemoveComplaintForm(prefix="remove", numbers=numbers) if numbers else None,
            "remedy": RemedyForm(
                prefix="remedy",
                initial={"remedy": incident.remedy, "measure": incident.remedy_measure or "replacement"},
            ),
            "close": CloseIncidentForm(prefix="close"),
            **(bound or {}),
        }
    return render(request, "defects/incident.html", context, status=status)


@login_required
@require_GET
def incident_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    return _page(request, _incident_or_404(request, pk))


def _named_complaint(request: HttpRequest, number: str) -> Complaint:
    """A complaint typed into a form: unknown or out of scope is a field error (never a hint it exists)."""
    try:
        return complaint_get(user=request.user, number=number.strip().upper())
    except Complaint.DoesNotExist:
        raise DomainError(_("There is no complaint with this number."), field="complaint") from None


@login_required
@require_POST
def incident_add(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    incident = _incident_or_404(request, pk)
    form = AddComplaintForm(request.POST, prefix="add")
    exc = permission_refusal(request)
    if exc is None and form.is_valid():
        try:
            if not form.cleaned_data["complaint"].strip():
                raise DomainError(_("Give the complaint's number."), field="complaint")
            complaint = _named_complaint(request, form.cleaned_data["complaint"])
            services.incident_add_complaint(
                incident=incident,
                complaint=complaint,
                note=form.cleaned_data["note"],
                actor=request.user,
                via=Via.DESK,
            )
        except DomainError as error:
            exc = error
        else:
            messages.success(request, _("%(number)s added to the incident.") % {"number": complaint.number})
            return redirect("defects:incident", pk=incident.pk)
    return _page(request, incident, bound={"add": form}, exc=exc)


@login_required
@require_POST
def incident_remove(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    incident = _incident_or_404(request, pk)
    numbers = [c.number for c in incident.visible_complaints]  # type: ignore[attr-defined]  # set by the selector (annotation or prefetch)
    form = RemoveComplaintForm(request.POST, prefix="remove", numbers=numbers)
    exc = permission_refusal(request)
    if exc is None and form.is_valid():
        complaint = next(c for c in incident.visible_complaints if c.number == form.cleaned_data["complaint"])  # type: ignore[attr-defined]  # set by the selector (annotation or prefetch)
        try:
            services.incident_remove_complaint(
                incident=incident,
                complaint=complaint,
                reason=form.cleaned_data["reason"],
                actor=request.user,
                via=Via.DESK,
            )
        except DomainError as error:
            exc = error
        else:
            messages.success(request, _("%(number)s removed from the incident.") % {"number": complaint.number})
            return redirect("defects:incident", pk=incident.pk)
    return _page(request, incident, bound={"remove": form}, exc=exc)


@login_required
@require_POST
def incident_remedy(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    incident = _incident_or_404(request, pk)
    form = RemedyForm(request.POST, prefix="remedy")
    exc = permission_refusal(request)
    if exc is None and form.is_valid():
        try:
            result = services.incident_apply_remedy(
                incident=incident,
                remedy=form.cleaned_data["remedy"],
                measure=form.cleaned_data["measure"],
                actor=request.user,
                via=Via.DESK,
            )
        except DomainError as error:
            exc = error
        else:
            messages.success(
                request,
                _("Remedy recorded on %(count)s complaint(s): %(numbers)s.")
                % {"count": len(result.applied), "numbers": ", ".join(result.applied)},
            )
            if result.skipped:
                messages.warning(
                    request,
                    _("Not recorded on: %(names)s.")
                    % {"names": ", ".join(f"{number} ({why})" for number, why in result.skipped)},
                )
            return redirect("defects:incident", pk=incident.pk)
    return _page(request, incident, bound={"remedy": form}, exc=exc)


@login_required
@require_POST
def incident_close(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    incident = _incident_or_404(request, pk)
    form = CloseIncidentForm(request.POST, prefix="close")
    exc = permission_refusal(request)
    if exc is None and form.is_valid():
        try:
            services.incident_close(
                incident=incident,
                note=form.cleaned_data["note"],
                actor=request.user,
                via=Via.DESK,
            )
        except DomainError as error:
            exc = error
        else:
            messages.success(request, _("Incident closed."))
            return redirect("defects:incident", pk=incident.pk)
    return _page(request, incident, bound={"close": form}, exc=exc)


urlpatterns: list[URLPattern] = [
    path("incidents/", incident_list, name="incidents"),
    path("incidents/<int:pk>/", incident_detail, name="incident"),
    path("incidents/<int:pk>/add/", incident_add, name="incident_add"),
    path("incidents/<int:pk>/remove/", incident_remove, name="incident_remove"),
    path("incidents/<int:pk>/remedy/", incident_remedy, name="incident_remedy"),
    path("incidents/<int:pk>/close/", incident_close, name="incident_close"),
]
