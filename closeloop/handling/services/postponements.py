"""Postponement requests (推迟回访申请).

A task's handler (or a member of its department) asks for a later reply deadline with a reason; the
department manager gives an opinion; customer service confirms. When the manager and customer service
agree the request is decided by that; when they disagree, management decides (seed 004: 如意见不一致 …
由总经理室批示). An approved request moves the task's open `reply` deadline with
`sla.services.deadline_postpone`, which keeps the first original due instant for the reports, and the
complaint's own resolution clock (and second-result clock after a reopen) by the same working time
(`sla.services.deadlines_rebase_for_postponement`).

Every step locks the complaint row (the order every handling service locks in), re-reads the request,
checks state and role, writes the change, its event and its notifications in one transaction.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from closeloop import authz
from closeloop.calendar.working import LAST_YEAR
from closeloop.complaints.events import event_record
from closeloop.complaints.models import Complaint, Via
from closeloop.complaints.selectors import complaints_visible_to
from closeloop.core.errors import DomainError, PermissionDeniedError, TransitionNotAllowed
from closeloop.core.roles import Role
from closeloop.core.types import User
from closeloop.directory.models import Membership
from closeloop.handling.lifecycle import POSTPONEMENT_LIFECYCLE
from closeloop.handling.models import Postponement, PostponementStatus, Task, TaskStatus
from closeloop.notifications import texts
from closeloop.notifications.services import Message, notifications_build, notifications_done, notifications_queue
from closeloop.sla.milestones import Milestone
from closeloop.sla.models import Deadline
from closeloop.sla.services import deadline_postpone, deadlines_rebase_for_postponement

OPEN_POSTPONEMENT_STATUSES = (
    PostponementStatus.PENDING_MANAGER,
    PostponementStatus.PENDING_CS,
    PostponementStatus.PENDING_MANAGEMENT,
)
# A task still owes its reply in these states; a contested task waits for quality instead.
POSTPONABLE_TASK_STATUSES = (TaskStatus.DISPATCHED, TaskStatus.NEEDS_INFO, TaskStatus.IN_PROGRESS)

# The step a request waits for, by status: who acts next.
STEP_OPINION, STEP_CONFIRM, STEP_DECIDE = "opinion", "confirm", "decide"
STEP_BY_STATUS = {
    PostponementStatus.PENDING_MANAGER: STEP_OPINION,
    PostponementStatus.PENDING_CS: STEP_CONFIRM,
    PostponementStatus.PENDING_MANAGEMENT: STEP_DECIDE,
}


# --- who may do what (read-only; the UI asks these to decide which forms to show) ---------------


def is_department_member(user: User | None, department_id: int) -> bool:
    if user is None or not user.is_authenticated:
        return False
    return Membership.objects.filter(user=user, department_id=department_id).exists()


def is_department_manager(user: User | None, department_id: int) -> bool:
    if user is None or not user.is_authenticated:
        return False
    return Membership.objects.filter(user=user, department_id=department_id, is_manager=True).exists()


def postponement_may_request(*, task: Task, user: User | None) -> bool:
    """The task's handler or a member of its department; auditors never write."""
    return authz.allowed(user, "handling.request_postponement", task)


def managed_department_ids(user: User | None) -> set[int]:
    if user is None or not user.is_authenticated:
        return set()
    return set(Membership.objects.filter(user=user, is_manager=True).values_list("department_id", flat=True))


def postponement_step_for(
    *, postponement: Postponement, user: User | None, managed: set[int] | None = None
) -> str | None:
    """The step this user may take on the request now (opinion, confirm, decide), or None. `managed`
    (the departments the user manages) may be given by lists, so that a page costs one query."""
    step = STEP_BY_STATUS.get(PostponementStatus(postponement.status))
    if step == STEP_OPINION:
        managed = managed_department_ids(user) if managed is None else managed
        return step if postponement.task.department_id in managed else None
    if step == STEP_CONFIRM and authz.allowed(user, "handling.confirm_postponement"):
        return step
    if step == STEP_DECIDE and authz.allowed(user, "handling.decide_postponement"):
        return step
    return None


def open_reply_deadline(task: Task) -> Deadline | None:
    return Deadline.objects.filter(task=task, milestone=Milestone.REPLY, met_at__isnull=True).first()


# --- reads ----------------------------------------------------------------------------------------


def postponements_visible_to(user: User) -> QuerySet[Postponement]:
    """Requests on complaints the user may see, with what a list shows joined in."""
    return Postponement.objects.filter(task__complaint__in=complaints_visible_to(user)).select_related(
        "task__complaint", "task__department", "task__handler", "requested_by", "manager", "cs_by", "management_by"
    )


