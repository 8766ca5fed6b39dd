"""Every write to a service order goes through here: desk, portal, API, demo.

As for complaints: validate first (all field errors at once), then in one transaction lock the row,
check the kind's transition table, change, write the event; the customer's SMS is queued in the same
transaction (the outbox sends it after commit).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.base import File
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from closeloop import authz
from closeloop.complaints.lifecycle import NOT_COUNTED_STATUSES
from closeloop.complaints.lifecycle import Status as ComplaintStatus
from closeloop.complaints.models import Channel, Complaint, Priority
from closeloop.complaints.services import (
    AttachmentUpload,
    IntakeData,
    attachment_refusal,
    complaint_register,
    contact_clean,
    customer_find,
    customer_find_or_create,
    product_by_model,
    received_at_clean,
)
from closeloop.core.errors import DomainError, TransitionNotAllowed, ValidationFailed
from closeloop.core.lifecycle import Transition
from closeloop.core.numbering import daily_number
from closeloop.core.types import AnyUser, User
from closeloop.directory.models import Customer, CustomerKind, Department
from closeloop.knowledge.models import Article
from closeloop.notifications.models import Method, Notification
from closeloop.notifications.services import outbox_wake
from closeloop.serviceorders import clocks, selectors
from closeloop.serviceorders.lifecycle import (
    POSTPONEMENT_LIFECYCLE,
    RMA_KINDS,
    Kind,
    ServicePostponementStatus,
    ServiceStatus,
    WaitingFor,
    lifecycle_of,
)
from closeloop.serviceorders.models import (
    Appointment,
    Direction,
    FollowUpResult,
    Inspection,
    InspectionResult,
    PartUsed,
    RemoteSession,
    ReturnPolicy,
    ServiceAttachment,
    ServiceAttachmentKind,
    ServiceEvent,
    ServiceOrder,
    ServicePostponement,
    ServiceSequence,
    Shipment,
    Slot,
    Visit,
    WarrantyTerm,
)
from closeloop.serviceorders.warranty import return_policy_check, warranty_status
from closeloop.sla import services as sla_services
from closeloop.sla.milestones import Milestone
from closeloop.sla.models import Deadline
from closeloop.sla.services import policy_for

DEFAULT_DEPARTMENT = {
    Kind.REPAIR: "tech",
    Kind.INSTALLATION: "tech",
    Kind.INSPECTION: "tech",
    Kind.SUPPORT: "tech",
    Kind.RETURN: "warehouse",
    Kind.EXCHANGE: "warehouse",
    Kind.CONSULTATION: "cs",
}
# The complaint an unhappy follow-up becomes is of this type (directory's reference data).
COMPLAINT_TYPE = "service"
TEXT_MAX = 2000


@dataclass
class OrderData:
    """What registration asks for, from the desk, the portal or the API."""

    kind: str
    channel: str
    customer_name: str
    description: str
    phone: str = ""
    email: str = ""
    customer_kind: str = CustomerKind.END_USER
    address: str = ""
    province: str = ""
    city: str = ""
    priority: int = Priority.NORMAL
    received_at: datetime.datetime | None = None
    product_model: str = ""
    product_text: str = ""
    batch_no: str = ""
    serial_no: str = ""
    purchase_date: datetime.date | None = None
    order_no: str = ""
    department_code: str = ""
    attachments: list[AttachmentUpload] = field(default_factory=list)


def next_order_number(day: datetime.date) -> str:
    """`SF` + date + 4-digit daily sequence, gap-free like the complaint's (inside the intake transaction)."""
    return daily_number(ServiceSequence, day, "SF")


def event_record(
    *,
    order: ServiceOrder,
    action: str,
    actor: User | None,
    via: str,
    now: datetime.datetime,
    after: dict[str, Any],
    note: str = "",
) -> ServiceEvent:
    return ServiceEvent.objects.create(
        order=order,
        at=now,
        actor=actor if actor is not None and actor.is_authenticated else None,
        via=via,
        action=action,
        after=_jsonable(after),
        note=note,
    )


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


# --- registration ----------------------------------------------------------------------------------------


