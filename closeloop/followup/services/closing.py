"""Reopen and escalation, closing, and archive (domain rules 1 and 7).

- `complaint_reopen`: the customer is not satisfied (survey answer, or an agent recording it): the
  complaint goes back to `reopened`, the 3-working-day `second_result` clock starts, the CS
  supervisors are told and the departments that had replied get a new task. Never a repeat complaint.
- `closing_checklist`: what the `close` transition still waits for, read from the transition's own
  guards so the checklist and the refusal can never disagree. Closing itself is the generic
  `complaint_transition(action="close")`.
- `complaint_archive` / `complaints_archive_due`: closed → archived after the configured delay; from
  then on `complaints.events.event_record` refuses every write.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from closeloop import authz
from closeloop.complaints.events import event_record
from closeloop.complaints.lifecycle import TRANSITIONS, Guard, Status
from closeloop.complaints.models import Complaint
from closeloop.complaints.services import transition_apply, transition_check
from closeloop.core.errors import PermissionDeniedError, ValidationFailed
from closeloop.core.roles import Role, user_roles
from closeloop.core.types import User
from closeloop.followup.guards import followup_outcome_recorded
from closeloop.followup.models import FollowUp
from closeloop.handling.guards import feedback_forms_approved
from closeloop.handling.models import FeedbackForm, Task, TaskStatus
from closeloop.handling.services.tasks import task_create
from closeloop.notifications.services import Message, notifications_build, notifications_queue
from closeloop.sla.milestones import Milestone
from closeloop.sla.services import deadlines_close, deadlines_start

# --- reopen and escalation -----------------------------------------------------------------------


def _cs_supervisors() -> list[Any]:
    return list(authz.recipients.members_of_role(Role.CS_SUPERVISOR))


def _returning_tasks(complaint: Complaint) -> list[Task]:
    """The departments that had replied, one task each (the latest), in dispatch order."""
    latest: dict[int, Task] = {}
    for task in complaint.tasks.filter(status=TaskStatus.REPLIED).select_related("department", "handler"):
        current = latest.get(task.department_id)
        if current is None or (task.dispatched_at, task.pk) > (current.dispatched_at, current.pk):
            latest[task.department_id] = task
    return sorted(latest.values(), key=lambda t: (t.dispatched_at, t.pk))


def complaint_reopen(
    *,
    complaint: Complaint,
    reason: str,
    actor: User | None,
    via: str,
    now: datetime.datetime | None = None,
) -> Complaint:
    """The customer is not satisfied, or the problem is not solved. `actor` is None when the customer
    answered the survey (via="portal"); a staff actor needs a role the `reopen` transition allows."""
    now = now or timezone.now()
    reason = (reason or "").strip()
    transition = TRANSITIONS["reopen"]
    if actor is not None:
        transition_check(transition=transition, actor=actor, data={"reason": reason})
    elif not reason:
        raise ValidationFailed({"reason": [_("Say why the customer is not satisfied.")]})
    with transaction.atomic():
        locked = Complaint.objects.select_for_update(no_key=True).get(pk=complaint.pk)
        count = locked.reopen_count + 1
        transition_apply(
            locked=locked,
            transition=transition,
            actor=actor,
            via=via,
            now=now,
            data={"reason": reason},
            values={"reopen_count": count},
            note=reason,
        )
        deadlines_start(complaint=locked, milestones=[Milestone.SECOND_RESULT], start=now)

        # Escalation: the number only (no personal data, not the customer's words) in the messages;
        # the reason is on the timeline, where the supervisor reads it with the complaint.
        supervisors = _cs_supervisors()
        subject = gettext_lazy(
            "Complaint %(number)s reopened: the customer is not satisfied. Second result due in 3 working days."
        )
        notifications_queue(
            notifications_build(
                message=Message.words(
                    kind="reopen_escalated",
                    subject=subject,
                    params={"number": locked.number},
                    complaint_id=locked.pk,
                    dedup=f"reopen:{locked.pk}:{count}",
                ),
                recipients=supervisors,
                now=now,
            )
        )
        event_record(
            complaint=locked,
            action="escalated",
            actor=actor,
            via=via,
            at=now,
            after={"role": Role.CS_SUPERVISOR.value, "to": [u.get_username() for u in supervisors], "reopen": count},
            note=reason,
        )

        # Back to the handlers: a new task per department that had replied. Answered on the spot
        # (no task): customer service handles the second round itself.
        new_tasks = [
            task_create(
                complaint=locked,
                department=old.department,
                handler=old.handler,
                actor=actor,
                via=via,
                now=now,
                instruction=reason,
            )
            for old in _returning_tasks(locked)
        ]
        handlers = [t.handler for t in new_tasks if t.handler is not None and t.handler.is_active]
        if handlers:
            returned = gettext_lazy("Complaint %(number)s is back to you: the customer is not satisfied.")
            notifications_queue(
                notifications_build(
                    message=Message.words(
                        kind="reopen_task",
                        subject=returned,
                        params={"number": locked.number},
                        complaint_id=locked.pk,
                        dedup=f"reopen-task:{locked.pk}:{count}",
                    ),
                    recipients=handlers,
                    now=now,
                )
            )
    return locked


# --- closing -------------------------------------------------------------------------------------


def _guard_labels() -> dict[Guard, Any]:
    return {
        followup_outcome_recorded: gettext_lazy("Follow-up outcome (satisfied, or unreachable)"),
        feedback_forms_approved: gettext_lazy("Every feedback form approved for archive"),
    }


@dataclass
class ChecklistItem:
    label: str
    met: bool
    # The guard's refusal ("what is missing"), empty when met.
    missing: str = ""
    # What there is now, e.g. the follow-up's outcome or each form's status.
    details: list[str] = field(default_factory=list)


@dataclass
class ClosingChecklist:
    items: list[ChecklistItem]
    status_ok: bool

    @property
    def ready(self) -> bool:
        return self.status_ok and all(item.met for item in self.items)

    @property
    def missing(self) -> list[str]:
        return [item.missing for item in self.items if not item.met]


def closing_checklist(complaint: Complaint) -> ClosingChecklist:
    """Each condition of the `close` transition, met or missing. The conditions are the transition's
    guards themselves; the details (follow-up outcome, each form's status) only explain them."""
    transition = TRANSITIONS["close"]
    labels = _guard_labels()
    followups = list(FollowUp.objects.filter(complaint=complaint).order_by("-round", "-id")[:1])
    forms = list(
        FeedbackForm.objects.filter(complaint=complaint).select_related("task__department").order_by("created_at", "id")
    )
    details: dict[Guard, list[str]] = {}
    if followups:
        latest = followups[0]
        outcome = latest.get_outcome_display() if latest.outcome else _("open, no outcome yet")
        details[followup_outcome_recorded] = [
            _("Round %(round)s: %(outcome)s") % {"round": latest.round, "outcome": outcome}
        ]
    else:
        details[followup_outcome_recorded] = [_("No follow-up yet.")]
    details[feedback_forms_approved] = [
        f"{form.task.department.label if form.task else _('feedback form')}: {form.get_status_display()}"
        for form in forms
    ] or [_("No feedback form (answered without a department).")]

    items = []
    for guard in transition.guard_callables():
        refusal = guard(complaint, {})
        items.append(
            ChecklistItem(
                label=str(labels.get(guard, guard.__name__)),
                met=refusal is None,
                missing=str(refusal or ""),
                details=details.get(guard, []),
            )
        )
    return ClosingChecklist(items=items, status_ok=complaint.status in transition.sources)


# --- archive -------------------------------------------------------------------------------------


def complaint_archive(
    *,
    complaint: Complaint,
    actor: User | None,
    via: str,
    now: datetime.datetime | None = None,
) -> Complaint:
    """closed → archived, read-only from now on. `actor` None is the archive job (the system); a
    person needs a role the `archive` transition allows (admin)."""
    now = now or timezone.now()
    transition = TRANSITIONS["archive"]
    if actor is not None and not (user_roles(actor) & transition.roles):
        raise PermissionDeniedError(_("Only an administrator may archive a complaint by hand."))
    with transaction.atomic():
        locked = Complaint.objects.select_for_update(no_key=True).get(pk=complaint.pk)
        # Any clock still running would make the SLA sweep write to a read-only complaint.
        deadlines_close(complaint=locked, milestones=None, at=now, cancelled=True, include_tasks=True)
        return transition_apply(
            locked=locked, transition=transition, actor=actor, via=via, now=now, values={"archived_at": now}
        )


def complaints_archive_due(*, now: datetime.datetime | None = None, limit: int = 500) -> list[str]:
    """Archive the complaints closed longer than ARCHIVE_AFTER_DAYS ago; returns their numbers. Each
    row is claimed under its lock and its state re-checked, so two workers never archive one twice."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(days=settings.ARCHIVE_AFTER_DAYS)
    candidates = list(
        Complaint.objects.filter(status=Status.CLOSED, archived_at__isnull=True, closed_at__lte=cutoff)
        .order_by("closed_at")
        .values_list("pk", flat=True)[:limit]
    )
    done = []
    for pk in candidates:
        with transaction.atomic():
            locked = (
                Complaint.objects.select_for_update(no_key=True, skip_locked=_skip_locked())
                .filter(pk=pk, status=Status.CLOSED, archived_at__isnull=True, closed_at__lte=cutoff)
                .first()
            )
            if locked is None:  # archived meanwhile, reopened, or another worker holds it
                continue
            complaint_archive(complaint=locked, actor=None, via="system", now=now)
            done.append(locked.number)
    return done


def _skip_locked() -> bool:
    from django.db import connection

    return connection.features.has_select_for_update_skip_locked
