"""The customer-service desk: queue, registration, complaint page. Thin function views: parse the
request with a form, call a selector or a service, render. An htmx request gets the partial only."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from closeloop.authz.permissions import allowed
from closeloop.complaints import presentation, selectors, services
from closeloop.complaints.customer_messages import customer_email_write, customer_language, email_templates
from closeloop.complaints.forms import (
    CustomerEmailForm,
    PriorityChangeForm,
    QueueFilterForm,
    RegistrationForm,
    ResumeForm,
    TransitionForm,
    WaitForCustomerForm,
)
from closeloop.complaints.lifecycle import OPEN_STATUSES, TRANSITIONS, Status, available_transitions
from closeloop.complaints.models import Complaint, Via
from closeloop.complaints.panels import complaint_panels
from closeloop.core.answers import form_again_on_failure
from closeloop.core.errors import DomainError, RateLimited
from closeloop.core.files import file_response
from closeloop.core.forms_ui import add_domain_errors, refusal_status
from closeloop.core.masking import can_see_personal_data
from closeloop.core.roles import user_roles
from closeloop.directory import selectors as directory_selectors


def _render(request: HttpRequest, full: str, partial: str, context: dict[str, Any], status: int = 200) -> HttpResponse:
    template = partial if request.htmx and not request.htmx.boosted else full
    response = render(request, template, context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


@login_required
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
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
    queryset = selectors.complaint_queue(user=request.user, filters=filters) if searchable else Complaint.objects.none()
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
def register(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = RegistrationForm(request.POST, request.FILES)
        form_again_on_failure(request, lambda notice: _registration_again(request, form, notice))
        if form.is_valid():
            try:
                complaint = services.complaint_register(data=form.intake_data(), actor=request.user, via=Via.DESK)
            except DomainError as exc:
                add_domain_errors(form, exc)
            else:
                messages.success(request, _("Complaint %(number)s registered.") % {"number": complaint.number})
                return redirect("desk:detail", number=complaint.number)
        if request.FILES:
            messages.warning(request, _("Files cannot be kept after an error: choose them again."))
        status = 422 if request.htmx else 200
        return render(request, "desk/register.html", _registration_context(form), status=status)
    return render(request, "desk/register.html", _registration_context(RegistrationForm()))


@login_required
@permission_required("complaints.register_complaint", raise_exception=True)
@require_GET
def lookup_customers(request: HttpRequest) -> HttpResponse:
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
    return render(request, "desk/_customer_matches.html", {"matches": matches})


@login_required
@require_GET
def lookup_products(request: HttpRequest) -> HttpResponse:
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
    email_bound: CustomerEmailForm | None = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    """The complaint page. `bound` replaces the empty form of its action, with its errors and text."""
    contact = selectors.customer_contact(customer=complaint.customer, user=request.user)
    if not contact.masked:
        services.personal_data_access_record(user=request.user, complaints=[complaint], where="detail")
    forms = []
    for transition in available_transitions(complaint.status, user_roles(request.user)):
        if bound is not None and bound.transition.action == transition.action:
            forms.append(bound)
        else:
            forms.append(TransitionForm(transition=transition, complaint=complaint, user=request.user))
    context = {
        "complaint": complaint,
        "contact": contact,
        "fields": presentation.registration_fields(complaint),
        "attachments": list(complaint.attachments.all()),
        "transition_forms": forms,
        "timeline": presentation.timeline_rows(
            selectors.complaint_timeline(complaint=complaint),
            complaint,
            mails_out=selectors.complaint_mails_out(complaint=complaint),
        ),
        "page_error": error,
        "deadlines": list(selectors.complaint_deadlines(complaint=complaint)),
        "sla_forms": _sla_forms(request, complaint, sla_bound or {}),
        "panels": complaint_panels(request, complaint),
        **_email_context(request, complaint, email_bound),
    }
    return render(request, "desk/detail.html", context, status=status)


def _email_context(request: HttpRequest, complaint: Complaint, bound: CustomerEmailForm | None) -> dict[str, Any]:
    """The desk's e-mail to the customer: for customer service, when the customer has an address; a
    template chosen with ?template= fills the form in."""
    if (
        not allowed(request.user, "complaints.message_customer")
        or not complaint.customer.email
        or complaint.customer.anonymised_at is not None
        or complaint.status == Status.ARCHIVED
    ):
        return {}
    templates = email_templates()
    form = bound
    if form is None:
        chosen = next((t for t in templates if str(t.pk) == request.GET.get("template")), None)
        initial = {}
        if chosen is not None:
            english = customer_language(complaint) == "en"
            initial = {
                "subject": (chosen.subject_en if english else "") or chosen.subject_zh,
                "body": (chosen.body_en if english else "") or chosen.body_zh,
            }
        form = CustomerEmailForm(initial=initial)
    return {"email_form": form, "email_templates": templates, "email_template_chosen": request.GET.get("template", "")}


@login_required
@require_POST
def email_customer(request: HttpRequest, number: str) -> HttpResponse:
    """Write to the customer by e-mail: the same service as every other path (stored, then sent by the outbox)."""
    complaint = _visible_complaint(request, number)
    form = CustomerEmailForm(request.POST)
    status = 422
    if form.is_valid():
        try:
            customer_email_write(complaint=complaint, actor=request.user, via=Via.DESK, **form.cleaned_data)
        except DomainError as exc:
            add_domain_errors(form, exc)
            status = refusal_status(exc)
        else:
            messages.success(request, _("The e-mail is queued for sending."))
            return redirect("desk:detail", number=complaint.number)
    complaint = _visible_complaint(request, number)
    error = " ".join(str(e) for errors in form.errors.values() for e in errors)
    return _detail_response(request, complaint, email_bound=form, error=error, status=status)


def _sla_forms(request: HttpRequest, complaint: Complaint, bound: dict[str, Any]) -> dict[str, Any]:
    """Priority change and waiting-for-the-customer, for desk roles on open complaints only."""
    if not (services.DESK_ROLES & user_roles(request.user)) or complaint.status not in OPEN_STATUSES:
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
def sla_action(request: HttpRequest, number: str, action: str) -> HttpResponse:
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
            messages.success(request, _("Saved."))
            return redirect("desk:detail", number=complaint.number)
    complaint = _visible_complaint(request, number)
    error = " ".join(str(e) for errors in form.errors.values() for e in errors)
    return _detail_response(request, complaint, sla_bound={action: form}, error=error, status=422)


SLA_ACTIONS: dict[str, tuple[type[forms.Form], Any]] = {
    "priority": (PriorityChangeForm, services.complaint_change_priority),
    "wait": (WaitForCustomerForm, services.complaint_wait_for_customer),
    "resume": (ResumeForm, services.complaint_resume),
}


@login_required
@require_GET
def detail(request: HttpRequest, number: str) -> HttpResponse:
    return _detail_response(request, _visible_complaint(request, number))


@login_required
@require_POST
def transition(request: HttpRequest, number: str, action: str) -> HttpResponse:
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
            messages.success(request, _("%(action)s: done.") % {"action": step.label})
            return redirect("desk:detail", number=complaint.number)
    complaint = _visible_complaint(request, number)  # re-read: the refusal may be due to a change meanwhile
    # The action may no longer be offered (state changed meanwhile, or not for this role): then the
    # form is not on the page, so its message goes on top of the page.
    offered = {t.action for t in available_transitions(complaint.status, user_roles(request.user))}
    error = "" if action in offered else " ".join(str(e) for errors in form.errors.values() for e in errors)
    return _detail_response(request, complaint, bound=form, error=error, status=status)


@login_required
@require_GET
def attachment_download(request: HttpRequest, number: str, attachment_id: int) -> FileResponse:
    complaint = _visible_complaint(request, number)
    attachment = get_object_or_404(complaint.attachments, pk=attachment_id)
    return file_response(
        attachment.file.open("rb"), filename=attachment.original_name, content_type=attachment.content_type
    )