def _validate(data: OrderData, now: datetime.datetime) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}

    def fail(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    if data.kind not in Kind.values:
        fail("kind", _("Choose a kind of service from the list."))
    if data.channel not in Channel.values:
        fail("channel", _("Choose a channel from the list."))
    if data.customer_kind not in CustomerKind.values:
        fail("customer_kind", _("Choose a complainant type from the list."))
    if not data.customer_name.strip():
        fail("customer_name", _("Enter the customer's name."))
    if not data.description.strip():
        fail("description", _("Describe the fault or the request."))
    if data.priority not in Priority.values:
        fail("priority", _("Choose a priority from the list."))
    clean["phone"], clean["email"] = contact_clean(data.phone, data.email, fail)
    received_at = clean["received_at"] = received_at_clean(data.received_at, now, fail)
    if data.purchase_date and data.purchase_date > timezone.localdate(received_at):
        fail("purchase_date", _("The purchase date cannot be after the day the request was received."))
    product = None
    if data.product_model.strip():
        product = product_by_model(data.product_model.strip())  # the intake's cached look-up
    clean["product"] = product
    clean["product_text"] = data.product_text.strip() or ("" if product else data.product_model.strip())
    department = None
    code = data.department_code or DEFAULT_DEPARTMENT.get(data.kind, "")  # type: ignore[call-overload]
    if code:
        department = Department.objects.filter(code=code, is_active=True).first()
        if department is None and data.department_code:
            fail("department", _("Choose a department from the list."))
    clean["department"] = department
    types = []
    for upload in data.attachments:
        content_type, why = attachment_refusal(upload)
        if why:
            fail("attachments", why)
        types.append(content_type)
    clean["attachment_types"] = types
    if errors:
        raise ValidationFailed(errors)
    return clean


def _warranty(order: ServiceOrder) -> None:
    on = timezone.localdate(order.received_at)
    term = WarrantyTerm.objects.filter(product=order.product).first() if order.product_id else None
    status = warranty_status(purchase_date=order.purchase_date, months=term.months if term else None, on=on)
    order.in_warranty, order.warranty_until, order.warranty_rule = status.in_warranty, status.until, status.rule[:200]
    if order.kind in RMA_KINDS:
        policy = ReturnPolicy.objects.filter(line_id=order.product.line_id).first() if order.product else None
        days = None
        if policy is not None:
            days = policy.return_days if order.kind == Kind.RETURN else policy.exchange_days
        check = return_policy_check(
            purchase_date=order.purchase_date, days=days, condition=policy.condition if policy else "", on=on
        )
        order.policy_ok, order.policy_rule = check.ok, check.rule


def _repeat(order: ServiceOrder, customer_created: bool) -> None:
    """Repeat detection sees both records: an earlier service order or complaint of the same customer
    about the same product within REPEAT_WINDOW_DAYS of its resolution."""
    if customer_created or not (order.product_id or order.product_text):
        return
    since = order.received_at - datetime.timedelta(days=settings.REPEAT_WINDOW_DAYS)
    same: dict[str, object] = (
        {"product_id": order.product_id} if order.product_id else {"product_text__iexact": order.product_text}
    )
    order.repeat_of = (
        ServiceOrder.objects.filter(customer=order.customer, resolved_at__gte=since, **same)
        .exclude(status=ServiceStatus.CANCELLED)
        .order_by("-resolved_at")
        .first()
    )
    order.repeat_of_complaint = (
        Complaint.objects.filter(customer=order.customer, resolved_at__gte=since, **same)
        .exclude(status__in=NOT_COUNTED_STATUSES)
        .order_by("-resolved_at")
        .first()
    )


def order_register(
    *,
    data: OrderData,
    actor: User | None,
    via: str,
    now: datetime.datetime | None = None,
    complaint: Complaint | None = None,
    complaint_waits: bool = False,
) -> ServiceOrder:
    """Register a service order: customer found or created (as complaints do), number, warranty and
    return-policy check, clocks, repeat detection, timeline; one transaction."""
    now = now or timezone.now()
    if actor is not None and via != "portal":
        authz.require(actor, "serviceorders.register_order")
    clean = _validate(data, now)
    intake = IntakeData(
        channel=data.channel,
        customer_name=data.customer_name,
        description=data.description,
        type_code="",
        customer_kind=data.customer_kind,
        address=data.address,
        province=data.province,
        city=data.city,
    )
    # Read before the write transaction, as complaint intake does (SQLite's writer lock, issue 20).
    found = customer_find(phone=clean["phone"], email=clean["email"]) if complaint is None else None
    with transaction.atomic():
        if complaint is not None:
            customer, created = complaint.customer, False
        else:
            customer, created = customer_find_or_create(
                data=intake, phone=clean["phone"], email=clean["email"], found=found
            )
        by = actor if actor is not None and actor.is_authenticated else None
        product = clean["product"]
        policy = policy_for(
            customer_kind=customer.kind, product_line_id=product.line_id if product else None, service_kind=data.kind
        )
        order = ServiceOrder(
            number=next_order_number(timezone.localdate(now)),
            kind=data.kind,
            channel=data.channel,
            priority=data.priority,
            received_at=clean["received_at"],
            registered_at=now,
            registered_by=by,
            customer=customer,
            product=product,
            product_text=clean["product_text"],
            batch_no=data.batch_no.strip(),
            serial_no=data.serial_no.strip(),
            purchase_date=data.purchase_date,
            order_no=data.order_no.strip(),
            description=data.description.strip(),
            province=(data.province or customer.province).strip(),
            city=(data.city or customer.city).strip(),
            department=clean["department"],
            sla_policy=policy,
            complaint=complaint,
            complaint_waits=complaint_waits,
        )
        _warranty(order)
        _repeat(order, created)
        # Not kept on the order: its page and the API ask again, for what the reader may see.
        open_complaints = [] if created else selectors.open_complaints_of(order=order)
        planned = clocks.clocks_plan(
            policy=policy, priority=order.priority, steps=clocks.AT_INTAKE, start=order.received_at
        )
        order.next_due_at = min((c.due_at for c in planned), default=None)
        order.save(force_insert=True)
        for deadline in planned:
            deadline.service_order = order
        Deadline.objects.bulk_create(planned)
        for upload, content_type in zip(data.attachments, clean["attachment_types"], strict=True):
            _attachment_store(
                order=order, upload=upload, content_type=content_type, kind=ServiceAttachmentKind.FAULT, by=by, now=now
            )
        event_record(
            order=order,
            action="registered",
            actor=actor,
            via=via,
            now=now,
            after={
                "status": order.status,
                "kind": order.kind,
                "customer": customer.pk,
                "customer_created": created,
                "in_warranty": order.in_warranty,
                "policy_ok": order.policy_ok,
                "complaint": complaint.number if complaint else None,
                "repeat_of": order.repeat_of.number if order.repeat_of else None,
                "repeat_of_complaint": order.repeat_of_complaint.number if order.repeat_of_complaint else None,
                "open_complaints": [c.number for c in open_complaints],
                "sla_policy": policy.code if policy else None,
            },
        )
    return order


def _attachment_store(
    *,
    order: ServiceOrder,
    upload: AttachmentUpload,
    content_type: str,
    kind: str,
    by: User | None,
    now: datetime.datetime,
    inspection: Inspection | None = None,
) -> ServiceAttachment:
    attachment = ServiceAttachment(
        order=order,
        inspection=inspection,
        kind=kind,
        original_name=upload.name[:255],
        content_type=content_type,
        size=upload.size,
        uploaded_at=now,
        uploaded_by=by,
    )
    attachment.file.save(upload.name, File(upload.file), save=False)
    attachment.save()
    return attachment


def order_attach(
    *,
    order: ServiceOrder,
    upload: AttachmentUpload,
    kind: str,
    actor: User,
    via: str,
    now: datetime.datetime | None = None,
) -> ServiceAttachment:
    now = now or timezone.now()
    authz.require(actor, "serviceorders.work_order", order)
    if kind not in ServiceAttachmentKind.values:
        raise DomainError(_("Unknown attachment kind."), field="kind")
    content_type, why = attachment_refusal(upload)
    if why:
        raise DomainError(why, field="file")
    with transaction.atomic():
        attachment = _attachment_store(
            order=order, upload=upload, content_type=content_type, kind=kind, by=actor, now=now
        )
        event_record(
            order=order,
            action="attached",
            actor=actor,
            via=via,
            now=now,
            after={"file": attachment.original_name, "kind": kind},
        )
    return attachment


def order_from_complaint(
    *,
    complaint: Complaint,
    kind: str,
    actor: User,
    via: str,
    description: str = "",
    now: datetime.datetime | None = None,
) -> ServiceOrder:
    """A complaint creates a service order for the same customer and product; an exchange or a return
    becomes an RMA the complaint waits for (its page shows the shipment)."""
    if complaint.status in NOT_COUNTED_STATUSES or complaint.status in {
        ComplaintStatus.CLOSED,
        ComplaintStatus.ARCHIVED,
    }:
        raise DomainError(_("Only an open complaint creates service orders."), field="kind")
    customer = complaint.customer
    data = OrderData(
        kind=kind,
        channel=complaint.channel,
        customer_name=customer.name,
        description=description.strip() or complaint.description,
        phone=customer.phone,
        email=customer.email,
        customer_kind=customer.kind,
        province=complaint.province,
        city=complaint.city,
        priority=complaint.priority,
        received_at=now or timezone.now(),
        product_model=complaint.product.model if complaint.product else "",
        product_text=complaint.product_text,
        batch_no=complaint.batch_no,
        purchase_date=complaint.purchase_date,
        order_no=complaint.order_no,
    )
    return order_register(
        data=data, actor=actor, via=via, now=now, complaint=complaint, complaint_waits=kind in RMA_KINDS
    )


# --- transitions -----------------------------------------------------------------------------------------


def policy_guard(order: ServiceOrder, data: dict[str, object]) -> str | None:
    """Authorising outside the return policy (or without one) needs a reason."""
    if order.policy_ok is not True and not str(data.get("reason") or "").strip():
        return _("Outside the return policy (or none applies): give the reason for authorising anyway.")
    return None


def _text(data: dict[str, Any], name: str, errors: dict[str, list[str]], *, required: bool = True) -> str:
    value = str(data.get(name) or "").strip()
    if required and not value:
        errors.setdefault(name, []).append(_("This field is required."))
    if len(value) > TEXT_MAX:
        errors.setdefault(name, []).append(_("At most %(max)s characters.") % {"max": TEXT_MAX})
    return value


def _datetime(
    data: dict[str, Any], name: str, errors: dict[str, list[str]], default: datetime.datetime
) -> datetime.datetime:
    value = data.get(name)
    if value in (None, ""):
        return default
    if isinstance(value, str):
        try:
            value = datetime.datetime.fromisoformat(value)
        except ValueError:
            errors.setdefault(name, []).append(_("Enter a date and time."))
            return default
    if not isinstance(value, datetime.datetime):
        errors.setdefault(name, []).append(_("Enter a date and time."))
        return default
    return timezone.make_aware(value) if timezone.is_naive(value) else value


def _parts(data: dict[str, Any], errors: dict[str, list[str]]) -> list[PartUsed]:
    parts = []
    for row in data.get("parts") or []:
        if not isinstance(row, dict) or not str(row.get("name") or "").strip():
            errors.setdefault("parts", []).append(_("Each part has a name."))
            continue
        try:
            quantity = int(row.get("quantity") or 1)
            cost = Decimal(str(row.get("unit_cost") or "0")).quantize(Decimal("0.01"))
        except (ValueError, InvalidOperation):
            errors.setdefault("parts", []).append(_("Give a whole quantity and a cost in yuan."))
            continue
        if quantity < 1 or cost < 0:
            errors.setdefault("parts", []).append(_("Give a whole quantity and a cost in yuan."))
            continue
        parts.append(
            PartUsed(
                name=str(row["name"]).strip()[:100],
                part_no=str(row.get("part_no") or "").strip()[:60],
                quantity=quantity,
                unit_cost=cost,
            )
        )
    return parts


def _article(value: object, errors: dict[str, list[str]]) -> Article | None:
    """The knowledge-base article an answer followed, by id (the desk's search puts the id in the form)."""
    if value in (None, ""):
        return None
    try:
        pk = int(str(value))
    except ValueError:
        pk = 0
    article = Article.objects.filter(pk=pk).first() if pk > 0 else None
    if article is None:
        errors["article"] = [_("Choose an article of the knowledge base.")]
    return article


def _clean_action(order: ServiceOrder, action: str, data: dict[str, Any], now: datetime.datetime) -> dict[str, Any]:
    """The values an action needs, checked; all errors at once."""
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}
    if action == "dispatch":
        code = str(data.get("department") or "")
        clean["department"] = Department.objects.filter(code=code, is_active=True).first()
        if clean["department"] is None:
            errors["department"] = [_("Choose a department from the list.")]
        assignee = data.get("assignee")
        clean["assignee"] = None
        if assignee:
            clean["assignee"] = get_user_model().objects.filter(username=str(assignee), is_active=True).first()
            if clean["assignee"] is None:
                errors["assignee"] = [_("No active user has this name.")]
    elif action in {"cancel", "refuse"}:
        clean["reason"] = _text(data, "reason", errors)
    elif action == "authorise":
        clean["reason"] = _text(data, "reason", errors, required=False)
    elif action == "book":
        technician = get_user_model().objects.filter(username=str(data.get("technician") or ""), is_active=True).first()
        if technician is None:
            errors["technician"] = [_("No active user has this name.")]
        day = data.get("day")
        if isinstance(day, str):
            try:
                day = datetime.date.fromisoformat(day)
            except ValueError:
                day = None
        if not isinstance(day, datetime.date):
            errors["day"] = [_("Enter a date.")]
        elif day < timezone.localdate(now):
            errors["day"] = [_("Book a day from today on.")]
        if data.get("slot") not in Slot.values:
            errors["slot"] = [_("Choose a time slot from the list.")]
        clean.update(technician=technician, day=day, slot=data.get("slot"))
    elif action == "record_visit":
        clean["arrived_at"] = _datetime(data, "arrived_at", errors, now)
        clean["diagnosis"] = _text(data, "diagnosis", errors)
        try:
            clean["labour_minutes"] = max(0, int(data.get("labour_minutes") or 0))
            clean["labour_cost"] = Decimal(str(data.get("labour_cost") or "0")).quantize(Decimal("0.01"))
        except (ValueError, InvalidOperation):
            errors["labour_minutes"] = [_("Give the labour in minutes and its cost in yuan.")]
        clean["customer_signed"] = bool(data.get("customer_signed"))
        clean["parts"] = _parts(data, errors)
    elif action in {"ship_in", "send_back"}:
        clean["carrier"] = _text(data, "carrier", errors)[:60]
        clean["tracking_no"] = _text(data, "tracking_no", errors)[:60]
        clean["pickup"] = bool(data.get("pickup"))
    elif action == "inspect":
        if data.get("result") not in InspectionResult.values:
            errors["result"] = [_("Choose the inspection result from the list.")]
        clean["result"] = data.get("result")
        clean["note"] = _text(data, "note", errors, required=False)
    elif action == "record_session":
        try:
            clean["minutes"] = int(data.get("minutes") or 0)
        except ValueError:
            clean["minutes"] = 0
        if clean["minutes"] < 1:
            errors["minutes"] = [_("Give the session's length in minutes.")]
        clean["notes"] = _text(data, "notes", errors)
        clean["tool"] = _text(data, "tool", errors, required=False)[:60]
    elif action in {"resolve", "answer", "refund"}:
        clean["resolution"] = _text(data, "resolution", errors)
        clean["article"] = _article(data.get("article"), errors)
        clean["article_note"] = _text(data, "article_note", errors, required=False)[:200]
    elif action == "follow_up":
        if data.get("result") not in FollowUpResult.values:
            errors["result"] = [_("Choose the customer's answer from the list.")]
        clean["result"] = data.get("result")
        clean["note"] = _text(data, "note", errors, required=data.get("result") == FollowUpResult.UNSATISFIED)
    if errors:
        raise ValidationFailed(errors)
    return clean


