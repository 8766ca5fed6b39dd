"""Desk pages of service orders: the queue, registration, one order with the actions its kind allows
now, the technician's day (a phone screen), the warehouse's returns; and the complaint page's panel."""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from closeloop import authz
from closeloop.complaints.lifecycle import OPEN_STATUSES as COMPLAINT_OPEN
from closeloop.complaints.models import Complaint, Via
from closeloop.complaints.panels import Panel
from closeloop.complaints.selectors import complaint_get
from closeloop.complaints.services import AttachmentUpload
from closeloop.core.errors import DomainError, ValidationFailed
from closeloop.core.forms_ui import add_domain_errors, refusal_status
from closeloop.core.types import AuthenticatedHttpRequest
from closeloop.directory.models import Department
from closeloop.knowledge.selectors import articles_search
from closeloop.serviceorders import queue_rows, selectors, services
from closeloop.serviceorders.forms import ServiceOrderForm
from closeloop.serviceorders.lifecycle import (
    POSTPONEMENT_LIFECYCLE,
    RMA_KINDS,
    Kind,
    ServicePostponementStatus,
    ServiceStatus,
    WaitingFor,
    lifecycle_of,
)
from closeloop.serviceorders.models import FollowUpResult, InspectionResult, ServiceAttachmentKind, ServiceOrder, Slot

PAGE_SIZE = 50

# What each action's form asks for: (name, label, input type, choices). Every other rule is the service's.
ACTION_FIELDS: dict[str, list[tuple[str, Any, str, Any]]] = {
    "dispatch": [
        ("department", gettext_lazy("department"), "department", None),
        ("assignee", gettext_lazy("assignee (user name)"), "text", None),
    ],
    "cancel": [("reason", gettext_lazy("reason"), "textarea", None)],
    "refuse": [("reason", gettext_lazy("reason"), "textarea", None)],
    "authorise": [("reason", gettext_lazy("reason (needed outside the policy)"), "textarea", None)],
    "book": [
        ("technician", gettext_lazy("technician (user name)"), "text", None),
        ("day", gettext_lazy("day"), "date", None),
        ("slot", gettext_lazy("time slot"), "select", Slot.choices),
    ],
    "record_visit": [
        ("arrived_at", gettext_lazy("arrived at"), "datetime-local", None),
        ("diagnosis", gettext_lazy("diagnosis"), "textarea", None),
        ("part_name", gettext_lazy("part used"), "text", None),
        ("part_no", gettext_lazy("part number"), "text", None),
        ("part_quantity", gettext_lazy("quantity"), "number", None),
        ("part_cost", gettext_lazy("unit cost"), "number", None),
        ("labour_minutes", gettext_lazy("labour (minutes)"), "number", None),
        ("labour_cost", gettext_lazy("labour cost"), "number", None),
        ("customer_signed", gettext_lazy("the customer signed"), "checkbox", None),
    ],
    "ship_in": [
        ("carrier", gettext_lazy("carrier"), "text", None),
        ("tracking_no", gettext_lazy("tracking number"), "text", None),
        ("pickup", gettext_lazy("picked up by us"), "checkbox", None),
    ],
    "send_back": [
        ("carrier", gettext_lazy("carrier"), "text", None),
        ("tracking_no", gettext_lazy("tracking number"), "text", None),
    ],
    "inspect": [
        ("result", gettext_lazy("result"), "select", InspectionResult.choices),
        ("note", gettext_lazy("note"), "textarea", None),
    ],
    "record_session": [
        ("minutes", gettext_lazy("duration (minutes)"), "number", None),
        ("tool", gettext_lazy("tool"), "text", None),
        ("notes", gettext_lazy("what was done"), "textarea", None),
    ],
    "answer": [
        ("resolution", gettext_lazy("answer"), "textarea", None),
        ("article", gettext_lazy("knowledge-base article used"), "article", None),
        ("article_note", gettext_lazy("note on the article"), "text", None),
    ],
    "resolve": [
        ("resolution", gettext_lazy("resolution"), "textarea", None),
        ("article", gettext_lazy("knowledge-base article used"), "article", None),
        ("article_note", gettext_lazy("note on the article"), "text", None),
    ],
    "refund": [("resolution", gettext_lazy("refund (amount, reference)"), "textarea", None)],
    "receive": [],
    "follow_up": [
        ("result", gettext_lazy("the customer's answer"), "select", FollowUpResult.choices),
        ("note", gettext_lazy("note (required when not satisfied)"), "textarea", None),
    ],
}


