"""Each kind of service order end to end through the services: registration, its path, clocks, timeline."""

from __future__ import annotations

import datetime
from collections.abc import Callable

import pytest
from django.contrib.auth.models import User

from closeloop.complaints.models import Complaint
from closeloop.core.errors import DomainError, PermissionDeniedError, TransitionNotAllowed, ValidationFailed
from closeloop.directory.models import Product
from closeloop.knowledge.models import Article
from closeloop.notifications.models import Method, Notification
from closeloop.serviceorders.lifecycle import Kind, ServiceStatus
from closeloop.serviceorders.models import Appointment, ReturnPolicy, ServiceEvent, ServiceOrder, WarrantyTerm
from closeloop.serviceorders.services import order_from_complaint, order_transition
from closeloop.sla.models import Deadline
from tests.conftest import aware

from .conftest import NOW

pytestmark = pytest.mark.django_db


def actions(order: ServiceOrder) -> list[str]:
    return list(ServiceEvent.objects.filter(order=order).values_list("action", flat=True))


def test_number_is_sf_date_and_a_gap_free_daily_sequence(register: Callable[..., ServiceOrder]) -> None:
    first = register(kind=Kind.REPAIR)
    second = register(kind=Kind.CONSULTATION)
    assert first.number == "SF20261120-0001"
    assert second.number == "SF20261120-0002"


def test_a_bad_registration_names_every_field_and_writes_nothing(register: Callable[..., ServiceOrder]) -> None:
    with pytest.raises(ValidationFailed) as exc:
        register(kind="teleport", customer_name=" ", description="", phone="12")
    assert {"kind", "customer_name", "description", "phone"} <= set(exc.value.errors)
    assert not ServiceOrder.objects.exists()


def test_repair_with_a_visit_end_to_end(
    register: Callable[..., ServiceOrder], agent: User, technician: User, product: Product
) -> None:
    WarrantyTerm.objects.create(product=product, months=12)
    order = register(kind=Kind.REPAIR, product_model=product.model, purchase_date=datetime.date(2026, 3, 1))
    assert order.in_warranty is True
    assert {d.milestone for d in order.deadlines.all()} == {"reply", "resolution"}
    order = order_transition(
        order=order,
        action="book",
        actor=agent,
        via="desk",
        now=NOW,
        data={"technician": technician.username, "day": "2026-11-23", "slot": "09-11"},
    )
    assert order.status == ServiceStatus.SCHEDULED
    sms = Notification.objects.get(method=Method.SMS, kind="service_appointment")
    assert order.number in sms.body and "09:00" in sms.body
    order = order_transition(
        order=order,
        action="record_visit",
        actor=technician,
        via="desk",
        now=NOW + datetime.timedelta(days=3),
        data={
            "diagnosis": "驱动电源烧坏",
            "labour_minutes": 40,
            "labour_cost": "80",
            "customer_signed": True,
            "parts": [{"name": "驱动电源", "part_no": "DR-20", "quantity": 1, "unit_cost": "35.50"}],
        },
    )
    assert order.status == ServiceStatus.VISITED
    assert order.parts.get().unit_cost == pytest.approx(35.5)
    assert order.labour_cost == 80
    order = order_transition(order=order, action="resolve", actor=technician, via="desk", data={"resolution": "换驱动"})
    assert order.status == ServiceStatus.RESOLVED
    reply = Deadline.objects.get(service_order=order, milestone="reply")
    assert reply.met_by == technician
    order = order_transition(order=order, action="follow_up", actor=agent, via="desk", data={"result": "satisfied"})
    assert order.status == ServiceStatus.CLOSED
    assert actions(order) == ["registered", "book", "record_visit", "resolve", "follow_up"]


def test_an_appointment_clash_is_refused(register: Callable[..., ServiceOrder], agent: User, technician: User) -> None:
    booking = {"technician": technician.username, "day": "2026-11-23", "slot": "14-16"}
    first = register(kind=Kind.INSTALLATION)
    second = register(kind=Kind.INSPECTION)
    order_transition(order=first, action="book", actor=agent, via="desk", data=booking, now=NOW)
    with pytest.raises(DomainError) as exc:
        order_transition(order=second, action="book", actor=agent, via="desk", data=booking, now=NOW)
    assert exc.value.field == "slot"
    second.refresh_from_db()
    assert second.status == ServiceStatus.REGISTERED
    assert Appointment.objects.filter(cancelled_at__isnull=True).count() == 1
    # The database refuses it too, whoever writes.
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Appointment.objects.create(order=second, technician=technician, day=datetime.date(2026, 11, 23), slot="14-16")
    # Re-booking the first order frees its slot for the second.
    order_transition(order=first, action="book", actor=agent, via="desk", now=NOW, data={**booking, "slot": "16-18"})
    order_transition(order=second, action="book", actor=agent, via="desk", data=booking, now=NOW)


