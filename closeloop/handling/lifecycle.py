"""The lives of a department's task, a solution, a postponement request, a responsibility dispute and a
feedback form as tables (the mechanism: closeloop/core/lifecycle.py).

Who may act is a permission of closeloop/authz (`handling.work_task`: "the task's handler, its
department while unassigned, or its manager"), or a predicate here where authz has none yet; the
services call the one checker.
"""

from __future__ import annotations

from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from closeloop import authz
from closeloop.core.errors import DomainError, TransitionNotAllowed
from closeloop.core.lifecycle import Lifecycle, Transition, register
from closeloop.handling.models import (
    ACTIVE_TASK_STATUSES,
    DisputeStatus,
    FeedbackStatus,
    PostponementStatus,
    SolutionStatus,
    TaskStatus,
)


def authorize(actor: Any, permission: str, obj: Any) -> bool:
    """Asks closeloop/authz; the task services' `Actor` (roles and memberships already read) is handed
    over as authz's, so no question reads them again."""
    if actor is not None and not isinstance(actor, authz.Actor) and hasattr(actor, "departments"):
        actor = authz.Actor(user=actor.user, roles=actor.roles, departments=actor.departments)
    return authz.allowed(actor, permission, obj)


def _task_wrong_state(task: Any, transition: Transition) -> DomainError:
    return TransitionNotAllowed(
        _("Not possible while the task is %(status)s.") % {"status": TaskStatus(task.status).label}
    )


def _verified(task: Any, data: dict[str, object]) -> str | Promise | None:
    return None if task.verified_at else _("The task was never verified: it goes back to dispatched.")


def _not_verified(task: Any, data: dict[str, object]) -> str | Promise | None:
    return _("The task was verified: it goes back to in progress.") if task.verified_at else None


_WORKING = frozenset({TaskStatus.DISPATCHED, TaskStatus.NEEDS_INFO, TaskStatus.IN_PROGRESS})
_TASKS = "closeloop.handling.services.tasks"
_DISPUTES = "closeloop.handling.services.disputes"


def _uphold(previous: TaskStatus, label: Promise) -> Transition:
    return Transition(
        action=f"uphold_{previous.value}",
        label=label,
        sources=frozenset({TaskStatus.CONTESTED}),
        target=previous,
        permission="handling.decide_dispute",
        denied=_("Only quality may adjudicate a responsibility dispute."),
        required=("note",),
        service=f"{_DISPUTES}.dispute_decide",
    )


