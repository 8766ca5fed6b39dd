"""The follow-up API: the call list, a complaint's rounds, attempts, answers, survey links, the scale;
403 / 404 / 422 and a fixed number of queries for the list."""

from __future__ import annotations

import datetime
from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from closeloop.complaints.models import Complaint
from closeloop.core.roles import Role
from closeloop.followup.models import FollowUp, SurveyLink

from .conftest import ApiClient

pytestmark = pytest.mark.django_db


def test_call_list_and_the_complaints_rounds(
    resolved: Callable[..., FollowUp], agent: User, auditor: User, api_for: Callable[[User], ApiClient]
) -> None:
    followup = resolved()
    response = api_for(agent).get("/api/v1/followups?due=all")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == 1
    item = body["items"][0]
    assert item["id"] == followup.pk and item["complaint"] == followup.complaint.number and item["due_at"]
    assert item["customer"]["phone"] == followup.complaint.customer.phone and not item["customer"]["masked"]
    masked = api_for(auditor).get("/api/v1/followups").json()["items"][0]["customer"]
    assert masked["masked"] and masked["phone"].startswith(followup.complaint.customer.phone[:3] + "****")
    assert api_for(agent).get("/api/v1/followups?due=overdue").json()["count"] == 0
    assert api_for(agent).get("/api/v1/followups?due=someday").status_code == 422

    rounds = api_for(agent).get(f"/api/v1/complaints/{followup.complaint.number}/followups")
    assert rounds.status_code == 200 and [r["round"] for r in rounds.json()] == [1]


def test_overdue_filter(resolved: Callable[..., FollowUp], agent: User, api_for: Callable[[User], ApiClient]) -> None:
    resolved(now=timezone.now() - datetime.timedelta(days=10))
    resolved()
    api = api_for(agent)
    assert api.get("/api/v1/followups?due=overdue").json()["count"] == 1
    assert api.get("/api/v1/followups?due=today").json()["count"] == 1
    items = api.get("/api/v1/followups").json()["items"]
    assert items[0]["time_left"] == "breached"  # overdue first


def test_attempt_record_and_survey_link(
    resolved: Callable[..., FollowUp], agent: User, api_for: Callable[[User], ApiClient]
) -> None:
    followup = resolved(email="li@example.com")
    api = api_for(agent)
    attempt = api.post_json(f"/api/v1/followups/{followup.pk}/attempts", {"result": "no_answer", "note": "无人接听"})
    assert attempt.status_code == 200, attempt.content
    assert attempt.json()["attempts"][0]["result"] == "no_answer"

    link = api.post_json(f"/api/v1/followups/{followup.pk}/survey-link", {"method": "email"})
    assert link.status_code == 200, link.content
    assert link.json()["method"] == "email" and "token" not in link.json()
    assert SurveyLink.objects.filter(followup=followup).count() == 1

    record = api.post_json(
        f"/api/v1/followups/{followup.pk}/record",
        {"solved": True, "level": "satisfied", "comments": "满意", "suggestions": ""},
    )
    assert record.status_code == 200, record.content
    assert record.json()["outcome"] == "satisfied" and record.json()["level"] == "satisfied"


def test_unsatisfied_through_the_api_reopens(
    resolved: Callable[..., FollowUp], agent: User, api_for: Callable[[User], ApiClient]
) -> None:
    followup = resolved()
    response = api_for(agent).post_json(
        f"/api/v1/followups/{followup.pk}/record", {"solved": False, "level": "neutral"}
    )
    assert response.status_code == 200 and response.json()["outcome"] == "unsatisfied"
    assert Complaint.objects.get(pk=followup.complaint_id).status == "reopened"


def test_errors(
    resolved: Callable[..., FollowUp],
    agent: User,
    auditor: User,
    make_user: Callable[..., User],
    api_for: Callable[[User], ApiClient],
) -> None:
    followup = resolved()
    url = f"/api/v1/followups/{followup.pk}"
    # auditors read, never write
    assert api_for(auditor).post_json(f"{url}/attempts", {"result": "busy"}).status_code == 403
    # a handler of another department does not see the complaint at all
    outsider = make_user(Role.HANDLER, departments=[])
    assert api_for(outsider).post_json(f"{url}/attempts", {"result": "busy"}).status_code == 404
    assert api_for(outsider).get(f"/api/v1/complaints/{followup.complaint.number}/followups").status_code == 404
    api = api_for(agent)
    assert api.post_json("/api/v1/followups/999999/attempts", {"result": "busy"}).status_code == 404
    bad = api.post_json(f"{url}/record", {"solved": True, "level": "mostly_satisfied"})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "level"]
    assert api.post_json(f"{url}/attempts", {"result": "reached"}).status_code == 422
    assert api.post_json(f"{url}/survey-link", {"method": "email"}).status_code == 422  # no e-mail address
    assert api.post_json(f"{url}/record", {"solved": True, "level": "satisfied"}).status_code == 200
    assert api.post_json(f"{url}/attempts", {"result": "busy"}).status_code == 422  # finished


def test_satisfaction_scale(agent: User, api_for: Callable[[User], ApiClient]) -> None:
    body = api_for(agent).get("/api/v1/satisfaction-scale").json()
    assert body["code"] == "four-level"
    assert [lv["label_zh"] for lv in body["levels"]] == ["非常满意", "满意", "一般", "不满意"]
    assert [lv["code"] for lv in body["levels"] if lv["reopens"]] == ["unsatisfied"]


def test_list_query_count_is_fixed(
    resolved: Callable[..., FollowUp], agent: User, api_for: Callable[[User], ApiClient], count_queries: Callable
) -> None:
    api = api_for(agent)
    counts = []
    api.get("/api/v1/satisfaction-scale")  # warm up: the token's bookkeeping happens once
    for n in (3, 30):
        while FollowUp.objects.count() < n:
            resolved()
        with count_queries() as q:
            assert len(api.get("/api/v1/followups").json()["items"]) == n
        counts.append(q.count)
    assert counts[0] == counts[1]
