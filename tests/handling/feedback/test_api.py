"""The feedback-form API: happy path, 403 / 422 / 404, masked phone, fixed query count."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User

from closeloop.handling.models import FeedbackStatus

from .conftest import ApiClient, Opened

pytestmark = pytest.mark.django_db

BODY = {
    "result": "negotiating",
    "result_reason": "客户要求全额退款",
    "demand_met": False,
    "demand_reason": "超出标准",
    "measures": "上门检测",
    "root_cause": "安装不当",
    "key_actions": [{"at": "2026-11-20 10:00", "text": "电话联系客户"}],
}


def test_happy_path(
    opened: Callable[..., Opened], people: dict[str, User], api_for: Callable[[User], ApiClient]
) -> None:
    o = opened(contacts=True)
    handler, supervisor = api_for(people["quality_handler"]), api_for(people["supervisor"])
    url = f"/api/v1/feedback-forms/{o.form.pk}"

    listed = handler.get(f"/api/v1/complaints/{o.complaint.number}/feedback-forms")
    assert listed.status_code == 200
    assert [f["id"] for f in listed.json()] == [o.form.pk]
    assert listed.json()[0]["deadline"]["due_at"]

    detail = handler.get(url).json()
    assert detail["prefill"]["phone_masked"] == "138****5678"
    assert "13812345678" not in str(detail)
    assert any("确认故障现象" in row["text"] for row in detail["prefill"]["timeline"])
    assert set(detail["missing"]) >= {"result", "demand_met", "root_cause", "measures"}

    saved = handler.put_json(url, {"root_cause": "安装不当"})
    assert saved.status_code == 200, saved.content
    assert saved.json()["root_cause"] == "安装不当" and saved.json()["status"] == "draft"

    assert handler.put_json(url, BODY).status_code == 200
    submitted = handler.post_json(f"{url}/submit")
    assert submitted.status_code == 200, submitted.content
    assert submitted.json()["status"] == FeedbackStatus.SUBMITTED

    waiting = supervisor.get("/api/v1/feedback-forms?status=submitted").json()
    assert [f["id"] for f in waiting["items"]] == [o.form.pk]

    returned = supervisor.post_json(f"{url}/return", {"note": "补充检测报告"})
    assert returned.status_code == 200
    assert returned.json()["status"] == "returned" and returned.json()["revision"] == 1
    assert handler.post_json(f"{url}/submit").status_code == 200
    approved = supervisor.post_json(f"{url}/approve")
    assert approved.status_code == 200 and approved.json()["status"] == "approved"

    pdf = handler.get(f"{url}/pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    # Downloaded, not shown in the browser's PDF viewer (closeloop/core/files.py)
    assert pdf["Content-Disposition"].startswith("attachment;") and pdf["Content-Security-Policy"].startswith("sandbox")


def test_refusals(opened: Callable[..., Opened], people: dict[str, User], api_for: Callable[[User], ApiClient]) -> None:
    o = opened()
    url = f"/api/v1/feedback-forms/{o.form.pk}"
    handler, supervisor = api_for(people["quality_handler"]), api_for(people["supervisor"])

    # 422: incomplete submission names every missing field; nothing changes.
    response = handler.post_json(f"{url}/submit")
    assert response.status_code == 422
    fields = {tuple(e["loc"]) for e in response.json()["detail"]}
    assert ("body", "result") in fields and ("body", "root_cause") in fields
    # 422: reviewing a draft; returning without a note; a bad choice.
    assert supervisor.post_json(f"{url}/approve").status_code == 422
    assert supervisor.post_json(f"{url}/return", {"note": " "}).status_code == 422
    assert supervisor.post_json(f"{url}/return", {}).status_code == 422
    assert handler.put_json(url, {"satisfaction_seen": "ecstatic"}).status_code == 422
    assert handler.put_json(url, {"result": "great"}).status_code == 422

    # 403: the supervisor may see but not fill in; the handler may not review; the auditor changes nothing.
    assert supervisor.put_json(url, {"root_cause": "x"}).status_code == 403
    assert api_for(people["auditor"]).put_json(url, {"root_cause": "x"}).status_code == 403
    handler.put_json(url, BODY)
    handler.post_json(f"{url}/submit")
    assert handler.post_json(f"{url}/approve").status_code == 403
    assert api_for(people["agent"]).post_json(f"{url}/return", {"note": "n"}).status_code == 403


def test_404_for_forms_out_of_scope(
    opened: Callable[..., Opened],
    people: dict[str, User],
    api_for: Callable[[User], ApiClient],
    make_user: Callable[..., User],
) -> None:
    o = opened()
    from closeloop.directory.models import Department

    other = Department.objects.exclude(code__in=["quality", "tech"]).first()
    assert other is not None
    outsider = api_for(make_user("handler", departments=[other], username="outsider"))
    url = f"/api/v1/feedback-forms/{o.form.pk}"
    for path in (url, f"{url}/pdf", f"/api/v1/complaints/{o.complaint.number}/feedback-forms"):
        assert outsider.get(path).status_code == 404
    assert outsider.put_json(url, {"root_cause": "x"}).status_code == 404
    assert outsider.post_json(f"{url}/submit").status_code == 404
    assert outsider.get("/api/v1/feedback-forms").json()["count"] == 0
    assert api_for(people["tech_handler"]).get(url).status_code == 200  # the complaint has a tech task
    assert api_for(people["quality_handler"]).get("/api/v1/feedback-forms/999999").status_code == 404


def test_list_query_count_is_constant(
    opened: Callable[..., Opened],
    people: dict[str, User],
    api_for: Callable[[User], ApiClient],
    count_queries: Callable[[], Any],
) -> None:
    client = api_for(people["supervisor"])
    opened()
    client.get("/api/v1/feedback-forms")
    with count_queries() as one:
        assert client.get("/api/v1/feedback-forms").json()["count"] == 1
    for _ in range(3):
        opened()
    with count_queries() as four:
        assert client.get("/api/v1/feedback-forms").json()["count"] == 4
    assert four.count == one.count