def postponements_awaiting(*, user: User) -> QuerySet[Postponement]:
    """Requests waiting for this user's step: the opinion of a manager of the task's department,
    customer service's confirmation, management's decision. A fixed number of queries."""
    actor = authz.Actor.of(user)
    waiting = Q(
        status=PostponementStatus.PENDING_MANAGER,
        task__department__in=Membership.objects.filter(user=user, is_manager=True).values("department"),
    )
    if authz.allowed(actor, "handling.confirm_postponement"):
        waiting |= Q(status=PostponementStatus.PENDING_CS)
    if authz.allowed(actor, "handling.decide_postponement"):
        waiting |= Q(status=PostponementStatus.PENDING_MANAGEMENT)
    return postponements_visible_to(user).filter(waiting).order_by("requested_at", "id")


# --- writes ---------------------------------------------------------------------------------------


def step_todo(postponement: Postponement) -> str:
    """What a notice asking for the request's next step asks for; done once anyone took that step."""
    return f"postponement:{postponement.pk}:{postponement.status}"


def _notify(
    *,
    postponement: Postponement,
    kind: str,
    subject: Promise,
    recipients: Iterable[User],
    now: datetime.datetime,
    params: dict[str, Any] | None = None,
    asks: bool = False,
) -> None:
    """A staff notice in each reader's language (`subject`: a lazy translation with `%(number)s`…); `asks`:
    it asks its readers for the request's next step, and is marked done once someone took it."""
    # No personal data in staff notifications: the number, the department and the dates only.
    task = postponement.task
    notifications_queue(
        notifications_build(
            message=Message.words(
                kind=kind,
                subject=subject,
                body=gettext_lazy("Reason: %(reason)s\nProposed new reply deadline: %(due)s"),
                params={
                    "number": task.complaint.number,
                    "reason": postponement.reason,
                    "due": timezone.localtime(postponement.proposed_due).strftime("%Y-%m-%d %H:%M"),
                    **(params or {}),
                },
                complaint_id=task.complaint_id,
                dedup=f"{kind}:{postponement.pk}",
                todo=step_todo(postponement) if asks else "",
            ),
            recipients=list(recipients),
            now=now,
        )
    )


def _lock(postponement: Postponement) -> tuple[Complaint, Postponement]:
    """Lock the complaint, then re-read the request under the lock."""
    locked = Complaint.objects.select_for_update(no_key=True).get(pk=postponement.task.complaint_id)
    fresh = Postponement.objects.select_related("task__department", "task__complaint").get(pk=postponement.pk)
    return locked, fresh


def _required_text(value: str, field: str) -> str:
    text = (value or "").strip()
    if not text:
        raise DomainError(_("This field is required."), field=field, code="required")
    return text


def postponement_request(
    *,
    task: Task,
    reason: str,
    proposed_due: datetime.datetime | None,
    actor: User,
    via: str,
    now: datetime.datetime | None = None,
) -> Postponement:
    """The handler asks for a later reply deadline. One open request per task."""
    now = now or timezone.now()
    if not postponement_may_request(task=task, user=actor):
        raise PermissionDeniedError(
            _("Only the task's handler or a member of its department may ask for a postponement.")
        )
    reason = _required_text(reason, "reason")
    if proposed_due is None:
        raise DomainError(_("This field is required."), field="proposed_due", code="required")
    if timezone.is_naive(proposed_due):
        raise DomainError(_("Give the date with its time zone."), field="proposed_due")
    if proposed_due.year > LAST_YEAR:  # before any arithmetic: 9999-12-31T23:59-12:00 is past year 9999 in UTC
        raise DomainError(_("The proposed deadline is too far away."), field="proposed_due")
    if proposed_due <= now:
        raise DomainError(_("The proposed deadline must be in the future."), field="proposed_due")
    with transaction.atomic():
        Complaint.objects.select_for_update(no_key=True).get(pk=task.complaint_id)
        task = Task.objects.select_related("department", "complaint").get(pk=task.pk)
        if task.status not in POSTPONABLE_TASK_STATUSES:
            raise TransitionNotAllowed(
                _("Not possible while the task is %(status)s.") % {"status": task.get_status_display()}
            )
        if Postponement.objects.filter(task=task, status__in=OPEN_POSTPONEMENT_STATUSES).exists():
            raise DomainError(
                _("This task already has a postponement request waiting for a decision."),
                field="reason",
                code="duplicate",
            )
        deadline = open_reply_deadline(task)
        if deadline is None:
            raise DomainError(_("This task has no open reply deadline to postpone."), field="proposed_due")
        if proposed_due <= deadline.due_at:
            raise DomainError(
                _("The proposed deadline must be later than the current one (%(due)s).")
                % {"due": timezone.localtime(deadline.due_at).strftime("%Y-%m-%d %H:%M")},
                field="proposed_due",
            )
        postponement = Postponement.objects.create(
            task=task,
            requested_by=actor,
            requested_at=now,
            reason=reason,
            proposed_due=proposed_due,
            status=PostponementStatus.PENDING_MANAGER,
        )
        event_record(
            complaint=task.complaint,
            action="postponement_requested",
            actor=actor,
            via=via,
            at=now,
            before={"reply_due": deadline.due_at},
            after={
                "postponement": postponement.pk,
                "task": task.pk,
                "department": task.department.code,
                "proposed_due": proposed_due,
                "postponement_status": postponement.status,
            },
            note=reason,
        )
        _notify(
            postponement=postponement,
            kind="postponement_requested",
            subject=gettext_lazy("Postponement requested on %(number)s (%(department)s): your opinion, please"),
            params={"department": texts.bilingual(task.department.name, task.department.name_en)},
            asks=True,
            recipients=authz.recipients.active_managers_of(task.department_id),
            now=now,
        )
    return postponement