# The clocks panel's forms: waiting for the customer or parts, the wait over, a postponement asked for and
# decided (services.order_wait / order_resume / postponement_request / postponement_decide).
CLOCK_FIELDS: dict[str, list[tuple[str, Any, str, Any]]] = {
    "wait": [
        ("waiting_for", gettext_lazy("waiting for"), "select", WaitingFor.choices),
        ("reason", gettext_lazy("what we wait for"), "textarea", None),
    ],
    "resume": [("note", gettext_lazy("note"), "textarea", None)],
    "request_postponement": [
        ("milestone", gettext_lazy("deadline"), "select", None),  # the order's running clocks
        ("new_due", gettext_lazy("new due date and time"), "datetime-local", None),
        ("reason", gettext_lazy("reason"), "textarea", None),
    ],
    "approve": [("note", gettext_lazy("note"), "textarea", None)],
    "reject": [("note", gettext_lazy("why not"), "textarea", None)],
}
CLOCK_LABELS = {
    "wait": gettext_lazy("Pause the clocks: waiting"),
    "resume": gettext_lazy("The wait is over: resume the clocks"),
    "request_postponement": gettext_lazy("Ask for a postponement"),
}


def _clock_fields(
    action: str, milestones: list[tuple[str, str]], typed: Any = None, errors: dict[str, list[str]] | None = None
) -> list[dict[str, Any]]:
    errors = errors or {}
    return [
        {
            "name": name,
            "label": label,
            "type": type_,
            "choices": milestones if name == "milestone" else choices or [],
            "value": typed.get(name, "") if typed is not None else "",
            "checked": False,
            "errors": errors.get(name, []),
        }
        for name, label, type_, choices in CLOCK_FIELDS[action]
    ]


def _clock_forms(
    request: HttpRequest,
    order: ServiceOrder,
    deadlines: list[Any],
    failed: str = "",
    typed: Any = None,
    errors: Any = None,
) -> list[dict[str, Any]]:
    """The clocks panel's forms the user may send now: each asks the service's own refusal or the
    postponement's table, as the action buttons ask the kind's table."""
    running = [(d.milestone, d.get_milestone_display()) for d in deadlines if d.met_at is None]
    offered: list[tuple[str, Any, str, Any]] = []
    if services.wait_refusal(order, request.user) is None:
        offered.append(("wait", CLOCK_LABELS["wait"], "primary", None))
    if services.resume_refusal(order, request.user) is None:
        offered.append(("resume", CLOCK_LABELS["resume"], "primary", None))
    if running and services.postponement_request_refusal(order, request.user) is None:
        offered.append(("request_postponement", CLOCK_LABELS["request_postponement"], "primary", None))
    for pending in order.postponements.filter(status=ServicePostponementStatus.REQUESTED):
        for t in POSTPONEMENT_LIFECYCLE.offered(pending, request.user, actions=("approve", "reject")):
            offered.append((t.action, t.label, t.style, pending))
    forms = []
    for action, label, style, pending in offered:
        key = f"{action}-{pending.pk}" if pending is not None else action
        mine = key == failed
        forms.append(
            {
                "action": action,
                "key": key,
                "label": label,
                "style": style,
                "open": mine,
                "postponement": pending,
                "fields": _clock_fields(action, running, typed if mine else None, errors if mine else None),
            }
        )
    return forms


def _may_view(request: HttpRequest) -> None:
    if not authz.allowed(request.user, selectors.VIEW):
        raise PermissionDenied(_("Your role may not see service orders."))


def _order(request: HttpRequest, number: str) -> ServiceOrder:
    try:
        return selectors.order_get(user=request.user, number=number)
    except ServiceOrder.DoesNotExist:
        raise Http404(_("No such service order.")) from None


