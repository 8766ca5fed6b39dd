"""The tasks API: dispatch, list (scopes, fixed queries), detail, actions, 404 out of scope, errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from closeloop.complaints.models import Complaint
from closeloop.core.models import ApiToken
from closeloop.core.roles import Role
from closeloop.core.services import api_token_create
from closeloop.directory.models import Department
from closeloop.handling.models import Task, TaskStatus
from tests.api.conftest import ApiClient

pytestmark = pytest.mark.django_db


@pytest.fixture
def api() -> Callable[[User], ApiClient]:
    def make(user: User) -> ApiClient:
        return ApiClient(api_token_create(user=user, name=f"t-{user.username}")[1])

    return make


def test_dispatch_and_the_handlers_whole_round(
    api: Callable[[User], ApiClient], people: dict[str, User], make_complaint: Callable[..., Complaint]
) -> None:
    complaint = make_complaint(actor=people["agent"])
    response = api(people["agent"]).post_json(
        f"/api/v1/complaints/{complaint.number}/dispatch",
        {
            "assignments": [
                {"department": "quality", "handler": "p_qh", "instruction": "batch?"},
                {"department": "tech", "handler": "p_th"},
            ]
        },
    )
    assert response.status_code == 201, response.json()
    tasks = {t["department"]["code"]: t for t in response.json()}
    assert tasks["quality"]["handler"] == "p_qh" and tasks["quality"]["instruction"] == "batch?"
    assert tasks["tech"]["actions"] == ["contact", "reassign", "withdraw"]  # what the agent may do

    handler = api(people["tech_handler"])
    task_id = tasks["tech"]["id"]
    body = handler.get("/api/v1/tasks").json()
    assert [t["id"] for t in body["items"]] == [task_id] and body["count"] == 1
    assert set(body["items"][0]["actions"]) == {"verify", "request_info", "contact", "progress"}

    assert handler.post_json(f"/api/v1/tasks/{task_id}/verify").json()["status"] == "in_progress"
    contact = handler.post_json(f"/api/v1/tasks/{task_id}/contacts", {"channel": "phone", "summary": "visit agreed"})
    assert contact.status_code == 201 and contact.json()["by"] == "p_th"
    assert handler.post_json(f"/api/v1/tasks/{task_id}/progress", {"text": "parts ordered"}).status_code == 201
    replied = handler.post_json(f"/api/v1/tasks/{task_id}/reply", {"reply": "replaced"}).json()
    assert replied["status"] == "replied"
    assert [c["summary"] for c in replied["contacts"]] == ["visit agreed"]
    assert [p["text"] for p in replied["progress"]] == ["parts ordered"]
    contacts = api(people["agent"]).get(f"/api/v1/complaints/{complaint.number}/contacts").json()
    assert [c["summary"] for c in contacts] == ["visit agreed"]


def test_info_request_round_trip_and_missing_reason(
    api: Callable[[User], ApiClient], people: dict[str, User], dispatched: Callable[..., Any]
) -> None:
    _complaint, tasks = dispatched()
    task_id = tasks["tech"].pk
    handler = api(people["tech_handler"])
    missing = handler.post_json(f"/api/v1/tasks/{task_id}/request-info", {"reason": " "})
    assert missing.status_code == 422
    assert missing.json()["detail"][0]["loc"] == ["body", "reason"]
    assert handler.post_json(f"/api/v1/tasks/{task_id}/request-info", {"reason": "invoice"}).json()["status"] == (
        "needs_info"
    )
    assert handler.post_json(f"/api/v1/tasks/{task_id}/info-provided", {"info": "x"}).status_code == 403
    provided = api(people["agent"]).post_json(f"/api/v1/tasks/{task_id}/info-provided", {"info": "attached"})
    assert provided.json()["status"] == "dispatched"


def test_refusals_are_403_and_422(
    api: Callable[[User], ApiClient], people: dict[str, User], dispatched: Callable[..., Any]
) -> None:
    complaint, tasks = dispatched()
    task_id = tasks["tech"].pk
    assert api(people["agent"]).post_json(f"/api/v1/tasks/{task_id}/verify").status_code == 403
    assert api(people["auditor"]).post_json(f"/api/v1/tasks/{task_id}/withdraw", {"reason": "x"}).status_code == 403
    wrong_state = api(people["tech_handler"]).post_json(f"/api/v1/tasks/{task_id}/reply", {"reply": "x"})
    assert wrong_state.status_code == 422
    non_member = api(people["tech_manager"]).post_json(f"/api/v1/tasks/{task_id}/reassign", {"handler": "p_qh"})
    assert non_member.status_code == 422 and non_member.json()["detail"][0]["loc"] == ["body", "handler"]
    dup = api(people["agent"]).post_json(
        f"/api/v1/complaints/{complaint.number}/dispatch", {"assignments": [{"department": "tech"}]}
    )
    assert dup.status_code == 422 and dup.json()["detail"][0]["loc"] == ["body", "departments"]
    unknown = api(people["agent"]).post_json(
        f"/api/v1/complaints/{complaint.number}/dispatch", {"assignments": [{"department": "nope"}]}
    )
    assert unknown.status_code == 422
    assert (
        api(people["quality_handler"])
        .post_json(f"/api/v1/complaints/{complaint.number}/dispatch", {"assignments": [{"department": "production"}]})
        .status_code
        == 403
    )
    assert Task.objects.count() == 2


def test_out_of_scope_tasks_are_404(
    api: Callable[[User], ApiClient],
    people: dict[str, User],
    dispatched: Callable[..., Any],
    make_user: Callable[..., User],
) -> None:
    complaint, tasks = dispatched()
    outsider = make_user(Role.HANDLER, departments=[Department.objects.get(code="warehouse")])
    client = api(outsider)
    task_id = tasks["tech"].pk
    assert client.get(f"/api/v1/tasks/{task_id}").status_code == 404
    for action, body in [
        ("verify", {}),
        ("request-info", {"reason": "x"}),
        ("contacts", {"channel": "phone", "summary": "x"}),
        ("progress", {"text": "x"}),
        ("reply", {"reply": "x"}),
        ("reassign", {"handler": None}),
        ("withdraw", {"reason": "x"}),
        ("info-provided", {"info": "x"}),
    ]:
        assert client.post_json(f"/api/v1/tasks/{task_id}/{action}", body).status_code == 404, action
    assert client.get(f"/api/v1/complaints/{complaint.number}/tasks").status_code == 404
    assert client.get(f"/api/v1/complaints/{complaint.number}/contacts").status_code == 404
    assert client.get("/api/v1/tasks?scope=all").json()["count"] == 0
    # The auditor sees everything and may do nothing.
    auditor = api(people["auditor"]).get(f"/api/v1/tasks/{task_id}").json()
    assert auditor["actions"] == []


def test_task_list_scopes_and_a_fixed_number_of_queries(
    api: Callable[[User], ApiClient],
    people: dict[str, User],
    dispatched: Callable[..., Any],
    count_queries: Callable[[], Any],
) -> None:
    manager = api(people["tech_manager"])

    def run() -> tuple[int, dict[str, Any]]:
        # A key's use is recorded at most once a minute: just now, so that no counted request records it
        # (dispatching 27 complaints may take a minute on a loaded machine).
        ApiToken.objects.filter(user=people["tech_manager"]).update(last_used_at=timezone.now())
        with count_queries() as counter:
            body = manager.get("/api/v1/tasks?scope=department&limit=200").json()
        return counter.count, body

    for _ in range(3):
        dispatched()
    run()  # the first request fills the caches of reference data
    few, body = run()
    assert body["count"] == 3 and all(t["department"]["code"] == "tech" for t in body["items"])
    for _ in range(27):
        dispatched()
    many, body = run()
    assert body["count"] == 30 and len(body["items"]) == 30
    assert many == few
    assert api(people["tech_manager"]).get("/api/v1/tasks").json()["count"] == 0  # scope=mine: not his


def test_stale_scope_lists_tasks_without_progress_for_48_hours(
    api: Callable[[User], ApiClient], people: dict[str, User], dispatched: Callable[..., Any]
) -> None:
    import datetime

    from django.utils import timezone

    _complaint, tasks = dispatched()
    Task.objects.filter(pk=tasks["tech"].pk).update(last_progress_at=timezone.now() - datetime.timedelta(hours=49))
    body = api(people["supervisor"]).get("/api/v1/tasks?scope=stale").json()
    assert [t["id"] for t in body["items"]] == [tasks["tech"].pk] and body["items"][0]["stale"] is True
    assert TaskStatus(body["items"][0]["status"]) == TaskStatus.DISPATCHED
