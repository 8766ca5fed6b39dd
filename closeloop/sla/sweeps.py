"""The periodic SLA sweep's claims: warn at the warning point, escalate at the deadline and up the ladder.

Each step claims its rows with one conditional UPDATE (core.claims), so a warning or escalation is
recorded exactly once per deadline however many workers sweep at the same time. What a claim means —
the timeline events and who is told — is the caller's `record` (complaints.sweeps), called inside the
claim's transaction: the markers, events and notifications of a batch commit together.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Protocol

from django.db import transaction
from django.utils import timezone

from closeloop import authz
from closeloop.calendar.durations import Duration
from closeloop.calendar.working import add
from closeloop.core.claims import claim
from closeloop.sla.loader import calendar_for_row
from closeloop.sla.models import Deadline, Policy

BATCH = 1000
_OPEN = "met_at IS NULL AND paused_at IS NULL"


@dataclass
class SweepResult:
    warned: int = 0
    breached: int = 0
    escalated: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ClaimedDeadline:
    """What the sweep needs of a claimed deadline (read as plain values: thousands at a time)."""

    pk: int
    complaint_id: int
    number: str
    department_id: int | None  # the task's department for a task's clock, else the complaint's
    milestone: str
    due_at: datetime.datetime
    policy_id: int
    assignee_id: int | None


class Recorder(Protocol):
    def __call__(
        self,
        deadlines: list[ClaimedDeadline],
        kind: str,
        now: datetime.datetime,
        *,
        level: int = 0,
        roles: list[str] | None = None,
    ) -> None:
        """Record what the claim of `deadlines` means: `kind` is deadline_warned, deadline_breached or
        deadline_escalated; `roles` are the ladder's rung to tell (None for a warning)."""


def _claimed_rows(ids: list[int]) -> list[ClaimedDeadline]:
    rows = Deadline.objects.filter(pk__in=ids).values_list(
        "id",
        "complaint_id",
        "complaint__number",
        "complaint__department_id",
        "task__department_id",
        "milestone",
        "due_at",
        "policy_id",
        "assignee_id",
    )
    return [
        ClaimedDeadline(pk, complaint_id, number, task_dept or complaint_dept, milestone, due, policy, assignee)
        for pk, complaint_id, number, complaint_dept, task_dept, milestone, due, policy, assignee in rows
    ]


def _sweep_warnings(now: datetime.datetime, record: Recorder) -> int:
    total = 0
    while True:
        ids = list(
            Deadline.objects.filter(
                met_at__isnull=True, paused_at__isnull=True, warned_at__isnull=True, warn_at__lte=now
            ).values_list("id", flat=True)[:BATCH]
        )
        if not ids:
            return total
        with transaction.atomic():
            claimed = claim(Deadline, ids, assignments={"warned_at": now}, condition=f"warned_at IS NULL AND {_OPEN}")
            record(_claimed_rows(claimed), "deadline_warned", now)
        total += len(claimed)
        if len(ids) < BATCH:
            return total


def _ladder(policy: Policy) -> list[dict]:
    return sorted(policy.escalation or [], key=lambda step: int(step["level"]))


def _sweep_breaches(now: datetime.datetime, record: Recorder, policies: dict[int, Policy]) -> int:
    """At the deadline: breached, and the first rung of the ladder is notified."""
    total = 0
    while True:
        ids = list(
            Deadline.objects.filter(
                met_at__isnull=True, paused_at__isnull=True, breached_at__isnull=True, due_at__lte=now
            ).values_list("id", flat=True)[:BATCH]
        )
        if not ids:
            return total
        with transaction.atomic():
            claimed = claim(
                Deadline,
                ids,
                assignments={"breached_at": now, "escalation_level": 1, "escalated_at": now},
                condition=f"breached_at IS NULL AND {_OPEN}",
            )
            rows = _claimed_rows(claimed)
            by_policy: dict[int, list[ClaimedDeadline]] = defaultdict(list)
            for row in rows:
                by_policy[row.policy_id].append(row)
            for policy_id, group in by_policy.items():
                ladder = _ladder(policies[policy_id])
                roles = ladder[0]["roles"] if ladder else sorted(authz.ESCALATION_FALLBACK)
                record(group, "deadline_breached", now, level=1, roles=list(roles))
        total += len(claimed)
        if len(ids) < BATCH:
            return total


def _sweep_escalations(now: datetime.datetime, record: Recorder, policies: dict[int, Policy]) -> int:
    """Later rungs: `after` the due instant (calendar time, or working time on the policy's calendar)."""
    total = 0
    for policy in policies.values():
        ladder = _ladder(policy)
        calendar = calendar_for_row(policy.calendar)
        for step in ladder[1:]:
            level = int(step["level"])
            candidates = list(
                Deadline.objects.filter(
                    policy=policy,
                    met_at__isnull=True,
                    paused_at__isnull=True,
                    breached_at__isnull=False,
                    escalation_level=level - 1,
                    due_at__lte=now,
                ).values_list("id", "due_at")
            )
            after = Duration.parse(str(step["after"]))
            ready = [pk for pk, due in candidates if add(calendar, due, after) <= now]
            for offset in range(0, len(ready), BATCH):
                with transaction.atomic():
                    claimed = claim(
                        Deadline,
                        ready[offset : offset + BATCH],
                        assignments={"escalation_level": level, "escalated_at": now},
                        condition=f"escalation_level = %s AND {_OPEN}",
                        condition_params=[level - 1],
                    )
                    record(
                        _claimed_rows(claimed),
                        "deadline_escalated",
                        now,
                        level=level,
                        roles=list(step["roles"]),
                    )
                total += len(claimed)
    return total


def deadlines_sweep(*, record: Recorder, now: datetime.datetime | None = None) -> SweepResult:
    """Claim every deadline due a warning, a breach or a further escalation, and `record` each batch."""
    now = now or timezone.now()
    policies = {p.pk: p for p in Policy.objects.select_related("calendar")}
    result = SweepResult()
    result.warned = _sweep_warnings(now, record)
    result.breached = _sweep_breaches(now, record, policies)
    result.escalated = _sweep_escalations(now, record, policies)
    return result
