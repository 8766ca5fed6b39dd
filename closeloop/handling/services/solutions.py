"""Solutions (处理方案): proposal by the department, approval level by level, execution step by step.

Levels: every solution needs the CS supervisor; active ApprovalRules add levels for demands beyond the
standard (e.g. compensation above 500 CNY, refund of a custom-made product → management). Each level
is decided only by the role it names. The complaint's state follows through the lifecycle table
(`propose_solution`, `approve_solution`, `reject_solution`, `start_execution`); resolving stays the
generic `resolve` transition of customer service, whose guard waits for the last execution step.

The `solution_can_*` predicates are the permission rules; the services enforce them and the desk
uses them to offer only the forms a user may use.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from closeloop import authz
from closeloop.complaints.customer_messages import customer_notify
from closeloop.complaints.events import event_record
from closeloop.complaints.lifecycle import TRANSITIONS, Status
from closeloop.complaints.models import Complaint, Via
from closeloop.complaints.services import transition_apply
from closeloop.core.errors import DomainError, PermissionDeniedError, TransitionNotAllowed, ValidationFailed
from closeloop.core.roles import Role
from closeloop.core.types import AnyUser, User
from closeloop.handling.lifecycle import SOLUTION_LIFECYCLE
from closeloop.handling.models import (
    ApprovalRule,
    CompensationForm,
    ExecutionStep,
    Measure,
    Solution,
    SolutionApproval,
    SolutionStatus,
    Task,
    TaskStatus,
)
from closeloop.notifications import texts
from closeloop.notifications.services import Message, notifications_build, notifications_done, notifications_queue

# The level every solution needs before the rules add theirs.
BASE_LEVEL = Role.CS_SUPERVISOR.value
# A department waiting for information or contesting the dispatch is not in a position to propose.
PROPOSING_TASK_STATUSES = (TaskStatus.DISPATCHED, TaskStatus.IN_PROGRESS)
MAX_STEPS = 20


@dataclass(frozen=True)
class StepData:
    """One line of "who does what by when"."""

    description: str
    owner: User | None = None
    due_date: datetime.date | None = None


# --- permissions ---------------------------------------------------------------------------------


def solution_can_propose(*, user: AnyUser | None, task: Task) -> bool:
    """The task's handler, or a manager of its department, while the task is open for a proposal."""
    return task.status in PROPOSING_TASK_STATUSES and authz.allowed(user, "handling.propose_solution", task)


def solution_can_decide(*, user: AnyUser | None, solution: Solution) -> bool:
    """Only a holder of the role the next level names decides it; nobody approves their own proposal."""
    return authz.allowed(user, "handling.decide_solution", solution)


def solution_can_execute(*, user: AnyUser | None, solution: Solution) -> bool:
    """Handlers and managers of the task's department, or customer service, once it is approved."""
    return solution.status == SolutionStatus.APPROVED and authz.allowed(user, "handling.execute_solution", solution)


def step_can_mark_done(*, user: AnyUser | None, step: ExecutionStep) -> bool:
    """The step's owner, the task's department, or customer service, while the solution executes."""
    solution = step.solution
    if solution.status != SolutionStatus.EXECUTING or step.done_at is not None:
        return False
    return authz.allowed(user, "handling.mark_step_done", step)


# --- levels --------------------------------------------------------------------------------------


def _rule_matches(rule: ApprovalRule, *, measures: Sequence[str], amount: Decimal | None, custom_made: bool) -> bool:
    if rule.measure and rule.measure not in measures:
        return False
    if rule.compensation_above is not None and (amount is None or amount <= rule.compensation_above):
        return False
    return not (rule.custom_made_only and not custom_made)


def solution_required_levels(*, measures: Sequence[str], amount: Decimal | None, custom_made: bool) -> list[str]:
    """The CS supervisor, then the levels of every active rule that matches, each role once, in order."""
    levels = [BASE_LEVEL]
    for rule in ApprovalRule.objects.filter(is_active=True).order_by("pk"):
        if _rule_matches(rule, measures=measures, amount=amount, custom_made=custom_made):
            for role in rule.levels or []:
                if isinstance(role, str) and role and role not in levels:
                    levels.append(role)
    return levels


# --- notifications to staff (never personal data) ------------------------------------------------


