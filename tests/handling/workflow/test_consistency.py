"""The workflow agrees with itself (issue 17): dispatching from registered acknowledges receipt, and an
approved postponement moves the complaint's own resolution clock with the department's reply deadline."""

from __future__ import annotations

import datetime
from collections.abc import Callable

import pytest
from django.contrib.auth.models import User

from closeloop.complaints.lifecycle import LIFECYCLE, Status
from closeloop.complaints.models import Complaint, Event
from closeloop.directory.models import Department
from closeloop.handling.models import PostponementStatus, Task
from closeloop.handling.services.postponements import (
    open_reply_deadline,
    postponement_cs_confirm,
    postponement_manager_opinion,
    postponement_request,
)
from closeloop.handling.services.tasks import complaint_dispatch
from closeloop.sla.milestones import Milestone
from closeloop.sla.models import Deadline

pytestmark = pytest.mark.django_db


def _clock(complaint: Complaint, milestone: str) -> Deadline:
    return Deadline.objects.get(complaint=complaint, task__isnull=True, milestone=milestone)


def test_dispatch_from_registered_acknowledges_first(
    make_complaint: Callable[..., Complaint], people: dict[str, User], quality_dept: Department
) -> None:
    complaint = make_complaint(actor=people["agent"])
    assert complaint.status == Status.REGISTERED
    assert _clock(complaint, Milestone.ACKNOWLEDGE).met_at is None

    complaint_dispatch(complaint=complaint, assignments=[(quality_dept, None, "")], actor=people["agent"], via="desk")

    complaint.refresh_from_db()
    assert complaint.status == Status.DISPATCHED
    # The acknowledgement clock is met (not left running to breach and escalate), with its own event.
    assert _clock(complaint, Milestone.ACKNOWLEDGE).met_at is not None
    actions = list(Event.objects.filter(complaint=complaint).order_by("id").values_list("action", flat=True))
    assert actions.index("acknowledge") == actions.index("dispatch") - 1
    acknowledged = Event.objects.get(complaint=complaint, action="acknowledge")
    assert acknowledged.before["status"] == Status.REGISTERED and acknowledged.after["with_dispatch"] is True


def test_dispatch_from_acknowledged_does_not_acknowledge_twice(
    make_complaint: Callable[..., Complaint], people: dict[str, User], quality_dept: Department
) -> None:
    from closeloop.complaints.services import complaint_transition

    complaint = make_complaint(actor=people["agent"])
    complaint_transition(complaint=complaint, action="acknowledge", actor=people["agent"], via="desk")
    complaint_dispatch(complaint=complaint, assignments=[(quality_dept, None, "")], actor=people["agent"], via="desk")
    assert Event.objects.filter(complaint=complaint, action="acknowledge").count() == 1


def test_approved_postponement_moves_the_resolution_clock_keeping_the_original(
    dispatched: Callable[..., tuple[Complaint, dict[str, Task]]], people: dict[str, User]
) -> None:
    complaint, tasks = dispatched()
    reply = open_reply_deadline(tasks["tech"])
    assert reply is not None
    resolution_before = _clock(complaint, Milestone.RESOLUTION).due_at
    acknowledge_before = _clock(complaint, Milestone.ACKNOWLEDGE).due_at

    postponement = postponement_request(
        task=tasks["tech"],
        reason="生产周期",
        proposed_due=reply.due_at + datetime.timedelta(days=7),
        actor=people["tech_handler"],
        via="desk",
    )
    postponement = postponement_manager_opinion(
        postponement=postponement, agrees=True, opinion="同意", actor=people["tech_manager"]
    )
    postponement = postponement_cs_confirm(postponement=postponement, agrees=True, note="", actor=people["agent"])
    assert postponement.status == PostponementStatus.APPROVED

    resolution = _clock(complaint, Milestone.RESOLUTION)
    assert resolution.due_at > resolution_before
    assert resolution.original_due_at == resolution_before  # kept for the KPIs
    # A clock that does not wait on the department stays.
    assert _clock(complaint, Milestone.ACKNOWLEDGE).due_at == acknowledge_before
    event = Event.objects.get(complaint=complaint, action="postponement_approved")
    assert [c["milestone"] for c in event.after["complaint_deadlines"]] == [Milestone.RESOLUTION]


def test_resolve_is_not_offered_while_a_department_works(
    dispatched: Callable[..., tuple[Complaint, dict[str, Task]]], people: dict[str, User]
) -> None:
    complaint, _tasks = dispatched()
    complaint.status = Status.REOPENED  # as after a follow-up the customer was not satisfied with
    offered = {t.action for t in LIFECYCLE.offered(complaint, people["agent"])}
    assert "resolve" not in offered
    assert "dispatch" in offered


def test_a_postponement_step_notice_is_done_once_the_step_is_taken(
    dispatched: Callable[..., tuple[Complaint, dict[str, Task]]], people: dict[str, User]
) -> None:
    from closeloop.notifications.models import Notification

    _complaint, tasks = dispatched()
    reply = open_reply_deadline(tasks["tech"])
    assert reply is not None
    postponement = postponement_request(
        task=tasks["tech"],
        reason="生产周期",
        proposed_due=reply.due_at + datetime.timedelta(days=3),
        actor=people["tech_handler"],
        via="desk",
    )
    asked = Notification.objects.get(kind="postponement_requested", recipient=people["tech_manager"], method="in_app")
    assert asked.todo and asked.done_at is None

    postponement_manager_opinion(postponement=postponement, agrees=True, opinion="同意", actor=people["tech_manager"])

    asked.refresh_from_db()
    assert asked.done_at is not None
    confirm = Notification.objects.get(kind="postponement_opinion", recipient=people["supervisor"], method="in_app")
    assert confirm.done_at is None  # the next step's notice is open until customer service confirms
