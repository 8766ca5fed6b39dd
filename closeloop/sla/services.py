"""Deadlines on records: started, met, cancelled, paused, resumed, recomputed, postponed.

Called by the complaint services inside their transactions; every change to a complaint's clocks is
written together with the event that explains it. `Complaint.next_due_at`/`next_warn_at` mirror the
nearest open deadline so that queues sort by time left on an index.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from fractions import Fraction
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from closeloop.calendar.durations import Duration
from closeloop.calendar.working import (
    WorkingCalendar,
    add,
    add_working_time,
    extend_for_pause,
    warning_at,
    working_time_between,
)
from closeloop.core import refcache
from closeloop.core.inserts import insert_rows
from closeloop.core.types import User
from closeloop.sla.loader import calendar_for_row
from closeloop.sla.milestones import Milestone
from closeloop.sla.models import Calendar, CalendarDay, Deadline, Policy, PolicyRule, PolicyTarget

if TYPE_CHECKING:
    from closeloop.complaints.models import Complaint
    from closeloop.handling.models import Task
    from closeloop.serviceorders.models import ServiceOrder


Rules = list[tuple[str, int | None, str, Policy]]


def _policy_snapshot() -> tuple[Rules, Policy, dict[int, dict[str, PolicyTarget]]]:
    rules = [
        (rule.customer_kind, rule.product_line_id, rule.service_kind, rule.policy)
        for rule in PolicyRule.objects.filter(is_active=True, policy__is_active=True)
        .select_related("policy__calendar")
        .order_by("order", "id")
    ]
    default = Policy.objects.select_related("calendar").get(is_default=True)
    targets: dict[int, dict[str, PolicyTarget]] = {}
    for target in PolicyTarget.objects.all():
        targets.setdefault(target.policy_id, {})[target.milestone] = target
    return rules, default, targets


def _snapshot() -> tuple[Rules, Policy, dict[int, dict[str, PolicyTarget]]]:
    return refcache.cached("sla-policies", _policy_snapshot)


def policy_for(*, customer_kind: str, product_line_id: int | None, service_kind: str = "") -> Policy:
    """The first rule matching the complainant type, product line and service-order kind wins; else the
    default policy. A complaint has no service kind (""): rules naming one never select for it."""
    rules, default, _targets = _snapshot()
    for rule_kind, rule_line, rule_service_kind, policy in rules:
        if rule_kind and rule_kind != customer_kind:
            continue
        if rule_line and rule_line != product_line_id:
            continue
        if rule_service_kind and rule_service_kind != service_kind:
            continue
        return policy
    return default


def policy_targets(policy: Policy) -> dict[str, PolicyTarget]:
    return _snapshot()[2].get(policy.pk, {})


def policy_calendar(policy: Policy) -> WorkingCalendar:
    return calendar_for_row(policy.calendar)


def _compute(
    policy: Policy, calendar: WorkingCalendar, duration: str, start: datetime.datetime
) -> tuple[datetime.datetime, datetime.datetime]:
    parsed = Duration.parse(duration)
    return add(calendar, start, parsed), warning_at(calendar, start, parsed, float(policy.warning_fraction))


def deadlines_plan(
    *,
    policy: Policy | None,
    priority: int,
    milestones: Iterable[str],
    start: datetime.datetime,
    assignee: User | None = None,
    paused_at: datetime.datetime | None = None,
    skip: set[str] | frozenset[str] = frozenset(),
) -> list[Deadline]:
    """Unsaved deadlines for `milestones` (those with a target in the policy, not in `skip`)."""
    if policy is None:
        return []
    calendar = policy_calendar(policy)
    targets = policy_targets(policy)
    planned = []
    for milestone in milestones:
        target = targets.get(milestone)
        if target is None or milestone in skip:
            continue
        duration = target.for_priority(priority)
        due, warn = _compute(policy, calendar, duration, start)
        planned.append(
            Deadline(
                milestone=milestone,
                policy=policy,
                duration=duration,
                assignee=assignee if assignee is not None and assignee.is_authenticated else None,
                started_at=start,
                due_at=due,
                warn_at=warn,
                paused_at=paused_at,
            )
        )
    return planned


def nearest_running(deadlines: Iterable[Deadline]) -> tuple[datetime.datetime | None, datetime.datetime | None]:
    """(due, warning point) of the nearest running deadline, to mirror on the complaint or task."""
    running = [d for d in deadlines if d.paused_at is None and d.met_at is None]
    nearest = min(running, key=lambda d: d.due_at) if running else None
    return (nearest.due_at, nearest.warn_at) if nearest else (None, None)


def deadlines_save_planned(*, complaint: Complaint, planned: list[Deadline]) -> list[Deadline]:
    """Store deadlines planned before the complaint existed (intake: its row already carries
    next_due_at from `nearest_running`, so nothing is re-read). Returns them, saved."""
    for deadline in planned:
        deadline.complaint = complaint
    insert_rows(planned)  # bulk_create's value preparation was most of this (core/inserts.py)
    return planned


def deadlines_start(
    *,
    complaint: Complaint,
    milestones: Iterable[str],
    start: datetime.datetime,
    assignee: User | None = None,
    task: Task | None = None,
) -> list[Deadline]:
    """Open a deadline per milestone for the complaint, or for one of its department tasks (skipping
    milestones already open there or without a target in the complaint's policy)."""
    milestones = list(milestones)
    already_open = set(
        Deadline.objects.filter(complaint=complaint, task=task, met_at__isnull=True).values_list("milestone", flat=True)
    )
    paused_since = complaint.waiting_since
    if task is not None and task.status == "needs_info":
        paused_since = paused_since or start
    created = deadlines_plan(
        policy=complaint.sla_policy,
        priority=complaint.priority,
        milestones=milestones,
        start=start,
        assignee=assignee,
        paused_at=paused_since,
        skip=already_open,
    )
    for deadline in created:
        deadline.complaint, deadline.task = complaint, task
    Deadline.objects.bulk_create(created)
    _refresh(complaint, task)
    return created


def _scope(complaint: Complaint, task: Task | None, include_tasks: bool) -> QuerySet[Deadline]:
    qs = Deadline.objects.filter(complaint=complaint, met_at__isnull=True)
    if task is not None:
        return qs.filter(task=task)
    return qs if include_tasks else qs.filter(task__isnull=True)


def _refresh(complaint: Complaint, task: Task | None, include_tasks: bool = False) -> None:
    if task is not None:
        task_refresh_next_due(task=task)
    elif include_tasks:
        for each in complaint.tasks.all():
            task_refresh_next_due(task=each)
    complaint_refresh_next_due(complaint=complaint)


def deadlines_close(
    *,
    complaint: Complaint,
    milestones: Iterable[str] | None,
    at: datetime.datetime,
    cancelled: bool = False,
    task: Task | None = None,
    include_tasks: bool = False,
) -> int:
    """Mark open deadlines met (or cancelled, e.g. an invalid complaint). `milestones=None` means every
    open one; the scope is the complaint's own clocks, one task's, or (include_tasks) all of them."""
    qs = _scope(complaint, task, include_tasks)
    if milestones is not None:
        qs = qs.filter(milestone__in=list(milestones))
    count = qs.update(met_at=at, cancelled=cancelled)
    if count and not cancelled:
        _record_worked_time(complaint, at)
    if count:
        _refresh(complaint, task, include_tasks)
    return count


# Milestones whose working time taken the reports show (first-response and resolution time).
TIMED_MILESTONES = (Milestone.FIRST_RESPONSE, Milestone.RESOLUTION)


def _record_worked_time(complaint: Complaint, at: datetime.datetime) -> None:
    """Store the working time taken by the complaint's first-response and resolution clocks just met."""
    met = list(
        Deadline.objects.filter(
            complaint=complaint,
            task__isnull=True,
            milestone__in=TIMED_MILESTONES,
            met_at=at,
            cancelled=False,
            worked_seconds__isnull=True,
        ).select_related("policy__calendar")
    )
    for deadline in met:
        calendar = policy_calendar(deadline.policy)
        taken = working_time_between(calendar, deadline.started_at, at).total_seconds()
        taken -= deadline.paused_work_seconds
        if deadline.paused_at is not None:  # met while paused: the ongoing pause is not working time either
            taken -= working_time_between(calendar, deadline.paused_at, at).total_seconds()
        deadline.worked_seconds = max(0, int(taken))
    if met:
        Deadline.objects.bulk_update(met, ["worked_seconds"])


def deadlines_pause(*, complaint: Complaint, at: datetime.datetime, task: Task | None = None) -> None:
    """Waiting for the customer pauses every clock of the complaint; a task waiting for information
    pauses only its own."""
    _scope(complaint, task, include_tasks=task is None).filter(paused_at__isnull=True).update(paused_at=at)
    _refresh(complaint, task, include_tasks=task is None)


def deadlines_resume(*, complaint: Complaint, at: datetime.datetime, task: Task | None = None) -> list[dict[str, str]]:
    """Extend each paused deadline by the pause (sla.md, "pauses") and restart it."""
    paused = list(
        _scope(complaint, task, include_tasks=task is None)
        .filter(paused_at__isnull=False)
        .select_related("policy__calendar")
    )
    changes = _extend_paused(paused, at)
    _refresh(complaint, task, include_tasks=task is None)
    return changes


def _extend_paused(paused: list[Deadline], at: datetime.datetime) -> list[dict[str, str]]:
    """Move each paused deadline's due instant and warning point by the pause, restart it; saved."""
    changes = []
    for deadline in paused:
        calendar = policy_calendar(deadline.policy)
        assert deadline.paused_at is not None
        if deadline.duration:
            unit = Duration.parse(deadline.duration).unit
            new_due = extend_for_pause(calendar, deadline.due_at, unit, deadline.paused_at, at)
            new_warn = extend_for_pause(calendar, deadline.warn_at, unit, deadline.paused_at, at)
        else:  # a clock due at a given instant (a service order's visit slot): moved by the pause's length
            new_due = deadline.due_at + (at - deadline.paused_at)
            new_warn = deadline.warn_at + (at - deadline.paused_at)
        changes.append(
            {"milestone": deadline.milestone, "before": deadline.due_at.isoformat(), "after": new_due.isoformat()}
        )
        deadline.paused_seconds += int((at - deadline.paused_at).total_seconds())
        deadline.paused_work_seconds += int(working_time_between(calendar, deadline.paused_at, at).total_seconds())
        deadline.due_at, deadline.warn_at, deadline.paused_at = new_due, new_warn, None
    Deadline.objects.bulk_update(paused, ["due_at", "warn_at", "paused_at", "paused_seconds", "paused_work_seconds"])
    return changes


def order_deadlines_pause(*, service_order: ServiceOrder, at: datetime.datetime) -> int:
    """A service order waiting for the customer or for parts: every open clock of it paused (the sweep
    leaves paused clocks alone). Returns how many."""
    return Deadline.objects.filter(service_order=service_order, met_at__isnull=True, paused_at__isnull=True).update(
        paused_at=at
    )


def order_deadlines_resume(*, service_order: ServiceOrder, at: datetime.datetime) -> list[dict[str, str]]:
    """The wait is over: each paused clock of the order is extended by the pause, as a complaint's."""
    paused = list(
        Deadline.objects.filter(service_order=service_order, met_at__isnull=True, paused_at__isnull=False)
        .select_related("policy__calendar")
        .order_by("id")
    )
    return _extend_paused(paused, at)


def deadlines_recompute(*, complaint: Complaint) -> list[dict[str, str]]:
    """After a priority change: each open deadline gets the new level's target from its own start.
    Warning and breach markers are cleared when the new due instant is later than when they fired."""
    changes: list[dict[str, str]] = []
    policy = complaint.sla_policy
    if policy is None:
        return changes
    calendar = policy_calendar(policy)
    targets = policy_targets(policy)
    open_deadlines = list(Deadline.objects.filter(complaint=complaint, met_at__isnull=True).select_related("task"))
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
    _refresh(complaint, None, include_tasks=True)
    return changes


def deadline_postpone(*, deadline: Deadline, new_due: datetime.datetime) -> datetime.datetime:
    """An approved postponement sets a new due instant; the first original one is kept for the reports
    that count it. The warning point moves to the same share of the new allowed working time, and
    warning/breach markers are cleared so the new deadline is watched afresh. Returns the old due."""
    old_due = deadline.due_at
    calendar = policy_calendar(deadline.policy)
    allowed = working_time_between(calendar, deadline.started_at, new_due)
    fraction = Fraction(str(deadline.policy.warning_fraction))
    warn = add_working_time(
        calendar, deadline.started_at, datetime.timedelta(seconds=int(fraction * int(allowed.total_seconds())))
    )
    if deadline.original_due_at is None:
        deadline.original_due_at = old_due
    deadline.due_at, deadline.warn_at = new_due, min(warn, new_due)
    deadline.warned_at = deadline.breached_at = deadline.escalated_at = None
    deadline.escalation_level = 0
    deadline.save(
        update_fields=[
            "original_due_at",
            "due_at",
            "warn_at",
            "warned_at",
            "breached_at",
            "escalated_at",
            "escalation_level",
        ]
    )
    if deadline.complaint is not None:  # a service order's postponement: its service refreshes next_due_at
        _refresh(deadline.complaint, deadline.task)
    return old_due


# The complaint's own clocks that wait on a department's reply: when its reply deadline is postponed,
# these move by the same working time (docs/decisions.md, issue 17). The customer's acknowledgement and
# first response do not wait on the department and stay.
REBASED_WITH_REPLY = (Milestone.RESOLUTION, Milestone.SECOND_RESULT)


def deadlines_rebase_for_postponement(
    *, complaint: Complaint, old_due: datetime.datetime, new_due: datetime.datetime
) -> list[dict[str, str]]:
    """A department's reply deadline moved from `old_due` to `new_due`: each open clock of the complaint
    in REBASED_WITH_REPLY moves by the working time between the two (as a pause extends a deadline), with
    `deadline_postpone`, so the first original due instant is kept for the reports. Returns what moved."""
    changes: list[dict[str, str]] = []
    open_clocks = (
        Deadline.objects.select_for_update(no_key=True, of=("self",))
        .select_related("policy__calendar", "complaint")
        .filter(complaint=complaint, task__isnull=True, milestone__in=REBASED_WITH_REPLY, met_at__isnull=True)
        .filter(cancelled=False)
    )
    for deadline in open_clocks:
        calendar = policy_calendar(deadline.policy)
        shift = working_time_between(calendar, old_due, new_due)
        if not shift:
            continue
        moved_to = add_working_time(calendar, deadline.due_at, shift)
        before = deadline_postpone(deadline=deadline, new_due=moved_to)
        changes.append({"milestone": deadline.milestone, "before": before.isoformat(), "after": moved_to.isoformat()})
    return changes


def task_refresh_next_due(*, task: Task) -> None:
    nearest = (
        Deadline.objects.filter(task=task, met_at__isnull=True, paused_at__isnull=True)
        .order_by("due_at")
        .values_list("due_at", "warn_at")
        .first()
    )
    next_due, next_warn = nearest if nearest else (None, None)
    if (task.next_due_at, task.next_warn_at) != (next_due, next_warn):
        task.next_due_at, task.next_warn_at = next_due, next_warn
        type(task).objects.filter(pk=task.pk).update(next_due_at=next_due, next_warn_at=next_warn)


def complaint_refresh_next_due(*, complaint: Complaint) -> None:
    nearest = (
        Deadline.objects.filter(complaint=complaint, task__isnull=True, met_at__isnull=True, paused_at__isnull=True)
        .order_by("due_at")
        .values_list("due_at", "warn_at")
        .first()
    )
    next_due, next_warn = nearest if nearest else (None, None)
    if (complaint.next_due_at, complaint.next_warn_at) != (next_due, next_warn):
        complaint.next_due_at, complaint.next_warn_at = next_due, next_warn
        type(complaint).objects.filter(pk=complaint.pk).update(next_due_at=next_due, next_warn_at=next_warn)


# --- calendars -------------------------------------------------------------------------------------------


class CalendarImportError(ValueError):
    """A row of an imported schedule could not be read; the message names the row."""


def calendar_import_parse(*, text: str, filename: str) -> list[tuple[datetime.date, bool, str]]:
    """Rows of a year's holidays and make-up days, from CSV (`date,working,reason`, working as 1/0,
    true/false, 上班/休息) or JSON (a list of {"date", "working", "reason"} objects, or
    {"holidays": [...dates], "workdays": [...dates]})."""
    import csv
    import io
    import json

    truthy = {"1", "true", "yes", "work", "working", "workday", "上班", "工作日", "班"}
    falsy = {"0", "false", "no", "holiday", "off", "rest", "休息", "假", "节假日", "休"}

    def parse_day(value: object, where: str) -> datetime.date:
        try:
            return datetime.date.fromisoformat(str(value).strip())
        except ValueError:
            raise CalendarImportError(f"{where}: {value!r} is not a date (YYYY-MM-DD)") from None

    def parse_flag(value: object, where: str) -> bool:
        if isinstance(value, bool):
            return value
        text_value = str(value).strip().lower()
        if text_value in truthy:
            return True
        if text_value in falsy:
            return False
        raise CalendarImportError(f"{where}: {value!r} is not working (1) or holiday (0)")

    rows: list[tuple[datetime.date, bool, str]] = []
    if filename.lower().endswith(".json"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise CalendarImportError(f"not valid JSON: {exc}") from None
        if isinstance(data, dict):
            rows += [(parse_day(d, "holidays"), False, "") for d in data.get("holidays", [])]
            rows += [(parse_day(d, "workdays"), True, "") for d in data.get("workdays", [])]
        elif isinstance(data, list):
            for index, item in enumerate(data, 1):
                where = f"item {index}"
                if not isinstance(item, dict) or "date" not in item:
                    raise CalendarImportError(f"{where}: expected an object with a date")
                rows.append(
                    (
                        parse_day(item["date"], where),
                        parse_flag(item.get("working", False), where),
                        str(item.get("reason", ""))[:100],
                    )
                )
        else:
            raise CalendarImportError("expected a list or an object with holidays/workdays")
    else:
        reader = csv.reader(io.StringIO(text))
        for number, record in enumerate(reader, 1):
            if not record or not record[0].strip() or record[0].strip().lower() in {"date", "日期"}:
                continue
            where = f"line {number}"
            if len(record) < 2:
                raise CalendarImportError(f"{where}: expected date,working[,reason]")
            rows.append(
                (
                    parse_day(record[0], where),
                    parse_flag(record[1], where),
                    (record[2].strip() if len(record) > 2 else "")[:100],
                )
            )
    if not rows:
        raise CalendarImportError("the file holds no dates")
    return rows


def calendar_days_set(
    *,
    calendar: Calendar,
    rows: Iterable[tuple[datetime.date, bool, str]],
    source: str,
    actor: User | None = None,
) -> int:
    """Set (or replace) override or imported days; every process sees the change on its next load."""
    rows = list(rows)
    with transaction.atomic():
        Calendar.objects.select_for_update(no_key=True).filter(pk=calendar.pk).get()
        CalendarDay.objects.filter(calendar=calendar, source=source, date__in=[r[0] for r in rows]).delete()
        CalendarDay.objects.bulk_create(
            [
                CalendarDay(
                    calendar=calendar,
                    date=day,
                    source=source,
                    is_working=working,
                    reason=reason,
                    created_by=actor if actor is not None and actor.is_authenticated else None,
                )
                for day, working, reason in rows
            ]
        )
        calendar.save(update_fields=["updated_at"])
    return len(rows)


def calendar_missing_years(*, calendar: Calendar, today: datetime.date | None = None) -> list[int]:
    """Years (this one and the next) without a statutory or imported schedule: admins are warned."""
    today = today or timezone.localdate()
    working = calendar_for_row(calendar)
    return working.missing_years(today, datetime.date(today.year + 1, 12, 31))