def _notify(
    *,
    users: Iterable[User | None],
    kind: str,
    subject: Promise,
    body: Promise | str,
    complaint: Complaint,
    now: datetime.datetime,
    dedup: str,
    params: dict[str, Any] | None = None,
    todo: str = "",
    link: str = "",
) -> None:
    """Queue a staff notice: `subject` (and `body`, unless it is someone's own words) are lazy translations
    with `%(number)s` and `params`, shown in each reader's language."""
    recipients = [u for u in users if u is not None and getattr(u, "is_active", True)]
    message = Message.words(
        kind=kind,
        subject=subject,
        body=body,
        params={"number": complaint.number, **(params or {})},
        complaint_id=complaint.pk,
        dedup=dedup,
        todo=todo,
        link=link,
    )
    notifications_queue(notifications_build(message=message, recipients=recipients, now=now))


def level_todo(solution: Solution) -> str:
    """What the notice "waits for your approval" asks for: the decision at the solution's next level."""
    return f"solution:{solution.pk}:level:{solution.approved_levels}"


def _measures_text(solution: Solution) -> str:
    return ", ".join(str(Measure(m).label) for m in solution.measures if m in Measure.values) + (
        f" ({solution.compensation_amount} CNY)" if solution.compensation_amount is not None else ""
    )


def _notify_level(solution: Solution, complaint: Complaint, now: datetime.datetime) -> None:
    role = solution.next_role
    if role is None:
        return
    _notify(
        users=list(authz.recipients.members_of_role(role)),
        kind="solution_approval",
        subject=gettext_lazy("Solution for %(number)s waits for your approval"),
        # Measures and amount only: the free text may quote the customer, and staff e-mails carry no personal data.
        body=gettext_lazy("Level %(level)s of %(levels)s. Measures: %(measures)s."),
        params={
            "level": solution.approved_levels + 1,
            "levels": len(solution.required_levels),
            "measures": texts.each_language(lambda: _measures_text(solution)),
        },
        complaint=complaint,
        now=now,
        dedup=level_todo(solution),
        todo=level_todo(solution),
        link=reverse("desk:detail", args=[complaint.number]) + "#solutions",
    )


# --- propose -------------------------------------------------------------------------------------


def _parse_amount(value: object) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return Decimal("NaN")