TASK_LIFECYCLE = register(
    Lifecycle(
        name="task",
        title=_("Department task"),
        model="handling.Task",
        states=TaskStatus,
        wrong_state=_task_wrong_state,
        authorize=authorize,
        transitions=(
            Transition(
                action="verify",
                label=_("Verify"),
                sources=frozenset({TaskStatus.DISPATCHED}),
                target=TaskStatus.IN_PROGRESS,
                permission="handling.work_task",
                denied=_("Only the task's handler, its department (while unassigned) or its manager may verify it."),
                service=f"{_TASKS}.task_verify",
            ),
            Transition(
                action="request_info",
                label=_("Ask for missing information"),
                sources=frozenset({TaskStatus.DISPATCHED, TaskStatus.IN_PROGRESS}),
                target=TaskStatus.NEEDS_INFO,
                permission="handling.work_task",
                denied=_("Only the task's handler or its department's manager may ask for information."),
                required=("reason",),
                service=f"{_TASKS}.task_request_info",
            ),
            Transition(
                action="info_provided",
                label=_("Provide the information"),
                sources=frozenset({TaskStatus.NEEDS_INFO}),
                target=TaskStatus.IN_PROGRESS,
                permission="handling.provide_task_info",
                denied=_("Only customer service may provide the missing information."),
                required=("info",),
                guards=(_verified,),
                service=f"{_TASKS}.task_info_provided",
            ),
            Transition(
                action="info_provided_unverified",
                label=_("Provide the information (task not verified yet)"),
                sources=frozenset({TaskStatus.NEEDS_INFO}),
                target=TaskStatus.DISPATCHED,
                permission="handling.provide_task_info",
                denied=_("Only customer service may provide the missing information."),
                required=("info",),
                guards=(_not_verified,),
                service=f"{_TASKS}.task_info_provided",
            ),
            Transition(
                action="reply",
                label=_("Reply to customer service"),
                sources=frozenset({TaskStatus.IN_PROGRESS}),
                target=TaskStatus.REPLIED,
                permission="handling.work_task",
                denied=_("Only the task's handler or its department's manager may reply."),
                required=("reply",),
                service=f"{_TASKS}.task_reply",
            ),
            Transition(
                action="withdraw",
                label=_("Withdraw the task"),
                sources=frozenset(ACTIVE_TASK_STATUSES),
                target=TaskStatus.CANCELLED,
                permission="handling.withdraw_task",
                denied=_("Only customer service may withdraw a task."),
                required=("reason",),
                service=f"{_TASKS}.task_withdraw",
                style="danger",
            ),
            Transition(
                action="contest",
                label=_("Contest the dispatch"),
                sources=_WORKING,
                target=TaskStatus.CONTESTED,
                permission="handling.raise_dispute",
                denied=_("Only the task's handler or its department may contest the dispatch."),
                required=("reason",),
                service=f"{_DISPUTES}.dispute_raise",
            ),
            Transition(
                action="move",
                label=_("Move to another department"),
                sources=frozenset({TaskStatus.CONTESTED}),
                target=TaskStatus.MOVED,
                permission="handling.decide_dispute",
                denied=_("Only quality may adjudicate a responsibility dispute."),
                required=("note", "move_to"),
                service=f"{_DISPUTES}.dispute_decide",
            ),
            # Upheld: the task returns to the status it had when contested.
            _uphold(TaskStatus.DISPATCHED, _("Dispatch upheld: back to dispatched")),
            _uphold(TaskStatus.NEEDS_INFO, _("Dispatch upheld: back to waiting for information")),
            _uphold(TaskStatus.IN_PROGRESS, _("Dispatch upheld: back to in progress")),
        ),
    )
)


# --- disputes -------------------------------------------------------------------------------------------


def _dispute_wrong_state(dispute: Any, transition: Transition) -> DomainError:
    return TransitionNotAllowed(
        _("Not possible: the dispute is %(status)s.") % {"status": dispute.get_status_display()}
    )


DISPUTE_LIFECYCLE = register(
    Lifecycle(
        name="dispute",
        title=_("Responsibility dispute"),
        model="handling.Dispute",
        states=DisputeStatus,
        wrong_state=_dispute_wrong_state,
        authorize=authorize,
        transitions=tuple(
            Transition(
                action=action,
                label=label,
                sources=frozenset({DisputeStatus.PENDING}),
                target=target,
                permission="handling.decide_dispute",
                denied=_("Only quality may adjudicate a responsibility dispute."),
                required=required,
                service=f"{_DISPUTES}.dispute_decide",
            )
            for action, label, target, required in [
                ("move", _("Move to another department"), DisputeStatus.MOVED, ("note", "move_to")),
                ("uphold", _("Uphold the dispatch"), DisputeStatus.REJECTED, ("note",)),
            ]
        ),
    )
)


# --- solutions ------------------------------------------------------------------------------------------


def _solution_denied(actor: Any, solution: Any) -> str | Promise:
    from closeloop.handling.services.solutions import role_label

    if solution.proposed_by_id == getattr(actor, "pk", None):
        return _("Nobody approves their own proposal.")
    return _("This level is decided by the role “%(role)s”.") % {"role": role_label(solution.next_role)}


def _solution_wrong_state(solution: Any, transition: Transition) -> DomainError:
    if transition.action == "execute":
        return TransitionNotAllowed(_("Only an approved solution can be executed."))
    return TransitionNotAllowed(_("This solution is not waiting for a decision."))


