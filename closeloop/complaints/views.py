"""The customer-service desk: queue, registration, complaint page. Thin function views: parse the
request with a form, call a selector or a service, render. An htmx request gets the partial only."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from closeloop import authz
from closeloop.authz.navigation import home_for
from closeloop.complaints import customer_messages, presentation, repeats, saved_views, selectors, services
from closeloop.complaints.customer_messages import SMS_MAX_CHARS, WRITE_PREFIX
from closeloop.complaints.forms import (
    CustomerMessageForm,
    CustomerMessageStartForm,
    PriorityChangeForm,
    QueueFilterForm,
    RegistrationForm,
    ResumeForm,
    TransitionForm,
    WaitForCustomerForm,
)
from closeloop.complaints.lifecycle import OPEN_STATUSES, TRANSITIONS, Status, offered_transitions
from closeloop.complaints.models import Complaint, SavedView, Via
from closeloop.complaints.panels import complaint_panels
from closeloop.complaints.signals import registration_form_submitted
from closeloop.core.answers import form_again_on_failure
from closeloop.core.errors import DomainError, RateLimited
from closeloop.core.files import file_response
from closeloop.core.forms_ui import add_domain_errors, refusal_status
from closeloop.core.masking import can_see_personal_data
from closeloop.core.types import AuthenticatedHttpRequest
from closeloop.directory import selectors as directory_selectors
from closeloop.directory.selectors import MOBILE
from closeloop.notifications.models import MessageTemplate, Method


@login_required
@require_GET
def home(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Each role's own home page (closeloop/authz/navigation.py: HOMES)."""
    return redirect(home_for(request.user))