def order_transition(
    *,
    order: ServiceOrder,
    action: str,
    actor: User | None,
    via: str,
    data: dict[str, Any] | None = None,
    now: datetime.datetime | None = None,
) -> ServiceOrder:
    """Perform `action` of the order's kind's table: checked, locked, changed, clocked, on the timeline."""
    now = now or timezone.now()
    data = dict(data or {})
    lifecycle = lifecycle_of(order.kind)
    lifecycle.check_actor(action, actor, order)
    clean = _clean_action(order, action, data, now)
    with transaction.atomic():
        order = (
            ServiceOrder.objects.select_for_update(of=("self",))
            .select_related("customer", "sla_policy")
            .get(pk=order.pk)
        )
        transition = lifecycle.check(order, action, actor, data=data)
        if order.waiting_since is not None:  # a step taken: the order no longer waits, its clocks run again
            _resume(order, actor, via, now, note=str(transition.label))
        before, after = lifecycle.move(order, action, actor, checked=True)
        assignee_before = order.assignee_id
        details = _apply(order, transition, clean, actor, via, now)
        if order.assignee_id != assignee_before:
            clocks.clocks_follow_assignee(order=order)
        clocks.clocks_meet(order=order, steps=transition.meets, by=actor, now=now)
        if transition.cancels_deadlines:
            clocks.clocks_cancel(order=order, now=now)
        _start_next(order, action, now)
        order.next_due_at = clocks.next_due(order)
        order.save()
        event_record(
            order=order,
            action=action,
            actor=actor,
            via=via,
            now=now,
            after={"status": after, "before": before, **details},
            note=str(clean.get("reason") or clean.get("note") or ""),
        )
        if not lifecycle.is_open(after):
            _postponements_lapse(order, now)
    return order


