"""POST /complaints/{number}/<action> and /transitions: the lifecycle table through the service."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User

from closeloop.complaints.models import Complaint, Event
from tests.api.conftest import ApiClient

pytestmark = pytest.mark.django_db


def url(complaint: Complaint, action: str) -> str:
    return f"/api/v1/complaints/{complaint.number}/{action}"


def fields(response: Any) -> set[Any]:
    return {error["loc"][-1] for error in response.json()["detail"]}


def test_acknowledge(agent_api: ApiClient, agent: User, make_complaint: Callable[..., Complaint]) -> None:
    complaint = make_complaint()

    response = agent_api.post_json(url(complaint, "acknowledge"))

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "acknowledged"
    assert body["acknowledged_at"]
    assert [e["action"] for e in body["events"]] == ["registered", "acknowledge"]
    event = Event.objects.get(complaint=complaint, action="acknowledge")
    assert (event.actor, event.via) == (agent, "api")
    assert "acknowledge" not in {a["action"] for a in body["available_actions"]}


def test_resolve(agent_api: ApiClient, make_complaint: Callable[..., Complaint]) -> None:
    complaint = make_complaint()
    response = agent_api.post_json(url(complaint, "resolve"), {"resolution": "电话指导更换灯管"})
    assert response.status_code == 200
    assert response.json()["status"] == "resolved"
    assert response.json()["resolution"] == "电话指导更换灯管"


def test_invalidate(agent_api: ApiClient, make_complaint: Callable[..., Complaint]) -> None:
    complaint = make_complaint()
    response = agent_api.post_json(url(complaint, "invalidate"), {"reason": "广告"})
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["status_reason"]) == ("invalid", "广告")


def test_mark_duplicate(agent_api: ApiClient, make_complaint: Callable[..., Complaint]) -> None:
    original, copy = make_complaint(), make_complaint()
    response = agent_api.post_json(url(copy, "mark-duplicate"), {"reason": "重复登记", "duplicate_of": original.number})
    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["duplicate_of"]) == ("duplicate", original.number)


def test_generic_transition(agent_api: ApiClient, make_complaint: Callable[..., Complaint]) -> None:
    original, copy = make_complaint(), make_complaint()
    response = agent_api.post_json(
        url(copy, "transitions"), {"action": "mark_duplicate", "reason": "重复", "duplicate_of": original.number}
    )
    assert response.status_code == 200, response.content
    assert response.json()["duplicate_of"] == original.number


@pytest.mark.parametrize(
    ("action", "body", "field"),
    [
        ("transitions", {"action": "teleport"}, "action"),
        ("transitions", {"action": "invalidate"}, "reason"),
        ("transitions", {"action": "resolve", "resolution": "   "}, "resolution"),
        ("transitions", {"action": "mark_duplicate", "reason": "x"}, "duplicate_of"),
        ("invalidate", {}, "reason"),
        ("invalidate", {"reason": "  "}, "reason"),
        ("resolve", {}, "resolution"),
        ("mark-duplicate", {"reason": "x", "duplicate_of": "TS20200101-0001"}, "duplicate_of"),
    ],
)
def test_bad_transition_is_422_and_changes_nothing(
    agent_api: ApiClient, make_complaint: Callable[..., Complaint], action: str, body: dict[str, Any], field: str
) -> None:
    complaint = make_complaint()

    response = agent_api.post_json(url(complaint, action), body)

    assert response.status_code == 422, response.content
    assert field in fields(response), response.json()
    complaint.refresh_from_db()
    assert complaint.status == "registered"
    assert list(complaint.events.values_list("action", flat=True)) == ["registered"]


def test_a_complaint_cannot_duplicate_itself(agent_api: ApiClient, make_complaint: Callable[..., Complaint]) -> None:
    complaint = make_complaint()
    response = agent_api.post_json(url(complaint, "mark-duplicate"), {"reason": "x", "duplicate_of": complaint.number})
    assert response.status_code == 422
    assert "duplicate_of" in fields(response)


def test_transition_not_allowed_from_the_current_state(
    agent_api: ApiClient, make_complaint: Callable[..., Complaint]
) -> None:
    complaint = make_complaint()
    agent_api.post_json(url(complaint, "invalidate"), {"reason": "spam"})

    response = agent_api.post_json(url(complaint, "acknowledge"))

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "action"]
    assert response.json()["detail"][0]["type"] == "transition_not_allowed"


def test_role_not_in_the_table_is_refused(
    api_client_for: Callable[[User], ApiClient], handler: User, make_complaint: Callable[..., Complaint]
) -> None:
    complaint = make_complaint(type_code="quality")  # handler's department: visible to them
    response = api_client_for(handler).post_json(url(complaint, "acknowledge"))
    assert response.status_code == 403
    complaint.refresh_from_db()
    assert complaint.status == "registered"


def test_lifecycle_table_is_exposed(agent_api: ApiClient) -> None:
    from closeloop.complaints.lifecycle import TRANSITIONS, Status

    body = agent_api.get("/api/v1/lifecycle").json()

    assert {s["code"] for s in body["states"]} == set(Status.values)
    assert [t["action"] for t in body["transitions"]] == list(TRANSITIONS)
    duplicate = next(t for t in body["transitions"] if t["action"] == "mark_duplicate")
    assert duplicate["required"] == ["reason", "duplicate_of"]
    assert duplicate["target"] == "duplicate"
    assert set(duplicate["roles"]) == {"agent", "cs_supervisor"}
    assert "agent" in {r["code"] for r in body["roles"]}
