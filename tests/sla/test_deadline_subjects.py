"""A deadline belongs to exactly one subject (a complaint or a service order); the sweep hands each
subject's rows to that subject's recorder and leaves a subject without one alone."""

from __future__ import annotations

import datetime
from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction

from closeloop.complaints.models import Complaint
from closeloop.serviceorders.models import ServiceOrder
from closeloop.serviceorders.services import OrderData, order_register
from closeloop.sla.milestones import Milestone
from closeloop.sla.models import Deadline, Policy
from closeloop.sla.sweeps import COMPLAINT, ClaimedDeadline, deadlines_sweep
from tests.conftest import aware

pytestmark = pytest.mark.django_db
FRIDAY = aware(2026, 11, 20, 10, 0)


@pytest.fixture
def order(agent: User) -> ServiceOrder:
    data = OrderData(
        kind="repair",
        channel="hotline",
        customer_name="王芳",
        phone="13700000001",
        description="吸顶灯闪烁",
        received_at=FRIDAY,
    )
    return order_register(data=data, actor=agent, via="desk", now=FRIDAY)


def _row(**subject: object) -> Deadline:
    return Deadline(
        milestone=Milestone.VISIT,
        policy=Policy.objects.get(is_default=True),
        duration="",
        started_at=FRIDAY,
        due_at=FRIDAY + datetime.timedelta(hours=2),
        warn_at=FRIDAY,
        **subject,
    )


def test_exactly_one_subject(order: ServiceOrder, make_complaint: Callable[..., Complaint]) -> None:
    complaint = make_complaint()
    with pytest.raises(IntegrityError), transaction.atomic():
        _row().save()
    with pytest.raises(IntegrityError), transaction.atomic():
        _row(service_order=order, complaint=complaint).save()
    _row(service_order=order).save()
    _row(complaint=complaint).save()


def test_one_open_deadline_per_service_order_milestone(order: ServiceOrder) -> None:
    _row(service_order=order).save()
    with pytest.raises(IntegrityError), transaction.atomic():
        _row(service_order=order).save()
    Deadline.objects.filter(service_order=order, milestone=Milestone.VISIT).update(met_at=FRIDAY)
    _row(service_order=order).save()  # a new one once the first is closed


def test_every_policy_has_the_logistics_targets() -> None:
    logistics = {Milestone.SHIP_IN, Milestone.RECEIVE, Milestone.INSPECT, Milestone.SEND_BACK, Milestone.DEPOT_REPAIR}
    for policy in Policy.objects.all():
        assert logistics <= set(policy.targets.values_list("milestone", flat=True)), policy.code


def test_a_subject_without_a_recorder_is_not_swept(order: ServiceOrder) -> None:
    seen: list[ClaimedDeadline] = []

    def complaints_only(deadlines: list[ClaimedDeadline], kind: str, now: datetime.datetime, **_: object) -> None:
        seen.extend(deadlines)

    result = deadlines_sweep(recorders={COMPLAINT: complaints_only}, now=aware(2026, 12, 31, 10, 0))
    assert (result.warned, result.breached, seen) == (0, 0, [])
    assert not Deadline.objects.filter(service_order=order, warned_at__isnull=False).exists()
    # With the registered recorders (complaints' and service orders') the order's two clocks are claimed.
    result = deadlines_sweep(now=aware(2026, 12, 31, 10, 0))
    assert (result.warned, result.breached) == (2, 2)
