"""The periodic SLA sweep: warn at the warning point, escalate at the deadline and up the ladder.

Each step claims its rows with one conditional UPDATE (core.claims), so a warning or escalation is
recorded exactly once per deadline however many workers sweep at the same time. The markers, the
timeline events and the notifications of a batch commit together.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from closeloop.calendar.durations import Duration
from closeloop.calendar.working import add
from closeloop.complaints.events import events_insert_many
from closeloop.complaints.models import Via
from closeloop.core.claims import claim
from closeloop.core.roles import Role
from closeloop.directory.models import Membership
from closeloop.notifications.services import Message, notifications_build, notifications_queue
from closeloop.sla.loader import calendar_for_row
from closeloop.sla.milestones import Milestone
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
class _Claimed:
    """What the sweep needs of a claimed deadline (read as plain values: thousands at a time)."""

    pk: int
    complaint_id: int
    number: str
    department_id: int | None  # the task's department for a task's clock, else the complaint's
    milestone: str
    due_at: datetime.datetime
    policy_id: int
    assignee_id: int | None


class _Recipients:
    """Who is told, resolved once per sweep: role members and department managers."""

    def __init__(self) -> None:
        user_model = get_user_model()
        self.by_role: dict[str, list] = defaultdict(list)
        self.by_id: dict[int, Any] = {}
        users = user_model.objects.filter(is_active=True, groups__name__in=[r.value for r in Role]).distinct()
        for user in users.prefetch_related("groups"):
            self.by_id[user.pk] = user
            for group in user.groups.all():
                self.by_role[group.name].append(user)
        self.managers: dict[int, list] = defaultdict(list)
        for membership in Membership.objects.filter(is_manager=True, user__is_active=True).select_related("user"):
            self.managers[membership.department_id].append(membership.user)

    def _assignee(self, deadline: _Claimed) -> list:
        if deadline.assignee_id is None:
            return []
        if deadline.assignee_id not in self.by_id:  # an assignee without a role: rare, read once
            user = get_user_model().objects.filter(pk=deadline.assignee_id, is_active=True).first()
            self.by_id[deadline.assignee_id] = user
        user = self.by_id[deadline.assignee_id]
        return [user] if user is not None else []

    def for_roles(self, roles: list[str], deadline: _Claimed) -> list:
        people = []
        for role in roles:
            if role == Role.DEPT_MANAGER:
                # A task's deadline escalates to the task department's managers.
                people.extend(self.managers.get(deadline.department_id or 0, []))
            elif role == "assignee":
                people.extend(self._assignee(deadline))
            else:
                people.extend(self.by_role.get(role, []))
        return people

    def for_warning(self, deadline: _Claimed) -> list:
        return self._assignee(deadline) or self.by_role.get(Role.CS_SUPERVISOR, [])


def _message(deadline: _Claimed, kind: str, level: int = 0) -> Message:
    milestone = Milestone(deadline.milestone).label
    due = timezone.localtime(deadline.due_at).strftime("%Y-%m-%d %H:%M")
    if kind == "deadline_warned":
        subject = _("%(number)s: %(milestone)s is due at %(due)s") % {
            "number": deadline.number,
            "milestone": milestone,
            "due": due,
        }
    elif kind == "deadline_breached":
        subject = _("%(number)s: %(milestone)s is overdue (was due %(due)s)") % {
            "number": deadline.number,
            "milestone": milestone,
            "due": due,
        }
    else:
        subject = _("%(number)s: escalated (level %(level)s) — %(milestone)s overdue since %(due)s") % {
            "number": deadline.number,
            "level": level,
            "milestone": milestone,
            "due": due,
        }
    # No personal data in staff notifications: the number links to the complaint page.
    return Message(
        kind=kind,
        subject=subject,
        body=subject,
        complaint_id=deadline.complaint_id,
        dedup=f"{kind}:{deadline.pk}:{level}",
    )


# Past this many deadlines for one person in one sweep, they get one digest instead of one message each:
# after an outage nobody should find thousands of e-mails.
DIGEST_AFTER = 3
DIGEST_LISTS = 50


def _digest(kind: str, level: int, deadlines: list[_Claimed], now: datetime.datetime) -> Message:
    numbers = [d.number for d in deadlines]
    shown = ", ".join(numbers[:DIGEST_LISTS]) + (" …" if len(numbers) > DIGEST_LISTS else "")
    if kind == "deadline_warned":
        subject = _("%(count)s complaints reach their warning point") % {"count": len(numbers)}
    elif kind == "deadline_breached":
        subject = _("%(count)s complaints are overdue") % {"count": len(numbers)}
    else:
        subject = _("%(count)s overdue complaints escalated (level %(level)s)") % {
            "count": len(numbers),
            "level": level,
        }
    return Message(kind=kind, subject=subject, body=shown, dedup=f"{kind}:digest:{level}:{now.isoformat()}")


def _record(
    deadlines: list[_Claimed],
    kind: str,
    now: datetime.datetime,
    recipients: _Recipients,
    level: int = 0,
    roles: list[str] | None = None,
) -> None:
    """One timeline event per deadline; for the people told, one message per deadline or, when a sweep
    finds many for the same person, one digest listing them."""
    events = []
    per_person: dict[int, tuple[Any, list[_Claimed]]] = {}
    for deadline in deadlines:
        events.append(
            {
                "complaint_id": deadline.complaint_id,
                "at": now,
                "via": Via.SYSTEM,
                "action": kind,
                "after": {"milestone": deadline.milestone, "due_at": deadline.due_at.isoformat(), "level": level},
            }
        )
        people = recipients.for_warning(deadline) if roles is None else recipients.for_roles(roles, deadline)
        for person in people:
            per_person.setdefault(person.pk, (person, []))[1].append(deadline)
    events_insert_many(events)
    notifications = []
    for person, theirs in per_person.values():
        if len(theirs) > DIGEST_AFTER:
            notifications.extend(
                notifications_build(message=_digest(kind, level, theirs, now), recipients=[person], now=now)
            )
        else:
            for deadline in theirs:
                notifications.extend(
                    notifications_build(message=_message(deadline, kind, level), recipients=[person], now=now)
                )
    notifications_queue(notifications)


def _claimed_rows(ids: list[int]) -> list[_Claimed]:
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
        _Claimed(pk, complaint_id, number, task_department or complaint_department, milestone, due, policy, assignee)
        for pk, complaint_id, number, complaint_department, task_department, milestone, due, policy, assignee in rows
    ]


def _sweep_warnings(now: datetime.datetime, recipients: _Recipients) -> int:
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
            _record(_claimed_rows(claimed), "deadline_warned", now, recipients)
        total += len(claimed)
        if len(ids) < BATCH:
            return total


def _ladder(policy: Policy) -> list[dict]:
    return sorted(policy.escalation or [], key=lambda step: int(step["level"]))


def _sweep_breaches(now: datetime.datetime, recipients: _Recipients, policies: dict[int, Policy]) -> int:
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
            by_policy: dict[int, list[_Claimed]] = defaultdict(list)
            for row in rows:
                by_policy[row.policy_id].append(row)
            for policy_id, group in by_policy.items():
                ladder = _ladder(policies[policy_id])
                roles = ladder[0]["roles"] if ladder else [Role.CS_SUPERVISOR.value]
                _record(group, "deadline_breached", now, recipients, level=1, roles=list(roles))
        total += len(claimed)
        if len(ids) < BATCH:
            return total


def _sweep_escalations(now: datetime.datetime, recipients: _Recipients, policies: dict[int, Policy]) -> int:
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
                    _record(
                        _claimed_rows(claimed),
                        "deadline_escalated",
                        now,
                        recipients,
                        level=level,
                        roles=list(step["roles"]),
                    )
                total += len(claimed)
    return total


def sla_sweep(*, now: datetime.datetime | None = None) -> SweepResult:
    now = now or timezone.now()
    with translation.override(settings.LANGUAGE_CODE):
        recipients = _Recipients()
        policies = {p.pk: p for p in Policy.objects.select_related("calendar")}
        result = SweepResult()
        result.warned = _sweep_warnings(now, recipients)
        result.breached = _sweep_breaches(now, recipients, policies)
        result.escalated = _sweep_escalations(now, recipients, policies)
    return result
