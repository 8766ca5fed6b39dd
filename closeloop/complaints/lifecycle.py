"""The life of a complaint as one declarative table.

Services check it before any change of state, the UI reads it to offer only the actions a user may
take now, the API exposes it (`GET /api/v1/lifecycle`), and `closeloop lifecycle` prints it as the
Markdown table in docs/architecture.md. Later capabilities add states and rows here; the mechanism in
`services.complaint_transition` does not change.

A row names the services, guards and follow-ups of higher packages (handling, followup) by dotted
path: complaints sit below them and never import them; a path is imported when a transition first
needs it, and tests/complaints/test_lifecycle.py checks that each one is a callable.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from closeloop import authz
from closeloop.core.errors import TransitionNotAllowed

# Guard, Transition and named_callable are read from here by the modules that knew the complaint's table first.
from closeloop.core.lifecycle import Guard as Guard
from closeloop.core.lifecycle import Lifecycle, Transition, register
from closeloop.core.lifecycle import named_callable as named_callable

if TYPE_CHECKING:
    from closeloop.complaints.models import Complaint


class Status(models.TextChoices):
    # Received (by any channel) and numbered; nobody has confirmed receipt to the customer yet.
    REGISTERED = "registered", _("registered")
    # Receipt confirmed to the customer; the complaint is being worked on by customer service.
    ACKNOWLEDGED = "acknowledged", _("acknowledged")
    # Handed to one or more departments; waiting for a handler to verify it.
    DISPATCHED = "dispatched", _("dispatched")
    # A department verified it and is analysing / handling it.
    IN_PROGRESS = "in_progress", _("in progress")
    # A handler proposed a solution; waiting for the approvals it needs.
    SOLUTION_PROPOSED = "solution_proposed", _("solution proposed")
    # Every required level approved the solution; it can be executed.
    SOLUTION_APPROVED = "solution_approved", _("solution approved")
    # The approved solution is being carried out, step by step.
    EXECUTING = "executing", _("executing")
    # The customer's problem is solved (answered on the spot, or after handling); a follow-up is due.
    RESOLVED = "resolved", _("resolved")
    # The customer was not satisfied at the follow-up: escalated, a second result is due in 3 working days.
    REOPENED = "reopened", _("reopened")
    # Follow-up done (satisfied, or unreachable) and every feedback form approved for archive.
    CLOSED = "closed", pgettext_lazy("complaint state", "closed")
    # Read-only for good; personal data may be anonymised after the retention period.
    ARCHIVED = "archived", _("archived")
    # Not a complaint (spam, wrong company, advertising…); the reason is kept.
    INVALID = "invalid", _("invalid")
    # The same complaint registered twice; points to the one that is being handled.
    DUPLICATE = "duplicate", _("duplicate")


OPEN_STATUSES = frozenset(
    {
        Status.REGISTERED,
        Status.ACKNOWLEDGED,
        Status.DISPATCHED,
        Status.IN_PROGRESS,
        Status.SOLUTION_PROPOSED,
        Status.SOLUTION_APPROVED,
        Status.EXECUTING,
        Status.REOPENED,
    }
)
# The same, in one fixed order: the condition of the queue's partial index `complaint_open_due`, which
# SQLite uses only for a query that states it word for word (a set's order changes from process to process).
OPEN_STATUS_LIST = tuple(sorted(OPEN_STATUSES))
# States in which departments are working on the complaint.
HANDLING_STATUSES = frozenset(
    {Status.DISPATCHED, Status.IN_PROGRESS, Status.SOLUTION_PROPOSED, Status.SOLUTION_APPROVED, Status.EXECUTING}
)
TERMINAL_STATUSES = frozenset({Status.INVALID, Status.DUPLICATE, Status.ARCHIVED})
# Left out of every count (KPI cohorts, repeats, spikes, the effect of improvement actions): an invalid
# complaint was never one, and a duplicate is counted through the complaint it duplicates.
NOT_COUNTED_STATUSES = (Status.INVALID, Status.DUPLICATE)


def _duplicate_of_is_other_complaint(complaint: Complaint, data: dict[str, object]) -> str | Promise | None:
    other = data.get("duplicate_of")
    if other is not None and getattr(other, "pk", None) == complaint.pk:
        return _("A complaint cannot be a duplicate of itself.")
    return None


def _wrong_state(complaint: Complaint, transition: Transition) -> TransitionNotAllowed:
    return TransitionNotAllowed(
        _("“%(label)s” is not possible while the complaint is %(status)s.")
        % {"label": transition.label, "status": Status(complaint.status).label},
        reason="wrong_state" if complaint.status in OPEN_STATUSES else "not_open",
    )


LIFECYCLE = register(
    Lifecycle(
        name="complaint",
        title=_("Complaint"),
        model="complaints.Complaint",
        states=Status,
        open_states=OPEN_STATUSES,
        default_service="complaint_transition",
        wrong_state=_wrong_state,
        transitions=(
            Transition(
                action="acknowledge",
                label=_("Acknowledge receipt"),
                done=_("Receipt acknowledged; the customer is told. Next: dispatch it, or answer on the spot."),
                sources=frozenset({Status.REGISTERED}),
                target=Status.ACKNOWLEDGED,
                roles=authz.DESK,
                meets=("acknowledge",),
                notify_customer="acknowledged",
            ),
            Transition(
                action="dispatch",
                label=_("Dispatch to departments"),
                sources=frozenset({Status.REGISTERED, Status.ACKNOWLEDGED, Status.REOPENED}),
                target=Status.DISPATCHED,
                roles=authz.DESK,
                required=("departments",),
                service="closeloop.handling.services.tasks.complaint_dispatch",
            ),
            Transition(
                action="start_handling",
                label=_("Start handling"),
                sources=frozenset({Status.DISPATCHED, Status.REOPENED}),
                target=Status.IN_PROGRESS,
                roles=authz.DEPARTMENT,
                service="closeloop.handling.services.tasks.task_verify",
            ),
            Transition(
                action="propose_solution",
                label=_("Propose a solution"),
                sources=frozenset({Status.DISPATCHED, Status.IN_PROGRESS, Status.REOPENED}),
                target=Status.SOLUTION_PROPOSED,
                roles=authz.DEPARTMENT,
                service="closeloop.handling.services.solutions.solution_propose",
            ),
            Transition(
                action="approve_solution",
                label=_("Approve the solution"),
                sources=frozenset({Status.SOLUTION_PROPOSED}),
                target=Status.SOLUTION_APPROVED,
                roles=authz.APPROVERS,
                service="closeloop.handling.services.solutions.solution_decide",
            ),
            Transition(
                action="reject_solution",
                label=_("Reject the solution"),
                sources=frozenset({Status.SOLUTION_PROPOSED}),
                target=Status.IN_PROGRESS,
                roles=authz.APPROVERS,
                required=("reason",),
                service="closeloop.handling.services.solutions.solution_decide",
            ),
            Transition(
                action="start_execution",
                label=_("Start executing the solution"),
                sources=frozenset({Status.SOLUTION_APPROVED}),
                target=Status.EXECUTING,
                roles=authz.DESK | authz.DEPARTMENT,
                service="closeloop.handling.services.solutions.solution_execute",
            ),
            Transition(
                action="resolve",
                label=_("Answer on the spot / resolve"),
                done=_("Resolved; the customer is told. Next: the follow-up (回访), due within 2 working days."),
                sources=frozenset(
                    {Status.REGISTERED, Status.ACKNOWLEDGED, Status.IN_PROGRESS, Status.EXECUTING, Status.REOPENED}
                ),
                target=Status.RESOLVED,
                roles=authz.DESK,
                required=("resolution",),
                guards=(
                    "closeloop.handling.guards.no_department_still_working",
                    "closeloop.handling.guards.execution_finished",
                ),
                meets=("acknowledge", "first_response", "resolution", "second_result"),
                notify_customer="resolved",
                then=("closeloop.followup.services.followups.followup_create",),
            ),
            Transition(
                action="invalidate",
                label=_("Mark invalid"),
                done=_("Marked invalid: its clocks are stopped and nothing more is due."),
                sources=frozenset({Status.REGISTERED, Status.ACKNOWLEDGED}),
                target=Status.INVALID,
                roles=authz.DESK,
                required=("reason",),
                cancels_deadlines=True,
                style="danger",
            ),
            Transition(
                action="mark_duplicate",
                label=_("Mark duplicate"),
                done=_("Marked as a duplicate: its clocks are stopped; the other complaint is handled instead."),
                sources=frozenset({Status.REGISTERED, Status.ACKNOWLEDGED}),
                target=Status.DUPLICATE,
                roles=authz.DESK,
                required=("reason", "duplicate_of"),
                guards=(_duplicate_of_is_other_complaint,),
                cancels_deadlines=True,
                style="danger",
            ),
            Transition(
                action="reopen",
                label=_("Reopen (customer not satisfied)"),
                sources=frozenset({Status.RESOLVED}),
                target=Status.REOPENED,
                roles=authz.DESK,
                required=("reason",),
                service="closeloop.followup.services.closing.complaint_reopen",
                style="danger",
            ),
            Transition(
                action="close",
                label=_("Close"),
                done=_("Closed: the loop is complete. It is archived automatically after the configured delay."),
                sources=frozenset({Status.RESOLVED}),
                target=Status.CLOSED,
                roles=authz.DESK,
                own_form=True,
                guards=(
                    "closeloop.followup.guards.followup_outcome_recorded",
                    "closeloop.handling.guards.feedback_forms_approved",
                ),
            ),
            Transition(
                action="archive",
                label=_("Archive"),
                sources=frozenset({Status.CLOSED}),
                target=Status.ARCHIVED,
                roles=authz.ADMINS,
                service="closeloop.followup.services.closing.complaint_archive",
            ),
        ),
    )
)
TRANSITIONS: dict[str, Transition] = LIFECYCLE.by_action

FIELD_LABELS = {
    "resolution": _("resolution"),
    "reason": _("reason"),
    "duplicate_of": _("duplicate of (complaint number)"),
    "departments": _("departments"),
}


def transitions_from(status: str) -> list[Transition]:
    return [t for t in TRANSITIONS.values() if status in t.sources]


def available_transitions(status: str, roles: frozenset[str], *, include_service: bool = False) -> list[Transition]:
    """The actions a user holding `roles` may take on a complaint in `status`. Transitions performed by
    a dedicated service (dispatch, approvals…) have their own forms and are left out unless asked for."""
    return [t for t in transitions_from(status) if roles & t.roles and (include_service or not t.service)]


def offered_transitions(complaint: Complaint, user: object, *, generic: bool = True) -> list[Transition]:
    """The complaint's actions `user` may take now (LIFECYCLE.offered: role, state and guards); with
    `generic`, only those the generic form performs (no dedicated service, no panel of their own)."""
    return [t for t in LIFECYCLE.offered(complaint, user) if not generic or not (t.service or t.own_form)]


def as_markdown() -> str:
    return LIFECYCLE.as_markdown()
