"""Deadlines in complaint responses; calendar and policy read endpoints; priority and waiting over the API."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.utils import timezone

from closeloop.core.services import api_token_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(agent) -> Client:
    _token, key = api_token_create(user=agent, name="test")
    return Client(HTTP_AUTHORIZATION=f"Bearer {key}")


def test_complaint_carries_its_deadlines_and_state(api, make_complaint):
    complaint = make_complaint(priority=1, received_at=timezone.now() - datetime.timedelta(minutes=40))

    body = api.get(f"/api/v1/complaints/{complaint.number}").json()

    assert body["deadline_state"] == "breached"
    milestones = {d["milestone"]: d for d in body["deadlines"]}
    assert set(milestones) == {"acknowledge", "first_response", "resolution"}
    assert milestones["acknowledge"]["state"] == "breached" and milestones["acknowledge"]["duration"] == "30min"
    listed = api.get("/api/v1/complaints").json()["items"][0]
    assert listed["deadline_state"] == "breached" and listed["next_due_at"]


def test_priority_wait_resume_over_the_api(api, make_complaint):
    complaint = make_complaint(priority=3)
    url = f"/api/v1/complaints/{complaint.number}"

    missing = api.post(f"{url}/priority", {"priority": 1, "reason": ""}, content_type="application/json")
    assert missing.status_code == 422 and missing.json()["detail"][0]["loc"] == ["body", "reason"]
    body = api.post(f"{url}/priority", {"priority": 1, "reason": "升级"}, content_type="application/json").json()
    assert {d["milestone"]: d["duration"] for d in body["deadlines"]}["resolution"] == "1wd"

    body = api.post(f"{url}/wait", {"reason": "等照片"}, content_type="application/json").json()
    assert body["deadline_state"] == "paused" and body["waiting_since"]
    again = api.post(f"{url}/wait", {"reason": "again"}, content_type="application/json")
    assert again.status_code == 422
    body = api.post(f"{url}/resume", {"note": ""}, content_type="application/json").json()
    assert body["deadline_state"] != "paused"


def test_calendar_and_policy_endpoints(api):
    calendars = {c["code"]: c for c in api.get("/api/v1/calendars").json()}
    assert set(calendars) == {"default", "six-day"} and calendars["six-day"]["six_day_week"] is True

    days = api.get("/api/v1/calendars/default/days?start=2026-10-08&end=2026-10-10").json()
    # sla.md: 1–7 October are the National Day holiday; Saturday the 10th is a make-up working day.
    assert [(d["date"], d["is_working"], d["reason"]) for d in days] == [
        ("2026-10-08", True, "workday"),
        ("2026-10-09", True, "workday"),
        ("2026-10-10", True, "makeup_workday"),
    ]

    computed = api.get("/api/v1/calendars/default/deadline", {"start": "2026-09-30T16:00+08:00", "duration": "2wd"})
    assert computed.json()["deadline"] == "2026-10-09T16:00:00+08:00"
    bad = api.get("/api/v1/calendars/default/deadline", {"start": "2026-09-30T16:00+08:00", "duration": "2wk"})
    assert bad.status_code == 422
    assert api.get("/api/v1/calendars/nope").status_code == 404

    policy = api.get("/api/v1/policies/default").json()
    targets = {t["milestone"]: t for t in policy["targets"]}
    assert (targets["acknowledge"]["urgent"], targets["acknowledge"]["important"]) == ("30min", "2h")
    assert policy["is_default"] is True and policy["calendar"] == "default"
