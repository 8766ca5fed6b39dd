"""Responsibility disputes (责任争议): a department contests a dispatch, quality adjudicates.

While quality adjudicates, the contested task's clocks are paused (`deadlines_pause(task=…)`): the
department is not blamed for quality's time. The time lost (raised → decided) is kept on the dispute
(`Dispute.time_lost`) and in the decision's event.

- Moved: the old task ends as MOVED (its clocks cancelled, `moved_to` set) and a task is born for the
  department quality names through `task_create` (fresh deadlines, handler left to that department's
  manager). If that department already has an active task on the complaint, the old task is moved
  onto it instead of doubling it. The complaint's responsible department follows when it was the old one.
- Upheld: the task returns to the status it had when contested (kept in the `dispute_raised` event)
  and its clocks resume, extended by the pause.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from closeloop import authz
from closeloop.complaints.events import event_record
from closeloop.complaints.models import Complaint, Event
from closeloop.complaints.selectors import complaints_visible_to
from closeloop.core.errors import DomainError
from closeloop.core.roles import Role
from closeloop.core.types import User
from closeloop.directory.models import Department
from closeloop.handling.lifecycle import DISPUTE_LIFECYCLE, TASK_LIFECYCLE
from closeloop.handling.models import ACTIVE_TASK_STATUSES, Dispute, DisputeStatus, Task, TaskStatus
from closeloop.handling.services.postponements import postponements_close_for_moved_task
from closeloop.handling.services.tasks import task_create
from closeloop.notifications import texts
from closeloop.notifications.services import Message, notifications_build, notifications_done, notifications_queue
from closeloop.sla.services import deadlines_close, deadlines_pause, deadlines_resume

# A department may contest a task it is still working on (not one already contested, replied or ended).
CONTESTABLE_TASK_STATUSES = (TaskStatus.DISPATCHED, TaskStatus.NEEDS_INFO, TaskStatus.IN_PROGRESS)


# --- who may do what ------------------------------------------------------------------------------


def dispute_may_raise(*, task: Task, user: User | None) -> bool:
    """The task's handler or a member (handler or manager) of its department; auditors never write."""
    return authz.allowed(user, "handling.raise_dispute", task)


def dispute_may_decide(*, user: User | None) -> bool:
    return authz.allowed(user, "handling.decide_dispute")


# --- reads ----------------------------------------------------------------------------------------


def disputes_visible_to(user: User) -> QuerySet[Dispute]:
    return Dispute.objects.filter(task__complaint__in=complaints_visible_to(user)).select_related(
        "task__complaint",
        "task__department",
        "task__handler",
        "raised_by",
        "suggested_department",
        "decided_by",
        "target_department",
        "new_task__department",
    )


def disputes_awaiting(*, user: User) -> QuerySet[Dispute]:
    """Pending disputes, for quality only (nobody else adjudicates)."""
    if not dispute_may_decide(user=user):
        return Dispute.objects.none()
    return disputes_visible_to(user).filter(status=DisputeStatus.PENDING).order_by("raised_at", "id")


# --- writes ---------------------------------------------------------------------------------------


def _notify(
    *,
    kind: str,
    subject: Promise,
    params: dict[str, Any],
    body: str,
    complaint_id: int,
    dedup: str,
    recipients: Iterable[User],
    now: datetime.datetime,
    todo: str = "",
) -> None:
    """A staff notice in each reader's language (`subject`: a lazy translation with `params`); the body is
    someone's own words, kept as written. No personal data in staff notifications."""
    notifications_queue(
        notifications_build(
            message=Message.words(
                kind=kind,
                subject=subject,
                body=body,
                params=params,
                complaint_id=complaint_id,
                dedup=dedup,
                todo=todo,
            ),
            recipients=list(recipients),
            now=now,
        )
    )


def _required_text(value: str, field: str) -> str:
    text = (value or "").strip()
    if not text:
        raise DomainError(_("This field is required."), field=field, code="required")
    return text


def dispute_raise(
    *,
    task: Task,
    reason: str,
    suggested_department: Department | None = None,
    actor: User,
    via: str,
    now: datetime.datetime | None = None,
) -> Dispute:
    """The department contests the dispatch: the task becomes contested, its clocks pause, quality is told."""
    now = now or timezone.now()
    TASK_LIFECYCLE.check_actor("contest", actor, task)
    reason = _required_text(reason, "reason")
    with transaction.atomic():
        locked = Complaint.objects.select_for_update(no_key=True).get(pk=task.complaint_id)
        task = Task.objects.select_related("department").get(pk=task.pk)
        TASK_LIFECYCLE.check_state(task, "contest")
        if suggested_department is not None and suggested_department.pk == task.department_id:
            raise DomainError(_("Suggest another department than the one contesting."), field="suggested_department")
        previous = task.status
        dispute = Dispute.objects.create(
            task=task, raised_by=actor, raised_at=now, reason=reason, suggested_department=suggested_department
        )
        TASK_LIFECYCLE.move(task, "contest", actor, checked=True)
        task.save(update_fields=["status"])
        deadlines_pause(complaint=locked, at=now, task=task)
        event_record(
            complaint=locked,
            action="dispute_raised",
            actor=actor,
            via=via,
            at=now,
            before={"task_status": previous},
            after={
                "dispute": dispute.pk,
                "task": task.pk,
                "department": task.department.code,
                "suggested_department": suggested_department.code if suggested_department else None,
                "task_status": task.status,
            },
            note=reason,
        )
        _notify(
            kind="dispute_raised",
            subject=gettext_lazy("%(department)s contests the dispatch of %(number)s: please adjudicate"),
            params={
                "department": texts.bilingual(task.department.name, task.department.name_en),
                "number": locked.number,
            },
            todo=f"dispute:{dispute.pk}",
            body=reason,
            complaint_id=locked.pk,
            dedup=f"dispute_raised:{dispute.pk}",
            recipients=authz.recipients.members_of_role(Role.QUALITY),
            now=now,
        )
    return dispute


