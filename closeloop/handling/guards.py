"""Guards of the complaint lifecycle table (complaints/lifecycle.py) that ask about the departments'
work: named there by dotted path, since complaints sit below handling. Each returns None when the
transition may go ahead, or the reason why not."""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from closeloop.complaints.models import Complaint
from closeloop.handling.models import ACTIVE_TASK_STATUSES, ExecutionStep, FeedbackForm, FeedbackStatus, SolutionStatus


def no_department_still_working(complaint: Complaint, data: dict[str, object]) -> str | Promise | None:
    if complaint.tasks.filter(status__in=ACTIVE_TASK_STATUSES).exists():
        return _("A department has not replied yet: wait for its reply, or withdraw its task first.")
    return None


def execution_finished(complaint: Complaint, data: dict[str, object]) -> str | Promise | None:
    if ExecutionStep.objects.filter(
        solution__complaint=complaint, solution__status=SolutionStatus.EXECUTING, done_at__isnull=True
    ).exists():
        return _("Execution steps of the solution are still open.")
    return None


def feedback_forms_approved(complaint: Complaint, data: dict[str, object]) -> str | Promise | None:
    if FeedbackForm.objects.filter(complaint=complaint).exclude(status=FeedbackStatus.APPROVED).exists():
        return _("A responsible person's feedback form is not approved for archive yet.")
    return None
