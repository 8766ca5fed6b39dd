"""Reads of service orders: who sees which, the queue, one order, the technician's day, the
warehouse's returns, the timeline. Lists cost a fixed number of queries (select_related)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.db.models import F, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from closeloop import authz
from closeloop.complaints.lifecycle import OPEN_STATUSES as COMPLAINT_OPEN
from closeloop.complaints.models import Complaint
from closeloop.complaints.repeats import RelatedRecord
from closeloop.complaints.selectors import complaints_visible_to
from closeloop.core.masking import can_see_personal_data, mask_address, mask_email, mask_phone
from closeloop.core.types import AnyUser
from closeloop.directory.models import Customer, Membership
from closeloop.serviceorders.lifecycle import OPEN_STATUSES, RMA_KINDS, ServiceStatus
from closeloop.serviceorders.models import Appointment, ServiceEvent, ServiceOrder
from closeloop.sla.models import Deadline

VIEW = "serviceorders.view_orders"


def orders_visible_to(user: AnyUser) -> QuerySet[ServiceOrder]:
    """Customer service, quality, auditors, management and admins see every order; handlers and
    department managers those of their departments and those assigned to them."""
    qs = ServiceOrder.objects.all()
    if not authz.allowed(user, VIEW):
        return qs.none()
    if user.has_perm("complaints.view_all_complaints") or not authz.allowed(user, "serviceorders.work_order"):
        return qs
    if authz.allowed(user, "serviceorders.register_order"):
        return qs
    if user.pk is None:
        return qs.none()
    departments = Membership.objects.filter(user_id=user.pk).values("department_id")
    return qs.filter(Q(department_id__in=departments) | Q(assignee_id=user.pk))


@dataclass(frozen=True)
class OrderFilters:
    kind: str = ""
    status: str = ""
    open_only: bool = False


def order_queue(*, user: AnyUser, filters: OrderFilters) -> QuerySet[ServiceOrder]:
    qs = orders_visible_to(user).select_related("customer", "product", "department", "assignee")
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.open_only:
        qs = qs.exclude(status__in=[ServiceStatus.CLOSED, ServiceStatus.CANCELLED, ServiceStatus.REFUSED])
    return qs.order_by("-received_at", "-id")


def order_get(*, user: AnyUser, number: str) -> ServiceOrder:
    """The order the user may see, else DoesNotExist (an order out of reach is not told apart from none)."""
    order = (
        orders_visible_to(user)
        .select_related(
            "customer", "product", "department", "assignee", "complaint", "became_complaint", "sla_policy", "article"
        )
        .filter(number=number.strip().upper())
        .first()
    )
    if order is None:
        raise ServiceOrder.DoesNotExist(_("No such service order."))
    return order


def order_timeline(*, order: ServiceOrder) -> QuerySet[ServiceEvent]:
    return ServiceEvent.objects.filter(order=order).select_related("actor").order_by("at", "id")


def technician_day(*, user: AnyUser, day: datetime.date) -> QuerySet[Appointment]:
    """The technician's visits of the day, in slot order, with what the visit needs on one screen."""
    return (
        Appointment.objects.filter(technician_id=user.pk, day=day, cancelled_at__isnull=True)
        .select_related("order", "order__customer", "order__product")
        .order_by("slot")
    )


def warehouse_returns(*, user: AnyUser) -> QuerySet[ServiceOrder]:
    """Returns and exchanges to receive (on the way) or to inspect (arrived), oldest first."""
    return (
        orders_visible_to(user)
        .filter(kind__in=list(RMA_KINDS), status__in=[ServiceStatus.IN_TRANSIT, ServiceStatus.RECEIVED])
        .select_related("customer", "product")
        .prefetch_related("shipments")
        .order_by("received_at", "id")
    )


def orders_of_complaint(*, complaint_id: int) -> QuerySet[ServiceOrder]:
    return ServiceOrder.objects.filter(complaint_id=complaint_id).prefetch_related("shipments").order_by("id")


# --- repeat detection sees both records (issue 16) ----------------------------------------------------


