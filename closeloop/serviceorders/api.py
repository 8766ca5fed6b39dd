"""REST endpoints of service orders: thin calls of the same services and selectors as the desk.
An order out of the caller's reach answers 404; the customer's contact is masked for masked roles."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, File, Form, P, PathEx, Query, Router, Status
from ninja.files import UploadedFile

from closeloop.complaints.models import Channel, Via
from closeloop.complaints.schemas import ClockState, Text
from closeloop.complaints.selectors import complaint_get
from closeloop.complaints.services import AttachmentUpload
from closeloop.core.api_responses import ONE_ERRORS, ONE_WRITE_ERRORS, READ_ERRORS, WRITE_ERRORS
from closeloop.core.api_since import UpdatedSince, updated_since
from closeloop.core.schema import Schema
from closeloop.core.types import User
from closeloop.directory.models import CustomerKind
from closeloop.serviceorders import selectors, services
from closeloop.serviceorders.lifecycle import Kind, ServicePostponementStatus, ServiceStatus, WaitingFor, lifecycle_of
from closeloop.serviceorders.models import (
    FollowUpResult,
    InspectionResult,
    ServiceAttachmentKind,
    ServiceOrder,
    ServicePostponement,
    Slot,
)
from closeloop.sla.milestones import Milestone
from closeloop.sla.presentation import deadline_state

router = Router(tags=["service orders"])

Number = PathEx[Text, P(max_length=20, description="the service order's number, e.g. SF20261120-0001")]
ComplaintNumber = PathEx[Text, P(max_length=20, description="the complaint's number, e.g. TS20261120-0001")]


def _user(request: HttpRequest) -> User:
    return request.auth  # type: ignore[attr-defined]  # the user, put there by the API's authentication


# --- schemas ----------------------------------------------------------------------------------------------


class ServiceCustomerOut(Schema):
    name: str
    phone: str = Field(description="masked (138****5678) for roles that may not see personal data")
    email: str
    masked: bool


class ServiceDeadlineOut(Schema):
    """A service order's SLA clock, as a complaint's deadline (the same engine and sweep)."""

    milestone: str = Field(
        description="reply, resolution, ship_in, receive, inspect, send_back, depot_repair, visit, followup"
    )
    duration: str = Field(description="the policy's target (empty for a visit: due at its slot's end)")
    started_at: datetime.datetime
    due_at: datetime.datetime
    warn_at: datetime.datetime
    met_at: datetime.datetime | None
    met_by: str | None
    cancelled: bool
    warned_at: datetime.datetime | None
    breached_at: datetime.datetime | None
    escalation_level: int
    paused_at: datetime.datetime | None = Field(description="paused since (the order waits for the customer or parts)")
    original_due_at: datetime.datetime | None = Field(
        description="the first due instant, kept when an approved postponement moved it (the KPIs count it)"
    )
    state: ClockState = Field(description="ok | warning | breached | paused | met | cancelled")


class ServicePostponementOut(Schema):
    id: int
    milestone: str
    due_before: datetime.datetime = Field(description="the clock's due instant when it was asked for")
    requested_due: datetime.datetime
    reason: str
    status: ServicePostponementStatus
    requested_by: str | None
    requested_at: datetime.datetime
    decided_by: str | None
    decided_at: datetime.datetime | None
    decision_note: str


class ServiceShipmentOut(Schema):
    direction: str = Field(description="to_us or to_customer")
    pickup: bool
    carrier: str
    tracking_no: str
    shipped_at: datetime.datetime
    received_at: datetime.datetime | None


class ServiceInspectionOut(Schema):
    result: InspectionResult
    note: str
    at: datetime.datetime
    by: str | None
    photos: int


class ServiceAppointmentOut(Schema):
    technician: str
    day: datetime.date
    slot: Slot
    cancelled: bool


class ServicePartOut(Schema):
    part_no: str
    name: str
    quantity: int
    unit_cost: Decimal


class ServiceArticleOut(Schema):
    id: int
    title: str


class ServiceOrderSummaryOut(Schema):
    number: str
    kind: Kind
    kind_label: str
    status: ServiceStatus
    status_label: str
    priority: int
    received_at: datetime.datetime
    customer_name: str
    product: str
    department: str | None = Field(description="the responsible department's code")
    assignee: str | None
    next_due_at: datetime.datetime | None
    updated_at: datetime.datetime


class ServiceOrderOut(ServiceOrderSummaryOut):
    channel: str
    customer: ServiceCustomerOut
    batch_no: str
    serial_no: str
    purchase_date: datetime.date | None
    order_no: str
    in_warranty: bool | None = Field(description="null when it cannot be judged (no purchase date or no term)")
    warranty_until: datetime.date | None
    warranty_rule: str = Field(description="the rule applied, as the desk shows it")
    policy_ok: bool | None = Field(description="return / exchange: within the product line's policy")
    policy_rule: str
    description: str
    province: str
    city: str
    complaint: str | None = Field(description="the complaint that created it")
    complaint_waits: bool
    became_complaint: str | None = Field(description="the complaint an unhappy follow-up opened")
    repeat_of: str | None
    repeat_of_complaint: str | None
    open_complaints: list[str] = Field(
        description="the customer's complaints still open about the same product (those the caller may see)"
    )
    article: ServiceArticleOut | None = Field(description="the knowledge-base article the answer followed")
    article_note: str = Field(description="a note on it (the free text of orders answered before it was a link)")
    resolution: str
    followup_result: str
    labour_cost: Decimal
    parts_cost: Decimal
    actions: list[str] = Field(description="the actions the caller may take now (POST …/transition)")
    waiting_for: WaitingFor | None = Field(description="customer or parts while the clocks are paused, else null")
    waiting_since: datetime.datetime | None
    waiting_reason: str
    postponements: list[ServicePostponementOut] = Field(description="postponement (延期) requests, oldest first")
    deadlines: list[ServiceDeadlineOut] = Field(description="the order's SLA clocks, running ones first")
    shipments: list[ServiceShipmentOut]
    inspections: list[ServiceInspectionOut]
    appointments: list[ServiceAppointmentOut]
    parts: list[ServicePartOut]


class ServiceAttachmentOut(Schema):
    id: int
    kind: ServiceAttachmentKind
    name: str
    content_type: str
    size: int
    uploaded_at: datetime.datetime


class ServiceEventOut(Schema):
    at: datetime.datetime
    action: str
    label: str = Field(description="the action in the caller's language (Accept-Language)")
    actor: str | None
    via: str
    after: dict[str, Any]
    note: str
    updated_at: datetime.datetime = Field(description="an event is never changed: the time it was written")


class ServiceOrderIn(Schema):
    kind: Kind
    channel: Channel = Channel.API
    customer_name: Text = Field(..., max_length=100)
    customer_kind: CustomerKind = CustomerKind.END_USER
    phone: Text = Field("", max_length=40)
    email: Text = Field("", max_length=254)
    address: Text = Field("", max_length=255)
    province: Text = Field("", max_length=30)
    city: Text = Field("", max_length=30)
    priority: int = Field(3, ge=1, le=3, description="1 urgent, 2 important, 3 normal")
    received_at: datetime.datetime | None = None
    product_model: Text = Field("", max_length=60)
    product_text: Text = Field("", max_length=150)
    batch_no: Text = Field("", max_length=60)
    serial_no: Text = Field("", max_length=60)
    purchase_date: datetime.date | None = None
    order_no: Text = Field("", max_length=60)
    description: Text = Field(..., max_length=4000, description="the fault or the request, in the customer's words")
    department: Text = Field("", max_length=40, description="a department's code; default by kind")


class ServiceOrderFromComplaintIn(Schema):
    kind: Kind
    description: Text = Field("", max_length=4000, description="default: the complaint's description")


class ServicePartIn(Schema):
    name: Text = Field(..., max_length=100)
    part_no: Text = Field("", max_length=60)
    quantity: int = Field(1, ge=1, le=10_000)
    unit_cost: Decimal = Field(Decimal(0), ge=0, max_digits=10, decimal_places=2)


class ServiceOrderActionIn(Schema):
    action: Text = Field(..., max_length=30, description="one of the order's `actions`")
    reason: Text = Field("", max_length=2000)
    department: Text = Field("", max_length=40)
    assignee: Text = Field("", max_length=150, description="a user name")
    technician: Text = Field("", max_length=150, description="a user name")
    day: datetime.date | None = None
    slot: Slot | None = None
    arrived_at: datetime.datetime | None = None
    diagnosis: Text = Field("", max_length=2000)
    labour_minutes: int = Field(0, ge=0, le=100_000)
    labour_cost: Decimal = Field(Decimal(0), ge=0, max_digits=10, decimal_places=2)
    customer_signed: bool = False
    parts: list[ServicePartIn] = Field(default_factory=list, max_length=50)
    carrier: Text = Field("", max_length=60)
    tracking_no: Text = Field("", max_length=60)
    pickup: bool = False
    result: InspectionResult | FollowUpResult | None = Field(
        None, description="inspect: its result; follow_up: the answer"
    )
    note: Text = Field("", max_length=2000)
    minutes: int = Field(0, ge=0, le=10_000)
    notes: Text = Field("", max_length=2000)
    tool: Text = Field("", max_length=60)
    resolution: Text = Field("", max_length=2000)
    article: int | None = Field(
        None, ge=1, description="the id of the knowledge-base article the answer followed (GET /knowledge/articles?q=…)"
    )
    article_note: Text = Field("", max_length=200, description="a note on the article, as free text")


class ServiceOrderWaitIn(Schema):
    waiting_for: WaitingFor = Field(description="customer or parts")
    reason: Text = Field(..., max_length=200, description="what we wait for")


class ServiceOrderResumeIn(Schema):
    note: Text = Field("", max_length=2000)


class ServicePostponementIn(Schema):
    milestone: Milestone = Field(Milestone.RESOLUTION, description="the running clock to move (default resolution)")
    new_due: datetime.datetime = Field(description="the new due instant asked for, later than the current one")
    reason: Text = Field(..., max_length=2000)


class ServicePostponementDecisionIn(Schema):
    action: Literal["approve", "reject"]
    note: Text = Field("", max_length=2000, description="required to reject")


class ServiceOrderListQuery(Schema):
    kind: Kind | None = None
    status: ServiceStatus | None = None
    open: bool = Field(False, description="only orders still open")
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=1_000_000)


# --- answers ----------------------------------------------------------------------------------------------


def _name(user: Any) -> str | None:
    return user.get_username() if user is not None else None


def _summary(order: ServiceOrder) -> dict[str, Any]:
    return {
        "number": order.number,
        "kind": order.kind,
        "kind_label": order.get_kind_display(),
        "status": order.status,
        "status_label": order.get_status_display(),
        "priority": order.priority,
        "received_at": order.received_at,
        "customer_name": order.customer.name,
        "product": order.product_label,
        "department": order.department.code if order.department else None,
        "assignee": _name(order.assignee),
        "next_due_at": order.next_due_at,
        "updated_at": order.updated_at,
    }


def order_detail(user: User, order: ServiceOrder) -> dict[str, Any]:
    contact = selectors.customer_view(customer=order.customer, user=user)
    lifecycle = lifecycle_of(order.kind)
    parts = list(order.parts.all())
    return {
        **_summary(order),
        "channel": order.channel,
        "customer": {"name": contact.name, "phone": contact.phone, "email": contact.email, "masked": contact.masked},
        "batch_no": order.batch_no,
        "serial_no": order.serial_no,
        "purchase_date": order.purchase_date,
        "order_no": order.order_no,
        "in_warranty": order.in_warranty,
        "warranty_until": order.warranty_until,
        "warranty_rule": order.warranty_rule,
        "policy_ok": order.policy_ok,
        "policy_rule": order.policy_rule,
        "description": order.description,
        "province": order.province,
        "city": order.city,
        "complaint": order.complaint.number if order.complaint else None,
        "complaint_waits": order.complaint_waits,
        "became_complaint": order.became_complaint.number if order.became_complaint else None,
        "repeat_of": order.repeat_of.number if order.repeat_of else None,
        "repeat_of_complaint": order.repeat_of_complaint.number if order.repeat_of_complaint else None,
        "open_complaints": [c.number for c in selectors.open_complaints_of(order=order, user=user)],
        "article": {"id": order.article.pk, "title": order.article.title} if order.article else None,
        "article_note": order.article_note,
        "resolution": order.resolution,
        "followup_result": order.followup_result,
        "labour_cost": order.labour_cost,
        "parts_cost": sum((p.unit_cost * p.quantity for p in parts), Decimal(0)),
        "actions": [t.action for t in lifecycle.transitions_from(order.status) if lifecycle.may_act(t, user, order)],
        "waiting_for": order.waiting_for or None,
        "waiting_since": order.waiting_since,
        "waiting_reason": order.waiting_reason,
        "postponements": [
            {
                "id": r.pk,
                "milestone": r.milestone,
                "due_before": r.due_before,
                "requested_due": r.requested_due,
                "reason": r.reason,
                "status": r.status,
                "requested_by": _name(r.requested_by),
                "requested_at": r.requested_at,
                "decided_by": _name(r.decided_by),
                "decided_at": r.decided_at,
                "decision_note": r.decision_note,
            }
            for r in order.postponements.select_related("requested_by", "decided_by")
        ],
        "deadlines": [
            {
                "milestone": d.milestone,
                "duration": d.duration,
                "started_at": d.started_at,
                "due_at": d.due_at,
                "warn_at": d.warn_at,
                "met_at": d.met_at,
                "met_by": _name(d.met_by),
                "cancelled": d.cancelled,
                "warned_at": d.warned_at,
                "breached_at": d.breached_at,
                "escalation_level": d.escalation_level,
                "paused_at": d.paused_at,
                "original_due_at": d.original_due_at,
                "state": deadline_state(
                    due_at=d.due_at,
                    warn_at=d.warn_at,
                    met_at=d.met_at,
                    cancelled=d.cancelled,
                    paused=d.paused_at is not None,
                ),
            }
            for d in selectors.order_deadlines(order=order)
        ],
        "shipments": list(
            order.shipments.values("direction", "pickup", "carrier", "tracking_no", "shipped_at", "received_at")
        ),
        "inspections": [
            {"result": i.result, "note": i.note, "at": i.at, "by": _name(i.by), "photos": i.photos.count()}
            for i in order.inspections.select_related("by")
        ],
        "appointments": [
            {
                "technician": a.technician.get_username(),
                "day": a.day,
                "slot": a.slot,
                "cancelled": a.cancelled_at is not None,
            }
            for a in order.appointments.select_related("technician")
        ],
        "parts": [
            {"part_no": p.part_no, "name": p.name, "quantity": p.quantity, "unit_cost": p.unit_cost} for p in parts
        ],
    }


# --- endpoints --------------------------------------------------------------------------------------------


@router.get(
    "/service-orders",
    response={200: list[ServiceOrderSummaryOut], **READ_ERRORS},
    summary="Service orders, newest first",
    description="The service orders (售服单) the caller may see, filtered by kind and status; "
    "a fixed number of queries.",
)
def service_orders_list(
    request: HttpRequest, query: Query[ServiceOrderListQuery], since: Query[UpdatedSince]
) -> list[dict[str, Any]]:
    filters = selectors.OrderFilters(kind=query.kind or "", status=query.status or "", open_only=query.open)
    queue = updated_since(selectors.order_queue(user=_user(request), filters=filters), since)
    rows = queue[query.offset : query.offset + query.limit]
    return [_summary(order) for order in rows]


@router.post(
    "/service-orders",
    response={201: ServiceOrderOut, **WRITE_ERRORS},
    summary="Register a service order",
    description="Repair, return, exchange, installation, on-site inspection, technical support or consultation: "
    "numbered SF + date + daily sequence, warranty and return policy judged, clocks started.",
)
def service_orders_create(request: HttpRequest, payload: ServiceOrderIn) -> Status:
    user = _user(request)
    data = services.OrderData(
        kind=payload.kind,
        channel=payload.channel,
        customer_name=payload.customer_name,
        customer_kind=payload.customer_kind,
        description=payload.description,
        phone=payload.phone,
        email=payload.email,
        address=payload.address,
        province=payload.province,
        city=payload.city,
        priority=payload.priority,
        received_at=payload.received_at,
        product_model=payload.product_model,
        product_text=payload.product_text,
        batch_no=payload.batch_no,
        serial_no=payload.serial_no,
        purchase_date=payload.purchase_date,
        order_no=payload.order_no,
        department_code=payload.department,
    )
    order = services.order_register(data=data, actor=user, via=Via.API)
    return Status(201, order_detail(user, selectors.order_get(user=user, number=order.number)))


@router.get(
    "/service-orders/{number}",
    response={200: ServiceOrderOut, **ONE_ERRORS},
    summary="One service order",
    description="The order with its deadlines (SLA clocks), shipments, inspections, appointments and parts, and the "
    "actions the caller may take now.",
)
def service_orders_get(request: HttpRequest, number: Number) -> dict[str, Any]:
    user = _user(request)
    return order_detail(user, selectors.order_get(user=user, number=number))


@router.get(
    "/service-orders/{number}/timeline",
    response={200: list[ServiceEventOut], **ONE_ERRORS},
    summary="A service order's timeline",
    description="Every event of the order, oldest first (append-only).",
)
def service_orders_timeline(request: HttpRequest, number: Number, since: Query[UpdatedSince]) -> list[dict[str, Any]]:
    order = selectors.order_get(user=_user(request), number=number)
    return [
        {
            "at": e.at,
            "action": e.action,
            "label": e.label,
            "actor": _name(e.actor),
            "via": e.via,
            "after": e.after,
            "note": e.note,
            "updated_at": e.at,
        }
        for e in updated_since(selectors.order_timeline(order=order), since, field="at")
    ]


@router.post(
    "/service-orders/{number}/transition",
    response={200: ServiceOrderOut, **ONE_WRITE_ERRORS},
    summary="Take a step of the order's lifecycle",
    description="Dispatch, book a visit, record the visit, shipments, receipt, inspection, refund, remote session, "
    "answer, resolve, follow-up, cancel: the kind's transition table decides what is possible now.",
)
def service_orders_transition(request: HttpRequest, number: Number, payload: ServiceOrderActionIn) -> dict[str, Any]:
    user = _user(request)
    order = selectors.order_get(user=user, number=number)
    data = payload.dict(exclude={"action"})
    data["parts"] = [dict(p) for p in data.get("parts") or []]
    services.order_transition(order=order, action=payload.action, actor=user, via=Via.API, data=data)
    return order_detail(user, selectors.order_get(user=user, number=number))


@router.post(
    "/service-orders/{number}/wait",
    response={200: ServiceOrderOut, **ONE_WRITE_ERRORS},
    summary="Pause the order's clocks: waiting for the customer or for parts",
    description="Every open clock of the order stops until POST …/resume (or the next step of its table); then "
    "each is extended by the pause. The status does not change. Needs serviceorders.work_order.",
)
def service_orders_wait(request: HttpRequest, number: Number, payload: ServiceOrderWaitIn) -> dict[str, Any]:
    user = _user(request)
    order = selectors.order_get(user=user, number=number)
    services.order_wait(order=order, waiting_for=payload.waiting_for, reason=payload.reason, actor=user, via=Via.API)
    return order_detail(user, selectors.order_get(user=user, number=number))


@router.post(
    "/service-orders/{number}/resume",
    response={200: ServiceOrderOut, **ONE_WRITE_ERRORS},
    summary="The wait is over: the clocks run again, extended by the pause",
    description="Each paused clock of the order restarts, its due instant and warning point moved by the pause "
    "(as a complaint's). A 422 when the order is not waiting. Needs serviceorders.work_order.",
)
def service_orders_resume(request: HttpRequest, number: Number, payload: ServiceOrderResumeIn) -> dict[str, Any]:
    user = _user(request)
    order = selectors.order_get(user=user, number=number)
    services.order_resume(order=order, actor=user, via=Via.API, note=payload.note)
    return order_detail(user, selectors.order_get(user=user, number=number))


@router.post(
    "/service-orders/{number}/postponements",
    response={201: ServiceOrderOut, **ONE_WRITE_ERRORS},
    summary="Ask for a postponement (延期) of one of the order's clocks",
    description="A CS supervisor decides it (POST …/postponements/{id}/decision). One request waits at a time.",
)
def service_orders_postpone(request: HttpRequest, number: Number, payload: ServicePostponementIn) -> Status:
    user = _user(request)
    order = selectors.order_get(user=user, number=number)
    services.postponement_request(
        order=order,
        milestone=payload.milestone,
        new_due=payload.new_due,
        reason=payload.reason,
        actor=user,
        via=Via.API,
    )
    return Status(201, order_detail(user, selectors.order_get(user=user, number=number)))


@router.post(
    "/service-orders/{number}/postponements/{pk}/decision",
    response={200: ServiceOrderOut, **ONE_WRITE_ERRORS},
    summary="Approve or reject a postponement request (CS supervisors)",
    description="Approved, the clock's due instant moves to the one asked for and its first original due instant "
    "is kept for the KPIs; rejected, it stays (a note says why). Needs serviceorders.decide_postponement.",
)
def service_orders_postponement_decide(
    request: HttpRequest, number: Number, pk: int, payload: ServicePostponementDecisionIn
) -> dict[str, Any]:
    user = _user(request)
    order = selectors.order_get(user=user, number=number)
    postponement = ServicePostponement.objects.get(order=order, pk=pk)
    services.postponement_decide(
        postponement=postponement, action=payload.action, actor=user, via=Via.API, note=payload.note
    )
    return order_detail(user, selectors.order_get(user=user, number=number))


@router.post(
    "/complaints/{number}/service-orders",
    response={201: ServiceOrderOut, **ONE_WRITE_ERRORS},
    summary="Create a service order from a complaint",
    description="For the complaint's customer and product; a return or an exchange becomes an RMA the "
    "complaint waits for.",
)
def complaints_service_orders_create(
    request: HttpRequest, number: ComplaintNumber, payload: ServiceOrderFromComplaintIn
) -> Status:
    user = _user(request)
    complaint = complaint_get(user=user, number=number)
    order = services.order_from_complaint(
        complaint=complaint, kind=payload.kind, actor=user, via=Via.API, description=payload.description
    )
    return Status(201, order_detail(user, selectors.order_get(user=user, number=order.number)))


@router.post(
    "/service-orders/{number}/attachments",
    response={201: ServiceAttachmentOut, **ONE_WRITE_ERRORS},
    summary="Add a file to a service order",
    description="A photo of the fault, the invoice, an inspection photo (joined to the next inspection) or the "
    "customer's signature; checked like every attachment.",
)
def service_orders_attachments(
    request: HttpRequest,
    number: Number,
    file: File[UploadedFile],
    kind: Form[ServiceAttachmentKind] = ServiceAttachmentKind.FAULT,
) -> Status:
    user = _user(request)
    order = selectors.order_get(user=user, number=number)
    upload = AttachmentUpload(name=file.name or "upload", file=file, size=file.size or 0)
    attachment = services.order_attach(order=order, upload=upload, kind=kind.value, actor=user, via=Via.API)
    return Status(
        201,
        {
            "id": attachment.pk,
            "kind": attachment.kind,
            "name": attachment.original_name,
            "content_type": attachment.content_type,
            "size": attachment.size,
            "uploaded_at": attachment.uploaded_at,
        },
    )
