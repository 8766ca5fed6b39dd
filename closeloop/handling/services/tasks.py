"""Department tasks: dispatch, verification, information requests, contacts, progress, replies.

`task_create` is the one place a task is born (dispatch, redispatch, a dispute moving it), with its
SLA clocks. Every other function here is one action: check who may do it and in which state, then
change the task (and the complaint when the lifecycle says so) inside one transaction with the
complaint row locked, write the event, and queue the staff notifications in the same transaction.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from closeloop import authz
from closeloop.complaints.events import event_record
from closeloop.complaints.lifecycle import TRANSITIONS, Status
from closeloop.complaints.models import Complaint
from closeloop.complaints.services import transition_apply, transition_check
from closeloop.core.errors import DomainError, PermissionDeniedError, TransitionNotAllowed, ValidationFailed
from closeloop.core.roles import Role
from closeloop.core.types import User
from closeloop.directory.models import Department, Membership
from closeloop.handling.lifecycle import TASK_LIFECYCLE
from closeloop.handling.models import (
    ACTIVE_TASK_STATUSES,
    ContactChannel,
    ContactLog,
    ContactOutcome,
    ProgressEntry,
    Task,
    TaskStatus,
)
from closeloop.notifications import texts
from closeloop.notifications.services import Message, notifications_build, notifications_queue
from closeloop.sla.milestones import Milestone
from closeloop.sla.models import Deadline
from closeloop.sla.services import deadlines_close, deadlines_pause, deadlines_resume, deadlines_start

# The milestones every task starts with; departments with `has_analysis_target` also owe an analysis.
TASK_MILESTONES = (Milestone.VERIFY, Milestone.REPLY, Milestone.PROGRESS)

# A redispatch adds departments to a complaint already being handled; its status does not change.
REDISPATCH_STATUSES = frozenset({Status.DISPATCHED, Status.IN_PROGRESS})
# A contact may be written in the future by a few minutes of clock skew, never more.
CONTACT_CLOCK_SKEW = datetime.timedelta(minutes=5)
# Domain rule 4: a task without a progress entry for this long is stale (the `progress` target).
STALE_AFTER = datetime.timedelta(hours=48)


# --- who may do what ---------------------------------------------------------------------------------

# A user's roles and memberships, read once per request or action (views build one per page).
Actor = authz.Actor

# The actions on a task, in the desk's order. Those that change its status are rows of its lifecycle
# table (closeloop/handling/lifecycle.py); the others name who may (a permission of closeloop/authz)
# and in which states.
TASK_ACTIONS = ("verify", "request_info", "info_provided", "contact", "progress", "reply", "reassign", "withdraw")
WORKING_STATUSES = (TaskStatus.DISPATCHED, TaskStatus.NEEDS_INFO, TaskStatus.IN_PROGRESS)
TASK_ACTION_RULES: dict[str, tuple[str, tuple[str, ...]]] = {
    "contact": (
        "handling.log_task_contact",
        tuple(s for s in TaskStatus if s not in (TaskStatus.CANCELLED, TaskStatus.MOVED)),
    ),
    "progress": ("handling.work_task", WORKING_STATUSES),
    "reassign": ("handling.reassign_task", WORKING_STATUSES),
}


def _person_may(actor: Actor, task: Task, action: str) -> bool:
    return authz.allowed(actor, TASK_ACTION_RULES[action][0], task)


def task_action_allowed(*, actor: Actor, task: Task, action: str) -> bool:
    """Whether `actor` may take `action` on the task now. The services refuse what this refuses; the
    desk offers only what it allows."""
    if action in TASK_LIFECYCLE.by_action:
        row = TASK_LIFECYCLE.by_action[action]
        return task.status in row.sources and TASK_LIFECYCLE.may_act(row, actor, task)
    if action not in TASK_ACTION_RULES:
        return False
    return task.status in TASK_ACTION_RULES[action][1] and _person_may(actor, task, action)


def task_actions_for(*, actor: Actor, task: Task) -> list[str]:
    return [action for action in TASK_ACTIONS if task_action_allowed(actor=actor, task=task, action=action)]


def _who_may(action: str) -> str:
    return str(
        {
            "contact": _("Only the task's department or customer service may log contacts."),
            "progress": _("Only the task's handler or its department's manager may add progress."),
            "reassign": _("Only the department's manager or customer service may reassign a task."),
        }[action]
    )


def _check(actor: Actor, task: Task, action: str) -> None:
    """Refuse with the reason: the person first (403), then the task's state (422). The actions that
    change the task's status are rows of its lifecycle table."""
    if action in TASK_LIFECYCLE.by_action:
        TASK_LIFECYCLE.check_actor(action, actor, task)
        TASK_LIFECYCLE.check_state(task, action)
        return
    if not _person_may(actor, task, action):
        raise PermissionDeniedError(_who_may(action))
    if not task_action_allowed(actor=actor, task=task, action=action):
        raise TransitionNotAllowed(
            _("Not possible while the task is %(status)s.") % {"status": TaskStatus(task.status).label}
        )