def _same_product(product_id: int | None, product_text: str) -> Q | None:
    """The same product: the catalogue's, or the same words when none was found; None when none is named."""
    if product_id:
        return Q(product_id=product_id)
    if product_text.strip():
        return Q(product__isnull=True, product_text__iexact=product_text.strip())
    return None


def orders_related_to_complaint(*, complaint: Complaint, user: AnyUser | None = None) -> list[RelatedRecord]:
    """The complaint's customer's recent service orders on the same product (complaints.repeats' finder):
    still open, or received or resolved within REPEAT_WINDOW_DAYS before the complaint; not those it
    created or that became it (its page shows them already). One query on (customer, -received_at)."""
    same = _same_product(complaint.product_id, complaint.product_text)
    if same is None or not complaint.customer_id:
        return []
    since = complaint.received_at - datetime.timedelta(days=settings.REPEAT_WINDOW_DAYS)
    orders = (
        ServiceOrder.objects.filter(same, customer_id=complaint.customer_id, received_at__lte=complaint.received_at)
        .filter(Q(status__in=list(OPEN_STATUSES)) | Q(received_at__gte=since) | Q(resolved_at__gte=since))
        .exclude(status=ServiceStatus.CANCELLED)
    )
    if complaint.pk is not None:
        orders = orders.exclude(complaint_id=complaint.pk).exclude(became_complaint_id=complaint.pk)
    if user is not None:
        orders = orders.filter(pk__in=orders_visible_to(user).values("pk"))
    return [_related(order) for order in orders.order_by("-received_at", "-id")[:RELATED_MAX]]


RELATED_MAX = 5


def _related(order: ServiceOrder) -> RelatedRecord:
    if order.status in OPEN_STATUSES:
        state = _("still open")
    elif order.resolved_at is not None:
        state = _("resolved %(day)s") % {"day": timezone.localdate(order.resolved_at).isoformat()}
    else:
        state = str(order.get_status_display())
    why = _("service order %(number)s (%(kind)s), received %(day)s, %(state)s") % {
        "number": order.number,
        "kind": order.get_kind_display(),
        "day": timezone.localdate(order.received_at).isoformat(),
        "state": state,
    }
    return RelatedRecord(
        record_type="service_order",
        number=order.number,
        status=str(order.get_status_display()),
        url=reverse("serviceorders:detail", args=[order.number]),
        why=why,
    )


def open_complaints_of(*, order: ServiceOrder, user: AnyUser | None = None) -> list[Complaint]:
    """The order's customer's complaints still open about the same product, newest first, but those it is
    linked to already: what a service order's registration warns of (a repair asked for while a complaint
    about the product runs). One query on the complaints' (customer, -received_at) index."""
    same = _same_product(order.product_id, order.product_text)
    if same is None:
        return []
    complaints = Complaint.objects.filter(same, customer_id=order.customer_id, status__in=list(COMPLAINT_OPEN))
    linked = [pk for pk in (order.complaint_id, order.became_complaint_id) if pk is not None]
    if linked:
        complaints = complaints.exclude(pk__in=linked)
    if user is not None:
        complaints = complaints.filter(pk__in=complaints_visible_to(user).values("pk"))
    return list(complaints.only("id", "number", "status", "received_at").order_by("-received_at", "-id")[:RELATED_MAX])


@dataclass(frozen=True)
class CustomerView:
    name: str
    phone: str
    email: str
    address: str
    masked: bool


def customer_view(*, customer: Customer, user: AnyUser | None) -> CustomerView:
    """The customer's contact as this user may see it (masked roles learn nothing)."""
    if can_see_personal_data(user):
        return CustomerView(customer.name, customer.phone, customer.email, customer.address, False)
    return CustomerView(
        customer.name, mask_phone(customer.phone), mask_email(customer.email), mask_address(customer.address), True
    )


def order_deadlines(*, order: ServiceOrder) -> QuerySet[Deadline]:
    """The order's SLA clocks, running ones first, each by its due instant (as a complaint's)."""
    return order.deadlines.select_related("met_by").order_by(F("met_at").asc(nulls_first=True), "due_at", "pk")
