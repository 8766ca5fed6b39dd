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
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from closeloop.complaints.lifecycle import OPEN_STATUSES
from closeloop.complaints.models import Complaint, Via
from closeloop.complaints.services import complaint_register
from closeloop.core.answers import form_again_on_failure
from closeloop.core.errors import DomainError, ValidationFailed
from closeloop.core.throttle import client_ip, throttle_hit
from closeloop.handling.services.customer_words import customer_addition_record
from closeloop.portal import grants, spam_guard
from closeloop.portal.customer_status import customer_status
from closeloop.portal.forms import ORGANISATION_KINDS, AddInformationForm, ComplaintForm, StatusLookupForm
from closeloop.portal.lookup import Outcome, status_lookup
from closeloop.portal.selectors import complaint_for_customer, complaint_number_normalize, customer_milestones

logger = logging.getLogger("closeloop.portal")

REFUSED = gettext_lazy(
    "We could not accept the form as it was sent. What you typed is kept below: check it, wait a few "
    "seconds and press the button again (choose your photos again too). If it still does not go "
    "through, call our service hotline and give them what you wrote."
)


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
        # The same words whichever check failed (a bot learns nothing), but a person knows what to do.
        notice = str(REFUSED)
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
    if request.method != "POST":
        # The receipt links here with the number filled in (?number=…); only the digits are left to type.
        initial = {"number": complaint_number_normalize(request.GET.get("number", ""))[:30]}
        context = {"form": StatusLookupForm(initial=initial), "outcome": "", "ask_whole_phone": False}
        return render(request, "portal/status.html", context)
    form = StatusLookupForm(request.POST)
    if not form.is_valid():
        context = {"form": form, "outcome": "", "ask_whole_phone": bool(form.data.get("phone"))}
        return render(request, "portal/status.html", context, status=400)

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


def _granted(request: HttpRequest, number: str) -> Complaint | None:
    number = complaint_number_normalize(number)
    if not grants.grant_has(request, kind=grants.STATUS, number=number):
        return None
    return complaint_for_customer(number=number)


def _status_detail_page(
    request: HttpRequest,
    complaint: Complaint,
    *,
    form: AddInformationForm | None = None,
    notice: str = "",
    status: int = 200,
) -> HttpResponse:
    may_add = complaint.status in OPEN_STATUSES
    context: dict[str, Any] = {
        "complaint": complaint,
        "customer_status": customer_status(complaint.status),
        "milestones": customer_milestones(complaint=complaint),
        # A refused addition is shown with its error even when the complaint closed meanwhile.
        "add_form": form if form is not None else (AddInformationForm() if may_add else None),
        "form_token": spam_guard.form_token_issue(),
        "token_field": spam_guard.TOKEN_FIELD,
        "honeypot_field": spam_guard.HONEYPOT_FIELD,
        "notice": notice,
        "added": request.GET.get("added") == "1",
    }
    return render(request, "portal/status_detail.html", context, status=status)


@never_cache
def status_detail(request: HttpRequest, number: str) -> HttpResponse:
    complaint = _granted(request, number)
    if complaint is None:
        return HttpResponseRedirect(reverse("portal:status"))
    return _status_detail_page(request, complaint)


@never_cache
@require_http_methods(["POST"])
def status_add(request: HttpRequest, number: str) -> HttpResponse:
    """The customer adds text and photos to their open complaint; then back to the status page (PRG)."""
    complaint = _granted(request, number)
    if complaint is None:
        return HttpResponseRedirect(reverse("portal:status"))
    form = AddInformationForm(request.POST, request.FILES)
    form_again_on_failure(request, lambda notice: _status_detail_page(request, complaint, form=form, notice=notice))
    if throttle_hit(
        scope="status_add",
        identity=client_ip(request),
        max_hits=settings.PORTAL_SUBMIT_MAX_PER_IP,
        window_seconds=settings.PORTAL_SUBMIT_WINDOW_SECONDS,
    ):
        form.is_valid()
        notice = _("Too many messages were sent from your network. Please try again in an hour.")
        return _status_detail_page(request, complaint, form=form, notice=notice, status=429)
    verdict = spam_guard.submission_check(request.POST)
    if verdict is not spam_guard.Verdict.OK:
        logger.info("portal addition refused: %s", verdict)
        form.is_valid()
        return _status_detail_page(request, complaint, form=form, notice=str(REFUSED), status=400)
    if not form.is_valid():
        return _status_detail_page(request, complaint, form=form, status=400)
    try:
        customer_addition_record(
            complaint=complaint, text=form.cleaned_data["text"], uploads=form.uploads(), via=Via.PORTAL
        )
    except ValidationFailed as exc:
        form.add_domain_errors(exc.errors)
        return _status_detail_page(request, complaint, form=form, status=400)
    except DomainError as exc:
        form.add_domain_errors({exc.field or "__all__": [str(exc.message)]})
        return _status_detail_page(request, complaint, form=form, status=400)
    return redirect(reverse("portal:status_detail", args=[complaint.number]) + "?added=1#add-information")