# Which clocks a step starts (serviceorders/clocks.py gives their targets).
STARTS: dict[str, tuple[str, ...]] = {
    "authorise": ("ship_in",),
    "ship_in": ("receive",),
    "inspect": ("send_back",),
    "resolve": ("followup",),
    "answer": ("followup",),
    "refund": ("followup",),
}


def _start_next(order: ServiceOrder, action: str, now: datetime.datetime) -> None:
    steps = STARTS.get(action, ())
    if action == "receive":
        steps = ("inspect",) if order.kind in RMA_KINDS else ("depot_repair",)
    if steps:
        clocks.clocks_start(order=order, steps=steps, start=now)


def _apply(
    order: ServiceOrder,
    transition: Transition,
    clean: dict[str, Any],
    actor: User | None,
    via: str,
    now: datetime.datetime,
) -> dict[str, Any]:
    """The records an action writes besides the status; returns what the event says."""
    action = transition.action
    by = actor if actor is not None and actor.is_authenticated else None
    if "reply" in transition.meets and order.replied_at is None:
        order.replied_at = now
    if action == "dispatch":
        order.department, order.assignee = clean["department"], clean["assignee"]
        return {"department": order.department.code, "assignee": by_name(order.assignee)}
    if action in {"cancel", "refuse"}:
        order.status_reason = clean["reason"]
        Appointment.objects.filter(order=order, cancelled_at__isnull=True).update(cancelled_at=now)
        if action == "cancel":
            order.closed_at = now
        return {}
    if action == "authorise":
        order.status_reason = clean["reason"]
        return {"policy_ok": order.policy_ok, "override": bool(clean["reason"])}
    if action == "book":
        return _book(order, clean, by, now)
    if action == "record_visit":
        appointment = Appointment.objects.filter(order=order, cancelled_at__isnull=True).order_by("-booked_at").first()
        technician = appointment.technician if appointment else by
        if technician is None:
            raise DomainError(_("Book the visit first: it names the technician."), field="arrived_at")
        visit = Visit.objects.create(
            order=order,
            appointment=appointment,
            technician=technician,
            arrived_at=clean["arrived_at"],
            diagnosis=clean["diagnosis"],
            labour_minutes=clean["labour_minutes"],
            customer_signed=clean["customer_signed"],
        )
        for part in clean["parts"]:
            part.order = order
        PartUsed.objects.bulk_create(clean["parts"])
        order.labour_cost += clean["labour_cost"]
        return {
            "arrived_at": visit.arrived_at,
            "diagnosis": visit.diagnosis,
            "labour_minutes": visit.labour_minutes,
            "customer_signed": visit.customer_signed,
            "parts": [{"name": p.name, "quantity": p.quantity, "unit_cost": p.unit_cost} for p in clean["parts"]],
        }
    if action in {"ship_in", "send_back"}:
        shipment = Shipment.objects.create(
            order=order,
            direction=Direction.TO_US if action == "ship_in" else Direction.TO_CUSTOMER,
            pickup=clean["pickup"],
            carrier=clean["carrier"],
            tracking_no=clean["tracking_no"],
            shipped_at=now,
            recorded_by=by,
        )
        return {"carrier": shipment.carrier, "tracking_no": shipment.tracking_no, "pickup": shipment.pickup}
    if action == "receive":
        Shipment.objects.filter(order=order, direction=Direction.TO_US, received_at__isnull=True).update(
            received_at=now
        )
        return {}
    if action == "inspect":
        inspection = Inspection.objects.create(order=order, result=clean["result"], note=clean["note"], at=now, by=by)
        # Photos taken at the inspection: those attached since the goods arrived.
        ServiceAttachment.objects.filter(
            order=order, kind=ServiceAttachmentKind.INSPECTION, inspection__isnull=True
        ).update(inspection=inspection)
        return {"result": inspection.result, "photos": inspection.photos.count()}
    if action == "record_session":
        RemoteSession.objects.create(
            order=order, started_at=now, minutes=clean["minutes"], tool=clean["tool"], notes=clean["notes"], by=by
        )
        return {"minutes": clean["minutes"], "tool": clean["tool"]}
    if action in {"resolve", "answer", "refund"}:
        order.resolution, order.resolved_at = clean["resolution"], now
        if clean["article"] is not None:
            order.article = clean["article"]
        if clean["article_note"]:
            order.article_note = clean["article_note"]
        article = order.article
        return {
            "article": article.pk if article else None,
            "article_title": article.title if article else "",
            "article_note": order.article_note,
        }
    if action == "follow_up":
        return _follow_up(order, clean, actor, via, now)
    return {}


