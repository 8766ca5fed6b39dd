"""Bulk actions of the queue: one action on many complaints, each through the very service (and its
lifecycle row, permission and guards) that the complaint page calls, in a transaction of its own, so
that one refusal leaves the others done. The answer is one result per complaint."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _

from closeloop import authz
from closeloop.complaints import services as complaint_services
from closeloop.complaints.lifecycle import TRANSITIONS
from closeloop.complaints.models import Complaint, Via
from closeloop.complaints.selectors import complaints_visible_to
from closeloop.core.errors import DomainError
from closeloop.core.types import User
from closeloop.handling.models import ACTIVE_TASK_STATUSES
from closeloop.handling.services.tasks import Assignment, complaint_dispatch, task_reassign

# At most this many complaints in one request: a page of the queue and some.
BULK_MAX = 100
ACTIONS = ("assign", "dispatch", "priority", "acknowledge", "close")


@dataclass(frozen=True)
class BulkResult:
    number: str
    ok: bool
    message: str


def complaints_bulk(*, numbers: list[str], action: str, data: dict[str, Any], actor: User) -> list[BulkResult]:
    """Apply `action` to each complaint the actor may see, in the order given. `data`: `priority` and
    `reason` (priority), `department` (dispatch), `handler` (assign: the complaint's active tasks of the
    handler's departments go to them)."""
    if action not in ACTIONS:
        raise DomainError(_("Unknown action."), field="action")
    numbers = list(dict.fromkeys(n.strip() for n in numbers if n.strip()))[:BULK_MAX]
    found = {c.number: c for c in complaints_visible_to(actor).filter(number__in=numbers)}
    results = []
    for number in numbers:
        complaint = found.get(number)
        if complaint is None:
            results.append(BulkResult(number, False, str(_("No such complaint."))))
            continue
        try:
            message = _apply(complaint, action, data, actor)
        except DomainError as exc:
            results.append(BulkResult(number, False, str(exc.message)))
        else:
            results.append(BulkResult(number, True, str(message)))
    return results


def _apply(complaint: Complaint, action: str, data: dict[str, Any], actor: User) -> Any:
    if action == "priority":
        complaint_services.complaint_change_priority(
            complaint=complaint, priority=data["priority"], reason=data["reason"], actor=actor, via=Via.DESK
        )
        return _("Priority changed; deadlines recomputed.")
    if action == "dispatch":
        complaint_dispatch(
            complaint=complaint, assignments=[Assignment(department=data["department"])], actor=actor, via=Via.DESK
        )
        return _("Dispatched to %(department)s.") % {"department": data["department"].label}
    if action == "assign":
        handler = data["handler"]
        departments = set(handler.memberships.values_list("department_id", flat=True))
        tasks = list(complaint.tasks.filter(status__in=ACTIVE_TASK_STATUSES, department_id__in=departments))
        if not tasks:
            raise DomainError(_("No open task of the handler's departments on this complaint."))
        for task in tasks:
            authz.require(actor, "handling.reassign_task", task)
            task_reassign(task=task, handler=handler, actor=actor, via=Via.DESK)
        return _("Assigned to %(name)s.") % {"name": handler.get_full_name() or handler.get_username()}
    complaint_services.complaint_transition(complaint=complaint, action=action, actor=actor, via=Via.DESK, data={})
    return _("%(action)s: done.") % {"action": TRANSITIONS[action].label}