_SOLUTIONS = "closeloop.handling.services.solutions"

SOLUTION_LIFECYCLE = register(
    Lifecycle(
        name="solution",
        title=_("Solution"),
        model="handling.Solution",
        states=SolutionStatus,
        wrong_state=_solution_wrong_state,
        authorize=authorize,
        transitions=(
            Transition(
                action="approve",
                label=_("Approve (last level)"),
                sources=frozenset({SolutionStatus.PENDING}),
                target=SolutionStatus.APPROVED,
                permission="handling.decide_solution",
                denied=_solution_denied,
                service=f"{_SOLUTIONS}.solution_decide",
            ),
            Transition(
                action="reject",
                label=_("Reject"),
                sources=frozenset({SolutionStatus.PENDING}),
                target=SolutionStatus.REJECTED,
                permission="handling.decide_solution",
                denied=_solution_denied,
                required=("reason",),
                service=f"{_SOLUTIONS}.solution_decide",
            ),
            Transition(
                action="execute",
                label=_("Start executing the solution"),
                sources=frozenset({SolutionStatus.APPROVED}),
                target=SolutionStatus.EXECUTING,
                permission="handling.execute_solution",
                denied=_("The department that proposed the solution, or customer service, executes it."),
                service=f"{_SOLUTIONS}.solution_execute",
            ),
            # The last execution step ticked off (or none to tick): whoever ticked it, no check of its own.
            Transition(
                action="finish",
                label=_("Execution finished"),
                sources=frozenset({SolutionStatus.EXECUTING}),
                target=SolutionStatus.DONE,
                service=f"{_SOLUTIONS}.execution_step_done",
            ),
        ),
    )
)


# --- postponement requests ------------------------------------------------------------------------------


def manager_of_task_department(actor: Any, postponement: Any) -> bool:
    from closeloop.handling.services.postponements import is_department_manager

    if actor is None or not actor.is_authenticated:
        return False
    return is_department_manager(actor, postponement.task.department_id)


def _postponement_wrong_state(postponement: Any, transition: Transition) -> DomainError:
    return TransitionNotAllowed(
        _("Not possible: the request is %(status)s.") % {"status": postponement.get_status_display()}
    )


_POSTPONEMENTS = "closeloop.handling.services.postponements"
_OPEN_POSTPONEMENT = frozenset(
    {PostponementStatus.PENDING_MANAGER, PostponementStatus.PENDING_CS, PostponementStatus.PENDING_MANAGEMENT}
)
_CS_DENIED = _("Only customer service may confirm a postponement.")
_MANAGEMENT_DENIED = _("Only management may decide a disputed postponement.")