def _render(
    request: AuthenticatedHttpRequest, full: str, partial: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    template = partial if request.htmx and not request.htmx.boosted else full
    response = render(request, template, context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


@login_required
@require_GET
def queue(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = QueueFilterForm(request.GET)
    filters = form.filters()
    searchable = True
    if selectors.contact_search_counts(user=request.user, term=filters.q):
        if request.htmx and request.htmx.trigger_name == "q":
            # Typed, not submitted: a counted search runs only when asked for (Enter or the button), so
            # the pauses while typing an address do not use up the hourly allowance.
            form.add_error("q", _("Press Enter to search by this whole phone number or e-mail address."))
            searchable = False
        else:
            try:
                services.contact_search_admit(user=request.user, term=filters.q, where="queue search")
            except RateLimited as exc:
                add_domain_errors(form, exc)
                searchable = False
    queryset = (
        selectors.complaint_queue(user=request.user, filters=filters, only=selectors.QUEUE_ROW_FIELDS)
        if searchable
        else Complaint.objects.none()
    )
    paginator = selectors.CappedPaginator(queryset, settings.QUEUE_PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    complaints = list(page.object_list)
    rows = [(c, selectors.customer_contact(customer=c.customer, user=request.user)) for c in complaints]
    if can_see_personal_data(request.user):
        services.personal_data_access_record(user=request.user, complaints=complaints, where="queue")
    context = {"form": form, "page": page, "rows": rows, "total": paginator.count, "capped": paginator.capped}
    return _render(request, "desk/queue.html", "desk/_queue_results.html", context)


def _registration_context(form: RegistrationForm, notice: str = "") -> dict[str, Any]:
    return {"form": form, "proposed_department": form.proposed_department(), "notice": notice}


def _registration_again(request: HttpRequest, form: RegistrationForm, notice: str) -> HttpResponse:
    if request.FILES:
        files_lost = _("Files cannot be kept after an error: choose them again.")
        notice = f"{notice} {files_lost}"
    return render(request, "desk/register.html", _registration_context(form, notice))


@login_required
@permission_required("complaints.register_complaint", raise_exception=True)
@require_http_methods(["GET", "POST"])
def register(request: AuthenticatedHttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = RegistrationForm(request.POST, request.FILES)
        form_again_on_failure(request, lambda notice: _registration_again(request, form, notice))
        if form.is_valid():
            try:
                complaint = services.complaint_register(data=form.intake_data(), actor=request.user, via=Via.DESK)
            except DomainError as exc:
                add_domain_errors(form, exc)
            else:
                registration_form_submitted.send(
                    sender=Complaint, complaint=complaint, user=request.user, data=request.POST
                )
                messages.success(request, _("Complaint %(number)s registered.") % {"number": complaint.number})
                related = repeats.related_records(complaint=complaint, user=request.user)
                if related:
                    messages.warning(
                        request,
                        _("The customer has recent service orders on this product: %(numbers)s.")
                        % {"numbers": ", ".join(r.number for r in related)},
                    )
                return redirect("desk:detail", number=complaint.number)
        if request.FILES:
            messages.warning(request, _("Files cannot be kept after an error: choose them again."))
        status = 422 if request.htmx else 200
        return render(request, "desk/register.html", _registration_context(form), status=status)
    if request.GET.keys() & CALL_PARAMETERS:
        return _registration_for_call(request)
    return render(request, "desk/register.html", _registration_context(RegistrationForm()))


# What a call-centre (CTI) pop-up may put in the registration page's address.
CALL_PARAMETERS = frozenset({"phone", "external_ref", "recording"})


def _registration_for_call(request: HttpRequest) -> HttpResponse:
    """The registration form opened by a call-centre pop-up: a known caller's details filled in (an access
    to their personal data, logged), an unknown or malformed number left in the phone field as received."""
    try:
        phone = services.normalize_phone(request.GET.get("phone", ""))
    except DomainError:
        phone = ""
    # The details of a known caller are filled in only for a role that sees them unmasked.
    customer = selectors.customer_by_phone(phone=phone) if can_see_personal_data(request.user) else None
    if customer is not None:
        services.customer_data_access_record(user=request.user, customers=[customer], where="cti pop-up")
    form = RegistrationForm.for_call(query=request.GET, customer=customer)
    if customer is not None:
        notice = _("Known caller: %(name)s. Their details are filled in; check them with the caller.") % {
            "name": customer.name
        }
    elif phone and can_see_personal_data(request.user):
        notice = _("No customer with this number yet: a new one is registered with the complaint.")
    else:
        notice = ""
    context = {**_registration_context(form), "call_notice": notice}
    return render(request, "desk/register.html", context)


@login_required
@permission_required("complaints.register_complaint", raise_exception=True)
@require_GET
def lookup_customers(request: AuthenticatedHttpRequest) -> HttpResponse:
    if not can_see_personal_data(request.user):
        # It finds customers by a phone's first digits: with masked answers, an oracle on the hidden ones.
        # Nothing to offer either: the matches exist to copy a returning customer's contact data.
        return render(request, "desk/_customer_matches.html", {"matches": []})
    customers = list(
        directory_selectors.customers_by_contact(phone=request.GET.get("phone", ""), email=request.GET.get("email", ""))
    )
    matches = [(c, selectors.customer_contact(customer=c, user=request.user)) for c in customers]
    services.customer_data_access_record(
        user=request.user, customers=[c for c, contact in matches if not contact.masked], where="lookup"
    )
    # Their open complaints, those on the product being registered first: a call about a complaint
    # already open is added to it, not registered twice.
    product = request.GET.get("product_model", "")
    open_ones = selectors.customers_open_complaints(user=request.user, customers=customers, product=product)
    rows = [(c, contact, open_ones.get(c.pk, [])) for c, contact in matches]
    return render(request, "desk/_customer_matches.html", {"matches": rows, "product": product.strip()})


@login_required
@require_GET
def lookup_products(request: AuthenticatedHttpRequest) -> HttpResponse:
    products = directory_selectors.products_autocomplete(q=request.GET.get("q") or request.GET.get("product_model", ""))
    return render(request, "desk/_product_options.html", {"products": products})


def _visible_complaint(request: HttpRequest, number: str) -> Complaint:
    try:
        return selectors.complaint_get(user=request.user, number=number)
    except Complaint.DoesNotExist:
        raise Http404(_("No such complaint.")) from None


def _detail_response(
    request: HttpRequest,
    complaint: Complaint,
    *,
    bound: TransitionForm | None = None,
    sla_bound: dict[str, Any] | None = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    """The complaint page. `bound` replaces the empty form of its action, with its errors and text."""
    contact = selectors.customer_contact(customer=complaint.customer, user=request.user)
    if not contact.masked:
        services.personal_data_access_record(user=request.user, complaints=[complaint], where="detail")
    forms = []
    for transition in offered_transitions(complaint, request.user):
        if bound is not None and bound.transition.action == transition.action:
            forms.append(bound)
        else:
            forms.append(TransitionForm(transition=transition, complaint=complaint, user=request.user))
    context = {
        "complaint": complaint,
        "contact": contact,
        "fields": presentation.registration_fields(complaint),
        "attachments": presentation.attachment_rows(complaint.attachments.all()),
        "transition_forms": forms,
        "timeline": presentation.timeline_rows(
            selectors.complaint_timeline(complaint=complaint),
            complaint,
            contact,
            mails_out=selectors.complaint_mails_out(complaint=complaint),
        ),
        "page_error": error,
        "deadlines": list(selectors.complaint_deadlines(complaint=complaint)),
        "sla_forms": _sla_forms(request, complaint, sla_bound or {}),
        "panels": complaint_panels(request, complaint),
        "write_form": _write_start_form(request, complaint),
        "version": selectors.complaint_last_event_id(complaint_id=complaint.pk),
    }
    return render(request, "desk/detail.html", context, status=status)


def _sla_forms(request: HttpRequest, complaint: Complaint, bound: dict[str, Any]) -> dict[str, Any]:
    """Priority change and waiting-for-the-customer, for desk roles on open complaints only."""
    if not authz.allowed(request.user, "complaints.reprioritise_complaint") or complaint.status not in OPEN_STATUSES:
        return {}
    forms: dict[str, Any] = {
        "priority": bound.get("priority") or PriorityChangeForm(initial={"priority": complaint.priority})
    }
    if complaint.waiting_since is None:
        forms["wait"] = bound.get("wait") or WaitForCustomerForm()
    else:
        forms["resume"] = bound.get("resume") or ResumeForm()
    return forms


@login_required
@require_POST
def sla_action(request: AuthenticatedHttpRequest, number: str, action: str) -> HttpResponse:
    """Change the priority, start or end waiting for the customer: the same services as the API."""
    complaint = _visible_complaint(request, number)
    if action not in SLA_ACTIONS:
        raise Http404(_("Unknown action."))
    form_class, call = SLA_ACTIONS[action]
    form = form_class(request.POST)
    if form.is_valid():
        try:
            call(complaint=complaint, actor=request.user, via=Via.DESK, **form.cleaned_data)
        except DomainError as exc:
            add_domain_errors(form, exc)
        else:
            messages.success(request, str(SLA_DONE[action]))
            return redirect("desk:detail", number=complaint.number)
    complaint = _visible_complaint(request, number)
    error = " ".join(str(e) for errors in form.errors.values() for e in errors)
    return _detail_response(request, complaint, sla_bound={action: form}, error=error, status=422)


SLA_DONE = {
    "priority": gettext_lazy("Priority changed; the open deadlines are recomputed for it."),
    "wait": gettext_lazy("The clocks are paused until the customer answers: resume them then."),
    "resume": gettext_lazy("The clocks run again, extended by the time spent waiting."),
}
SLA_ACTIONS: dict[str, tuple[type[forms.Form], Any]] = {
    "priority": (PriorityChangeForm, services.complaint_change_priority),
    "wait": (WaitForCustomerForm, services.complaint_wait_for_customer),
    "resume": (ResumeForm, services.complaint_resume),
}


@login_required
@require_GET
def detail(request: AuthenticatedHttpRequest, number: str) -> HttpResponse:
    return _detail_response(request, _visible_complaint(request, number))


@login_required
@require_GET
def changed(request: AuthenticatedHttpRequest, number: str) -> HttpResponse:
    """Polled by the open complaint page (desk/_live.html): 204 while nothing happened to the complaint
    since the event the page shows last (`after`), else the notice "this complaint changed — reload".
    Two small indexed queries (the visible complaint, its newer events) per poll."""
    try:
        complaint_id = selectors.complaints_visible_to(request.user).values_list("pk", flat=True).get(number=number)
    except Complaint.DoesNotExist:
        raise Http404(_("No such complaint.")) from None
    after = request.GET.get("after", "")
    if after.isdigit() and not selectors.complaint_changed_since(complaint_id=complaint_id, event_id=int(after)):
        return HttpResponse(status=204)
    return render(request, "desk/_changed.html", {"number": number})


@login_required
@require_POST
def transition(request: AuthenticatedHttpRequest, number: str, action: str) -> HttpResponse:
    complaint = _visible_complaint(request, number)
    step = TRANSITIONS.get(action)
    if step is None:
        return _detail_response(
            request, complaint, error=_("Unknown action “%(action)s”.") % {"action": action}, status=400
        )
    form = TransitionForm(request.POST, transition=step, complaint=complaint, user=request.user)
    status = 422
    if form.is_valid():
        try:
            complaint = services.complaint_transition(
                complaint=complaint, action=action, actor=request.user, via=Via.DESK, data=dict(form.service_data())
            )
        except DomainError as exc:
            add_domain_errors(form, exc)
            status = refusal_status(exc)
        else:
            messages.success(request, str(step.done) if step.done else _("%(action)s: done.") % {"action": step.label})
            return redirect("desk:detail", number=complaint.number)
    complaint = _visible_complaint(request, number)  # re-read: the refusal may be due to a change meanwhile
    # The action may no longer be offered (state changed meanwhile, or not for this role): then the
    # form is not on the page, so its message goes on top of the page.
    offered = {t.action for t in offered_transitions(complaint, request.user)}
    error = "" if action in offered else " ".join(str(e) for errors in form.errors.values() for e in errors)
    return _detail_response(request, complaint, bound=form, error=error, status=status)


@login_required
@require_GET
def attachment_download(request: AuthenticatedHttpRequest, number: str, attachment_id: int) -> HttpResponseBase:
    """One attachment of a complaint the user may see; served in parts on request (an <audio> element
    seeking in a recording)."""
    complaint = _visible_complaint(request, number)
    attachment = get_object_or_404(complaint.attachments, pk=attachment_id)
    return file_response(
        attachment.file.open("rb"),
        filename=attachment.original_name,
        content_type=attachment.content_type,
        range_header=request.headers.get("Range", ""),
    )


# --- writing to the customer -----------------------------------------------------------------------


def _write_start_form(request: HttpRequest, complaint: Complaint) -> CustomerMessageStartForm | None:
    """The complaint page's "write to the customer" choice, for those who may (services.
    can_write_to_customer) while the complaint is not archived."""
    if not services.can_write_to_customer(request.user) or complaint.status == Status.ARCHIVED:
        return None
    customer = complaint.customer
    method = Method.SMS if MOBILE.match(customer.phone or "") else Method.EMAIL
    codes = MessageTemplate.objects.filter(code__startswith=WRITE_PREFIX, is_active=True).values_list("code", flat=True)
    return CustomerMessageStartForm(
        initial={"method": method}, templates=presentation.write_template_choices(codes), auto_id="write_%s"
    )


def _write_page(
    request: HttpRequest, complaint: Complaint, form: CustomerMessageForm, status: int = 200
) -> HttpResponse:
    contact = selectors.customer_contact(customer=complaint.customer, user=request.user)
    context = {"complaint": complaint, "contact": contact, "form": form, "sms_max": SMS_MAX_CHARS}
    return render(request, "desk/write.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def write(request: AuthenticatedHttpRequest, number: str) -> HttpResponse:
    """Write to the customer by e-mail or SMS: GET opens the text of the chosen template to edit, POST
    sends it through the outbox (services.customer_message_send) and returns to the complaint."""
    complaint = _visible_complaint(request, number)
    if not services.can_write_to_customer(request.user):
        raise PermissionDenied(_("Only customer-service agents and CS supervisors write to the customer."))
    if request.method == "GET":
        method = request.GET.get("method", "")
        method = method if method in (Method.EMAIL, Method.SMS) else Method.EMAIL
        code = request.GET.get("template", "")
        subject, text = customer_messages.write_draft(complaint=complaint, method=method, code=code)
        form = CustomerMessageForm(initial={"method": method, "template": code, "subject": subject, "text": text})
        return _write_page(request, complaint, form)
    form = CustomerMessageForm(request.POST)
    status = 422
    if form.is_valid():
        try:
            services.customer_message_send(complaint=complaint, actor=request.user, via=Via.DESK, **form.cleaned_data)
        except DomainError as exc:
            add_domain_errors(form, exc)
            status = refusal_status(exc)
        else:
            label = Method(form.cleaned_data["method"]).label
            messages.success(request, _("Your %(method)s to the customer is on its way.") % {"method": label})
            return redirect("desk:detail", number=complaint.number)
    return _write_page(request, complaint, form, status=status)


# --- saved views of the queue ----------------------------------------------------------------------


@login_required
@require_POST
def saved_view_save(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Save the queue's filters under a name (replacing the user's view of that name), then show them."""
    query = request.POST.get("query", "")
    try:
        view = saved_views.saved_view_save(
            owner=request.user,
            name=request.POST.get("name", ""),
            query=query,
            shared=bool(request.POST.get("shared")),
        )
    except DomainError as exc:
        messages.error(request, str(exc.message))
        return redirect(f"{reverse('desk:queue')}?{saved_views.saved_view_query(QueryDict(query))}")
    messages.success(request, _("View “%(name)s” saved.") % {"name": view.name})
    return redirect(f"{reverse('desk:queue')}?{view.query}" if view.query else reverse("desk:queue"))


@login_required
@require_POST
def saved_view_delete(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    try:
        view = saved_views.saved_view_get(user=request.user, pk=pk)
    except SavedView.DoesNotExist:
        raise Http404(_("No such view.")) from None
    try:
        saved_views.saved_view_delete(view=view, actor=request.user)
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("View “%(name)s” deleted.") % {"name": view.name})
    return redirect("desk:queue")