def test_exchange_rma_tracking_and_inspection_on_the_timeline(
    register: Callable[..., ServiceOrder], agent: User, warehouse: User, product: Product
) -> None:
    ReturnPolicy.objects.create(line=product.line, return_days=7, exchange_days=15, condition="包装完好")
    order = register(kind=Kind.EXCHANGE, product_model=product.model, purchase_date=datetime.date(2026, 11, 10))
    assert order.policy_ok is True
    assert "2026-11-25" in order.policy_rule
    for action, data in [
        ("authorise", {}),
        ("ship_in", {"carrier": "顺丰", "tracking_no": "SF1234567890", "pickup": True}),
        ("receive", {}),
        ("inspect", {"result": "accepted", "note": "灯罩裂纹属实"}),
        ("send_back", {"carrier": "顺丰", "tracking_no": "SF0987654321"}),
        ("resolve", {"resolution": "已换新"}),
    ]:
        order = order_transition(order=order, action=action, actor=warehouse, via="desk", data=data)
    events = {e.action: e for e in ServiceEvent.objects.filter(order=order)}
    assert events["ship_in"].after["tracking_no"] == "SF1234567890"
    assert events["send_back"].after["tracking_no"] == "SF0987654321"
    assert events["inspect"].after["result"] == "accepted"
    met = dict(Deadline.objects.filter(service_order=order).values_list("milestone", "met_by__username"))
    assert met["receive"] == met["inspect"] == met["send_back"] == warehouse.username
    assert order.status == ServiceStatus.RESOLVED


def test_return_outside_the_policy_needs_a_reason_to_authorise(
    register: Callable[..., ServiceOrder], warehouse: User, product: Product
) -> None:
    ReturnPolicy.objects.create(line=product.line, return_days=7)
    order = register(kind=Kind.RETURN, product_model=product.model, purchase_date=datetime.date(2026, 11, 1))
    assert order.policy_ok is False
    with pytest.raises(DomainError):
        order_transition(order=order, action="authorise", actor=warehouse, via="desk")
    order = order_transition(order=order, action="authorise", actor=warehouse, via="desk", data={"reason": "经理特批"})
    assert order.status == ServiceStatus.AUTHORISED
    for action, data in [
        ("ship_in", {"carrier": "中通", "tracking_no": "ZT1"}),
        ("receive", {}),
        ("inspect", {"result": "accepted"}),
        ("refund", {"resolution": "退款 199 元"}),
    ]:
        order = order_transition(order=order, action=action, actor=warehouse, via="desk", data=data)
    assert order.status == ServiceStatus.RESOLVED


def test_support_session_then_resolved_and_consultation_answered_on_the_spot(
    register: Callable[..., ServiceOrder], agent: User
) -> None:
    article = Article.objects.create(title="遥控器配对步骤", symptoms="遥控器失灵", steps=["长按配对键"])
    support = register(kind=Kind.SUPPORT)
    support = order_transition(
        order=support,
        action="record_session",
        actor=agent,
        via="desk",
        data={"minutes": 15, "notes": "远程指导重新配对遥控器", "tool": "视频通话"},
    )
    assert support.status == ServiceStatus.IN_PROGRESS
    support = order_transition(
        order=support,
        action="resolve",
        actor=agent,
        via="desk",
        data={"resolution": "已配对", "article": str(article.pk), "article_note": "另见说明书第3页"},
    )
    assert support.article == article and support.article_note == "另见说明书第3页"
    consultation = register(kind=Kind.CONSULTATION)
    consultation = order_transition(
        order=consultation, action="answer", actor=agent, via="desk", data={"resolution": "告知保修政策"}
    )
    assert consultation.status == ServiceStatus.RESOLVED
    assert consultation.replied_at is not None
    # The kinds' tables differ: a consultation books no visit.
    with pytest.raises(TransitionNotAllowed):
        order_transition(order=register(kind=Kind.CONSULTATION), action="book", actor=agent, via="desk")