def _status_before_dispute(dispute: Dispute, task: Task) -> str:
    """The task's status when it was contested, from the dispute_raised event; if the event cannot
    be read, in progress once verified, else dispatched."""
    events = Event.objects.filter(complaint_id=task.complaint_id, action="dispute_raised").order_by("-at", "-id")
    for event in events:
        if event.after.get("dispute") == dispute.pk:
            previous = event.before.get("task_status")
            if previous in CONTESTABLE_TASK_STATUSES:
                return str(previous)
            break
    return TaskStatus.IN_PROGRESS if task.verified_at else TaskStatus.DISPATCHED


def dispute_decide(
    *,
    dispute: Dispute,
    move_to: Department | None,
    note: str,
    actor: User,
    via: str,
    now: datetime.datetime | None = None,
) -> Dispute:
    """Quality names the responsible department. `move_to` None (or the task's own department)
    upholds the dispatch."""
    now = now or timezone.now()
    DISPUTE_LIFECYCLE.check_actor("uphold", actor)
    note = _required_text(note, "note")
    with transaction.atomic():
        locked = Complaint.objects.select_for_update(no_key=True).get(pk=dispute.task.complaint_id)
        dispute = Dispute.objects.select_related("task__department", "raised_by").get(pk=dispute.pk)
        task = dispute.task
        DISPUTE_LIFECYCLE.check_state(dispute, "uphold")
        if move_to is not None and not move_to.is_active:
            raise DomainError(_("This department is no longer active."), field="move_to")
        moving = move_to is not None and move_to.pk != task.department_id
        dispute.decided_by, dispute.decided_at, dispute.decision_note = actor, now, note
        after: dict[str, object] = {"dispute": dispute.pk, "task": task.pk}
        if moving:
            assert move_to is not None
            new_task = (
                Task.objects.filter(complaint=locked, department=move_to, status__in=ACTIVE_TASK_STATUSES)
                .exclude(pk=task.pk)
                .first()
            )
            if new_task is None:
                new_task = task_create(
                    complaint=locked,
                    department=move_to,
                    handler=None,  # that department's manager assigns it
                    actor=actor,
                    via=via,
                    now=now,
                    instruction=task.instruction,
                )
            deadlines_close(complaint=locked, milestones=None, at=now, cancelled=True, task=task)
            postponements_close_for_moved_task(task=task, actor=actor, via=via, now=now)
            # checked: the dispute's row was; the task is contested unless it was withdrawn meanwhile,
            # and the decision has always applied then too (docs/decisions.md, issue 13: lifecycles).
            TASK_LIFECYCLE.move(task, "move", actor, checked=True)
            task.ended_at, task.end_reason, task.moved_to = now, note, new_task
            task.save(update_fields=["status", "ended_at", "end_reason", "moved_to"])
            DISPUTE_LIFECYCLE.move(dispute, "move", actor, checked=True)
            dispute.target_department, dispute.new_task = move_to, new_task
            if locked.department_id == task.department_id:
                after["complaint_department"] = move_to.code
                locked.department = move_to
                locked.save(update_fields=["department", "updated_at"])
            after.update(target_department=move_to.code, new_task=new_task.pk)
        else:
            TASK_LIFECYCLE.move(task, f"uphold_{_status_before_dispute(dispute, task)}", actor, checked=True)
            task.save(update_fields=["status"])
            deadlines_resume(complaint=locked, at=now, task=task)
            if task.status == TaskStatus.NEEDS_INFO or locked.waiting_since is not None:
                # Still waiting (for information or for the customer): the clocks stay paused, from now.
                deadlines_pause(complaint=locked, at=now, task=task)
            DISPUTE_LIFECYCLE.move(dispute, "uphold", actor, checked=True)
            dispute.target_department = task.department
        dispute.save(
            update_fields=["status", "decided_by", "decided_at", "decision_note", "target_department", "new_task"]
        )
        after.update(
            outcome=dispute.status,
            task_status=task.status,
            time_lost_seconds=int(dispute.time_lost.total_seconds()),
        )
        event_record(
            complaint=locked,
            action="dispute_decided",
            actor=actor,
            via=via,
            at=now,
            before={"task_status": TaskStatus.CONTESTED, "department": task.department.code},
            after=after,
            note=note,
        )
        recipients = list(authz.recipients.active_managers_of_any([task.department_id, dispute.target_department_id]))
        recipients += [user for user in (task.handler, dispute.raised_by) if user is not None]
        if moving:
            # A move is a dispatch to a new department: the auditors are copied, as on every dispatch.
            recipients += list(authz.recipients.members_of_role(Role.AUDITOR))
            subject = gettext_lazy("Dispute on %(number)s: moved to %(department)s")
            department = dispute.target_department
        else:
            subject = gettext_lazy("Dispute on %(number)s: dispatch upheld, %(department)s keeps it")
            department = task.department
        # The notices asking quality to adjudicate are done, whoever decided.
        notifications_done(todo=f"dispute:{dispute.pk}", now=now)
        _notify(
            kind="dispute_decided",
            subject=subject,
            params={"number": locked.number, "department": texts.bilingual(department.name, department.name_en)},
            body=note,
            complaint_id=locked.pk,
            dedup=f"dispute_decided:{dispute.pk}",
            recipients=recipients,
            now=now,
        )
    return dispute
