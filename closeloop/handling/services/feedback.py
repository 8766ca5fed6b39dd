"""The responsible person's feedback form (责任人反馈表)."""

from __future__ import annotations

import datetime

from closeloop.complaints.events import event_record
from closeloop.complaints.models import Via
from closeloop.handling.models import FeedbackForm, Task
from closeloop.sla.milestones import Milestone
from closeloop.sla.services import deadlines_start


def feedback_form_open(*, task: Task, now: datetime.datetime) -> FeedbackForm:
    """Called when a task's handling completes (its reply to customer service): the form is due 24 h
    later. Idempotent: a task has one form."""
    form, created = FeedbackForm.objects.get_or_create(
        task=task,
        defaults={"complaint": task.complaint, "handler": task.handler or task.dispatched_by, "created_at": now},
    )
    if created:
        deadlines_start(
            complaint=task.complaint,
            milestones=[Milestone.FEEDBACK_FORM],
            start=now,
            assignee=form.handler,
            task=task,
        )
        event_record(
            complaint=task.complaint,
            action="feedback_form_opened",
            actor=None,
            via=Via.SYSTEM,
            at=now,
            after={"feedback_form": form.pk, "task": task.pk},
        )
    return form