def _lock(task: Task) -> tuple[Complaint, Task]:
    """Lock the complaint (the one lock every handling service takes first), then re-read the task."""
    complaint = Complaint.objects.select_for_update(no_key=True).get(pk=task.complaint_id)
    locked = (
        Task.objects.select_for_update(no_key=True, of=("self",))
        .select_related("department", "handler")
        .get(pk=task.pk)
    )
    locked.complaint = complaint
    return complaint, locked


def _required(value: str, field_name: str, message: Any) -> str:
    value = (value or "").strip()
    if not value:
        raise DomainError(message, field=field_name)
    return value


def _username(user: Any) -> str | None:
    return user.get_username() if user is not None else None


# --- notifications (no personal data: the number links to the complaint page) ------------------------


def _notify(
    *,
    kind: str,
    subject: Any,
    complaint: Complaint,
    recipients: Iterable[Any],
    now: datetime.datetime,
    dedup: str,
    department: Department | None = None,
    todo: str = "",
    **params: Any,
) -> None:
    """Queue a staff notification. `subject` is a lazy translation with `%(number)s` and optionally
    `%(department)s` (and any `params`), shown in each reader's language (notifications/texts.py)."""
    people = [u for u in recipients if u is not None and u.is_active]
    if not people:
        return
    mapping: dict[str, Any] = {
        "number": complaint.number,
        "department": texts.bilingual(department.name, department.name_en) if department else "",
        **params,
    }
    message = Message.words(
        kind=kind, subject=subject, params=mapping, complaint_id=complaint.pk, dedup=dedup, todo=todo
    )
    notifications_queue(notifications_build(message=message, recipients=people, now=now))


def _customer_service_for(task: Task) -> list[Any]:
    """Who in customer service hears about a task: its dispatcher, else the CS supervisors."""
    if task.dispatched_by_id is not None and task.dispatched_by is not None and task.dispatched_by.is_active:
        return [task.dispatched_by]
    return list(authz.recipients.members_of_role(Role.CS_SUPERVISOR))


def _task_people(task: Task) -> list[Any]:
    """Who works a task: its handler, else its department's managers (who assign it)."""
    return [task.handler] if task.handler is not None else list(authz.recipients.active_managers_of(task.department_id))


# --- birth of a task ---------------------------------------------------------------------------------


