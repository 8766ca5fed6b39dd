"""The public customer portal: complaint form, receipt and status lookup. No login; every page is
the same for everyone, and what a browser may see of a complaint is granted in its session."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from closeloop.complaints.models import Via
from closeloop.complaints.services import complaint_register
from closeloop.core.answers import form_again_on_failure
from closeloop.core.errors import DomainError, ValidationFailed
from closeloop.core.throttle import client_ip, throttle_hit
from closeloop.portal import grants, spam_guard
from closeloop.portal.customer_status import customer_status
from closeloop.portal.forms import ORGANISATION_KINDS, ComplaintForm, StatusLookupForm
from closeloop.portal.lookup import Outcome, status_lookup
from closeloop.portal.selectors import complaint_for_customer, complaint_number_normalize, customer_milestones

logger = logging.getLogger("closeloop.portal")


def _render_form(request: HttpRequest, form: ComplaintForm, *, notice: str = "", status: int = 200) -> HttpResponse:
    context: dict[str, Any] = {
        "form": form,
        "form_token": spam_guard.form_token_issue(),
        "token_field": spam_guard.TOKEN_FIELD,
        "honeypot_field": spam_guard.HONEYPOT_FIELD,
        "product_models": form.product_models(),
        "organisation_kinds": " ".join(ORGANISATION_KINDS),
        "notice": notice,
    }
    return render(request, "portal/home.html", context, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
def home(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _render_form(request, ComplaintForm())

    form = ComplaintForm(request.POST, request.FILES)
    form_again_on_failure(request, lambda notice: _render_form(request, form, notice=notice))
    if throttle_hit(
        scope="submit",
        identity=client_ip(request),
        max_hits=settings.PORTAL_SUBMIT_MAX_PER_IP,
        window_seconds=settings.PORTAL_SUBMIT_WINDOW_SECONDS,
    ):
        form.is_valid()  # bound and cleaned, so what was typed is shown again
        notice = _("Too many complaints were sent from your network. Please try again later.")
        return _render_form(request, form, notice=notice, status=429)

    token = str(request.POST.get(spam_guard.TOKEN_FIELD) or "")
    verdict = spam_guard.submission_check(request.POST)
    if verdict is spam_guard.Verdict.REPLAYED:
        number = spam_guard.form_token_number(token)
        if number and grants.grant_has(request, kind=grants.RECEIPT, number=number):
            return redirect("portal:receipt", number=number)  # the same form sent twice from this browser
        form.is_valid()
        notice = _("This form has already been sent once. If you got no complaint number, send it again now.")
        return _render_form(request, form, notice=notice, status=400)
    if verdict is not spam_guard.Verdict.OK:
        logger.info("portal submission refused: %s", verdict)
        form.is_valid()
        # Neutral on purpose: a bot learns nothing; a person who was merely quick sends it again.
        notice = _("We could not accept the form as it was sent. Please check it and send it again.")
        return _render_form(request, form, notice=notice, status=400)

    if not form.is_valid():
        return _render_form(request, form, status=400)
    try:
        complaint = complaint_register(data=form.intake_data(), actor=None, via=Via.PORTAL)
    except ValidationFailed as exc:
        form.add_domain_errors(exc.errors)
        return _render_form(request, form, status=400)
    except DomainError as exc:
        form.add_domain_errors({exc.field or "__all__": [str(exc.message)]})
        return _render_form(request, form, status=400)

    spam_guard.form_token_record(token, number=complaint.number)
    grants.grant_add(request, kind=grants.RECEIPT, number=complaint.number)
    return redirect("portal:receipt", number=complaint.number)


@never_cache
def receipt(request: HttpRequest, number: str) -> HttpResponse:
    number = complaint_number_normalize(number)
    complaint = (
        complaint_for_customer(number=number) if grants.grant_has(request, kind=grants.RECEIPT, number=number) else None
    )
    if complaint is None:
        return HttpResponseRedirect(reverse("portal:status"))
    context = {
        "complaint": complaint,
        "has_phone": bool(complaint.customer.phone),
        "attachment_count": complaint.attachments.count(),
    }
    return render(request, "portal/receipt.html", context)


def _status_page(
    request: HttpRequest, number: str, *, outcome: str, ask_whole_phone: bool, status: int, notice: str = ""
) -> HttpResponse:
    # The digits and the phone are never echoed back; the number is, so that a typo in it is easy to see.
    context: dict[str, Any] = {
        "form": StatusLookupForm(initial={"number": number}),
        "outcome": outcome,
        "ask_whole_phone": ask_whole_phone,
        "notice": notice,
    }
    return render(request, "portal/status.html", context, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
def status(request: HttpRequest) -> HttpResponse:
    form = StatusLookupForm(request.POST if request.method == "POST" else None)
    if request.method != "POST" or not form.is_valid():
        context = {"form": form, "outcome": "", "ask_whole_phone": bool(form.is_bound and form.data.get("phone"))}
        return render(request, "portal/status.html", context, status=400 if form.is_bound else 200)

    typed = form.cleaned_data["number"]
    form_again_on_failure(
        request,
        lambda notice: _status_page(request, typed, outcome="", ask_whole_phone=False, status=503, notice=notice),
    )
    result = status_lookup(
        address=client_ip(request),
        number=typed,
        phone_last4=form.cleaned_data["phone_last4"],
        phone=form.cleaned_data["phone"],
    )
    if result.outcome is Outcome.FOUND and result.complaint is not None:
        grants.grant_add(request, kind=grants.STATUS, number=result.complaint.number)
        return redirect("portal:status_detail", number=result.complaint.number)
    ask_whole_phone = result.outcome is Outcome.WHOLE_PHONE or bool(form.cleaned_data["phone"])
    status_code = 429 if result.outcome is Outcome.BLOCKED else 200
    return _status_page(request, typed, outcome=result.outcome, ask_whole_phone=ask_whole_phone, status=status_code)


@never_cache
def status_detail(request: HttpRequest, number: str) -> HttpResponse:
    number = complaint_number_normalize(number)
    complaint = (
        complaint_for_customer(number=number) if grants.grant_has(request, kind=grants.STATUS, number=number) else None
    )
    if complaint is None:
        return HttpResponseRedirect(reverse("portal:status"))
    context = {
        "complaint": complaint,
        "customer_status": customer_status(complaint.status),
        "milestones": customer_milestones(complaint=complaint),
    }
    return render(request, "portal/status_detail.html", context)