def by_name(user: User | None) -> str | None:
    return user.get_username() if user is not None else None


def _book(order: ServiceOrder, clean: dict[str, Any], by: User | None, now: datetime.datetime) -> dict[str, Any]:
    technician, day, slot = clean["technician"], clean["day"], clean["slot"]
    taken = (
        Appointment.objects.filter(technician=technician, day=day, slot=slot, cancelled_at__isnull=True)
        .exclude(order=order)
        .exists()
    )
    if taken:
        raise DomainError(
            _("The technician is already booked in this slot; choose another."), field="slot", reason="slot_taken"
        )
    Appointment.objects.filter(order=order, cancelled_at__isnull=True).update(cancelled_at=now)
    try:
        with transaction.atomic():  # the constraint decides between two desks booking at once
            appointment = Appointment.objects.create(
                order=order, technician=technician, day=day, slot=slot, booked_at=now, booked_by=by
            )
    except IntegrityError:
        raise DomainError(
            _("The technician is already booked in this slot; choose another."), field="slot", reason="slot_taken"
        ) from None
    order.assignee = technician
    end_hour = int(slot.split("-")[1])
    due = timezone.make_aware(datetime.datetime.combine(day, datetime.time(end_hour)))
    clocks.clock_start_at(order=order, step="visit", start=now, due=due)
    sms = _sms(
        order,
        _("%(number)s: our technician %(name)s will visit on %(day)s, %(slot)s.")
        % {
            "number": order.number,
            "name": technician.get_full_name() or technician.get_username(),
            "day": day.isoformat(),
            "slot": Slot(slot).label,
        },
        now,
        dedup=f"{appointment.pk}",
    )
    return {"technician": technician.get_username(), "day": day, "slot": slot, "sms": sms}