def task_create(
    *,
    complaint: Complaint,
    department: Department,
    handler: User | None,
    actor: User | None,
    via: str,
    now: datetime.datetime,
    instruction: str = "",
) -> Task:
    """Create a department task inside the caller's transaction (the complaint row is locked by it):
    its deadlines start now, and the event is written. Auditor CC is the caller's job (one message
    per dispatch, not per task)."""
    task = Task.objects.create(
        complaint=complaint,
        department=department,
        handler=handler,
        status=TaskStatus.DISPATCHED,
        instruction=instruction.strip(),
        dispatched_at=now,
        dispatched_by=actor if actor is not None and actor.is_authenticated else None,
        last_progress_at=now,
    )
    milestones = list(TASK_MILESTONES)
    if department.has_analysis_target:
        milestones.append(Milestone.ANALYSIS)
    deadlines_start(complaint=complaint, milestones=milestones, start=now, assignee=handler, task=task)
    event_record(
        complaint=complaint,
        action="task_created",
        actor=actor,
        via=via,
        at=now,
        after={"task": task.pk, "department": department.code, "handler": handler.pk if handler else None},
        note=task.instruction,
    )
    return task


# --- dispatch ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Assignment:
    department: Department
    handler: Any = None
    instruction: str = ""


def _assignments(raw: Sequence[Assignment | tuple[Any, ...]]) -> list[Assignment]:
    out = []
    for item in raw:
        if isinstance(item, Assignment):
            out.append(item)
        else:
            department, handler, *rest = item
            out.append(Assignment(department=department, handler=handler, instruction=str(rest[0] if rest else "")))
    return out


def _validate_assignments(assignments: list[Assignment]) -> None:
    if not assignments:
        raise DomainError(_("Choose at least one department."), field="departments")
    seen: set[int] = set()
    for a in assignments:
        if a.department.pk in seen:
            raise DomainError(
                _("%(department)s is chosen twice.") % {"department": a.department.label}, field="departments"
            )
        seen.add(a.department.pk)
        if not a.department.is_active:
            raise DomainError(
                _("%(department)s is no longer active.") % {"department": a.department.label}, field="departments"
            )
    members = set(
        Membership.objects.filter(
            department_id__in=seen, user_id__in=[a.handler.pk for a in assignments if a.handler is not None]
        ).values_list("department_id", "user_id")
    )
    for a in assignments:
        if a.handler is not None and (a.department.pk, a.handler.pk) not in members:
            raise DomainError(
                _("%(user)s is not a member of %(department)s.")
                % {"user": a.handler.get_username(), "department": a.department.label},
                field="handler",
            )


def complaint_dispatch(
    *,
    complaint: Complaint,
    assignments: Sequence[Assignment | tuple[Any, ...]],
    actor: User | None,
    via: str,
    now: datetime.datetime | None = None,
) -> list[Task]:
    """Hand the complaint to one or several departments, one task each (转派). From registered or
    acknowledged this is the `dispatch` transition (from registered, preceded by `acknowledge`: dispatching
    acknowledges receipt); on a complaint already dispatched or in progress
    it is a redispatch: tasks are added and the status stays. The auditors are copied once."""
    now = now or timezone.now()
    items = _assignments(assignments)
    transition = TRANSITIONS["dispatch"]
    authz.require(actor, "handling.dispatch_complaint")
    _validate_assignments(items)
    codes = [a.department.code for a in items]
    with transaction.atomic():
        locked = Complaint.objects.select_for_update(no_key=True).get(pk=complaint.pk)
        redispatch = locked.status in REDISPATCH_STATUSES
        if not redispatch:
            transition_check(transition=transition, actor=actor, data={"departments": codes})
            if locked.status not in transition.sources:
                raise TransitionNotAllowed(
                    _("“%(label)s” is not possible while the complaint is %(status)s.")
                    % {"label": transition.label, "status": Status(locked.status).label}
                )
        busy = set(
            locked.tasks.filter(
                status__in=ACTIVE_TASK_STATUSES, department_id__in=[a.department.pk for a in items]
            ).values_list("department__code", flat=True)
        )
        if busy:
            names = ", ".join(a.department.label for a in items if a.department.code in busy)
            raise DomainError(
                _("Already dispatched and still open at: %(departments)s.") % {"departments": names},
                field="departments",
            )
        tasks = [
            task_create(
                complaint=locked,
                department=a.department,
                handler=a.handler,
                actor=actor,
                via=via,
                now=now,
                instruction=a.instruction,
            )
            for a in items
        ]
        extra = {"tasks": [t.pk for t in tasks]}
        if redispatch:
            event_record(
                complaint=locked,
                action="redispatched",
                actor=actor,
                via=via,
                at=now,
                after={"departments": codes, **extra},
            )
        else:
            if locked.status == Status.REGISTERED:
                # Dispatching answers for the receipt: the customer is told it was received, and the
                # acknowledgement clock is met, with its own event (docs/decisions.md, issue 17).
                transition_apply(
                    locked=locked,
                    transition=TRANSITIONS["acknowledge"],
                    actor=actor,
                    via=via,
                    now=now,
                    extra={"with_dispatch": True},
                )
            transition_apply(
                locked=locked,
                transition=transition,
                actor=actor,
                via=via,
                now=now,
                data={"departments": codes},
                extra={"departments": codes, **extra},
            )
        _dispatch_notify(locked, tasks, now, actor=actor, via=via)
    return tasks


