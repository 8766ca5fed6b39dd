"""The complaint page's panel: the early-warning alert and the defect incident the complaint belongs
to (with the incident's remedy, which customer service may tell the customer), and for quality a form
to put the complaint into an open incident of its model."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from closeloop.complaints.lifecycle import NOT_COUNTED_STATUSES, Status
from closeloop.complaints.models import Complaint, Via
from closeloop.complaints.panels import Panel
from closeloop.complaints.selectors import complaint_get
from closeloop.core.errors import DomainError
from closeloop.core.types import AuthenticatedHttpRequest
from closeloop.defects import selectors
from closeloop.defects.forms import JoinIncidentForm
from closeloop.defects.services import incidents as services
from closeloop.defects.services.common import LIVE_INCIDENT, may_manage, may_view
from closeloop.defects.views.common import permission_refusal, refusal


def _join_form(request: HttpRequest, complaint: Complaint, incidents: list[Any]) -> JoinIncidentForm | None:
    if not may_manage(request.user) or complaint.product_id is None:
        return None
    if complaint.status in (Status.ARCHIVED, *NOT_COUNTED_STATUSES) or any(
        i.status in LIVE_INCIDENT for i in incidents
    ):
        return None
    candidates = selectors.open_incidents_for(product_id=complaint.product_id)
    if not candidates.exists():
        return None
    return JoinIncidentForm(prefix="defect-join", incidents=candidates)


def panel(request: HttpRequest, complaint: Complaint) -> Panel | None:
    found = selectors.complaint_defects(complaint=complaint)
    join_form = _join_form(request, complaint, found.incidents)
    if not found.alerts and not found.incidents and join_form is None:
        return None
    context = {
        "alerts": found.alerts,
        "incidents": found.incidents,
        "may_view": may_view(request.user),
        "join_form": join_form,
    }
    return Panel(template="defects/_panel.html", context=context, order=15, column="side")


@login_required
@require_POST
def complaint_join(request: AuthenticatedHttpRequest, number: str) -> HttpResponse:
    try:
        complaint = complaint_get(user=request.user, number=number)
    except Complaint.DoesNotExist:
        raise Http404(_("No such complaint.")) from None
    candidates = (
        selectors.open_incidents_for(product_id=complaint.product_id)
        if complaint.product_id
        else selectors.open_incidents_for(product_id=0)
    )
    form = JoinIncidentForm(request.POST, prefix="defect-join", incidents=candidates)
    exc = permission_refusal(request)
    if exc is None and form.is_valid():
        incident = form.cleaned_data["incident"]
        try:
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
            messages.success(request, _("Added to the defect incident %(number)s.") % {"number": incident.number})
            return redirect("desk:detail", number=complaint.number)
    status = refusal(form, exc)
    context = {"complaint": complaint, "form": form, "title": _("Add to a defect incident"), "action": request.path}
    return render(request, "defects/form.html", context, status=status)


urlpatterns: list[URLPattern] = [
    path("complaints/<str:number>/incident/", complaint_join, name="complaint_join"),
]
