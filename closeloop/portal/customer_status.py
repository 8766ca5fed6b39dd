"""What a customer is told about each internal status, in plain words.

Internal states (dispatched, solution proposed, …) are for staff; a customer only needs to know
whether we have their complaint, are working on it, or are done. When the lifecycle gains a state,
add it here; tests/portal/test_customer_status.py fails until every state is mapped.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from closeloop.complaints.lifecycle import Status


@dataclass(frozen=True)
class CustomerStatus:
    label: Promise
    explanation: Promise
    # The line in the customer's milestone list when the complaint reaches this state; None keeps
    # the step out of the list (a purely internal step).
    milestone: Promise | None
    # For the page's colour hint only.
    tone: str = "open"


_RECEIVED = CustomerStatus(
    label=_("We have received your complaint"),
    explanation=_("Customer service will review it shortly and contact you if we need more information."),
    milestone=_("Complaint received"),
)
_WORKING = CustomerStatus(
    label=_("We are working on it"),
    explanation=_("Your complaint is being handled. We will contact you about the solution."),
    milestone=_("We started working on your complaint"),
)
_RESOLVED = CustomerStatus(
    label=_("Resolved"),
    explanation=_("Your complaint has been resolved. If the problem is not solved for you, please tell us."),
    milestone=_("Resolved"),
    tone="done",
)
_CLOSED = CustomerStatus(
    label=_("Closed"),
    explanation=_("This complaint is closed. If you think this is a mistake, please contact us."),
    milestone=_("Closed"),
    tone="closed",
)

CUSTOMER_STATUSES: dict[str, CustomerStatus] = {
    Status.REGISTERED: _RECEIVED,
    Status.ACKNOWLEDGED: _WORKING,
    Status.DISPATCHED: _WORKING,
    Status.IN_PROGRESS: _WORKING,
    Status.SOLUTION_PROPOSED: _WORKING,
    Status.SOLUTION_APPROVED: CustomerStatus(
        label=_("A solution has been agreed"),
        explanation=_("We have decided how to solve your problem and will contact you to carry it out."),
        milestone=_("Solution agreed"),
    ),
    Status.EXECUTING: CustomerStatus(
        label=_("The solution is being carried out"),
        explanation=_("We are carrying out the agreed solution (repair, replacement, refund…)."),
        milestone=_("Solution being carried out"),
    ),
    Status.RESOLVED: _RESOLVED,
    Status.REOPENED: CustomerStatus(
        label=_("We are working on it again"),
        explanation=_("You told us the problem is not solved. A supervisor follows it up; we will contact you."),
        milestone=_("Reopened at your request"),
    ),
    Status.CLOSED: _CLOSED,
    Status.ARCHIVED: _CLOSED,
    Status.INVALID: _CLOSED,
    Status.DUPLICATE: _CLOSED,
}


def customer_status(status: str) -> CustomerStatus:
    """The customer-facing status; an unmapped state reads as work in progress, never as a crash."""
    return CUSTOMER_STATUSES.get(status, _WORKING)