def _sms(order: ServiceOrder, body: str, now: datetime.datetime, *, dedup: str) -> bool:
    """The customer's SMS through the notification outbox; False when they have no phone."""
    customer: Customer = order.customer
    if not customer.phone or customer.anonymised_at is not None:
        return False
    Notification.objects.create(
        created_at=now,
        method=Method.SMS,
        address=customer.phone,
        complaint=order.complaint,
        kind="service_appointment",
        subject=order.number,
        body=body,
        dedup_key=f"service:{order.pk}:appointment:{dedup}"[:120],
        next_attempt_at=now,
    )
    transaction.on_commit(outbox_wake)
    return True


def _follow_up(
    order: ServiceOrder, clean: dict[str, Any], actor: User | None, via: str, now: datetime.datetime
) -> dict[str, Any]:
    """Satisfied or unreachable closes the order; not satisfied closes it too and opens a complaint
    linked to it (type "service"), in the same transaction."""
    order.followup_result, order.followup_note, order.closed_at = clean["result"], clean["note"], now
    if clean["result"] != FollowUpResult.UNSATISFIED:
        return {"result": clean["result"]}
    customer = order.customer
    complaint = complaint_register(
        data=IntakeData(
            channel=order.channel,
            customer_name=customer.name,
            description=_("Not satisfied with service order %(number)s: %(note)s")
            % {"number": order.number, "note": clean["note"]},
            type_code=COMPLAINT_TYPE,
            customer_kind=customer.kind,
            phone=customer.phone,
            email=customer.email,
            province=order.province,
            city=order.city,
            priority=order.priority,
            received_at=now,
            product_model=order.product.model if order.product else "",
            product_text=order.product_text,
            batch_no=order.batch_no,
            purchase_date=order.purchase_date,
            order_no=order.order_no,
        ),
        actor=actor,
        via=via,
        now=now,
    )
    order.became_complaint = complaint
    return {"result": clean["result"], "complaint": complaint.number}


