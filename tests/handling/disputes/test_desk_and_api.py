"""Disputes in the desk (panel, forms) and over REST (403/422/404, list with fixed queries)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from closeloop.complaints.models import Complaint
from closeloop.directory.models import Department
from closeloop.handling.models import Dispute, DisputeStatus, Task, TaskStatus
from closeloop.handling.services.disputes import dispute_raise
from tests.conftest import PASSWORD

Dispatched = Callable[..., tuple[Complaint, dict[str, Task]]]
Api = Callable[[User], Any]


def _client(user: User) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


# --- desk -----------------------------------------------------------------------------------------


def test_contest_and_adjudicate_in_the_desk(dispatched: Dispatched, people: dict[str, User]) -> None:
    complaint, tasks = dispatched()
    handler = _client(people["tech_handler"])
    page = handler.get(reverse("desk:detail", args=[complaint.number])).content.decode()
    raise_url = reverse("handling:dispute_raise", args=[tasks["tech"].pk])
    assert raise_url in page
    assert reverse("handling:dispute_raise", args=[tasks["quality"].pk]) not in page

    prefix = f"dispute-task-{tasks['tech'].pk}"
    response = handler.post(raise_url, {f"{prefix}-reason": "", f"{prefix}-suggested_department": "warehouse"})
    assert response.status_code == 422  # reason required; the suggestion is kept
    assert 'value="warehouse" selected' in response.content.decode()
    response = handler.post(raise_url, {f"{prefix}-reason": "物流破损", f"{prefix}-suggested_department": "warehouse"})
    assert response.status_code == 302
    dispute = Dispute.objects.get()

    # the handler cannot adjudicate
    decide_url = reverse("handling:dispute_decide", args=[dispute.pk])
    page = handler.get(reverse("desk:detail", args=[complaint.number])).content.decode()
    assert decide_url not in page and "物流破损" in page
    d_prefix = f"dispute-{dispute.pk}"
    response = handler.post(decide_url, {f"{d_prefix}-move_to": "warehouse", f"{d_prefix}-note": "自己判"})
    assert response.status_code == 403

    quality = _client(people["quality"])
    page = quality.get(reverse("desk:detail", args=[complaint.number])).content.decode()
    assert decide_url in page
    response = quality.post(decide_url, {f"{d_prefix}-move_to": "warehouse", f"{d_prefix}-note": "属仓储"})
    assert response.status_code == 302
    dispute.refresh_from_db()
    assert dispute.status == DisputeStatus.MOVED
    page = quality.get(reverse("desk:detail", args=[complaint.number])).content.decode()
    assert "属仓储" in page
    assert f'id="dispute-{dispute.pk}"' in page and "time-lost" in page


def test_invisible_dispute_is_404(
    dispatched: Dispatched, people: dict[str, User], make_user: Callable[..., User]
) -> None:
    _complaint, tasks = dispatched()
    dispute = dispute_raise(task=tasks["tech"], reason="x", actor=people["tech_handler"], via="desk")
    outsider = make_user("handler", departments=[Department.objects.get(code="sales")], username="outsider")
    client = _client(outsider)
    assert client.post(reverse("handling:dispute_decide", args=[dispute.pk]), {}).status_code == 404
    assert client.post(reverse("handling:dispute_raise", args=[tasks["tech"].pk]), {}).status_code == 404


# --- API ------------------------------------------------------------------------------------------


def test_api_moved(dispatched: Dispatched, people: dict[str, User], api_as: Api) -> None:
    _complaint, tasks = dispatched()
    response = api_as(people["tech_manager"]).post_json(
        f"/api/v1/tasks/{tasks['tech'].pk}/disputes", {"reason": "不是技术问题", "suggested_department": "warehouse"}
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "pending" and body["suggested_department"] == "warehouse"
    assert body["time_lost_seconds"] >= 0
    response = api_as(people["quality"]).post_json(
        f"/api/v1/disputes/{body['id']}/decide", {"move_to": "warehouse", "note": "仓储物流负责"}
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "moved" and body["target_department"] == "warehouse"
    new_task = Task.objects.get(pk=body["new_task"])
    assert new_task.department.code == "warehouse"
    assert Task.objects.get(pk=tasks["tech"].pk).status == TaskStatus.MOVED


def test_api_upheld(dispatched: Dispatched, people: dict[str, User], api_as: Api) -> None:
    _complaint, tasks = dispatched()
    pk = (
        api_as(people["tech_handler"])
        .post_json(f"/api/v1/tasks/{tasks['tech'].pk}/disputes", {"reason": "x"})
        .json()["id"]
    )
    response = api_as(people["quality"]).post_json(f"/api/v1/disputes/{pk}/decide", {"move_to": None, "note": "维持"})
    assert response.status_code == 200 and response.json()["status"] == "rejected"
    assert Task.objects.get(pk=tasks["tech"].pk).status == TaskStatus.DISPATCHED


def test_api_refusals(
    dispatched: Dispatched, people: dict[str, User], api_as: Api, make_user: Callable[..., User]
) -> None:
    _complaint, tasks = dispatched()
    url = f"/api/v1/tasks/{tasks['tech'].pk}/disputes"
    handler = api_as(people["tech_handler"])
    response = handler.post_json(url, {"reason": ""})
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["body", "reason"]
    response = handler.post_json(url, {"reason": "x", "suggested_department": "nope"})
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["body", "suggested_department"]
    assert api_as(people["agent"]).post_json(url, {"reason": "x"}).status_code == 403
    pk = handler.post_json(url, {"reason": "x"}).json()["id"]
    assert handler.post_json(url, {"reason": "again"}).status_code == 422  # already contested
    decide = f"/api/v1/disputes/{pk}/decide"
    # a handler (and quality's own department manager) cannot adjudicate: 403 even with a bad body
    assert handler.post_json(decide, {"move_to": "warehouse", "note": "x"}).status_code == 403
    assert api_as(people["quality_manager"]).post_json(decide, {"move_to": "nope", "note": "x"}).status_code == 403
    quality = api_as(people["quality"])
    response = quality.post_json(decide, {"move_to": "nope", "note": "x"})
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["body", "move_to"]
    response = quality.post_json(decide, {"move_to": "warehouse", "note": ""})
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["body", "note"]
    assert quality.post_json(decide, {"note": "x"}).status_code == 422  # move_to must be named (null upholds)
    outsider = api_as(make_user("dept_manager", departments=[Department.objects.get(code="sales")], manager=True))
    assert outsider.get(f"/api/v1/disputes/{pk}").status_code == 404
    assert outsider.post_json(decide, {"move_to": None, "note": "x"}).status_code == 404
    assert outsider.post_json(url, {"reason": "x"}).status_code == 404
    assert outsider.get("/api/v1/disputes?status=pending").json() == []
    assert Dispute.objects.get().status == DisputeStatus.PENDING


def test_api_list_fixed_queries(
    dispatched: Dispatched, people: dict[str, User], api_as: Api, count_queries: Callable[[], Any]
) -> None:
    quality = api_as(people["quality"])
    quality.get("/api/v1/disputes")  # warm up: the token's first use is recorded

    def add() -> None:
        _complaint, tasks = dispatched()
        dispute_raise(task=tasks["tech"], reason="x", actor=people["tech_handler"], via="desk")

    add()
    with count_queries() as first:
        assert len(quality.get("/api/v1/disputes?status=pending").json()) == 1
    add()
    add()
    with count_queries() as second:
        rows = quality.get("/api/v1/disputes?status=pending").json()
    assert len(rows) == 3
    assert first.count == second.count
    assert quality.get("/api/v1/disputes?status=moved").json() == []
