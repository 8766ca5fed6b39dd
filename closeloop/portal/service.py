"""The portal's service requests: a customer asks for a repair, a return, an exchange, an installation or
technical support, and follows it by number + last 4 digits of the phone — the complaint portal's rules
(spam guard, throttle, the lookup's windows of closeloop/portal/lookup.py, grants in the session)."""

from __future__ import annotations

import hmac
import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from closeloop.complaints.models import Via
from closeloop.core.errors import DomainError, ValidationFailed
from closeloop.core.throttle import client_ip, throttle_hit
from closeloop.portal import grants, spam_guard
from closeloop.portal.lookup import address_window, number_window
from closeloop.portal.views import REFUSED
from closeloop.serviceorders.forms import LookupForm, PortalRequestForm
from closeloop.serviceorders.models import ServiceOrder
from closeloop.serviceorders.services import order_register

logger = logging.getLogger(__name__)
SERVICE_RECEIPT = "service-receipt"
SERVICE_STATUS = "service-status"


def _form_page(request: HttpRequest, form: PortalRequestForm, *, notice: str = "", status: int = 200) -> HttpResponse:
    context = {
        "form": form,
        "notice": notice,
        "form_token": spam_guard.form_token_issue(),
        "token_field": spam_guard.TOKEN_FIELD,
        "honeypot_field": spam_guard.HONEYPOT_FIELD,
    }
    return render(request, "portal/service_request.html", context, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
def service_request(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _form_page(request, PortalRequestForm(initial={"kind": request.GET.get("kind", "repair")}))
    form = PortalRequestForm(request.POST)
    if throttle_hit(
        scope="submit",
        identity=client_ip(request),
        max_hits=settings.PORTAL_SUBMIT_MAX_PER_IP,
        window_seconds=settings.PORTAL_SUBMIT_WINDOW_SECONDS,
    ):
        form.is_valid()
        return _form_page(
            request,
            form,
            notice=_("Too many requests were sent from your network. Please try again later."),
            status=429,
        )
    verdict = spam_guard.submission_check(request.POST)
    if verdict is not spam_guard.Verdict.OK:
        logger.info("portal service request refused: %s", verdict)
        form.is_valid()
        return _form_page(
            request,
            form,
            notice=str(REFUSED),
            status=400,
        )
    if not form.is_valid():
        return _form_page(request, form, status=400)
    try:
        order = order_register(data=form.order_data(), actor=None, via=Via.PORTAL)
    except DomainError as exc:
        errors = exc.errors if isinstance(exc, ValidationFailed) else {exc.field or "__all__": [str(exc.message)]}
        for name, messages in errors.items():
            for message in messages:
                form.add_error(name if name in form.fields else None, str(message))
        return _form_page(request, form, status=400)
    spam_guard.form_token_record(str(request.POST.get(spam_guard.TOKEN_FIELD) or ""), number=order.number)
    grants.grant_add(request, kind=SERVICE_STATUS, number=order.number)
    return redirect("portal:service_status_detail", number=order.number)


def order_for_lookup(*, number: str, phone_last4: str) -> ServiceOrder | None:
    """As complaint_for_lookup: an unknown number, wrong digits and no phone answer the same."""
    order = ServiceOrder.objects.select_related("customer").filter(number=number.strip().upper()).first()
    phone = order.customer.phone if order is not None else ""
    expected = phone[-4:] if len(phone) >= 4 else "----"
    if order is None or not phone or not hmac.compare_digest(expected.encode(), phone_last4.encode()):
        return None
    return order


@never_cache
@require_http_methods(["GET", "POST"])
def service_status(request: HttpRequest) -> HttpResponse:
    form = LookupForm(request.POST if request.method == "POST" else None)
    if request.method != "POST" or not form.is_valid():
        return render(request, "portal/service_status.html", {"form": form}, status=400 if form.is_bound else 200)
    number = form.cleaned_data["number"].strip().upper()
    attempt = address_window().reserve(client_ip(request))
    if attempt is None:
        return render(request, "portal/service_status.html", {"form": form, "outcome": "blocked"}, status=429)
    guess = number_window().reserve(number)
    if guess is None:
        attempt.release()
        return render(request, "portal/service_status.html", {"form": form, "outcome": "not_found"})
    order = order_for_lookup(number=number, phone_last4=form.cleaned_data["phone_last4"])
    if order is None:
        return render(
            request,
            "portal/service_status.html",
            {"form": LookupForm(initial={"number": number}), "outcome": "not_found"},
        )
    guess.release()
    attempt.release()
    grants.grant_add(request, kind=SERVICE_STATUS, number=order.number)
    return redirect("portal:service_status_detail", number=order.number)


@never_cache
def service_status_detail(request: HttpRequest, number: str) -> HttpResponse:
    number = number.strip().upper()
    if not grants.grant_has(request, kind=SERVICE_STATUS, number=number):
        return redirect("portal:service_status")
    order = ServiceOrder.objects.select_related("product").filter(number=number).first()
    if order is None:
        return redirect("portal:service_status")
    context = {
        "order": order,
        "appointments": order.appointments.filter(cancelled_at__isnull=True),
        "shipments": order.shipments.all(),
    }
    return render(request, "portal/service_status_detail.html", context)