def _dispatch_notify(
    complaint: Complaint, tasks: list[Task], now: datetime.datetime, *, actor: User | None, via: str
) -> None:
    names = texts.bilingual(
        "、".join(t.department.name for t in tasks), ", ".join(t.department.name_en or t.department.name for t in tasks)
    )
    auditors = list(authz.recipients.members_of_role(Role.AUDITOR))
    _notify(
        kind="dispatch_cc",
        subject=_("%(number)s dispatched to %(departments)s (copy for the auditors)"),
        departments=names,
        complaint=complaint,
        recipients=auditors,
        now=now,
        dedup=f"dispatch_cc:{tasks[0].pk}",
    )
    if auditors:
        # The copy is part of the record: the timeline shows who was told, as it shows the dispatch.
        event_record(
            complaint=complaint,
            action="auditors_copied",
            actor=actor,
            via=via,
            at=now,
            after={"auditors": sorted(a.get_username() for a in auditors), "tasks": [t.pk for t in tasks]},
        )
    for task in tasks:
        _notify(
            kind="task_assigned",
            subject=_("%(number)s: new task for %(department)s"),
            department=task.department,
            complaint=complaint,
            recipients=_task_people(task),
            now=now,
            dedup=f"task_assigned:{task.pk}:{task.handler_id}",
        )


def task_reassign(
    *,
    task: Task,
    handler: User | None,
    actor: User | None,
    via: str,
    now: datetime.datetime | None = None,
    note: str = "",
) -> Task:
    """The department's manager (or customer service) gives the task to another member, or back to
    the department pool (`handler=None`). The open clocks follow the new handler; the event keeps who
    had it before."""
    now = now or timezone.now()
    who = Actor.of(actor)
    with transaction.atomic():
        complaint, locked = _lock(task)
        _check(who, locked, "reassign")
        if handler is not None and not Membership.objects.filter(user=handler, department=locked.department).exists():
            raise DomainError(
                _("%(user)s is not a member of %(department)s.")
                % {"user": handler.get_username(), "department": locked.department.label},
                field="handler",
            )
        new_id = handler.pk if handler is not None else None
        if locked.handler_id == new_id:
            return locked
        before = {"handler": _username(locked.handler)}
        locked.handler = handler
        locked.save(update_fields=["handler"])
        Deadline.objects.filter(task=locked, met_at__isnull=True).update(assignee=handler)
        event_record(
            complaint=complaint,
            action="task_reassigned",
            actor=actor,
            via=via,
            at=now,
            before=before,
            after={"task": locked.pk, "department": locked.department.code, "handler": _username(handler)},
            note=note.strip(),
        )
        _notify(
            kind="task_assigned",
            subject=_("%(number)s: task of %(department)s assigned to you"),
            department=locked.department,
            complaint=complaint,
            recipients=_task_people(locked),
            now=now,
            dedup=f"task_assigned:{locked.pk}:{new_id}:{now.isoformat()}",
        )
    return locked