def postponement_manager_opinion(
    *,
    postponement: Postponement,
    agrees: bool,
    opinion: str,
    actor: User,
    via: str = Via.DESK,
    now: datetime.datetime | None = None,
) -> Postponement:
    """A manager of the task's department gives an opinion; the request goes to customer service."""
    now = now or timezone.now()
    opinion = (opinion or "").strip()
    with transaction.atomic():
        _locked, postponement = _lock(postponement)
        # The notices asking for this step are done, whoever takes it.
        notifications_done(todo=step_todo(postponement), now=now)
        task = postponement.task
        POSTPONEMENT_LIFECYCLE.check(postponement, "manager_opinion", actor)
        opinion = _required_text(opinion, "opinion")
        POSTPONEMENT_LIFECYCLE.move(postponement, "manager_opinion", actor, checked=True)
        postponement.manager, postponement.manager_at = actor, now
        postponement.manager_agrees, postponement.manager_opinion = bool(agrees), opinion
        postponement.save(update_fields=["manager", "manager_at", "manager_agrees", "manager_opinion", "status"])
        event_record(
            complaint=task.complaint,
            action="postponement_opinion",
            actor=actor,
            via=via,
            at=now,
            before={"postponement_status": PostponementStatus.PENDING_MANAGER},
            after={"postponement": postponement.pk, "agrees": bool(agrees), "postponement_status": postponement.status},
            note=opinion,
        )
        _notify(
            postponement=postponement,
            kind="postponement_opinion",
            subject=gettext_lazy("Postponement on %(number)s: the department manager %(verdict)s; please confirm"),
            params={"verdict": gettext_lazy("agrees") if agrees else gettext_lazy("does not agree")},
            asks=True,
            recipients=authz.recipients.members_of_role(Role.CS_SUPERVISOR),
            now=now,
        )
    return postponement


def postponement_cs_confirm(
    *,
    postponement: Postponement,
    agrees: bool,
    note: str,
    actor: User,
    via: str = Via.DESK,
    now: datetime.datetime | None = None,
) -> Postponement:
    """Customer service confirms. Same answer as the manager: that is the decision (approved or
    rejected). A different answer: management decides, and customer service must say why (the note)."""
    now = now or timezone.now()
    note = (note or "").strip()
    with transaction.atomic():
        _locked, postponement = _lock(postponement)
        # The notices asking for this step are done, whoever takes it.
        notifications_done(todo=step_todo(postponement), now=now)
        task = postponement.task
        # The three rows leave the same state, for the same people.
        POSTPONEMENT_LIFECYCLE.check(postponement, "cs_disagree", actor)
        agrees = bool(agrees)
        if agrees != postponement.manager_agrees and not note:
            raise DomainError(
                _("Say why you disagree with the department manager: management will decide."),
                field="note",
                code="required",
            )
        postponement.cs_by, postponement.cs_at, postponement.cs_agrees, postponement.cs_note = actor, now, agrees, note
        # The same answer as the manager decides; a different one goes to management.
        same = {True: "cs_approve", False: "cs_reject"}
        action = same[agrees] if agrees == postponement.manager_agrees else "cs_disagree"
        POSTPONEMENT_LIFECYCLE.move(postponement, action, actor, checked=True)
        postponement.save(update_fields=["cs_by", "cs_at", "cs_agrees", "cs_note", "status"])
        event_record(
            complaint=task.complaint,
            action="postponement_confirmed",
            actor=actor,
            via=via,
            at=now,
            before={"postponement_status": PostponementStatus.PENDING_CS},
            after={"postponement": postponement.pk, "agrees": agrees, "postponement_status": postponement.status},
            note=note,
        )
        if postponement.status == PostponementStatus.PENDING_MANAGEMENT:
            _notify(
                postponement=postponement,
                kind="postponement_disputed",
                subject=gettext_lazy(
                    "Postponement on %(number)s: the department and customer service disagree; please decide"
                ),
                asks=True,
                recipients=authz.recipients.members_of_role(Role.MANAGEMENT),
                now=now,
            )
        else:
            _conclude(postponement=postponement, actor=actor, via=via, now=now)
    return postponement


