"""The solutions API: the happy path from proposal to the last step, and 403 / 404 / 422."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from closeloop.core.services import api_token_create
from closeloop.handling.models import Solution, SolutionStatus, Task, TaskStatus

pytestmark = pytest.mark.django_db


class Api(Client):
    def __init__(self, raw_key: str) -> None:
        super().__init__(headers={"Authorization": f"Bearer {raw_key}"})

    def post_json(self, path: str, data: Any = None) -> Any:
        return self.post(path, data=data if data is not None else {}, content_type="application/json")


@pytest.fixture
def api_for() -> Callable[[User], Api]:
    return lambda user: Api(api_token_create(user=user, name=f"t-{user.username}")[1])


def proposal(for_task: Task, **overrides: Any) -> dict[str, Any]:
    body = {
        "task": for_task.pk,
        "measures": ["compensation", "onsite_repair"],
        "description": "上门维修并补偿",
        "compensation_amount": "800.00",
        "compensation_form": "voucher",
        "steps": [{"description": "上门维修", "owner": "p_th"}, {"description": "寄出代金券"}],
    }
    body.update(overrides)
    return body


def test_happy_path(working, people, api_for) -> None:
    complaint, tasks = working()
    handler, supervisor, gm = (api_for(people[k]) for k in ("quality_handler", "supervisor", "management"))

    response = handler.post_json(f"/api/v1/complaints/{complaint.number}/solutions", proposal(tasks["quality"]))
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["required_levels"] == ["cs_supervisor", "management"] and body["next_role"] == "cs_supervisor"
    assert [s["owner"] for s in body["steps"]] == ["p_th", None]
    solution_id = body["id"]

    assert [s["id"] for s in supervisor.get("/api/v1/approvals").json()] == [solution_id]
    assert gm.get("/api/v1/approvals").json() == []
    response = supervisor.post(f"/api/v1/solutions/{solution_id}/approve", content_type="application/json")  # empty
    assert response.status_code == 200, response.content
    assert response.json()["next_role"] == "management"
    assert [s["id"] for s in gm.get("/api/v1/approvals").json()] == [solution_id]
    response = gm.post_json(f"/api/v1/solutions/{solution_id}/approve", {"reason": "同意"})
    assert response.json()["status"] == "approved"
    assert [a["decided_by"] for a in response.json()["approvals"]] == ["p_supervisor", "p_gm"]

    response = handler.post(f"/api/v1/solutions/{solution_id}/execute")
    assert response.status_code == 200 and response.json()["status"] == "executing"
    steps = response.json()["steps"]
    tech = api_for(people["tech_handler"])
    response = tech.post_json(f"/api/v1/solutions/{solution_id}/steps/{steps[0]['id']}/done", {"note": "修好了"})
    assert response.status_code == 200, response.content
    response = handler.post_json(f"/api/v1/solutions/{solution_id}/steps/{steps[1]['id']}/done")
    assert response.json()["status"] == "done"

    listed = handler.get(f"/api/v1/complaints/{complaint.number}/solutions").json()
    assert [s["id"] for s in listed] == [solution_id]


def test_refusals(working, people, api_for) -> None:
    complaint, tasks = working()
    handler = api_for(people["quality_handler"])
    tech = api_for(people["tech_handler"])
    supervisor = api_for(people["supervisor"])
    url = f"/api/v1/complaints/{complaint.number}/solutions"

    # Another department's task: 403; a task of another complaint: 422; bad amount: 422 on the field.
    assert tech.post_json(url, proposal(tasks["quality"])).status_code == 403
    assert handler.post_json(url, proposal(tasks["quality"], task=999999)).status_code == 422
    response = handler.post_json(url, proposal(tasks["quality"], compensation_amount="0"))
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "compensation_amount"]
    response = handler.post_json(url, proposal(tasks["quality"], steps=[{"description": "x", "owner": "nobody"}]))
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["body", "steps"]
    assert not Solution.objects.exists()

    solution_id = handler.post_json(url, proposal(tasks["quality"])).json()["id"]
    # A handler cannot approve; the management level is not the supervisor's.
    assert handler.post_json(f"/api/v1/solutions/{solution_id}/approve").status_code == 403
    assert supervisor.post(f"/api/v1/solutions/{solution_id}/execute").status_code == 422  # not approved yet
    response = supervisor.post_json(f"/api/v1/solutions/{solution_id}/reject", {"reason": " "})
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["body", "reason"]
    assert supervisor.post_json(f"/api/v1/solutions/{solution_id}/reject", {}).status_code == 422
    assert supervisor.post_json(f"/api/v1/solutions/{solution_id}/approve").status_code == 200
    assert supervisor.post_json(f"/api/v1/solutions/{solution_id}/approve").status_code == 403
    response = api_for(people["management"]).post_json(f"/api/v1/solutions/{solution_id}/reject", {"reason": "太高"})
    assert response.status_code == 200 and response.json()["status"] == SolutionStatus.REJECTED

    # Unknown ids: 404.
    assert supervisor.post_json("/api/v1/solutions/999999/approve").status_code == 404
    assert handler.post_json(f"/api/v1/solutions/{solution_id}/steps/999999/done").status_code == 404


def test_out_of_scope_is_404(working, people, api_for, make_user) -> None:
    complaint, tasks = working()
    handler = api_for(people["quality_handler"])
    solution_id = handler.post_json(
        f"/api/v1/complaints/{complaint.number}/solutions", proposal(tasks["quality"])
    ).json()["id"]
    from closeloop.directory.models import Department

    outsider = api_for(
        make_user("handler", departments=[Department.objects.exclude(code__in=["quality", "tech"]).first()])
    )
    assert outsider.get(f"/api/v1/complaints/{complaint.number}/solutions").status_code == 404
    assert outsider.post_json(f"/api/v1/solutions/{solution_id}/approve").status_code == 404
    assert outsider.post(f"/api/v1/solutions/{solution_id}/execute").status_code == 404
    assert outsider.get("/api/v1/approvals").json() == []
    # Auditors read everything and change nothing.
    auditor = api_for(people["auditor"])
    assert auditor.get(f"/api/v1/complaints/{complaint.number}/solutions").status_code == 200
    assert auditor.post_json(f"/api/v1/solutions/{solution_id}/approve").status_code == 403


def test_approvals_list_costs_a_fixed_number_of_queries(working, propose, people, api_for, count_queries) -> None:
    supervisor = api_for(people["supervisor"])
    supervisor.get("/api/v1/approvals")  # token last-used write out of the way

    def measure() -> int:
        with count_queries() as counter:
            assert supervisor.get("/api/v1/approvals").status_code == 200
        return counter.count

    complaint, tasks = working()
    propose(complaint, tasks["quality"])
    one = measure()
    for _ in range(3):
        complaint, tasks = working()
        Task.objects.filter(pk=tasks["tech"].pk).update(status=TaskStatus.IN_PROGRESS)
        propose(complaint, tasks["quality"], steps=[("a", None, None), ("b", None, None)])
    assert len(supervisor.get("/api/v1/approvals").json()) == 4
    assert measure() == one