def task_withdraw(
    *, task: Task, reason: str, actor: User | None, via: str, now: datetime.datetime | None = None
) -> Task:
    """Customer service cancels a department's task (e.g. dispatched to the wrong place); its clocks
    are cancelled and the reason stays on the timeline."""
    now = now or timezone.now()
    who = Actor.of(actor)
    with transaction.atomic():
        complaint, locked = _lock(task)
        _check(who, locked, "withdraw")
        reason = _required(reason, "reason", _("Say why the task is withdrawn."))
        before = {"task_status": locked.status}
        TASK_LIFECYCLE.move(locked, "withdraw", who, checked=True)
        locked.ended_at, locked.end_reason = now, reason
        locked.save(update_fields=["status", "ended_at", "end_reason"])
        deadlines_close(complaint=complaint, milestones=None, at=now, cancelled=True, task=locked)
        event_record(
            complaint=complaint,
            action="task_withdrawn",
            actor=actor,
            via=via,
            at=now,
            before=before,
            after={"task": locked.pk, "department": locked.department.code, "task_status": locked.status},
            note=reason,
        )
        _notify(
            kind="task_withdrawn",
            subject=_("%(number)s: the task of %(department)s was withdrawn"),
            department=locked.department,
            complaint=complaint,
            recipients=_task_people(locked),
            now=now,
            dedup=f"task_withdrawn:{locked.pk}",
        )
    return locked


# --- the handler's work ------------------------------------------------------------------------------


def _claim_if_unassigned(task: Task, actor: Any) -> Any:
    """Whoever verifies or replies to a pool task becomes its handler (the clocks and the feedback
    form follow them). Returns the previous handler's username for the event, or None."""
    if task.handler_id is not None or actor is None or not actor.is_authenticated:
        return None
    task.handler = actor
    task.save(update_fields=["handler"])
    Deadline.objects.filter(task=task, met_at__isnull=True).update(assignee=actor)
    return actor.get_username()


def task_verify(
    *, task: Task, actor: User | None, via: str, now: datetime.datetime | None = None, note: str = ""
) -> Task:
    """The handler confirms the task is theirs and complete enough to work on (the 1wh `verify`
    target). The first verification moves the complaint from dispatched to in progress."""
    now = now or timezone.now()
    who = Actor.of(actor)
    with transaction.atomic():
        complaint, locked = _lock(task)
        _check(who, locked, "verify")
        start = TRANSITIONS["start_handling"]
        if complaint.status in start.sources:
            transition_check(transition=start, actor=actor, data={})
        claimed = _claim_if_unassigned(locked, actor)
        TASK_LIFECYCLE.move(locked, "verify", who, checked=True)
        locked.verified_at = now
        locked.save(update_fields=["status", "verified_at"])
        deadlines_close(complaint=complaint, milestones=[Milestone.VERIFY], at=now, task=locked)
        event_record(
            complaint=complaint,
            action="task_verified",
            actor=actor,
            via=via,
            at=now,
            before={"task_status": TaskStatus.DISPATCHED},
            after={
                "task": locked.pk,
                "department": locked.department.code,
                "task_status": locked.status,
                **({"handler": claimed} if claimed else {}),
            },
            note=note.strip(),
        )
        if complaint.status in start.sources:
            transition_apply(
                locked=complaint,
                transition=start,
                actor=actor,
                via=via,
                now=now,
                extra={"task": locked.pk, "department": locked.department.code},
            )
    return locked