def postponement_management_decide(
    *,
    postponement: Postponement,
    approve: bool,
    note: str,
    actor: User,
    via: str = Via.DESK,
    now: datetime.datetime | None = None,
) -> Postponement:
    """Management's final word when the department and customer service disagree."""
    now = now or timezone.now()
    note = (note or "").strip()
    with transaction.atomic():
        _locked, postponement = _lock(postponement)
        # The notices asking for this step are done, whoever takes it.
        notifications_done(todo=step_todo(postponement), now=now)
        approve = bool(approve)
        action = "management_approve" if approve else "management_reject"
        POSTPONEMENT_LIFECYCLE.check(postponement, action, actor)
        note = _required_text(note, "note")
        postponement.management_by, postponement.management_at = actor, now
        postponement.management_agrees, postponement.management_note = approve, note
        POSTPONEMENT_LIFECYCLE.move(postponement, action, actor, checked=True)
        postponement.save(
            update_fields=["management_by", "management_at", "management_agrees", "management_note", "status"]
        )
        event_record(
            complaint=postponement.task.complaint,
            action="postponement_decided",
            actor=actor,
            via=via,
            at=now,
            before={"postponement_status": PostponementStatus.PENDING_MANAGEMENT},
            after={"postponement": postponement.pk, "approve": approve, "postponement_status": postponement.status},
            note=note,
        )
        _conclude(postponement=postponement, actor=actor, via=via, now=now)
    return postponement


def _conclude(*, postponement: Postponement, actor: User, via: str, now: datetime.datetime) -> None:
    """The request is decided: an approval moves the reply deadline; the handler hears the outcome.
    If the reply deadline closed meanwhile (the department replied) nothing is left to move; and a
    deadline already later than proposed (e.g. extended by a pause) is never moved earlier."""
    task = postponement.task
    before: dict[str, object] = {}
    after: dict[str, object] = {"postponement": postponement.pk, "postponement_status": postponement.status}
    if postponement.status == PostponementStatus.APPROVED:
        action = "postponement_approved"
        deadline = (
            Deadline.objects.select_for_update(no_key=True, of=("self",))
            .select_related("policy__calendar", "complaint", "task")
            .filter(task=task, milestone=Milestone.REPLY, met_at__isnull=True)
            .first()
        )
        moved = deadline is not None and postponement.proposed_due > deadline.due_at
        if deadline is not None and moved:
            before["reply_due"] = deadline.due_at
            old_due = deadline_postpone(deadline=deadline, new_due=postponement.proposed_due)
            postponement.original_due = deadline.original_due_at
            postponement.save(update_fields=["original_due"])
            after.update(reply_due=deadline.due_at, original_due=deadline.original_due_at)
            # The complaint's own resolution clock waits on this reply: it moves by as much.
            rebased = deadlines_rebase_for_postponement(
                complaint=task.complaint, old_due=old_due, new_due=postponement.proposed_due
            )
            if rebased:
                after["complaint_deadlines"] = rebased
        after["deadline_moved"] = moved
        subject = gettext_lazy("Postponement on %(number)s approved: the reply is now due %(due)s")
    else:
        action = "postponement_rejected"
        subject = gettext_lazy("Postponement on %(number)s rejected: the reply deadline stays")
    event_record(complaint=task.complaint, action=action, actor=actor, via=via, at=now, before=before, after=after)
    recipients = [user for user in (task.handler, postponement.requested_by) if user is not None]
    _notify(
        postponement=postponement,
        kind=action,
        subject=subject,
        recipients=recipients,
        now=now,
    )


def postponements_close_for_moved_task(*, task: Task, actor: User, via: str, now: datetime.datetime) -> int:
    """Called inside the dispute decision that moved the task away (caller holds the complaint lock):
    a request still open on it has nothing left to postpone, so it ends rejected, with its event,
    instead of waiting in someone's decisions forever."""
    count = 0
    for postponement in Postponement.objects.select_for_update(no_key=True).filter(
        task=task, status__in=OPEN_POSTPONEMENT_STATUSES
    ):
        before, _target = POSTPONEMENT_LIFECYCLE.move(postponement, "task_moved", actor)
        postponement.save(update_fields=["status"])
        event_record(
            complaint=task.complaint,
            action="postponement_rejected",
            actor=actor,
            via=via,
            at=now,
            before={"postponement_status": before},
            after={"postponement": postponement.pk, "postponement_status": postponement.status, "task_moved": True},
            note=_("The task was moved to another department."),
        )
        count += 1
    return count
