"""The periodic SLA sweep's claims: warn at the warning point, escalate at the deadline and up the ladder.

Each step claims its rows with one conditional UPDATE (core.claims), so a warning or escalation is
recorded exactly once per deadline however many workers sweep at the same time. One sweep for every
subject of a deadline (a complaint and its tasks, a service order): what a claim means — the timeline
events and who is told — is the subject's `Recorder`, which the package owning the subject names with
`subject_recorder_add` in its AppConfig.ready() (complaints, serviceorders), so sla never imports them.
Recorders are called inside the claim's transaction: the markers, events and notifications of a batch
commit together. A subject without a recorder is not swept.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.module_loading import import_string

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


COMPLAINT = "complaint"
SERVICE_ORDER = "service_order"
# Which rows belong to a subject.
_SUBJECT_ROWS = {COMPLAINT: Q(complaint__isnull=False), SERVICE_ORDER: Q(service_order__isnull=False)}


@dataclass(frozen=True)
class ClaimedDeadline:
    """What the sweep needs of a claimed deadline (read as plain values: thousands at a time)."""

    pk: int
    complaint_id: int | None
    number: str  # the complaint's or the service order's
    department_id: int | None  # the task's department for a task's clock, else the complaint's or order's
    milestone: str
    due_at: datetime.datetime
    policy_id: int
    assignee_id: int | None
    service_order_id: int | None = None

    @property
    def subject(self) -> str:
        return SERVICE_ORDER if self.service_order_id is not None else COMPLAINT


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


# Subject → dotted path of a factory returning its Recorder (one per sweep: it may read who is told once).
SUBJECT_RECORDERS: dict[str, str] = {}


def subject_recorder_add(subject: str, path: str) -> None:
    if subject not in _SUBJECT_ROWS:
        raise ValueError(f"unknown deadline subject {subject!r}")
    SUBJECT_RECORDERS[subject] = path


def _recorders() -> dict[str, Recorder]:
    factories: dict[str, Callable[[], Recorder]] = {s: import_string(p) for s, p in SUBJECT_RECORDERS.items()}
    return {subject: factory() for subject, factory in factories.items()}


class _Dispatch:
    """Hands each claimed batch to its subjects' recorders; only rows of those subjects are swept."""

    def __init__(self, recorders: Mapping[str, Recorder]) -> None:
        self.recorders = recorders
        self.rows = Q(pk__in=[])  # no recorder: nothing is swept
        for subject in recorders:
            self.rows |= _SUBJECT_ROWS[subject]
        if set(recorders) == set(_SUBJECT_ROWS):
            self.rows = Q()  # every subject (the usual case): no condition beside the partial indexes'

    def __call__(
        self,
        deadlines: list[ClaimedDeadline],
        kind: str,
        now: datetime.datetime,
        *,
        level: int = 0,
        roles: list[str] | None = None,
    ) -> None:
        by_subject: dict[str, list[ClaimedDeadline]] = defaultdict(list)
        for deadline in deadlines:
            by_subject[deadline.subject].append(deadline)
        for subject, group in by_subject.items():
            self.recorders[subject](group, kind, now, level=level, roles=roles)


def _claimed_rows(ids: list[int]) -> list[ClaimedDeadline]:
    rows = Deadline.objects.filter(pk__in=ids).values_list(
        "id",
        "complaint_id",
        "complaint__number",
        "complaint__department_id",
        "task__department_id",
        "service_order_id",
        "service_order__number",
        "service_order__department_id",
        "milestone",
        "due_at",
        "policy_id",
        "assignee_id",
    )
    return [
        ClaimedDeadline(
            pk,
            complaint_id,
            number or order_number,
            task_dept or complaint_dept or order_dept,
            milestone,
            due,
            policy,
            assignee,
            order_id,
        )
        for (
            pk,
            complaint_id,
            number,
            complaint_dept,
            task_dept,
            order_id,
            order_number,
            order_dept,
            milestone,
            due,
            policy,
            assignee,
        ) in rows
    ]


def _sweep_warnings(now: datetime.datetime, record: _Dispatch) -> int:
    total = 0
    while True:
        ids = list(
            Deadline.objects.filter(
                record.rows, met_at__isnull=True, paused_at__isnull=True, warned_at__isnull=True, warn_at__lte=now
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


def _sweep_breaches(now: datetime.datetime, record: _Dispatch, policies: dict[int, Policy]) -> int:
    """At the deadline: breached, and the first rung of the ladder is notified."""
    total = 0
    while True:
        ids = list(
            Deadline.objects.filter(
                record.rows, met_at__isnull=True, paused_at__isnull=True, breached_at__isnull=True, due_at__lte=now
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


def _sweep_escalations(now: datetime.datetime, record: _Dispatch, policies: dict[int, Policy]) -> int:
    """Later rungs: `after` the due instant (calendar time, or working time on the policy's calendar)."""
    total = 0
    for policy in policies.values():
        ladder = _ladder(policy)
        calendar = calendar_for_row(policy.calendar)
        for step in ladder[1:]:
            level = int(step["level"])
            candidates = list(
                Deadline.objects.filter(
                    record.rows,
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


def deadlines_sweep(
    *, recorders: Mapping[str, Recorder] | None = None, now: datetime.datetime | None = None
) -> SweepResult:
    """Claim every deadline due a warning, a breach or a further escalation, and have its subject's
    recorder record each batch (`recorders`: subject → Recorder; by default those registered)."""
    now = now or timezone.now()
    record = _Dispatch(_recorders() if recorders is None else recorders)
    policies = {p.pk: p for p in Policy.objects.select_related("calendar")}
    result = SweepResult()
    result.warned = _sweep_warnings(now, record)
    result.breached = _sweep_breaches(now, record, policies)
    result.escalated = _sweep_escalations(now, record, policies)
    return result
