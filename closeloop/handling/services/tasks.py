"""Department tasks: dispatch, verification, information requests, contacts, progress, replies.

`task_create` is the one place a task is born (dispatch, redispatch, a dispute moving it), with its
SLA clocks and the audit copy to the auditors.
"""

from __future__ import annotations

import datetime

from django.contrib.auth.models import AbstractBaseUser

from closeloop.complaints.events import event_record
from closeloop.complaints.models import Complaint
from closeloop.directory.models import Department
from closeloop.handling.models import Task, TaskStatus
from closeloop.sla.milestones import Milestone
from closeloop.sla.services import deadlines_start

# The milestones every task starts with; departments with `has_analysis_target` also owe an analysis.
TASK_MILESTONES = (Milestone.VERIFY, Milestone.REPLY, Milestone.PROGRESS)


def task_create(
    *,
    complaint: Complaint,
    department: Department,
    handler: AbstractBaseUser | None,
    actor: AbstractBaseUser | None,
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