def task_request_info(
    *, task: Task, reason: str, actor: User | None, via: str, now: datetime.datetime | None = None
) -> Task:
    """The handler asks customer service for what is missing; the task's clocks pause meanwhile."""
    now = now or timezone.now()
    who = Actor.of(actor)
    with transaction.atomic():
        complaint, locked = _lock(task)
        _check(who, locked, "request_info")
        reason = _required(reason, "reason", _("Say what information is missing."))
        before = {"task_status": locked.status}
        TASK_LIFECYCLE.move(locked, "request_info", who, checked=True)
        locked.info_request = reason
        locked.save(update_fields=["status", "info_request"])
        deadlines_pause(complaint=complaint, at=now, task=locked)
        event_record(
            complaint=complaint,
            action="task_info_requested",
            actor=actor,
            via=via,
            at=now,
            before=before,
            after={"task": locked.pk, "department": locked.department.code, "task_status": locked.status},
            note=reason,
        )
        _notify(
            kind="task_info_requested",
            subject=_("%(number)s: %(department)s asks for missing information"),
            department=locked.department,
            complaint=complaint,
            recipients=_customer_service_for(locked),
            now=now,
            dedup=f"task_info_requested:{locked.pk}:{now.isoformat()}",
        )
    return locked


def task_info_provided(
    *, task: Task, info: str, actor: User | None, via: str, now: datetime.datetime | None = None
) -> Task:
    """Customer service supplies what the handler asked for; the task's clocks resume, each deadline
    moved by the working time the pause lasted (sla.md, "pauses")."""
    now = now or timezone.now()
    who = Actor.of(actor)
    with transaction.atomic():
        complaint, locked = _lock(task)
        _check(who, locked, "info_provided")
        info = _required(info, "info", _("Write the information the department asked for."))
        TASK_LIFECYCLE.move(locked, "info_provided" if locked.verified_at else "info_provided_unverified", who)
        locked.save(update_fields=["status"])
        changes = deadlines_resume(complaint=complaint, at=now, task=locked)
        event_record(
            complaint=complaint,
            action="task_info_provided",
            actor=actor,
            via=via,
            at=now,
            before={"task_status": TaskStatus.NEEDS_INFO},
            after={
                "task": locked.pk,
                "department": locked.department.code,
                "task_status": locked.status,
                "deadlines": changes,
            },
            note=info,
        )
        _notify(
            kind="task_info_provided",
            subject=_("%(number)s: customer service answered your information request"),
            complaint=complaint,
            recipients=_task_people(locked),
            now=now,
            dedup=f"task_info_provided:{locked.pk}:{now.isoformat()}",
        )
    return locked


def contact_log_add(
    *,
    complaint: Complaint,
    task: Task | None = None,
    at: datetime.datetime,
    channel: str,
    outcome: str,
    summary: str,
    actor: User | None,
    via: str,
    now: datetime.datetime | None = None,
) -> ContactLog:
    """A contact with the complainant (沟通记录), by the task's department or by customer service.
    Contacts feed the communication rate."""
    now = now or timezone.now()
    who = Actor.of(actor)
    with transaction.atomic():
        locked_complaint = Complaint.objects.select_for_update(no_key=True).get(pk=complaint.pk)
        locked_task = None
        if task is not None:
            if task.complaint_id != complaint.pk:
                raise DomainError(_("This task belongs to another complaint."), field="task")
            _complaint, locked_task = _lock(task)
            _check(who, locked_task, "contact")
        else:
            authz.require(who, "handling.log_contact", locked_complaint, message=_who_may("contact"))
        errors: dict[str, list[str]] = {}
        if channel not in ContactChannel.values:
            errors["channel"] = [str(_("Choose a channel from the list."))]
        if outcome not in ContactOutcome.values:
            errors["outcome"] = [str(_("Choose an outcome from the list."))]
        if not (summary or "").strip():
            errors["summary"] = [str(_("Summarise the contact."))]
        if at is None or timezone.is_naive(at):
            errors["at"] = [str(_("Give the time of the contact."))]
        elif at > now + CONTACT_CLOCK_SKEW:
            errors["at"] = [str(_("A contact cannot be in the future."))]
        elif at < locked_complaint.received_at - CONTACT_CLOCK_SKEW:
            errors["at"] = [str(_("A contact cannot be before the complaint was received."))]
        if errors:
            raise ValidationFailed(errors)
        # the lifecycle's actor check refused a missing actor
        contact = ContactLog.objects.create(  # type: ignore[misc]
            complaint=locked_complaint,
            task=locked_task,
            at=at,
            by=actor,
            channel=channel,
            outcome=outcome,
            summary=summary.strip(),
            created_at=now,
        )
        if outcome == ContactOutcome.REACHED:
            # The first conversation with the complainant is the first substantive response (sla.md).
            deadlines_close(complaint=locked_complaint, milestones=[Milestone.FIRST_RESPONSE], at=min(at, now))
        event_record(
            complaint=locked_complaint,
            action="contact_logged",
            actor=actor,
            via=via,
            at=now,
            after={
                "contact": contact.pk,
                "task": locked_task.pk if locked_task else None,
                "channel": channel,
                "outcome": outcome,
                "contact_at": at,
            },
            note=contact.summary,
        )
    return contact