def _validate_proposal(
    *,
    measures: Sequence[str],
    description: str,
    amount: Decimal | None,
    compensation_form: str,
    steps: Sequence[StepData],
    today: datetime.date,
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}

    def fail(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    if not measures:
        fail("measures", _("Choose at least one measure."))
    elif any(m not in Measure.values for m in measures):
        fail("measures", _("Choose measures from the list."))
    if not description.strip():
        fail("description", _("Say what will be done."))
    if Measure.COMPENSATION in measures:
        if amount is None or amount.is_nan() or amount <= 0:
            fail("compensation_amount", _("Enter the compensation amount (more than 0)."))
        elif amount >= Decimal("100000000"):
            fail("compensation_amount", _("The amount is too large."))
        if compensation_form not in CompensationForm.values:
            fail("compensation_form", _("Choose the form of the compensation."))
    if len(steps) > MAX_STEPS:
        fail("steps", _("At most %(count)s steps.") % {"count": MAX_STEPS})
    for number, step in enumerate(steps, start=1):
        if not step.description.strip():
            fail("steps", _("Step %(number)s: say what is to be done.") % {"number": number})
        elif len(step.description.strip()) > 300:
            fail("steps", _("Step %(number)s: at most 300 characters.") % {"number": number})
        if step.due_date is not None and step.due_date < today:
            fail("steps", _("Step %(number)s: the due date is in the past.") % {"number": number})
        if step.owner is not None and not getattr(step.owner, "is_active", True):
            fail("steps", _("Step %(number)s: the owner's account is disabled.") % {"number": number})
    return errors


def solution_propose(
    *,
    complaint: Complaint,
    task: Task,
    measures: Sequence[str],
    description: str,
    compensation_amount: Decimal | str | None = None,
    compensation_form: str = "",
    custom_made: bool = False,
    steps: Sequence[StepData | tuple[str, User | None, datetime.date | None]] = (),
    actor: User | None,
    via: str,
    now: datetime.datetime | None = None,
) -> Solution:
    """A department proposes how to solve the complaint; it waits for the levels the rules require."""
    now = now or timezone.now()
    measures = list(dict.fromkeys(str(m) for m in measures))  # unique, in the order chosen
    step_rows = [s if isinstance(s, StepData) else StepData(*s) for s in steps]
    if task.complaint_id != complaint.pk:
        raise DomainError(_("This task belongs to another complaint."), field="task")
    if not solution_can_propose(user=actor, task=task):
        raise PermissionDeniedError(_("Only the task's handler or the department's manager may propose a solution."))
    amount = _parse_amount(compensation_amount)
    compensates = Measure.COMPENSATION in measures
    errors = _validate_proposal(
        measures=measures,
        description=description,
        amount=amount,
        compensation_form=compensation_form,
        steps=step_rows,
        today=timezone.localdate(now),
    )
    if errors:
        raise ValidationFailed(errors)
    # The amount and form only mean something with the compensation measure.
    amount = amount if compensates else None
    compensation_form = compensation_form if compensates else ""
    levels = solution_required_levels(measures=measures, amount=amount, custom_made=custom_made)
    transition = TRANSITIONS["propose_solution"]
    with transaction.atomic():
        locked = Complaint.objects.select_for_update(no_key=True).get(pk=complaint.pk)
        task = Task.objects.select_for_update(no_key=True).get(pk=task.pk)
        if not solution_can_propose(user=actor, task=task):  # re-checked under the lock
            raise TransitionNotAllowed(_("The task is no longer open for a proposal."), reason="task_not_open")
        if Solution.objects.filter(complaint=locked, status=SolutionStatus.PENDING).exists():
            raise TransitionNotAllowed(_("A solution is already waiting for approval."), reason="already_pending")
        # solution_can_propose refused a missing actor
        solution = Solution.objects.create(  # type: ignore[misc]
            complaint=locked,
            task=task,
            proposed_by=actor,
            proposed_at=now,
            measures=measures,
            description=description.strip(),
            compensation_amount=amount,
            compensation_form=compensation_form,
            custom_made=bool(custom_made),
            required_levels=levels,
        )
        ExecutionStep.objects.bulk_create(
            [
                ExecutionStep(solution=solution, description=s.description.strip(), owner=s.owner, due_date=s.due_date)
                for s in step_rows
            ]
        )
        transition_apply(
            locked=locked,
            transition=transition,
            actor=actor,
            via=via,
            now=now,
            note=solution.description,
            extra={
                "solution": solution.pk,
                "task": task.pk,
                "measures": measures,
                "compensation_amount": amount,
                "compensation_form": compensation_form,
                "custom_made": solution.custom_made,
                "required_levels": levels,
                "steps": len(step_rows),
            },
        )
        _notify_level(solution, locked, now)
    return solution


# --- decide --------------------------------------------------------------------------------------


def solution_message_context(solution: Solution) -> dict[str, str]:
    """What the customer's solution message says of the solution as approved (never the approvers'
    notes), in the active language: complaints.customer_messages.customer_notify calls it in the
    customer's."""
    measures = [str(Measure(m).label) for m in solution.measures if m in Measure.values]
    context = {
        "solution": solution.description,
        "measures": "、".join(measures) if translation.get_language() == "zh-hans" else ", ".join(measures),
        "compensation": "",
    }
    if solution.compensation_amount is not None:
        form = (
            str(CompensationForm(solution.compensation_form).label)
            if solution.compensation_form in CompensationForm.values
            else ""
        )
        context["compensation"] = f"{solution.compensation_amount} CNY {form}".strip()
    return context


def solution_decide(
    *,
    solution: Solution,
    approve: bool,
    reason: str = "",
    actor: User | None,
    via: str,
    now: datetime.datetime | None = None,
) -> Solution:
    """One level's decision. Approval moves to the next level, or approves the solution when it was
    the last one (the customer is told); rejection needs a reason and returns the complaint to the
    department (in progress), whose proposer is told why."""
    now = now or timezone.now()
    reason = (reason or "").strip()
    with transaction.atomic():
        locked = Complaint.objects.select_for_update(no_key=True).get(pk=solution.complaint_id)
        solution = (
            Solution.objects.select_for_update(no_key=True, of=("self",))
            .select_related("proposed_by")
            .get(pk=solution.pk)
        )
        # Approval and rejection leave the same state, decided by the same people.
        SOLUTION_LIFECYCLE.check_state(solution, "reject")
        SOLUTION_LIFECYCLE.check_actor("reject", actor, solution)
        role = solution.next_role
        if not approve and not reason:
            raise DomainError(_("Say why the solution is rejected."), field="reason")
        # The notice "waits for your approval" of this level is done, whoever decides it.
        notifications_done(todo=level_todo(solution), now=now)
        level = solution.approved_levels + 1
        # an approval step has a role; the lifecycle's actor check refused a missing actor
        SolutionApproval.objects.create(  # type: ignore[misc]
            solution=solution, level=level, role=role, decided_by=actor, decided_at=now, approved=approve, note=reason
        )
        decision = {
            "solution": solution.pk,
            "level": level,
            "role": role,
            "decision": "approved" if approve else "rejected",
        }
        if not approve:
            SOLUTION_LIFECYCLE.move(solution, "reject", actor, checked=True)
            solution.decided_at = now
            solution.rejection_reason = reason
            solution.save(update_fields=["status", "decided_at", "rejection_reason"])
            transition_apply(
                locked=locked,
                transition=TRANSITIONS["reject_solution"],
                actor=actor,
                via=via,
                now=now,
                data={"reason": reason},
                note=reason,
                extra=decision,
            )
            _notify(
                users=[solution.proposed_by],
                kind="solution_rejected",
                subject=gettext_lazy("Solution for %(number)s rejected"),
                body=reason,
                complaint=locked,
                now=now,
                dedup=f"solution:{solution.pk}:rejected",
            )
            return solution
        solution.approved_levels = level
        if level < len(solution.required_levels):
            solution.save(update_fields=["approved_levels"])
            event_record(
                complaint=locked,
                action="solution_level_approved",
                actor=actor,
                via=via,
                at=now,
                note=reason,
                before={"approved_levels": level - 1},
                after={**decision, "next_role": solution.next_role},
            )
            _notify_level(solution, locked, now)
            return solution
        # The last level approved: the solution is.
        SOLUTION_LIFECYCLE.move(solution, "approve", actor, checked=True)
        solution.decided_at = now
        solution.save(update_fields=["approved_levels", "status", "decided_at"])
        told = customer_notify(
            complaint=locked,
            code="solution",
            now=now,
            context=lambda: solution_message_context(solution),
            dedup=str(solution.pk),
        )
        transition_apply(
            locked=locked,
            transition=TRANSITIONS["approve_solution"],
            actor=actor,
            via=via,
            now=now,
            note=reason,
            extra={**decision, "customer_messages": [m.method for m in told]},
        )
        _notify(
            users=[solution.proposed_by],
            kind="solution_approved",
            subject=gettext_lazy("Solution for %(number)s approved"),
            body=gettext_lazy("It can be executed now."),
            complaint=locked,
            now=now,
            dedup=f"solution:{solution.pk}:approved",
        )
    return solution


def role_label(role: str) -> str:
    from closeloop.core.roles import ROLE_LABELS

    try:
        return str(ROLE_LABELS[Role(role)])
    except (ValueError, KeyError):
        return role


# --- execute -------------------------------------------------------------------------------------


def _execution_finished(
    solution: Solution, complaint: Complaint, actor: User | None, via: str, now: datetime.datetime
) -> None:
    """The last step is done: the solution is executed and customer service may resolve."""
    SOLUTION_LIFECYCLE.move(solution, "finish", actor)
    solution.save(update_fields=["status"])
    event_record(
        complaint=complaint,
        action="solution_executed",
        actor=actor,
        via=via,
        at=now,
        before={"solution_status": SolutionStatus.EXECUTING},
        after={"solution": solution.pk, "solution_status": SolutionStatus.DONE},
    )
    task = solution.task
    desk_people = [
        u
        for u in (task.dispatched_by if task else None, complaint.registered_by)
        if u is not None and authz.holds_any(u, authz.DESK)
    ]
    _notify(
        users=desk_people or list(authz.recipients.members_of_role(Role.CS_SUPERVISOR)),
        kind="solution_executed",
        subject=gettext_lazy("Solution for %(number)s executed: the complaint can be resolved"),
        body="",
        complaint=complaint,
        now=now,
        dedup=f"solution:{solution.pk}:executed",
    )


def solution_execute(
    *, solution: Solution, actor: User | None, via: str, now: datetime.datetime | None = None
) -> Solution:
    """Start carrying out an approved solution (the complaint becomes `executing`)."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = Complaint.objects.select_for_update(no_key=True).get(pk=solution.complaint_id)
        solution = (
            Solution.objects.select_for_update(no_key=True, of=("self",)).select_related("task").get(pk=solution.pk)
        )
        # The state first, then the person.
        SOLUTION_LIFECYCLE.check_state(solution, "execute")
        SOLUTION_LIFECYCLE.check_actor("execute", actor, solution)
        SOLUTION_LIFECYCLE.move(solution, "execute", actor, checked=True)
        solution.save(update_fields=["status"])
        transition_apply(
            locked=locked,
            transition=TRANSITIONS["start_execution"],
            actor=actor,
            via=via,
            now=now,
            extra={"solution": solution.pk},
        )
        if not solution.steps.exists():
            _execution_finished(solution, locked, actor, via, now)
    return solution


def execution_step_done(
    *,
    step: ExecutionStep,
    note: str = "",
    actor: User | None,
    via: str = Via.DESK,
    now: datetime.datetime | None = None,
) -> ExecutionStep:
    """Tick off one step; the last one completes the solution and tells customer service."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = Complaint.objects.select_for_update(no_key=True).get(pk=step.solution.complaint_id)
        step = (
            ExecutionStep.objects.select_for_update(no_key=True, of=("self",))
            .select_related("solution__task")
            .get(pk=step.pk)
        )
        solution = step.solution
        if step.done_at is not None:
            raise TransitionNotAllowed(_("This step is already done."), reason="step_done")
        if solution.status != SolutionStatus.EXECUTING or locked.status != Status.EXECUTING:
            raise TransitionNotAllowed(
                _("Steps are ticked off while the solution is being executed."), reason="not_executing"
            )
        if not step_can_mark_done(user=actor, step=step):
            raise PermissionDeniedError(_("The step's owner, the department or customer service marks it done."))
        step.done_at, step.done_by, step.note = now, actor, (note or "").strip()
        step.save(update_fields=["done_at", "done_by", "note"])
        event_record(
            complaint=locked,
            action="execution_step_done",
            actor=actor,
            via=via,
            at=now,
            note=step.note,
            after={"solution": solution.pk, "step": step.pk, "description": step.description},
        )
        if not solution.steps.filter(done_at__isnull=True).exists():
            _execution_finished(solution, locked, actor, via, now)
    return step


# --- reads (the desk panel, the approvals page and the API share them) ---------------------------


def solutions_of(*, complaint: Complaint) -> QuerySet[Solution]:
    """A complaint's solutions, newest first, with their levels and steps (a fixed number of queries)."""
    return (
        Solution.objects.filter(complaint=complaint)
        .select_related("complaint", "proposed_by", "task__department")
        .prefetch_related("approvals__decided_by", "steps__owner", "steps__done_by")
        .order_by("-proposed_at", "-pk")
    )


def solutions_awaiting(*, user: AnyUser | None, since: datetime.datetime | None = None) -> list[Solution]:
    """Solutions whose next level is a role of `user`, on complaints the user may see, oldest first.
    The next level is computed from the stored levels, so the filter on it is done here, on the
    (short) list of pending solutions: one query whatever their number."""
    from closeloop.complaints.selectors import complaints_visible_to

    actor = authz.Actor.of(user)
    if not actor.roles or user is None:
        return []
    pending = (
        Solution.objects.filter(status=SolutionStatus.PENDING, complaint__in=complaints_visible_to(user))
        .select_related("complaint__product", "proposed_by", "task__department")
        .prefetch_related("approvals__decided_by", "steps__owner", "steps__done_by")
        .order_by("proposed_at", "pk")
    )
    if since is not None:
        pending = pending.filter(updated_at__gte=since)
    return [s for s in pending if authz.allowed(actor, "handling.decide_solution", s)]