# --- waiting (clocks paused) and postponements ---------------------------------------------------------------


def wait_refusal(order: ServiceOrder, actor: AnyUser | None) -> str | None:
    """Why `actor` may not pause this order's clocks now (None: the desk offers the button)."""
    if not authz.allowed(actor, "serviceorders.work_order", order):
        return str(authz.PERMISSIONS["serviceorders.work_order"].refusal)
    if not lifecycle_of(order.kind).is_open(order.status):
        return _("The order is over: its clocks no longer run.")
    if order.waiting_since is not None:
        return _("The order is already waiting.")
    return None


def resume_refusal(order: ServiceOrder, actor: AnyUser | None) -> str | None:
    if not authz.allowed(actor, "serviceorders.work_order", order):
        return str(authz.PERMISSIONS["serviceorders.work_order"].refusal)
    if order.waiting_since is None:
        return _("The order is not waiting.")
    return None


def order_wait(
    *,
    order: ServiceOrder,
    waiting_for: str,
    reason: str,
    actor: User | None,
    via: str,
    now: datetime.datetime | None = None,
) -> ServiceOrder:
    """Waiting for the customer or for parts: every open clock of the order paused until `order_resume`
    (or the next step of its table), then extended by the pause. The status does not change."""
    now = now or timezone.now()
    errors: dict[str, list[str]] = {}
    if waiting_for not in WaitingFor.values:
        errors["waiting_for"] = [_("Choose what the order waits for from the list.")]
    if not reason.strip():
        errors["reason"] = [_("Say what we are waiting for.")]
    authz.require(actor, "serviceorders.work_order", order)
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        order = ServiceOrder.objects.select_for_update(of=("self",)).get(pk=order.pk)
        refusal = wait_refusal(order, actor)
        if refusal:
            raise TransitionNotAllowed(refusal, reason="already_waiting" if order.waiting_since else "not_open")
        order.waiting_for, order.waiting_since, order.waiting_reason = waiting_for, now, reason.strip()[:200]
        paused = sla_services.order_deadlines_pause(service_order=order, at=now)
        order.next_due_at = clocks.next_due(order)
        order.save(update_fields=["waiting_for", "waiting_since", "waiting_reason", "next_due_at", "updated_at"])
        event_record(
            order=order,
            action="waiting_started",
            actor=actor,
            via=via,
            now=now,
            after={"waiting_for": waiting_for, "paused_clocks": paused},
            note=order.waiting_reason,
        )
    return order


def _resume(order: ServiceOrder, actor: User | None, via: str, now: datetime.datetime, note: str) -> None:
    """Inside the caller's transaction, the order locked: clocks restarted, extended by the pause."""
    since, waiting_for = order.waiting_since, order.waiting_for
    changes = sla_services.order_deadlines_resume(service_order=order, at=now)
    order.waiting_for, order.waiting_since, order.waiting_reason = "", None, ""
    order.next_due_at = clocks.next_due(order)
    order.save(update_fields=["waiting_for", "waiting_since", "waiting_reason", "next_due_at", "updated_at"])
    event_record(
        order=order,
        action="waiting_ended",
        actor=actor,
        via=via,
        now=now,
        after={"waiting_for": waiting_for, "waiting_since": since, "deadlines": changes},
        note=note,
    )


def order_resume(
    *, order: ServiceOrder, actor: User | None, via: str, note: str = "", now: datetime.datetime | None = None
) -> ServiceOrder:
    """The customer answered / the parts came: the clocks run again, each extended by the pause."""
    now = now or timezone.now()
    authz.require(actor, "serviceorders.work_order", order)
    with transaction.atomic():
        order = ServiceOrder.objects.select_for_update(of=("self",)).get(pk=order.pk)
        refusal = resume_refusal(order, actor)
        if refusal:
            raise TransitionNotAllowed(refusal, reason="not_waiting")
        _resume(order, actor, via, now, note=note.strip()[:2000])
    return order


def postponement_request_refusal(order: ServiceOrder, actor: AnyUser | None) -> str | None:
    """Why `actor` may not ask for a postponement now (None: the desk offers the form)."""
    if not authz.allowed(actor, "serviceorders.work_order", order):
        return str(authz.PERMISSIONS["serviceorders.work_order"].refusal)
    if not lifecycle_of(order.kind).is_open(order.status):
        return _("The order is over: its clocks no longer run.")
    if ServicePostponement.objects.filter(order=order, status=ServicePostponementStatus.REQUESTED).exists():
        return _("A postponement request of this order waits for a decision.")
    return None