@login_required
def queue(request: AuthenticatedHttpRequest) -> HttpResponse:
    _may_view(request)
    kind = request.GET.get("kind", "")
    status = request.GET.get("status", "")
    filters = selectors.OrderFilters(
        kind=kind if kind in Kind.values else "",
        status=status if status in ServiceStatus.values else "",
        open_only=request.GET.get("open") == "1",
    )
    orders = (
        selectors.order_queue(user=request.user, filters=filters)
        .select_related(None)
        .select_related(*queue_rows.ROW_RELATIONS)
        .only(*queue_rows.ROW_FIELDS)
    )
    page = Paginator(orders, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "rows": queue_rows.queue_rows(page.object_list),
        "filters": filters,
        "kinds": Kind.choices,
        "statuses": ServiceStatus.choices,
    }
    return render(request, "serviceorders/queue.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def register(request: AuthenticatedHttpRequest) -> HttpResponse:
    if not authz.allowed(request.user, "serviceorders.register_order"):
        raise PermissionDenied(_("Only customer service registers service orders."))
    if request.method == "POST":
        form = ServiceOrderForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                order = services.order_register(data=form.order_data(), actor=request.user, via=Via.DESK)
            except DomainError as exc:
                add_domain_errors(form, exc)
            else:
                messages.success(request, _("Service order %(number)s registered.") % {"number": order.number})
                open_complaints = selectors.open_complaints_of(order=order, user=request.user)
                if open_complaints:
                    messages.warning(
                        request,
                        _("The customer has open complaints on this product: %(numbers)s.")
                        % {"numbers": ", ".join(c.number for c in open_complaints)},
                    )
                return redirect("serviceorders:detail", number=order.number)
        return render(request, "serviceorders/register.html", {"form": form}, status=422)
    initial = {"kind": request.GET.get("kind", Kind.REPAIR)}
    return render(request, "serviceorders/register.html", {"form": ServiceOrderForm(initial=initial)})


def action_fields(
    action: str, *, typed: Any = None, errors: dict[str, list[str]] | None = None
) -> list[dict[str, Any]]:
    """The inputs of an action's form, with what was typed and the errors of a refused attempt."""
    errors = errors or {}
    return [
        {
            "name": name,
            "label": label,
            "type": type_,
            "choices": choices or [],
            "value": typed.get(name, "") if typed is not None else "",
            "checked": typed is not None and typed.get(name) == "on",
            "errors": errors.get(name, []),
        }
        for name, label, type_, choices in ACTION_FIELDS.get(action, [])
    ]


def _actions(
    request: HttpRequest, order: ServiceOrder, failed: str = "", typed: Any = None, errors: Any = None
) -> list[dict[str, Any]]:
    lifecycle = lifecycle_of(order.kind)
    return [
        {
            "action": t.action,
            "label": t.label,
            "style": t.style,
            "open": t.action == failed,
            "fields": action_fields(t.action, typed=typed, errors=errors)
            if t.action == failed
            else action_fields(t.action),
        }
        for t in lifecycle.transitions_from(order.status)
        if lifecycle.may_act(t, request.user, order)
    ]


def _detail_context(request: HttpRequest, order: ServiceOrder) -> dict[str, Any]:
    parts = list(order.parts.all())
    deadlines = list(selectors.order_deadlines(order=order))
    return {
        "order": order,
        "contact": selectors.customer_view(customer=order.customer, user=request.user),
        "actions": _actions(request, order),
        "departments": Department.objects.filter(is_active=True).order_by("code"),
        "deadlines": deadlines,
        "clock_forms": _clock_forms(request, order, deadlines),
        "postponements": order.postponements.select_related("requested_by", "decided_by"),
        "shipments": order.shipments.all(),
        "inspections": order.inspections.select_related("by").prefetch_related("photos"),
        "appointments": order.appointments.select_related("technician"),
        "visits": order.visits.select_related("technician"),
        "sessions": order.sessions.select_related("by"),
        "parts": parts,
        "parts_cost": sum(p.unit_cost * p.quantity for p in parts),
        "attachments": order.attachments.all(),
        "timeline": selectors.order_timeline(order=order),
        "open_complaints": selectors.open_complaints_of(order=order, user=request.user),
        "is_rma": order.kind in RMA_KINDS,
        "attachment_kinds": ServiceAttachmentKind.choices,
        "may_work": authz.allowed(request.user, "serviceorders.work_order", order),
        "now": timezone.now(),
    }


@login_required
def detail(request: AuthenticatedHttpRequest, number: str) -> HttpResponse:
    _may_view(request)
    order = _order(request, number)
    return render(request, "serviceorders/detail.html", _detail_context(request, order))


def _action_data(post: Any) -> dict[str, Any]:
    data: dict[str, Any] = {k: v for k, v in post.items() if k not in {"csrfmiddlewaretoken", "action"}}
    for flag in ("customer_signed", "pickup"):
        data[flag] = post.get(flag) == "on"
    if data.get("part_name", "").strip():
        data["parts"] = [
            {
                "name": data["part_name"],
                "part_no": data.get("part_no", ""),
                "quantity": data.get("part_quantity") or 1,
                "unit_cost": data.get("part_cost") or "0",
            }
        ]
    return data


ARTICLE_CHOICES = 10


@login_required
@require_GET
def article_choices(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The answer form's article search (htmx): the first articles matching the words or model typed, of
    the order's product line and those for every line, to choose one of by id."""
    _may_view(request)
    if not authz.allowed(request.user, "knowledge.read_articles"):
        raise PermissionDenied(_("Your role does not read the knowledge base."))
    q = request.GET.get("article_q", "").strip()[:100]
    line = request.GET.get("line", "")[:40]
    found = articles_search(q=q, product_line=line, published_only=False) if q else None
    articles = list(found[:ARTICLE_CHOICES]) if found is not None else []
    context = {"articles": articles, "q": q, "prefix": request.GET.get("prefix", "")[:30]}
    return render(request, "serviceorders/_article_choices.html", context)


@login_required
@require_POST
def act(request: AuthenticatedHttpRequest, number: str) -> HttpResponse:
    _may_view(request)
    order = _order(request, number)
    action = request.POST.get("action", "")
    try:
        services.order_transition(
            order=order, action=action, actor=request.user, via=Via.DESK, data=_action_data(request.POST)
        )
    except DomainError as exc:
        errors = exc.errors if isinstance(exc, ValidationFailed) else {exc.field or "action": [str(exc.message)]}
        shown = {name for name, _label, _type, _choices in ACTION_FIELDS.get(action, [])}
        context = {
            **_detail_context(request, order),
            "actions": _actions(request, order, action, request.POST, errors),
            # Errors on no input of the form (a guard's, the state's) go at the top of the page.
            "refused": [str(m) for key, msgs in errors.items() if key not in shown for m in msgs],
        }
        return render(request, "serviceorders/detail.html", context, status=refusal_status(exc))
    messages.success(request, _("Done."))
    back = request.POST.get("next", "")
    if back in {reverse("serviceorders:day"), reverse("serviceorders:warehouse")}:
        return redirect(back)
    return redirect("serviceorders:detail", number=order.number)


def _new_due(value: str) -> datetime.datetime | None:
    try:
        parsed = datetime.datetime.fromisoformat(value)
    except ValueError:
        return None
    return timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed


@login_required
@require_POST
def clocks(request: AuthenticatedHttpRequest, number: str) -> HttpResponse:
    """The clocks panel: pause (waiting for the customer or parts), resume, ask for a postponement, decide one."""
    _may_view(request)
    order = _order(request, number)
    action = request.POST.get("action", "")
    post = request.POST
    pending_id = post.get("postponement", "")
    try:
        if action == "wait":
            services.order_wait(
                order=order,
                waiting_for=post.get("waiting_for", ""),
                reason=post.get("reason", ""),
                actor=request.user,
                via=Via.DESK,
            )
        elif action == "resume":
            services.order_resume(order=order, actor=request.user, via=Via.DESK, note=post.get("note", ""))
        elif action == "request_postponement":
            services.postponement_request(
                order=order,
                milestone=post.get("milestone", ""),
                new_due=_new_due(post.get("new_due", "")),
                reason=post.get("reason", ""),
                actor=request.user,
                via=Via.DESK,
            )
        elif action in {"approve", "reject"} and pending_id.isdigit():
            pending = order.postponements.filter(pk=int(pending_id)).first()
            if pending is None:
                raise Http404(_("No such postponement request."))
            services.postponement_decide(
                postponement=pending, action=action, actor=request.user, via=Via.DESK, note=post.get("note", "")
            )
        else:
            raise DomainError(_("Unknown action."), field="action")
    except DomainError as exc:
        errors = exc.errors if isinstance(exc, ValidationFailed) else {exc.field or "action": [str(exc.message)]}
        shown = {name for name, _label, _type, _choices in CLOCK_FIELDS.get(action, [])}
        context = _detail_context(request, order)
        failed = f"{action}-{pending_id}" if action in {"approve", "reject"} else action
        context["clock_forms"] = _clock_forms(request, order, context["deadlines"], failed, post, errors)
        context["refused"] = [str(m) for key, msgs in errors.items() if key not in shown for m in msgs]
        return render(request, "serviceorders/detail.html", context, status=refusal_status(exc))
    messages.success(request, _("Done."))
    return redirect("serviceorders:detail", number=order.number)


@login_required
@require_POST
def attach(request: AuthenticatedHttpRequest, number: str) -> HttpResponse:
    """A photo of the fault, an inspection photo, the customer's signature, the invoice."""
    _may_view(request)
    order = _order(request, number)
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, _("Choose a file."))
    else:
        try:
            services.order_attach(
                order=order,
                upload=AttachmentUpload(name=upload.name or "upload", file=upload, size=upload.size or 0),
                kind=request.POST.get("kind", ""),
                actor=request.user,
                via=Via.DESK,
            )
        except DomainError as exc:
            messages.error(request, str(exc.message))
        else:
            messages.success(request, _("File added."))
    back = request.POST.get("next", "")
    if back == reverse("serviceorders:day"):
        return redirect(back)
    return redirect("serviceorders:detail", number=order.number)


@login_required
def technician_day(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Today's visits of the signed-in technician, usable on a 390 px phone screen."""
    _may_view(request)
    try:
        day = datetime.date.fromisoformat(request.GET.get("day", ""))
    except ValueError:
        day = timezone.localdate()
    visits = list(selectors.technician_day(user=request.user, day=day))
    contacts = {a.pk: selectors.customer_view(customer=a.order.customer, user=request.user) for a in visits}
    rows = [{"appointment": a, "contact": contacts[a.pk]} for a in visits]
    context = {"rows": rows, "day": day, "record_fields": action_fields("record_visit")}
    return render(request, "serviceorders/day.html", context)


@login_required
def warehouse(request: AuthenticatedHttpRequest) -> HttpResponse:
    _may_view(request)
    orders = list(selectors.warehouse_returns(user=request.user))
    return render(
        request,
        "serviceorders/warehouse.html",
        {"orders": orders, "inspect_fields": action_fields("inspect")},
    )


@login_required
@require_POST
def from_complaint(request: AuthenticatedHttpRequest, number: str) -> HttpResponse:
    try:
        complaint = complaint_get(user=request.user, number=number)
    except Complaint.DoesNotExist:
        raise Http404 from None
    try:
        order = services.order_from_complaint(
            complaint=complaint, kind=request.POST.get("kind", ""), actor=request.user, via=Via.DESK
        )
    except DomainError as exc:
        messages.error(
            request,
            str(getattr(exc, "message", exc))
            if not isinstance(exc, ValidationFailed)
            else _("Choose a kind of service."),
        )
        return redirect("desk:detail", number=complaint.number)
    messages.success(request, _("Service order %(number)s created.") % {"number": order.number})
    return redirect("serviceorders:detail", number=order.number)


def complaint_panel(request: HttpRequest, complaint: Complaint) -> Panel | None:
    """The complaint page's side panel: its service orders (what it waits for: the RMA's shipments), and
    for customer service a button to create one."""
    orders = list(selectors.orders_of_complaint(complaint_id=complaint.pk))
    origin = list(complaint.from_service_orders.all())
    may_create = complaint.status in COMPLAINT_OPEN and authz.allowed(request.user, "serviceorders.register_order")
    related = selectors.orders_related_to_complaint(complaint=complaint, user=request.user)
    if not orders and not origin and not may_create and not related:
        return None
    context = {"orders": orders, "origin": origin, "may_create": may_create, "kinds": Kind.choices, "related": related}
    return Panel(template="serviceorders/_complaint_panel.html", context=context, order=20, column="side")
