"""Desk pages of the SLA engine: deadlines on the complaint page, its actions, calendar, notifications."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.utils import timezone

from closeloop.complaints.sweeps import sla_sweep
from closeloop.sla.models import Deadline

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent_client(agent) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(agent)
    return client


def test_complaint_page_lists_deadlines_with_badges(agent_client, make_complaint):
    complaint = make_complaint(priority=1, received_at=timezone.now() - datetime.timedelta(minutes=40))

    body = agent_client.get(f"/desk/c/{complaint.number}/").content.decode()

    assert 'id="deadlines"' in body
    assert "tl tl-breached" in body  # acknowledge (30 min) is overdue
    assert "30 minutes" in body and "1 working day" in body  # the targets in words (sla.presentation)


def test_priority_change_from_the_page_recomputes_and_refuses_without_reason(agent_client, make_complaint):
    complaint = make_complaint(priority=3)
    url = f"/desk/c/{complaint.number}/sla/priority/"

    refused = agent_client.post(url, {"priority": "1", "reason": ""})
    assert refused.status_code == 422
    assert Deadline.objects.get(complaint=complaint, milestone="resolution").duration == "3wd"

    done = agent_client.post(url, {"priority": "1", "reason": "客户情绪激动"})
    assert done.status_code == 302
    assert Deadline.objects.get(complaint=complaint, milestone="resolution").duration == "1wd"
    assert complaint.events.filter(action="priority_changed").count() == 1


def test_wait_and_resume_from_the_page(agent_client, make_complaint):
    complaint = make_complaint()
    assert agent_client.post(f"/desk/c/{complaint.number}/sla/wait/", {"reason": "等客户照片"}).status_code == 302
    complaint.refresh_from_db()
    assert complaint.waiting_since is not None
    assert "tl tl-paused" in agent_client.get(f"/desk/c/{complaint.number}/").content.decode()
    assert agent_client.post(f"/desk/c/{complaint.number}/sla/resume/", {"note": ""}).status_code == 302
    complaint.refresh_from_db()
    assert complaint.waiting_since is None and complaint.next_due_at is not None


def test_handler_gets_no_sla_actions_and_cannot_post_them(client, handler, make_complaint):
    complaint = make_complaint()  # type quality → the handler's department
    client.force_login(handler)
    body = client.get(f"/desk/c/{complaint.number}/").content.decode()
    assert "/sla/priority/" not in body
    response = client.post(f"/desk/c/{complaint.number}/sla/priority/", {"priority": "1", "reason": "x"})
    assert response.status_code == 422
    assert complaint.events.filter(action="priority_changed").count() == 0


def test_calendar_page_shows_holidays_make_up_days_and_the_missing_year_warning(agent_client):
    body = agent_client.get("/desk/calendar/?month=2026-10").content.decode()
    assert 'data-date="2026-10-01"' in body
    assert "National Day" in body or "国庆节" in body
    assert "make-up working day" in body  # Saturday 10 October

    body = agent_client.get("/desk/calendar/?month=2027-01&calendar=six-day").content.decode()
    assert "No holiday schedule for" in body and "2027" in body


def test_notification_list_and_mark_read(agent_client, agent, make_complaint):
    received = timezone.now() - datetime.timedelta(hours=1)
    make_complaint(priority=1, received_at=received)  # registered by `agent`: its assignee
    sla_sweep()

    body = agent_client.get("/desk/notifications/").content.decode()
    assert "unread" in body and "badge-count" in body
    agent_client.post("/desk/notifications/read/")
    body = agent_client.get("/desk/notifications/").content.decode()
    assert 'class="unread"' not in body
