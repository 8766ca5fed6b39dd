"""The life of an improvement action as a table (the mechanism: closeloop/core/lifecycle.py).

Planned → in progress → done (what was done) → verified once the owner side and quality have both
judged the measured effect. Who may act: closeloop/authz's permissions (`improvement.act_as_owner`,
`improvement.judge_effect_as_quality`).
"""

from __future__ import annotations

from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from closeloop import authz
from closeloop.core.errors import DomainError
from closeloop.core.lifecycle import Lifecycle, Transition, register
from closeloop.improvement.models import ActionStatus

OWNER_SIDE = "improvement.act_as_owner"
_PROGRESS_DENIED = _("Only the action's owner or a manager of the owner department may report its progress.")


def _wrong_state(action: Any, transition: Transition) -> DomainError:
    return DomainError(
        _("The action is %(status)s; this step is not possible now.") % {"status": action.get_status_display()},
        field="status",
        code="transition_not_allowed",
    )


def _both_sides_judged(action: Any, data: dict[str, object]) -> str | Promise | None:
    if action.owner_effective is None or action.quality_effective is None:
        return _("The owner side and quality both judge the effect first.")
    return None


def may_judge(user: Any, action: Any) -> bool:
    """The owner side gives the owner's judgement, quality (or holders of the permission) quality's."""
    return authz.allowed(user, OWNER_SIDE, action) or authz.allowed(user, "improvement.judge_effect_as_quality")


LIFECYCLE = register(
    Lifecycle(
        name="improvement_action",
        title=_("Improvement action"),
        model="improvement.ImprovementAction",
        states=ActionStatus,
        wrong_state=_wrong_state,
        authorize=authz.allowed,
        transitions=(
            Transition(
                action="start",
                label=_("Start the action"),
                sources=frozenset({ActionStatus.PLANNED}),
                target=ActionStatus.IN_PROGRESS,
                permission=OWNER_SIDE,
                denied=_PROGRESS_DENIED,
                service="closeloop.improvement.services.action_start",
            ),
            Transition(
                action="complete",
                label=_("Report done"),
                sources=frozenset({ActionStatus.IN_PROGRESS}),
                target=ActionStatus.DONE,
                permission=OWNER_SIDE,
                denied=_PROGRESS_DENIED,
                required=("done_note",),
                service="closeloop.improvement.services.action_complete",
            ),
            Transition(
                action="verify",
                label=_("Verify (both judged)"),
                sources=frozenset({ActionStatus.DONE}),
                target=ActionStatus.VERIFIED,
                allowed=may_judge,
                denied=_("Only the owner side or quality judge the effect."),
                guards=(_both_sides_judged,),
                service="closeloop.improvement.services.action_judge",
            ),
        ),
    )
)
