"""The SLA sweep: sla.sweeps claims the deadlines due, this module records each claim of a complaint's
deadline on the complaint's timeline and tells the people it concerns (the assignee or the supervisors
at the warning point, the policy's escalation ladder at and after the deadline), in the claim's
transaction. `DeadlineRecorder` is the part every subject shares (who is told, one message or a
digest); a subject above complaints (serviceorders.sweeps) subclasses it for its own timeline.
"""

from __future__ import annotations

import datetime
from functools import cached_property
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy

from closeloop.authz import recipients
from closeloop.complaints.events import events_insert_many
from closeloop.complaints.models import Via
from closeloop.core.roles import Role
from closeloop.notifications.services import Message, notifications_build, notifications_queue
from closeloop.sla.milestones import Milestone
from closeloop.sla.sweeps import ClaimedDeadline, SweepResult, deadlines_sweep


class _Recipients:
    """Who is told, resolved once per sweep: role members and department managers."""

    def __init__(self) -> None:
        self.by_role, self.by_id = recipients.members_by_role()
        self.managers = recipients.active_managers_by_department()

    def _assignee(self, deadline: ClaimedDeadline) -> list:
        if deadline.assignee_id is None:
            return []
        if deadline.assignee_id not in self.by_id:  # an assignee without a role: rare, read once
            user = get_user_model().objects.filter(pk=deadline.assignee_id, is_active=True).first()
            self.by_id[deadline.assignee_id] = user
        user = self.by_id[deadline.assignee_id]
        return [user] if user is not None else []

    def for_roles(self, roles: list[str], deadline: ClaimedDeadline) -> list:
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

    def for_warning(self, deadline: ClaimedDeadline) -> list:
        return self._assignee(deadline) or self.by_role.get(Role.CS_SUPERVISOR, [])


def deadline_message(deadline: ClaimedDeadline, kind: str, level: int = 0, *, link: str = "") -> Message:
    params = {
        "number": deadline.number,
        "milestone": Milestone(deadline.milestone).label,  # lazy: a word shown in the reader's language
        "due": timezone.localtime(deadline.due_at).strftime("%Y-%m-%d %H:%M"),
        "level": level,
    }
    if kind == "deadline_warned":
        subject = gettext_lazy("%(number)s: %(milestone)s is due at %(due)s")
    elif kind == "deadline_breached":
        subject = gettext_lazy("%(number)s: %(milestone)s is overdue (was due %(due)s)")
    else:
        subject = gettext_lazy("%(number)s: escalated (level %(level)s) — %(milestone)s overdue since %(due)s")
    # No personal data in staff notifications: the number links to the complaint's (or `link`) page.
    return Message.words(
        kind=kind,
        subject=subject,
        params=params,
        complaint_id=deadline.complaint_id,
        link=link,
        dedup=f"{kind}:{deadline.pk}:{level}",
    )


# Past this many deadlines for one person in one sweep, they get one digest instead of one message each:
# after an outage nobody should find thousands of e-mails.
DIGEST_AFTER = 3
DIGEST_LISTS = 50


def _digest(kind: str, level: int, deadlines: list[ClaimedDeadline], now: datetime.datetime) -> Message:
    numbers = [d.number for d in deadlines]
    shown = ", ".join(numbers[:DIGEST_LISTS]) + (" …" if len(numbers) > DIGEST_LISTS else "")
    if kind == "deadline_warned":
        subject = gettext_lazy("%(count)s complaints reach their warning point")
    elif kind == "deadline_breached":
        subject = gettext_lazy("%(count)s complaints are overdue")
    else:
        subject = gettext_lazy("%(count)s overdue complaints escalated (level %(level)s)")
    return Message.words(
        kind=kind,
        subject=subject,
        body=shown,
        params={"count": len(numbers), "level": level},
        dedup=f"{kind}:digest:{level}:{now.isoformat()}",
    )


class DeadlineRecorder:
    """sla.sweeps.Recorder for complaints; the people who may be told are read once per sweep.
    Another subject overrides `events_write`, `message` and `digest`."""

    @cached_property
    def recipients(self) -> _Recipients:
        # Read on the first claim of the sweep: a sweep with nothing of this subject to record reads nobody.
        return _Recipients()

    def events_write(self, deadlines: list[ClaimedDeadline], kind: str, now: datetime.datetime, level: int) -> None:
        events_insert_many(
            [
                {
                    "complaint_id": deadline.complaint_id,
                    "at": now,
                    "via": Via.SYSTEM,
                    "action": kind,
                    "after": {"milestone": deadline.milestone, "due_at": deadline.due_at.isoformat(), "level": level},
                }
                for deadline in deadlines
            ]
        )

    def message(self, deadline: ClaimedDeadline, kind: str, level: int) -> Message:
        return deadline_message(deadline, kind, level)

    def digest(self, kind: str, level: int, deadlines: list[ClaimedDeadline], now: datetime.datetime) -> Message:
        return _digest(kind, level, deadlines, now)

    def __call__(
        self,
        deadlines: list[ClaimedDeadline],
        kind: str,
        now: datetime.datetime,
        *,
        level: int = 0,
        roles: list[str] | None = None,
    ) -> None:
        """One timeline event per deadline; for the people told, one message per deadline or, when a
        sweep finds many for the same person, one digest listing them."""
        per_person: dict[int, tuple[Any, list[ClaimedDeadline]]] = {}
        for deadline in deadlines:
            people = (
                self.recipients.for_warning(deadline) if roles is None else self.recipients.for_roles(roles, deadline)
            )
            for person in people:
                per_person.setdefault(person.pk, (person, []))[1].append(deadline)
        self.events_write(deadlines, kind, now, level)
        notifications = []
        for person, theirs in per_person.values():
            if len(theirs) > DIGEST_AFTER:
                notifications.extend(
                    notifications_build(message=self.digest(kind, level, theirs, now), recipients=[person], now=now)
                )
            else:
                for deadline in theirs:
                    notifications.extend(
                        notifications_build(message=self.message(deadline, kind, level), recipients=[person], now=now)
                    )
        notifications_queue(notifications)


def sla_sweep(*, now: datetime.datetime | None = None) -> SweepResult:
    """Warn, breach and escalate every deadline that is due — complaints', tasks' and those of the
    subjects other packages registered (service orders) — in one sweep (a Huey periodic task,
    complaints.tasks.sla_sweep_task, every minute)."""
    now = now or timezone.now()
    with translation.override(settings.LANGUAGE_CODE):
        return deadlines_sweep(now=now)
