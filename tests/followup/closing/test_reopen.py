"""Reopen (domain rule 1): not satisfied → reopened, escalated to the CS supervisors with the reason,
the 3-working-day second-result clock, the handlers get it back; never a repeat complaint."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from closeloop.complaints.models import Complaint, Event
from closeloop.core.errors import DomainError, PermissionDeniedError, TransitionNotAllowed
from closeloop.followup.services.closing import complaint_reopen
from closeloop.handling.models import Task, TaskStatus
from closeloop.notifications.models import Method, Notification
from closeloop.sla.models import Deadline
from closeloop.sla.services import deadlines_plan
from tests.conftest import PASSWORD
from tests.followup.closing.conftest import resolve

pytestmark = pytest.mark.django_db

REASON = "灯还是不亮,客户要求退货"


def test_customer_reopens_through_the_survey(
    handled: Callable[..., tuple[Complaint, dict]], people: dict[str, User]
) -> None:
    complaint, tasks = handled()
    complaints_before = Complaint.objects.count()

    reopened = complaint_reopen(complaint=complaint, reason=REASON, actor=None, via="portal")

    assert reopened.status == "reopened" and reopened.reopen_count == 1
    # A reopen is never a repeat complaint: no new complaint, no repeat link.
    assert Complaint.objects.count() == complaints_before
    assert reopened.repeat_of_id is None

    # Second-result clock: 3 working days from now, on the complaint itself.
    deadline = Deadline.objects.get(complaint=complaint, milestone="second_result", met_at__isnull=True)
    assert deadline.task_id is None and deadline.duration == "3wd"
    (planned,) = deadlines_plan(
        policy=reopened.sla_policy, priority=reopened.priority, milestones=["second_result"], start=deadline.started_at
    )
    assert planned.due_at == deadline.due_at

    # Escalated to every CS supervisor, without personal data or the customer's words.
    rows = Notification.objects.filter(kind="reopen_escalated", method=Method.IN_APP)
    assert {n.recipient_id for n in rows} == {people["supervisor"].pk, people["supervisor2"].pk}
    for row in Notification.objects.filter(kind="reopen_escalated"):
        text = row.subject + row.body
        assert complaint.number in text
        assert REASON not in text and complaint.customer.phone not in text and complaint.customer.name not in text
    escalated = Event.objects.get(complaint=complaint, action="escalated")
    assert escalated.note == REASON and escalated.actor is None and escalated.via == "portal"
    assert Event.objects.get(complaint=complaint, action="reopen").after["status"] == "reopened"

    # Back to the handlers: a new task per department that had replied, with the reason.
    new = Task.objects.filter(complaint=complaint).exclude(pk__in=[t.pk for t in tasks.values()])
    assert sorted((t.department.code, t.handler_id, t.status, t.instruction) for t in new) == sorted(
        [
            ("quality", people["quality_handler"].pk, TaskStatus.DISPATCHED, REASON),
            ("tech", people["tech_handler"].pk, TaskStatus.DISPATCHED, REASON),
        ]
    )
    assert Deadline.objects.filter(task__in=new, milestone="reply", met_at__isnull=True).count() == 2


def test_answered_on_the_spot_stays_with_customer_service(
    make_complaint: Callable[..., Complaint], people: dict[str, User]
) -> None:
    complaint = resolve(make_complaint(), people["agent"])
    complaint_reopen(complaint=complaint, reason=REASON, actor=people["agent"], via="desk")
    assert not Task.objects.filter(complaint=complaint).exists()
    complaint.refresh_from_db()
    assert complaint.status == "reopened"


def test_re_resolution_meets_the_second_result(
    handled: Callable[..., tuple[Complaint, dict]], people: dict[str, User]
) -> None:
    complaint, _tasks = handled()
    complaint_reopen(complaint=complaint, reason=REASON, actor=None, via="portal")
    # The departments reply again; customer service resolves (allowed from reopened).
    Task.objects.filter(complaint=complaint, status=TaskStatus.DISPATCHED).update(status=TaskStatus.REPLIED)
    resolved = resolve(complaint, people["agent"])
    assert resolved.status == "resolved"
    assert Deadline.objects.get(complaint=complaint, milestone="second_result").met_at is not None
    # A second reopen gives back one task per department (the latest), counted.
    again = complaint_reopen(complaint=complaint, reason="还是不行", actor=None, via="portal")
    assert again.reopen_count == 2
    assert Task.objects.filter(complaint=complaint, status=TaskStatus.DISPATCHED).count() == 2


def test_refusals_change_nothing(make_complaint: Callable[..., Complaint], people: dict[str, User]) -> None:
    complaint = make_complaint()
    with pytest.raises(TransitionNotAllowed):  # not resolved
        complaint_reopen(complaint=complaint, reason=REASON, actor=None, via="portal")
    resolved = resolve(complaint, people["agent"])
    events = Event.objects.filter(complaint=complaint).count()
    for actor in (None, people["agent"]):
        with pytest.raises(DomainError) as exc:
            complaint_reopen(complaint=resolved, reason="  ", actor=actor, via="desk")
        assert exc.value.field == "reason"
    with pytest.raises(PermissionDeniedError):  # a handler's role may not reopen
        complaint_reopen(complaint=resolved, reason=REASON, actor=people["quality_handler"], via="desk")
    resolved.refresh_from_db()
    assert resolved.status == "resolved" and resolved.reopen_count == 0
    assert Event.objects.filter(complaint=complaint).count() == events
    assert not Notification.objects.filter(kind="reopen_escalated").exists()


def test_desk_and_api_reopen(
    make_complaint: Callable[..., Complaint], people: dict[str, User], api_as: Callable
) -> None:
    first = resolve(make_complaint(), people["agent"])
    client = Client()
    assert client.login(username="c_agent", password=PASSWORD)
    response = client.post(reverse("followup:reopen", args=[first.number]), {"reopen-reason": ""})
    assert response.status_code == 422 and 'name="reopen-reason"' in response.content.decode()
    response = client.post(reverse("followup:reopen", args=[first.number]), {"reopen-reason": REASON})
    assert response.status_code == 302
    first.refresh_from_db()
    assert first.status == "reopened"

    second = resolve(make_complaint(), people["agent"])
    api = api_as(people["supervisor"])
    response = api.post_json(f"/api/v1/complaints/{second.number}/reopen", {"reason": ""})
    assert response.status_code == 422 and response.json()["detail"][0]["loc"][-1] == "reason"
    response = api.post_json(f"/api/v1/complaints/{second.number}/reopen", {"reason": REASON})
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "reopened" and response.json()["reopen_count"] == 1
    response = api_as(people["agent"]).post_json(f"/api/v1/complaints/{second.number}/reopen", {"reason": REASON})
    assert response.status_code == 422  # not resolved any more
    response = api_as(people["auditor"]).post_json(f"/api/v1/complaints/{second.number}/reopen", {"reason": REASON})
    assert response.status_code == 403  # the role may not, whatever the state


def test_panel_on_reopened_and_closed_pages(make_complaint: Callable[..., Complaint], people: dict[str, User]) -> None:
    from closeloop.complaints.services import complaint_transition
    from closeloop.followup.models import FollowUpOutcome
    from tests.followup.closing.conftest import set_followup

    reopened = resolve(make_complaint(), people["agent"])
    complaint_reopen(complaint=reopened, reason=REASON, actor=None, via="portal")
    closed = resolve(make_complaint(), people["agent"])
    set_followup(closed, FollowUpOutcome.SATISFIED)
    complaint_transition(complaint=closed, action="close", actor=people["agent"], via="desk")

    client = Client()
    client.force_login(people["supervisor"])
    page = client.get(reverse("desk:detail", args=[reopened.number])).content.decode()
    assert 'id="closing"' in page and "second result" in page
    page = client.get(reverse("desk:detail", args=[closed.number])).content.decode()
    assert 'id="closing"' in page and reverse("followup:archive", args=[closed.number]) not in page
    client.force_login(people["admin"])
    page = client.get(reverse("desk:detail", args=[closed.number])).content.decode()
    assert reverse("followup:archive", args=[closed.number]) in page
    assert client.post(reverse("followup:archive", args=[closed.number])).status_code == 302
    closed.refresh_from_db()
    assert closed.status == "archived"