def progress_add(
    *, task: Task, text: str, actor: User | None, via: str, now: datetime.datetime | None = None
) -> ProgressEntry:
    """A progress entry: it meets the open `progress` deadline and starts the next one from now, so a
    task without progress for 48 h is reminded and escalated by the sweep (domain rule 4)."""
    now = now or timezone.now()
    who = Actor.of(actor)
    with transaction.atomic():
        complaint, locked = _lock(task)
        _check(who, locked, "progress")
        text = _required(text, "text", _("Describe the progress."))
        entry = ProgressEntry.objects.create(task=locked, at=now, by=actor, text=text)  # type: ignore[misc]  # as above
        locked.last_progress_at = now
        locked.save(update_fields=["last_progress_at"])
        deadlines_close(complaint=complaint, milestones=[Milestone.PROGRESS], at=now, task=locked)
        deadlines_start(
            complaint=complaint, milestones=[Milestone.PROGRESS], start=now, assignee=locked.handler, task=locked
        )
        event_record(
            complaint=complaint,
            action="progress_added",
            actor=actor,
            via=via,
            at=now,
            after={"task": locked.pk, "department": locked.department.code, "progress": entry.pk},
            note=text,
        )
    return entry


def task_reply(*, task: Task, reply: str, actor: User | None, via: str, now: datetime.datetime | None = None) -> Task:
    """The department reports its result back to customer service: the reply and analysis targets
    are met, the progress clock stops, and the responsible person's feedback form opens (due 24 h)."""
    from closeloop.handling.services.feedback import feedback_form_open

    now = now or timezone.now()
    who = Actor.of(actor)
    with transaction.atomic():
        complaint, locked = _lock(task)
        _check(who, locked, "reply")
        reply = _required(reply, "reply", _("Write the result for customer service."))
        claimed = _claim_if_unassigned(locked, actor)
        TASK_LIFECYCLE.move(locked, "reply", who, checked=True)
        locked.reply, locked.replied_at = reply, now
        locked.save(update_fields=["status", "reply", "replied_at"])
        deadlines_close(
            complaint=complaint,
            milestones=[Milestone.REPLY, Milestone.ANALYSIS, Milestone.PROGRESS, Milestone.VERIFY],
            at=now,
            task=locked,
        )
        event_record(
            complaint=complaint,
            action="task_replied",
            actor=actor,
            via=via,
            at=now,
            before={"task_status": TaskStatus.IN_PROGRESS},
            after={
                "task": locked.pk,
                "department": locked.department.code,
                "task_status": locked.status,
                **({"handler": claimed} if claimed else {}),
            },
            note=reply,
        )
        feedback_form_open(task=locked, now=now)
        _notify(
            kind="task_replied",
            subject=_("%(number)s: %(department)s replied"),
            department=locked.department,
            complaint=complaint,
            recipients=_customer_service_for(locked),
            now=now,
            dedup=f"task_replied:{locked.pk}",
        )
    return locked
