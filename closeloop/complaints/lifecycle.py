"""The life of a complaint as one declarative table.

Services check it before any change of state, the UI reads it to offer only the actions a user may
take now, the API exposes it, and `docs/lifecycle.md` is generated from it
(`closeloop lifecycle --markdown`). Later capabilities add states and rows here; the mechanism in
`services.complaint_transition` does not change.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from closeloop.core.roles import Role

if TYPE_CHECKING:
    from closeloop.complaints.models import Complaint


class Status(models.TextChoices):
    # Received (by any channel) and numbered; nobody has confirmed receipt to the customer yet.
    REGISTERED = "registered", _("registered")
    # Receipt confirmed to the customer; the complaint is being worked on by customer service.
    ACKNOWLEDGED = "acknowledged", _("acknowledged")
    # The customer's problem is solved (answered on the spot, or after handling).
    RESOLVED = "resolved", _("resolved")
    # Not a complaint (spam, wrong company, advertising…); the reason is kept.
    INVALID = "invalid", _("invalid")
    # The same complaint registered twice; points to the one that is being handled.
    DUPLICATE = "duplicate", _("duplicate")


OPEN_STATUSES = frozenset({Status.REGISTERED, Status.ACKNOWLEDGED})
TERMINAL_STATUSES = frozenset({Status.INVALID, Status.DUPLICATE})

# A guard returns None when the transition may go ahead, or the reason why not.
Guard = Callable[["Complaint", dict[str, object]], "str | Promise | None"]


@dataclass(frozen=True)
class Transition:
    action: str
    label: Promise
    sources: frozenset[Status]
    target: Status
    roles: frozenset[Role]
    required: tuple[str, ...] = ()
    guards: tuple[Guard, ...] = field(default=())
    # SLA milestones this transition meets, or cancels every open clock (the complaint needs none).
    meets: tuple[str, ...] = ()
    cancels_deadlines: bool = False
    # Shown on the button and used as CSS hint; "danger" asks for confirmation in the UI.
    style: str = "primary"


def _duplicate_of_is_other_complaint(complaint: Complaint, data: dict[str, object]) -> str | Promise | None:
    other = data.get("duplicate_of")
    if other is not None and getattr(other, "pk", None) == complaint.pk:
        return _("A complaint cannot be a duplicate of itself.")
    return None


_DESK = frozenset({Role.AGENT, Role.CS_SUPERVISOR})

TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in [
        Transition(
            action="acknowledge",
            label=_("Acknowledge receipt"),
            sources=frozenset({Status.REGISTERED}),
            target=Status.ACKNOWLEDGED,
            roles=_DESK,
            meets=("acknowledge",),
        ),
        Transition(
            action="resolve",
            label=_("Answer on the spot / resolve"),
            sources=frozenset({Status.REGISTERED, Status.ACKNOWLEDGED}),
            target=Status.RESOLVED,
            roles=_DESK,
            required=("resolution",),
            meets=("acknowledge", "first_response", "resolution"),
        ),
        Transition(
            action="invalidate",
            label=_("Mark invalid"),
            sources=frozenset({Status.REGISTERED, Status.ACKNOWLEDGED}),
            target=Status.INVALID,
            roles=_DESK,
            required=("reason",),
            cancels_deadlines=True,
            style="danger",
        ),
        Transition(
            action="mark_duplicate",
            label=_("Mark duplicate"),
            sources=frozenset({Status.REGISTERED, Status.ACKNOWLEDGED}),
            target=Status.DUPLICATE,
            roles=_DESK,
            required=("reason", "duplicate_of"),
            guards=(_duplicate_of_is_other_complaint,),
            cancels_deadlines=True,
            style="danger",
        ),
    ]
}

FIELD_LABELS = {
    "resolution": _("resolution"),
    "reason": _("reason"),
    "duplicate_of": _("duplicate of (complaint number)"),
}


def transitions_from(status: str) -> list[Transition]:
    return [t for t in TRANSITIONS.values() if status in t.sources]


def available_transitions(status: str, roles: frozenset[str]) -> list[Transition]:
    """The actions a user holding `roles` may take on a complaint in `status`."""
    return [t for t in transitions_from(status) if t.roles & roles]


def as_markdown() -> str:
    lines = [
        "| action | from | to | roles | required |",
        "|---|---|---|---|---|",
    ]
    for t in TRANSITIONS.values():
        sources = ", ".join(sorted(s.value for s in t.sources))
        roles = ", ".join(sorted(r.value for r in t.roles))
        lines.append(f"| `{t.action}` | {sources} | {t.target.value} | {roles} | {', '.join(t.required) or '—'} |")
    return "\n".join(lines) + "\n"
