"""Desk side of triage: the suggestions partial of the registration form, the similar-complaints part of
the complaint page (loaded by htmx, so the page itself costs no query more), the month's safety hazards,
and the administrators' page (models, acceptance, retrain now)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from closeloop import authz
from closeloop.complaints.lifecycle import OPEN_STATUSES
from closeloop.complaints.models import Complaint
from closeloop.complaints.selectors import complaint_get
from closeloop.core.errors import DomainError
from closeloop.core.types import AuthenticatedHttpRequest
from closeloop.triage import selectors, services
from closeloop.triage.models import HazardFlag
from closeloop.triage.similar import similar_to
from closeloop.triage.suggest import triage_suggest

DESCRIPTION_MAX = 5000


def _require(request: AuthenticatedHttpRequest, perm: str) -> None:
    if not authz.allowed(request.user, perm):
        raise PermissionDenied


@login_required
@require_POST
def suggest(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The registration form's suggestions for what has been typed so far (htmx, on input)."""
    _require(request, "triage.ask_suggestions")
    description = request.POST.get("description", "")[:DESCRIPTION_MAX].replace("\x00", "")
    product_text = request.POST.get("product_text", "")[:150].replace("\x00", "")
    result = triage_suggest(description=description, product_text=product_text) if description.strip() else None
    return render(request, "triage/_suggestions.html", {"suggestions": result})


@login_required
@require_GET
def similar(request: AuthenticatedHttpRequest, number: str) -> HttpResponse:
    """The complaint page's similar complaints, with the desk's repeat and merge forms."""
    try:
        complaint = complaint_get(user=request.user, number=number)
    except Complaint.DoesNotExist:
        raise Http404(_("No such complaint.")) from None
    rows = similar_to(complaint=complaint, user=request.user)
    # What the words suggest, for complaints that came in without an agent choosing (portal, e-mail, API):
    # shown beside what the complaint holds; a more urgent priority is one click (the desk's priority change).
    suggestion = triage_suggest(description=complaint.description, product_text=complaint.product_text)
    priority = suggestion.priority
    offer_priority = (
        priority is not None
        and complaint.status in OPEN_STATUSES
        and int(priority.value) < complaint.priority
        and authz.allowed(request.user, "complaints.reprioritise_complaint")
    )
    return render(
        request,
        "triage/_similar_list.html",
        {
            "complaint": complaint,
            "similar": rows,
            "may_link": authz.allowed(request.user, "followup.link_repeats"),
            "hazard": HazardFlag.objects.filter(complaint=complaint).first(),
            "suggestion": suggestion,
            "offer_priority": offer_priority,
        },
    )


@login_required
@require_GET
def hazards(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The month's safety hazards and their count per model: the basis of a recall decision."""
    _require(request, "triage.view_hazards")
    month = request.GET.get("month", "") or selectors.this_month()
    try:
        flags = list(selectors.hazards_of_month(month=month))
        by_product = selectors.hazards_by_product(month=month)
    except ValueError:
        month = selectors.this_month()
        flags = list(selectors.hazards_of_month(month=month))
        by_product = selectors.hazards_by_product(month=month)
        messages.warning(request, _("Give the month as YYYY-MM."))
    return render(request, "triage/hazards.html", {"month": month, "flags": flags, "by_product": by_product})


@login_required
def admin_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Administrators: the model versions, the acceptance of suggestions, and retraining now."""
    _require(request, "triage.retrain_model")
    if request.method == "POST":
        try:
            services.triage_retrain_request(actor=request.user)
        except DomainError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("A new triage model is being trained."))
        return redirect("triage:admin")
    return render(
        request,
        "triage/admin.html",
        {"models": selectors.models_recent(), "acceptance": selectors.acceptance()},
    )