def postponement_request(
    *,
    order: ServiceOrder,
    milestone: str,
    new_due: datetime.datetime | None,
    reason: str,
    actor: User | None,
    via: str,
    now: datetime.datetime | None = None,
) -> ServicePostponement:
    """Ask a supervisor to move one running clock of the order (default: its resolution) to `new_due`."""
    now = now or timezone.now()
    authz.require(actor, "serviceorders.work_order", order)
    milestone = milestone or Milestone.RESOLUTION
    errors: dict[str, list[str]] = {}
    deadline = Deadline.objects.filter(service_order=order, milestone=milestone, met_at__isnull=True).first()
    if deadline is None:
        errors["milestone"] = [_("Choose a running deadline of the order.")]
    if new_due is None:
        errors["new_due"] = [_("Enter the new due date and time.")]
    elif deadline is not None and new_due <= deadline.due_at:
        errors["new_due"] = [_("A postponement moves the deadline later than it is now.")]
    if not reason.strip():
        errors["reason"] = [_("Say why the order needs more time.")]
    if errors:
        raise ValidationFailed(errors)
    assert deadline is not None and new_due is not None
    with transaction.atomic():
        order = ServiceOrder.objects.select_for_update(of=("self",)).get(pk=order.pk)
        refusal = postponement_request_refusal(order, actor)
        if refusal:
            raise TransitionNotAllowed(refusal, reason="wrong_state")
        request = ServicePostponement.objects.create(
            order=order,
            milestone=milestone,
            due_before=deadline.due_at,
            requested_due=new_due,
            reason=reason.strip()[:TEXT_MAX],
            requested_at=now,
            requested_by=actor if actor is not None and actor.is_authenticated else None,
        )
        event_record(
            order=order,
            action="postponement_requested",
            actor=actor,
            via=via,
            now=now,
            after={"postponement": request.pk, "milestone": milestone, "due": deadline.due_at, "new_due": new_due},
            note=request.reason,
        )
        ServiceOrder.objects.filter(pk=order.pk).update(updated_at=now)
    return request


def _postponements_lapse(order: ServiceOrder, now: datetime.datetime) -> None:
    """The order ended with a request undecided: it lapses (the table's system row), said on the timeline."""
    for pending in ServicePostponement.objects.select_for_update().filter(
        order=order, status=ServicePostponementStatus.REQUESTED
    ):
        POSTPONEMENT_LIFECYCLE.move(pending, "lapse", None)
        pending.decided_at = now
        pending.save(update_fields=["status", "decided_at"])
        event_record(
            order=order,
            action="postponement_lapsed",
            actor=None,
            via="system",
            now=now,
            after={"postponement": pending.pk, "milestone": pending.milestone},
        )


def postponement_decide(
    *,
    postponement: ServicePostponement,
    action: str,
    actor: User | None,
    via: str,
    note: str = "",
    now: datetime.datetime | None = None,
) -> ServicePostponement:
    """A supervisor approves ("approve": the clock's due instant moves, its first original kept for the
    KPIs, warning and breach watched afresh) or rejects ("reject", with a note) a request."""
    now = now or timezone.now()
    if action not in {"approve", "reject"}:  # the lapse is the system's
        raise TransitionNotAllowed(_("Unknown action."), reason="unknown_action")
    POSTPONEMENT_LIFECYCLE.check_actor(action, actor, postponement)
    if action == "reject" and not note.strip():
        raise ValidationFailed({"note": [_("Say why the postponement is rejected.")]})
    with transaction.atomic():
        order = ServiceOrder.objects.select_for_update(of=("self",)).get(pk=postponement.order_id)
        postponement = ServicePostponement.objects.select_for_update().get(pk=postponement.pk)
        POSTPONEMENT_LIFECYCLE.check(postponement, action, actor)
        moved: dict[str, Any] = {}
        if action == "approve":
            deadline = (
                Deadline.objects.select_for_update(of=("self",))
                .select_related("policy__calendar")
                .filter(service_order=order, milestone=postponement.milestone, met_at__isnull=True)
                .first()
            )
            if deadline is None:
                raise TransitionNotAllowed(
                    _("This deadline is no longer running: reject the request instead."), reason="wrong_state"
                )
            old_due = sla_services.deadline_postpone(deadline=deadline, new_due=postponement.requested_due)
            moved = {"before": old_due, "after": deadline.due_at, "original_due": deadline.original_due_at}
            order.next_due_at = clocks.next_due(order)
            order.save(update_fields=["next_due_at", "updated_at"])
        else:
            ServiceOrder.objects.filter(pk=order.pk).update(updated_at=now)
        POSTPONEMENT_LIFECYCLE.move(postponement, action, actor, checked=True)
        postponement.decided_at, postponement.decided_by = now, actor if actor and actor.is_authenticated else None
        postponement.decision_note = note.strip()[:TEXT_MAX]
        postponement.save(update_fields=["status", "decided_at", "decided_by", "decision_note"])
        event_record(
            order=order,
            action=f"postponement_{'approved' if action == 'approve' else 'rejected'}",
            actor=actor,
            via=via,
            now=now,
            after={"postponement": postponement.pk, "milestone": postponement.milestone, **moved},
            note=postponement.decision_note,
        )
    return postponement
