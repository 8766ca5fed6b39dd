"""Postponements over REST: the same services; 403 for a role, 422 for a rule, 404 for the invisible."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

from django.contrib.auth.models import User

from closeloop.complaints.models import Complaint
from closeloop.directory.models import Department
from closeloop.handling.models import Postponement, PostponementStatus, Task
from closeloop.handling.services.postponements import open_reply_deadline
from closeloop.sla.models import Deadline

Dispatched = Callable[..., tuple[Complaint, dict[str, Task]]]
Api = Callable[[User], Any]


def _body(task: Task, days: int = 5, reason: str = "生产周期") -> dict[str, Any]:
    due = open_reply_deadline(task).due_at + datetime.timedelta(days=days)  # type: ignore[union-attr]
    return {"reason": reason, "proposed_due": due.isoformat()}


def test_full_chain_with_disagreement(dispatched: Dispatched, people: dict[str, User], api_as: Api) -> None:
    _complaint, tasks = dispatched()
    original = open_reply_deadline(tasks["tech"]).due_at  # type: ignore[union-attr]
    response = api_as(people["tech_handler"]).post_json(
        f"/api/v1/tasks/{tasks['tech'].pk}/postponements", _body(tasks["tech"])
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "pending_manager" and body["department"] == "tech"
    pk = body["id"]

    manager = api_as(people["tech_manager"])
    assert manager.get(f"/api/v1/postponements/{pk}").json()["next_step"] == "opinion"
    response = manager.post_json(f"/api/v1/postponements/{pk}/opinion", {"agrees": True, "opinion": "同意"})
    assert response.status_code == 200 and response.json()["status"] == "pending_cs"

    response = api_as(people["agent"]).post_json(
        f"/api/v1/postponements/{pk}/confirm", {"agrees": False, "note": "不同意"}
    )
    assert response.json()["status"] == "pending_management"

    response = api_as(people["management"]).post_json(
        f"/api/v1/postponements/{pk}/decide", {"approve": True, "note": "批准"}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "approved"
    assert body["management"]["by"] == "p_gm" and body["management"]["agrees"] is True
    reply = Deadline.objects.get(task=tasks["tech"], milestone="reply", met_at__isnull=True)
    assert reply.original_due_at == original
    assert abs(datetime.datetime.fromisoformat(body["original_due"]) - original) < datetime.timedelta(milliseconds=1)


def test_refusals(dispatched: Dispatched, people: dict[str, User], api_as: Api) -> None:
    _complaint, tasks = dispatched()
    url = f"/api/v1/tasks/{tasks['tech'].pk}/postponements"
    handler = api_as(people["tech_handler"])
    # 422: not later than the current deadline, field named
    due = open_reply_deadline(tasks["tech"]).due_at  # type: ignore[union-attr]
    response = handler.post_json(url, {"reason": "x", "proposed_due": due.isoformat()})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "proposed_due"]
    # 422: reason missing
    response = handler.post_json(url, _body(tasks["tech"], reason=""))
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["body", "reason"]
    # 422: a naive date is bad input
    response = handler.post_json(url, {"reason": "x", "proposed_due": "2030-01-01T10:00:00"})
    assert response.status_code == 422
    # 403: quality may see the complaint but not ask for the tech department
    assert api_as(people["quality"]).post_json(url, _body(tasks["tech"])).status_code == 403
    pk = handler.post_json(url, _body(tasks["tech"])).json()["id"]
    # 422: a second open request
    assert handler.post_json(url, _body(tasks["tech"], days=9)).status_code == 422
    # 403: a CS agent cannot give the manager's opinion; quality cannot confirm
    opinion = {"agrees": True, "opinion": "同意"}
    assert api_as(people["agent"]).post_json(f"/api/v1/postponements/{pk}/opinion", opinion).status_code == 403
    assert api_as(people["tech_manager"]).post_json(f"/api/v1/postponements/{pk}/opinion", opinion).status_code == 200
    confirm = {"agrees": True, "note": ""}
    assert api_as(people["quality"]).post_json(f"/api/v1/postponements/{pk}/confirm", confirm).status_code == 403
    # 422: wrong state (already past the opinion)
    response = api_as(people["tech_manager"]).post_json(f"/api/v1/postponements/{pk}/opinion", opinion)
    assert response.status_code == 422
    assert Postponement.objects.get().status == PostponementStatus.PENDING_CS


def test_invisible_is_404(
    dispatched: Dispatched, people: dict[str, User], api_as: Api, make_user: Callable[..., User]
) -> None:
    _complaint, tasks = dispatched()
    pk = (
        api_as(people["tech_handler"])
        .post_json(f"/api/v1/tasks/{tasks['tech'].pk}/postponements", _body(tasks["tech"]))
        .json()["id"]
    )
    outsider = api_as(make_user("dept_manager", departments=[Department.objects.get(code="sales")], manager=True))
    assert outsider.get(f"/api/v1/postponements/{pk}").status_code == 404
    assert (
        outsider.post_json(f"/api/v1/postponements/{pk}/opinion", {"agrees": True, "opinion": "x"}).status_code == 404
    )
    assert (
        outsider.post_json(f"/api/v1/tasks/{tasks['tech'].pk}/postponements", _body(tasks["tech"])).status_code == 404
    )
    assert outsider.get("/api/v1/postponements").json() == []
    assert api_as(people["tech_handler"]).get("/api/v1/postponements/999999").status_code == 404


def test_list_filters_and_fixed_queries(
    dispatched: Dispatched, people: dict[str, User], api_as: Api, count_queries: Callable[[], Any]
) -> None:
    manager = api_as(people["tech_manager"])
    manager.get("/api/v1/postponements")  # warm up: the token's first use is recorded

    def add() -> None:
        _complaint, tasks = dispatched()
        api_as(people["tech_handler"]).post_json(
            f"/api/v1/tasks/{tasks['tech'].pk}/postponements", _body(tasks["tech"])
        )

    add()
    with count_queries() as first:
        response = manager.get("/api/v1/postponements?status=pending_manager")
    assert len(response.json()) == 1
    add()
    add()
    with count_queries() as second:
        response = manager.get("/api/v1/postponements?status=pending_manager")
    rows = response.json()
    assert len(rows) == 3 and all(r["next_step"] == "opinion" for r in rows)
    assert first.count == second.count
    assert manager.get("/api/v1/postponements?status=approved").json() == []
    assert manager.get("/api/v1/postponements?status=nonsense").status_code == 422


def test_out_of_range_ids_are_bad_input(people: dict[str, User], api_as: Api) -> None:
    client = api_as(people["agent"])
    assert client.get("/api/v1/postponements/99999999999999999999").status_code == 422
    assert client.get("/api/v1/disputes/0").status_code == 422
    assert client.post_json("/api/v1/tasks/99999999999999999999/postponements", {}).status_code == 422