POSTPONEMENT_LIFECYCLE = register(
    Lifecycle(
        name="postponement",
        title=_("Postponement request"),
        model="handling.Postponement",
        states=PostponementStatus,
        wrong_state=_postponement_wrong_state,
        authorize=authorize,
        transitions=(
            Transition(
                action="manager_opinion",
                label=_("Department manager's opinion"),
                sources=frozenset({PostponementStatus.PENDING_MANAGER}),
                target=PostponementStatus.PENDING_CS,
                allowed=manager_of_task_department,
                denied=_("Only a manager of the task's department may give this opinion."),
                required=("opinion",),
                service=f"{_POSTPONEMENTS}.postponement_manager_opinion",
            ),
            Transition(
                action="cs_approve",
                label=_("Customer service agrees with the manager: approved"),
                sources=frozenset({PostponementStatus.PENDING_CS}),
                target=PostponementStatus.APPROVED,
                permission="handling.confirm_postponement",
                denied=_CS_DENIED,
                service=f"{_POSTPONEMENTS}.postponement_cs_confirm",
            ),
            Transition(
                action="cs_reject",
                label=_("Customer service agrees with the manager: rejected"),
                sources=frozenset({PostponementStatus.PENDING_CS}),
                target=PostponementStatus.REJECTED,
                permission="handling.confirm_postponement",
                denied=_CS_DENIED,
                service=f"{_POSTPONEMENTS}.postponement_cs_confirm",
            ),
            Transition(
                action="cs_disagree",
                label=_("Customer service disagrees: management decides"),
                sources=frozenset({PostponementStatus.PENDING_CS}),
                target=PostponementStatus.PENDING_MANAGEMENT,
                permission="handling.confirm_postponement",
                denied=_CS_DENIED,
                required=("note",),
                service=f"{_POSTPONEMENTS}.postponement_cs_confirm",
            ),
            Transition(
                action="management_approve",
                label=_("Management approves"),
                sources=frozenset({PostponementStatus.PENDING_MANAGEMENT}),
                target=PostponementStatus.APPROVED,
                permission="handling.decide_postponement",
                denied=_MANAGEMENT_DENIED,
                required=("note",),
                service=f"{_POSTPONEMENTS}.postponement_management_decide",
            ),
            Transition(
                action="management_reject",
                label=_("Management rejects"),
                sources=frozenset({PostponementStatus.PENDING_MANAGEMENT}),
                target=PostponementStatus.REJECTED,
                permission="handling.decide_postponement",
                denied=_MANAGEMENT_DENIED,
                required=("note",),
                service=f"{_POSTPONEMENTS}.postponement_management_decide",
            ),
            # The dispute decision moved the task away: nothing is left to postpone.
            Transition(
                action="task_moved",
                label=_("Rejected: the task was moved"),
                sources=_OPEN_POSTPONEMENT,
                target=PostponementStatus.REJECTED,
                service=f"{_POSTPONEMENTS}.postponements_close_for_moved_task",
            ),
        ),
    )
)


# --- feedback forms -------------------------------------------------------------------------------------


def _form_wrong_state(form: Any, transition: Transition) -> DomainError:
    if transition.action == "submit":
        return TransitionNotAllowed(
            _("The feedback form is %(status)s and can no longer be changed.") % {"status": form.get_status_display()}
        )
    return TransitionNotAllowed(
        _("Only a submitted feedback form can be reviewed; this one is %(status)s.")
        % {"status": form.get_status_display()}
    )


_FEEDBACK = "closeloop.handling.services.feedback"
_FILL_DENIED = _("Only the form's handler or a member of the task's department may fill in this feedback form.")
_REVIEW_DENIED = _("Only a CS supervisor may review feedback forms.")

FEEDBACK_FORM_LIFECYCLE = register(
    Lifecycle(
        name="feedback_form",
        title=_("Feedback form"),
        model="handling.FeedbackForm",
        states=FeedbackStatus,
        wrong_state=_form_wrong_state,
        authorize=authorize,
        transitions=(
            Transition(
                action="submit",
                label=_("Submit for review"),
                sources=frozenset({FeedbackStatus.DRAFT, FeedbackStatus.RETURNED}),
                target=FeedbackStatus.SUBMITTED,
                permission="handling.fill_feedback_form",
                denied=_(
                    "Only the form's handler or a member of the task's department may fill in this feedback form."
                ),
                required=("result", "demand_met", "measures", "root_cause"),
                service=f"{_FEEDBACK}.feedback_form_submit",
            ),
            Transition(
                action="approve",
                label=_("Approve for archive"),
                sources=frozenset({FeedbackStatus.SUBMITTED}),
                target=FeedbackStatus.APPROVED,
                permission="handling.review_feedback_form",
                denied=_REVIEW_DENIED,
                service=f"{_FEEDBACK}.feedback_form_review",
            ),
            Transition(
                action="return",
                label=_("Return for supplement"),
                sources=frozenset({FeedbackStatus.SUBMITTED}),
                target=FeedbackStatus.RETURNED,
                permission="handling.review_feedback_form",
                denied=_REVIEW_DENIED,
                required=("note",),
                service=f"{_FEEDBACK}.feedback_form_review",
            ),
        ),
    )
)