def test_unsatisfied_follow_up_becomes_a_linked_complaint(register: Callable[..., ServiceOrder], agent: User) -> None:
    order = register(kind=Kind.CONSULTATION)
    order = order_transition(order=order, action="answer", actor=agent, via="desk", data={"resolution": "已答复"})
    with pytest.raises(ValidationFailed):
        order_transition(order=order, action="follow_up", actor=agent, via="desk", data={"result": "unsatisfied"})
    order = order_transition(
        order=order, action="follow_up", actor=agent, via="desk", data={"result": "unsatisfied", "note": "答复没用"}
    )
    assert order.status == ServiceStatus.CLOSED
    complaint = order.became_complaint
    assert complaint is not None and complaint.customer_id == order.customer_id
    assert order.number in complaint.description
    assert ServiceEvent.objects.get(order=order, action="follow_up").after["complaint"] == complaint.number


def test_a_complaint_creates_an_exchange_it_waits_for(
    make_complaint: Callable[..., Complaint], agent: User, product: Product
) -> None:
    complaint = make_complaint(product_model=product.model)
    order = order_from_complaint(complaint=complaint, kind=Kind.EXCHANGE, actor=agent, via="desk")
    assert order.complaint == complaint and order.complaint_waits
    assert order.customer_id == complaint.customer_id and order.product == product


def test_repeat_detection_sees_earlier_orders_and_complaints(
    register: Callable[..., ServiceOrder], agent: User, product: Product, make_complaint: Callable[..., Complaint]
) -> None:
    complaint = make_complaint(product_model=product.model, phone="13900000001")
    complaint.resolved_at = NOW
    Complaint.objects.filter(pk=complaint.pk).update(resolved_at=NOW)
    first = register(kind=Kind.CONSULTATION, product_model=product.model, phone="13900000001")
    assert first.repeat_of_complaint == complaint
    order_transition(order=first, action="answer", actor=agent, via="desk", data={"resolution": "x"}, now=NOW)
    again = register(kind=Kind.REPAIR, product_model=product.model, phone="13900000001")
    assert again.repeat_of == first


def test_a_handler_may_not_register_nor_cancel(register: Callable[..., ServiceOrder], technician: User) -> None:
    with pytest.raises(PermissionDeniedError):
        register(kind=Kind.REPAIR, actor=technician)
    order = register(kind=Kind.REPAIR)
    with pytest.raises(PermissionDeniedError):
        order_transition(order=order, action="cancel", actor=technician, via="desk", data={"reason": "x"})


def test_dealer_reply_clock_counts_saturday(register: Callable[..., ServiceOrder]) -> None:
    """Seed 004: sent Friday 10:00, answered by Monday 10:00 — for service orders too."""
    order = register(kind=Kind.REPAIR, customer_kind="dealer", received_at=aware(2026, 11, 20, 10, 0))
    assert Deadline.objects.get(service_order=order, milestone="reply").due_at == aware(2026, 11, 23, 10, 0)
    end_user = register(kind=Kind.REPAIR, received_at=aware(2026, 11, 20, 10, 0))
    assert Deadline.objects.get(service_order=end_user, milestone="reply").due_at == aware(2026, 11, 24, 10, 0)


@pytest.mark.parametrize(
    ("bought", "received", "inside"),
    [
        (datetime.date(2025, 11, 20), datetime.date(2026, 11, 20), True),  # the last day covered
        (datetime.date(2025, 11, 19), datetime.date(2026, 11, 20), False),  # one day later
        (datetime.date(2024, 2, 29), datetime.date(2025, 2, 28), True),  # no 29 February: its month's end
        (datetime.date(2024, 2, 29), datetime.date(2025, 3, 1), False),
    ],
)
def test_warranty_edge_days(
    register: Callable[..., ServiceOrder],
    product: Product,
    bought: datetime.date,
    received: datetime.date,
    inside: bool,
) -> None:
    WarrantyTerm.objects.create(product=product, months=12)
    received_at = datetime.datetime.combine(received, datetime.time(9), tzinfo=NOW.tzinfo)
    order = register(kind=Kind.REPAIR, product_model=product.model, purchase_date=bought, received_at=received_at)
    assert order.in_warranty is inside
    # The rule as the desk shows it names the last day covered.
    assert order.warranty_until is not None and order.warranty_until.isoformat() in order.warranty_rule


def test_timeline_rows_are_append_only(register: Callable[..., ServiceOrder]) -> None:
    event = ServiceEvent.objects.get(order=register(kind=Kind.REPAIR))
    with pytest.raises(Exception):  # noqa: B017 — AppendOnlyError
        event.save()
