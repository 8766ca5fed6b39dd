"""Service orders on the one SLA engine: their clocks are sla.Deadline rows that the complaints' sweep
warns, breaches and escalates exactly once, with events on the order's timeline and the same people told."""

from __future__ import annotations

import datetime
from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from closeloop.complaints.models import Event
from closeloop.complaints.sweeps import sla_sweep
from closeloop.core.roles import Role
from closeloop.directory.models import Department
from closeloop.insight.kpis import Period, backlog, breaches_by_department
from closeloop.notifications.models import Method, Notification
from closeloop.serviceorders.lifecycle import Kind
from closeloop.serviceorders.models import ServiceEvent, ServiceOrder
from closeloop.serviceorders.services import order_transition
from closeloop.sla.models import Deadline
from tests.api.conftest import ApiClient
from tests.conftest import aware

from .conftest import NOW

pytestmark = pytest.mark.django_db


def sweep_events(order: ServiceOrder, milestone: str = "reply") -> list[tuple[str, int]]:
    return [
        (e.action, e.after["level"])
        for e in ServiceEvent.objects.filter(order=order, action__startswith="deadline_").order_by("id")
        if e.after["milestone"] == milestone
    ]


def told(user: User, kind: str) -> int:
    return Notification.objects.filter(recipient=user, kind=kind, method=Method.IN_APP).count()


def test_reply_clock_is_warned_breached_and_escalated_once_on_the_orders_timeline(
    register: Callable[..., ServiceOrder], agent: User, technician: User, make_user: Callable[..., User]
) -> None:
    tech = Department.objects.get(code="tech")
    manager = make_user(Role.DEPT_MANAGER, departments=[tech], manager=True)
    supervisor = make_user(Role.CS_SUPERVISOR)
    management = make_user(Role.MANAGEMENT)
    order = register(kind=Kind.REPAIR)
    order = order_transition(
        order=order,
        action="dispatch",
        actor=agent,
        via="desk",
        now=NOW,
        data={"department": "tech", "assignee": technician.username},
    )
    reply = Deadline.objects.get(service_order=order, milestone="reply")
    assert reply.assignee == technician  # the clock follows the order's assignee
    # Friday 10:00 + 2 working days on the five-day calendar: Tuesday 10:00, warned at 80 % of the time.
    assert reply.due_at == aware(2026, 11, 24, 10, 0)
    assert NOW < reply.warn_at < reply.due_at

    for _ in range(2):  # a second sweep at the same instant finds nothing left to claim
        sla_sweep(now=reply.warn_at)
    assert sweep_events(order) == [("deadline_warned", 0)]
    assert told(technician, "deadline_warned") == 1

    breached_at = reply.due_at + datetime.timedelta(minutes=1)
    first, second = sla_sweep(now=breached_at), sla_sweep(now=breached_at)
    assert first.breached >= 1 and second.breached == 0
    assert sweep_events(order) == [("deadline_warned", 0), ("deadline_breached", 1)]
    # The policy's first rung: the order's department's managers and the CS supervisors.
    assert told(manager, "deadline_breached") == told(supervisor, "deadline_breached") == 1
    assert told(management, "deadline_breached") == 0

    later = reply.due_at + datetime.timedelta(hours=4, minutes=1)  # second rung: 4 h after the due instant
    sla_sweep(now=later)
    sla_sweep(now=later)
    assert sweep_events(order) == [("deadline_warned", 0), ("deadline_breached", 1), ("deadline_escalated", 2)]
    assert told(management, "deadline_escalated") == 1
    reply.refresh_from_db()
    assert (reply.warned_at, reply.breached_at, reply.escalation_level) == (reply.warn_at, breached_at, 2)
    # The notice leads to the order's page; no complaint's timeline got an event.
    notice = Notification.objects.get(recipient=management, kind="deadline_escalated", method=Method.IN_APP)
    assert notice.target == reverse("serviceorders:detail", args=[order.number])
    assert not Event.objects.filter(action__startswith="deadline_").exists()


def test_a_met_clock_is_not_swept(register: Callable[..., ServiceOrder], agent: User) -> None:
    order = register(kind=Kind.CONSULTATION)
    order_transition(order=order, action="answer", actor=agent, via="desk", now=NOW, data={"resolution": "已解答"})
    result = sla_sweep(now=aware(2026, 12, 31, 10, 0))
    assert (
        not ServiceEvent.objects.filter(order=order, action__in=["deadline_warned", "deadline_breached"])
        .filter(after__milestone="reply")
        .exists()
    )
    # Only the follow-up clock the answer started is left to breach.
    assert set(
        Deadline.objects.filter(service_order=order, breached_at__isnull=False).values_list("milestone", flat=True)
    ) == {"followup"}
    assert result.breached == 1


def test_seed_004_dealers_order_counts_saturday_in_the_sweep(register: Callable[..., ServiceOrder]) -> None:
    """Friday 10:00 + 2 working days is Monday 10:00 for a dealer (six-day week), Tuesday for an end user:
    at Monday 10:01 the sweep breaches the dealer's reply clock and not the end user's."""
    dealer = register(kind=Kind.RETURN, customer_kind="dealer", received_at=NOW)
    end_user = register(kind=Kind.RETURN, received_at=NOW)
    assert dealer.sla_policy is not None and dealer.sla_policy.code == "six-day"
    sla_sweep(now=aware(2026, 11, 23, 10, 1))
    assert sweep_events(dealer)[-1] == ("deadline_breached", 1)
    assert ("deadline_breached", 1) not in sweep_events(end_user)
    assert Deadline.objects.get(service_order=end_user, milestone="reply").due_at == aware(2026, 11, 24, 10, 0)


def test_complaint_figures_do_not_count_service_order_clocks(register: Callable[..., ServiceOrder]) -> None:
    order = register(kind=Kind.REPAIR)
    sla_sweep(now=aware(2026, 12, 1, 10, 0))
    assert Deadline.objects.filter(service_order=order, breached_at__isnull=False).count() == 2
    assert backlog(now=aware(2026, 12, 1, 10, 0)) == []
    assert breaches_by_department(Period.month(2026, 12)) == []


def test_api_shows_the_orders_deadlines_with_their_state(
    register: Callable[..., ServiceOrder], agent_api: ApiClient
) -> None:
    order = register(kind=Kind.REPAIR)
    # Tuesday 14:13: reply (due 10:00) breached; resolution (3 working days, Wednesday 10:00) past its
    # warning point (80 % of 24 working hours from Friday 10:00: Tuesday 14:12).
    sla_sweep(now=aware(2026, 11, 24, 14, 13))
    body = agent_api.get(f"/api/v1/service-orders/{order.number}").json()
    deadlines = {d["milestone"]: d for d in body["deadlines"]}
    assert set(deadlines) == {"reply", "resolution"}
    assert deadlines["reply"]["state"] == "breached"
    # 4 h after its due instant: the second rung too
    assert deadlines["reply"]["breached_at"] is not None and deadlines["reply"]["escalation_level"] == 2
    assert deadlines["resolution"]["warned_at"] is not None and deadlines["resolution"]["breached_at"] is None
    assert deadlines["reply"]["duration"] == "2wd"
