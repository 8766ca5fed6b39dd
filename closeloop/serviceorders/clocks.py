"""A service order's clocks: `sla.Deadline` rows of the order, the complaint's engine.

The SLA policy is chosen by `sla.services.policy_for` (customer kind, product line — so dealers and
stores get the six-day week of seed 004), the target per milestone and priority is the policy's
(reply, resolution and follow-up as for complaints; the logistics steps are milestones of their own,
sla/milestones.py), due instant and warning point come from `sla.services.deadlines_plan` on the
policy's calendar, and the one SLA sweep warns, breaches and escalates them (serviceorders/sweeps.py
records what that means on the order's timeline). A step met records who met it.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from closeloop.core.types import User
from closeloop.serviceorders.models import ServiceOrder
from closeloop.sla.milestones import Milestone
from closeloop.sla.models import Deadline, Policy
from closeloop.sla.services import deadlines_plan

AT_INTAKE = (Milestone.REPLY, Milestone.RESOLUTION)
# A visit is due at its slot's end; its warning point is the slot's start (the technician should be there).
VISIT_SLOT = datetime.timedelta(hours=2)


def clocks_plan(
    *,
    policy: Policy | None,
    priority: int,
    steps: Iterable[str],
    start: datetime.datetime,
    assignee: User | None = None,
) -> list[Deadline]:
    """Unsaved deadlines for `steps` (milestones with a target in the policy) from `start`."""
    return deadlines_plan(policy=policy, priority=priority, milestones=steps, start=start, assignee=assignee)


def clocks_start(*, order: ServiceOrder, steps: Iterable[str], start: datetime.datetime) -> list[Deadline]:
    """Open a deadline per step, skipping one already running (at most one open per milestone)."""
    running = set(Deadline.objects.filter(service_order=order, met_at__isnull=True).values_list("milestone", flat=True))
    planned = clocks_plan(
        policy=order.sla_policy,
        priority=order.priority,
        steps=[s for s in steps if s not in running],
        start=start,
        assignee=order.assignee,
    )
    for deadline in planned:
        deadline.service_order = order
    return Deadline.objects.bulk_create(planned)


def clock_start_at(*, order: ServiceOrder, step: str, start: datetime.datetime, due: datetime.datetime) -> None:
    """A clock whose due instant is given (the visit: the end of the booked slot). A running one is
    cancelled first (a re-booking)."""
    if order.sla_policy is None:
        return
    Deadline.objects.filter(service_order=order, milestone=step, met_at__isnull=True).update(
        cancelled=True, met_at=start
    )
    Deadline.objects.create(
        service_order=order,
        milestone=step,
        policy=order.sla_policy,
        duration="",
        assignee=order.assignee,
        started_at=start,
        due_at=due,
        warn_at=max(start, due - VISIT_SLOT),
    )


def clocks_meet(*, order: ServiceOrder, steps: Iterable[str], by: User | None, now: datetime.datetime) -> None:
    Deadline.objects.filter(service_order=order, milestone__in=list(steps), met_at__isnull=True).update(
        met_at=now, met_by=by if by is not None and by.is_authenticated else None
    )


def clocks_cancel(*, order: ServiceOrder, now: datetime.datetime) -> None:
    Deadline.objects.filter(service_order=order, met_at__isnull=True).update(met_at=now, cancelled=True)


def clocks_follow_assignee(*, order: ServiceOrder) -> None:
    """The open clocks follow the order's assignee (dispatch, booking): the sweep warns whoever holds it."""
    Deadline.objects.filter(service_order=order, met_at__isnull=True).exclude(assignee_id=order.assignee_id).update(
        assignee=order.assignee
    )


def next_due(order: ServiceOrder) -> datetime.datetime | None:
    """The nearest running clock (paused ones wait, as a complaint's: the queue sorts it last)."""
    return (
        Deadline.objects.filter(service_order=order, met_at__isnull=True, paused_at__isnull=True)
        .order_by("due_at")
        .values_list("due_at", flat=True)
        .first()
    )
