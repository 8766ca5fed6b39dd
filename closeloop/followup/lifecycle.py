"""The life of a follow-up round as a table (the mechanism: closeloop/core/lifecycle.py).

A round is born open (blank outcome) when the complaint is resolved. It ends once: the customer's
answer (by phone, reply or the self-service survey) makes it satisfied or not satisfied, or failed
attempts on enough different days make it unreachable. The status field is `outcome`.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from closeloop import authz
from closeloop.core.errors import DomainError, TransitionNotAllowed
from closeloop.core.lifecycle import Lifecycle, Transition, register
from closeloop.followup.models import FollowUpOutcome

# Who makes follow-up calls (domain: agents; supervisors stand in): closeloop/authz's permission.
MAKE_FOLLOWUP = "followup.make_followup"
DENIED = _("Only customer-service agents and CS supervisors make follow-ups.")


class FollowUpState(models.TextChoices):
    """The follow-up's outcome field read as a state: blank while the round is open."""

    OPEN = "", pgettext_lazy("follow-up state", "open")
    SATISFIED = FollowUpOutcome.SATISFIED.value, FollowUpOutcome.SATISFIED.label
    UNSATISFIED = FollowUpOutcome.UNSATISFIED.value, FollowUpOutcome.UNSATISFIED.label
    UNREACHABLE = FollowUpOutcome.UNREACHABLE.value, FollowUpOutcome.UNREACHABLE.label


def agent_or_survey(user: Any, followup: Any) -> bool:
    """Agents and CS supervisors record an answer; the survey records the customer's own (no actor)."""
    return user is None or authz.allowed(user, MAKE_FOLLOWUP)


def _finished(followup: Any, transition: Transition) -> DomainError:
    return TransitionNotAllowed(
        _("This follow-up is finished (%(outcome)s).") % {"outcome": followup.get_outcome_display()}
    )


_OPEN = frozenset({FollowUpState.OPEN})

LIFECYCLE = register(
    Lifecycle(
        name="followup",
        title=_("Follow-up round"),
        model="followup.FollowUp",
        status_field="outcome",
        states=FollowUpState,
        wrong_state=_finished,
        authorize=authz.allowed,
        transitions=(
            Transition(
                action="record_satisfied",
                label=_("Record the answer: satisfied"),
                sources=_OPEN,
                target=FollowUpState.SATISFIED,
                allowed=agent_or_survey,
                denied=DENIED,
                required=("method", "solved", "level"),
                service="closeloop.followup.services.followups.followup_record",
            ),
            Transition(
                action="record_unsatisfied",
                label=_("Record the answer: not satisfied"),
                sources=_OPEN,
                target=FollowUpState.UNSATISFIED,
                allowed=agent_or_survey,
                denied=DENIED,
                required=("method", "solved", "level"),
                service="closeloop.followup.services.followups.followup_record",
            ),
            Transition(
                action="unreachable",
                label=_("Unreachable after the last failed attempt"),
                sources=_OPEN,
                target=FollowUpState.UNREACHABLE,
                permission=MAKE_FOLLOWUP,
                denied=DENIED,
                required=("method", "result"),
                service="closeloop.followup.services.followups.followup_attempt",
            ),
        ),
    )
)
