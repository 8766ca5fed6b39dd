"""Deadlines on records: started, met, cancelled, paused, resumed, recomputed, postponed.

Called by the complaint services inside their transactions; every change to a complaint's clocks is
written together with the event that explains it. `Complaint.next_due_at`/`next_warn_at` mirror the
nearest open deadline so that queues sort by time left on an index.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q

from closeloop.sla.calendar import WorkingCalendar, add, extend_for_pause, warning_at
from closeloop.sla.durations import Duration
from closeloop.sla.loader import calendar_for_row
from closeloop.sla.models import Deadline, Policy, PolicyRule, PolicyTarget

if TYPE_CHECKING:
    from closeloop.complaints.models import Complaint


def policy_for(*, customer_kind: str, product_line_id: int | None) -> Policy:
    """The first rule matching the complainant type and product line wins; else the default policy."""
    for rule in PolicyRule.objects.select_related("policy__calendar").order_by("order", "id"):
        if rule.customer_kind and rule.customer_kind != customer_kind:
            continue
        if rule.product_line_id and rule.product_line_id != product_line_id:
            continue
        return rule.policy
    return Policy.objects.select_related("calendar").get(is_default=True)


def policy_calendar(policy: Policy) -> WorkingCalendar:
    return calendar_for_row(policy.calendar)


def target_duration(policy: Policy, milestone: str, priority: int) -> str | None:
    target = PolicyTarget.objects.filter(policy=policy, milestone=milestone).first()
    return target.for_priority(priority) if target else None


def _compute(
    policy: Policy, calendar: WorkingCalendar, duration: str, start: datetime.datetime
) -> tuple[datetime.datetime, datetime.datetime]:
    parsed = Duration.parse(duration)
    return add(calendar, start, parsed), warning_at(calendar, start, parsed, float(policy.warning_fraction))


def deadlines_start(
    *,
    complaint: Complaint,
    milestones: Iterable[str],
    start: datetime.datetime,
    assignee: AbstractBaseUser | None = None,
) -> list[Deadline]:
    """Open a deadline per milestone (skipping ones already open or without a target)."""
    policy = complaint.sla_policy
    if policy is None:
        return []
    calendar = policy_calendar(policy)
    targets = {t.milestone: t for t in PolicyTarget.objects.filter(policy=policy, milestone__in=list(milestones))}
    already_open = set(
        Deadline.objects.filter(complaint=complaint, met_at__isnull=True).values_list("milestone", flat=True)
    )
    created = []
    for milestone in milestones:
        target = targets.get(milestone)
        if target is None or milestone in already_open:
            continue
        duration = target.for_priority(complaint.priority)
        due, warn = _compute(policy, calendar, duration, start)
        created.append(
            Deadline(
                complaint=complaint,
                milestone=milestone,
                policy=policy,
                duration=duration,
                assignee=assignee if assignee is not None and assignee.is_authenticated else None,
                started_at=start,
                due_at=due,
                warn_at=warn,
                paused_at=complaint.waiting_since,
            )
        )
    Deadline.objects.bulk_create(created)
    complaint_refresh_next_due(complaint=complaint)
    return created


def deadlines_close(
    *, complaint: Complaint, milestones: Iterable[str] | None, at: datetime.datetime, cancelled: bool = False
) -> int:
    """Mark open deadlines met (or cancelled, e.g. an invalid complaint). None means every open one."""
    qs = Deadline.objects.filter(complaint=complaint, met_at__isnull=True)
    if milestones is not None:
        qs = qs.filter(milestone__in=list(milestones))
    count = qs.update(met_at=at, cancelled=cancelled)
    if count:
        complaint_refresh_next_due(complaint=complaint)
    return count


def deadlines_pause(*, complaint: Complaint, at: datetime.datetime) -> None:
    Deadline.objects.filter(complaint=complaint, met_at__isnull=True, paused_at__isnull=True).update(paused_at=at)
    complaint_refresh_next_due(complaint=complaint)


def deadlines_resume(*, complaint: Complaint, at: datetime.datetime) -> list[dict[str, str]]:
    """Extend each paused deadline by the pause (sla.md, "pauses") and restart it."""
    changes = []
    paused = list(
        Deadline.objects.filter(complaint=complaint, met_at__isnull=True, paused_at__isnull=False).select_related(
            "policy__calendar"
        )
    )
    for deadline in paused:
        calendar = policy_calendar(deadline.policy)
        unit = Duration.parse(deadline.duration).unit
        assert deadline.paused_at is not None
        new_due = extend_for_pause(calendar, deadline.due_at, unit, deadline.paused_at, at)
        new_warn = extend_for_pause(calendar, deadline.warn_at, unit, deadline.paused_at, at)
        changes.append(
            {"milestone": deadline.milestone, "before": deadline.due_at.isoformat(), "after": new_due.isoformat()}
        )
        deadline.paused_seconds += int((at - deadline.paused_at).total_seconds())
        deadline.due_at, deadline.warn_at, deadline.paused_at = new_due, new_warn, None
    Deadline.objects.bulk_update(paused, ["due_at", "warn_at", "paused_at", "paused_seconds"])
    complaint_refresh_next_due(complaint=complaint)
    return changes


def deadlines_recompute(*, complaint: Complaint) -> list[dict[str, str]]:
    """After a priority change: each open deadline gets the new level's target from its own start.
    Warning and breach markers are cleared when the new due instant is later than when they fired."""
    changes = []
    policy = complaint.sla_policy
    if policy is None:
        return changes
    calendar = policy_calendar(policy)
    targets = {t.milestone: t for t in PolicyTarget.objects.filter(policy=policy)}
    open_deadlines = list(Deadline.objects.filter(complaint=complaint, met_at__isnull=True))
    for deadline in open_deadlines:
        target = targets.get(deadline.milestone)
        if target is None or deadline.original_due_at is not None:  # a postponed date stays as agreed
            continue
        duration = target.for_priority(complaint.priority)
        due, warn = _compute(policy, calendar, duration, deadline.started_at)
        if deadline.paused_seconds or deadline.paused_at:
            continue  # pauses already moved this deadline; keep it rather than lose the extension
        changes.append(
            {
                "milestone": deadline.milestone,
                "before": deadline.due_at.isoformat(),
                "after": due.isoformat(),
                "duration": duration,
            }
        )
        deadline.duration, deadline.due_at, deadline.warn_at = duration, due, warn
        if deadline.warned_at and deadline.warned_at < warn:
            deadline.warned_at = None
        if deadline.breached_at and deadline.breached_at < due:
            deadline.breached_at, deadline.escalation_level, deadline.escalated_at = None, 0, None
    Deadline.objects.bulk_update(
        open_deadlines,
        ["duration", "due_at", "warn_at", "warned_at", "breached_at", "escalation_level", "escalated_at"],
    )
    complaint_refresh_next_due(complaint=complaint)
    return changes


def complaint_refresh_next_due(*, complaint: Complaint) -> None:
    nearest = (
        Deadline.objects.filter(complaint=complaint, met_at__isnull=True, paused_at__isnull=True)
        .filter(~Q(milestone="progress"))
        .order_by("due_at")
        .values_list("due_at", "warn_at")
        .first()
    )
    next_due, next_warn = nearest if nearest else (None, None)
    if (complaint.next_due_at, complaint.next_warn_at) != (next_due, next_warn):
        complaint.next_due_at, complaint.next_warn_at = next_due, next_warn
        type(complaint).objects.filter(pk=complaint.pk).update(next_due_at=next_due, next_warn_at=next_warn)
