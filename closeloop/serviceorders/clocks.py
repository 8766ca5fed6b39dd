"""A service order's clocks: each step has a deadline and, once done, the person who did it.

The same engine as the complaint's: the SLA policy chosen by `sla.services.policy_for` (customer kind,
product line — so dealers and stores get the six-day week of seed 004), its targets for the reply, the
resolution and the follow-up, and the policy calendar's arithmetic. The logistics steps have targets
of their own below (the policies hold none for them).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from closeloop.calendar.working import add
from closeloop.core.types import User
from closeloop.serviceorders.models import Clock, ServiceOrder
from closeloop.sla.milestones import Milestone
from closeloop.sla.models import Policy
from closeloop.sla.services import policy_calendar, policy_targets

# Steps whose target is the SLA policy's (by priority).
POLICY_STEPS = {"reply": Milestone.REPLY, "resolution": Milestone.RESOLUTION, "followup": Milestone.FOLLOWUP}
# When the policy has no target for a step: the sla.md defaults.
FALLBACK = {"reply": "2wd", "resolution": "3wd", "followup": "2wd"}
# The logistics steps (decisions.md): the customer ships within 10 days of the authorisation, the
# carrier delivers within 7, the warehouse inspects in 2 working days and sends the replacement or
# refund in 2 more; a depot repair goes back within 5 working days of its arrival.
STEP_TARGETS = {"ship_in": "10d", "receive": "7d", "inspect": "2wd", "send_back": "2wd", "depot_repair": "5wd"}
AT_INTAKE = ("reply", "resolution")


def _target(policy: Policy | None, step: str, priority: int) -> str:
    if step in POLICY_STEPS and policy is not None:
        target = policy_targets(policy).get(POLICY_STEPS[step])
        if target is not None:
            return target.for_priority(priority)
    return STEP_TARGETS.get(step) or FALLBACK[step]


def clocks_plan(*, policy: Policy | None, priority: int, steps: Iterable[str], start: datetime.datetime) -> list[Clock]:
    """Unsaved clocks for `steps` from `start`, on the policy's calendar."""
    if policy is None:
        return []
    calendar = policy_calendar(policy)
    planned = []
    for step in steps:
        duration = _target(policy, step, priority)
        planned.append(Clock(step=step, duration=duration, started_at=start, due_at=add(calendar, start, duration)))
    return planned


def clocks_start(*, order: ServiceOrder, steps: Iterable[str], start: datetime.datetime) -> None:
    for clock in clocks_plan(policy=order.sla_policy, priority=order.priority, steps=steps, start=start):
        clock.order = order
        clock.save()


def clock_start_at(*, order: ServiceOrder, step: str, start: datetime.datetime, due: datetime.datetime) -> None:
    """A clock whose due instant is given (the visit: the end of the booked slot). A running one is replaced."""
    Clock.objects.filter(order=order, step=step, met_at__isnull=True).update(cancelled=True, met_at=start)
    Clock.objects.create(order=order, step=step, duration="", started_at=start, due_at=due)


def clocks_meet(*, order: ServiceOrder, steps: Iterable[str], by: User | None, now: datetime.datetime) -> None:
    Clock.objects.filter(order=order, step__in=list(steps), met_at__isnull=True).update(
        met_at=now, met_by=by if by is not None and by.is_authenticated else None
    )


def clocks_cancel(*, order: ServiceOrder, now: datetime.datetime) -> None:
    Clock.objects.filter(order=order, met_at__isnull=True).update(met_at=now, cancelled=True)


def next_due(order: ServiceOrder) -> datetime.datetime | None:
    return (
        Clock.objects.filter(order=order, met_at__isnull=True)
        .order_by("due_at")
        .values_list("due_at", flat=True)
        .first()
    )
