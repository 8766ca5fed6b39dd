"""Small scenarios for the KPI tests, built through the services."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth.models import User

from closeloop.complaints.models import Complaint
from closeloop.complaints.services import complaint_transition
from closeloop.directory.models import Department
from closeloop.followup.models import FollowUp
from closeloop.followup.services.followups import followup_record
from closeloop.handling.services.tasks import Assignment, complaint_dispatch, contact_log_add, task_reply, task_verify
from tests.insight.month import at


def handled(make_complaint: Callable[..., Complaint], staff: dict[str, User], day: int) -> Complaint:
    """Received on October `day` at 09:00, dispatched to quality and production, contacted, both replied,
    resolved, and the customer satisfied: a row in every KPI base."""
    agent = staff["agent"]
    complaint = make_complaint(actor=agent, received_at=at(10, day, 9), now=at(10, day, 9))
    quality, production = Department.objects.get(code="quality"), Department.objects.get(code="production")
    tasks = complaint_dispatch(
        complaint=complaint,
        assignments=[Assignment(quality, staff["h1"]), Assignment(production, staff["hp"])],
        actor=agent,
        via="desk",
        now=at(10, day, 9, 30),
    )
    for task, who in zip(tasks, ("h1", "hp"), strict=True):
        task_verify(task=task, actor=staff[who], via="desk", now=at(10, day, 10))
    contact_log_add(
        complaint=complaint,
        task=tasks[0],
        at=at(10, day, 10, 30),
        channel="phone",
        outcome="reached",
        summary="已联系",
        actor=staff["h1"],
        via="desk",
        now=at(10, day, 10, 30),
    )
    for task, who in zip(tasks, ("h1", "hp"), strict=True):
        task_reply(task=task, reply="已处理", actor=staff[who], via="desk", now=at(10, day, 11))
    complaint_transition(
        complaint=complaint,
        action="resolve",
        actor=agent,
        via="desk",
        data={"resolution": "已处理"},
        now=at(10, day, 14),
    )
    followup = FollowUp.objects.get(complaint=complaint)
    followup_record(
        followup=followup,
        method="phone",
        solved=True,
        level="satisfied",
        actor=agent,
        via="desk",
        now=at(10, day, 15),
    )
    return complaint
