"""Each kind through the API: register, its path by POST …/transition, the timeline; masking; errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User

from closeloop.complaints.models import Complaint
from closeloop.core.roles import Role
from tests.api.conftest import ApiClient

pytestmark = pytest.mark.django_db

PATHS: dict[str, list[dict[str, Any]]] = {
    "repair": [
        {"action": "book", "technician": "tech1", "day": "2099-01-05", "slot": "09-11"},
        {
            "action": "record_visit",
            "diagnosis": "电源坏",
            "labour_minutes": 30,
            "customer_signed": True,
            "parts": [{"name": "电源", "quantity": 1, "unit_cost": "20.00"}],
        },
        {"action": "resolve", "resolution": "已修好"},
    ],
    "installation": [
        {"action": "book", "technician": "tech1", "day": "2099-01-05", "slot": "11-13"},
        {"action": "record_visit", "diagnosis": "安装完成"},
        {"action": "resolve", "resolution": "已安装"},
    ],
    "inspection": [
        {"action": "book", "technician": "tech1", "day": "2099-01-05", "slot": "14-16"},
        {"action": "record_visit", "diagnosis": "线路老化"},
        {"action": "resolve", "resolution": "建议更换线路"},
    ],
    "return": [
        {"action": "authorise", "reason": "特批"},
        {"action": "ship_in", "carrier": "顺丰", "tracking_no": "SF100"},
        {"action": "receive"},
        {"action": "inspect", "result": "accepted"},
        {"action": "refund", "resolution": "退款"},
    ],
    "exchange": [
        {"action": "authorise", "reason": "特批"},
        {"action": "ship_in", "carrier": "顺丰", "tracking_no": "SF200", "pickup": True},
        {"action": "receive"},
        {"action": "inspect", "result": "accepted", "note": "属实"},
        {"action": "send_back", "carrier": "顺丰", "tracking_no": "SF201"},
        {"action": "resolve", "resolution": "已换新"},
    ],
    "support": [
        {"action": "record_session", "minutes": 10, "notes": "远程指导"},
        {"action": "resolve", "resolution": "已解决", "article_note": "KB-12 遥控器配对"},
    ],
    "consultation": [{"action": "answer", "resolution": "已答复"}],
}


@pytest.fixture
def tech_and_agent_api(
    make_user: Callable[..., User], agent: User, api_client_for: Callable[[User], ApiClient]
) -> ApiClient:
    from closeloop.directory.models import Department

    make_user(Role.HANDLER, departments=[Department.objects.get(code="tech")], username="tech1")
    return api_client_for(agent)


@pytest.mark.parametrize("kind", sorted(PATHS))
def test_each_kind_end_to_end(kind: str, tech_and_agent_api: ApiClient) -> None:
    api = tech_and_agent_api
    response = api.post_json(
        "/api/v1/service-orders",
        {
            "kind": kind,
            "customer_name": "赵六",
            "phone": "13812345678",
            "description": "需要服务",
            "channel": "hotline",
        },
    )
    assert response.status_code == 201, response.content
    number = response.json()["number"]
    assert number.startswith("SF")
    for step in PATHS[kind]:
        assert step["action"] in api.get(f"/api/v1/service-orders/{number}").json()["actions"]
        response = api.post_json(f"/api/v1/service-orders/{number}/transition", step)
        assert response.status_code == 200, (step, response.content)
    body = api.post_json(
        f"/api/v1/service-orders/{number}/transition", {"action": "follow_up", "result": "satisfied"}
    ).json()
    assert body["status"] == "closed"
    timeline = api.get(f"/api/v1/service-orders/{number}/timeline").json()
    assert [e["action"] for e in timeline] == ["registered", *(s["action"] for s in PATHS[kind]), "follow_up"]


def test_a_wrong_step_is_a_422_with_a_code(agent_api: ApiClient) -> None:
    number = agent_api.post_json(
        "/api/v1/service-orders",
        {"kind": "consultation", "customer_name": "a", "phone": "13812345678", "description": "b"},
    ).json()["number"]
    response = agent_api.post_json(f"/api/v1/service-orders/{number}/transition", {"action": "receive"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["code"]


def test_masked_roles_see_no_phone_and_other_numbers_are_404(
    agent_api: ApiClient, auditor: User, api_client_for: Callable[[User], ApiClient]
) -> None:
    number = agent_api.post_json(
        "/api/v1/service-orders", {"kind": "repair", "customer_name": "a", "phone": "13812345678", "description": "b"}
    ).json()["number"]
    assert agent_api.get(f"/api/v1/service-orders/{number}").json()["customer"]["phone"] == "13812345678"
    body = api_client_for(auditor).get(f"/api/v1/service-orders/{number}").json()
    assert body["customer"]["phone"] == "138****5678" and body["customer"]["masked"]
    assert "13812345678" not in str(body)
    assert agent_api.get("/api/v1/service-orders/SF20000101-0001").status_code == 404


def test_a_complaint_creates_an_exchange_through_the_api(
    agent_api: ApiClient, make_complaint: Callable[..., Complaint]
) -> None:
    complaint = make_complaint()
    response = agent_api.post_json(f"/api/v1/complaints/{complaint.number}/service-orders", {"kind": "exchange"})
    assert response.status_code == 201, response.content
    assert response.json()["complaint"] == complaint.number and response.json()["complaint_waits"]


def test_the_list_costs_a_fixed_number_of_queries(agent_api: ApiClient, count_queries: Any) -> None:
    for _ in range(3):
        agent_api.post_json(
            "/api/v1/service-orders",
            {"kind": "repair", "customer_name": "a", "phone": "13812345678", "description": "b"},
        )
    agent_api.get("/api/v1/service-orders?kind=repair")  # the token's first use of the minute is recorded
    with count_queries() as few:
        assert len(agent_api.get("/api/v1/service-orders?kind=repair").json()) == 3
    for _ in range(5):
        agent_api.post_json(
            "/api/v1/service-orders",
            {"kind": "repair", "customer_name": "a", "phone": "13812345678", "description": "b"},
        )
    with count_queries() as many:
        assert len(agent_api.get("/api/v1/service-orders?kind=repair").json()) == 8
    assert many.count == few.count


def test_the_change_feed_carries_service_order_events_by_cursor(
    agent_api: ApiClient, auditor: User, api_client_for: Callable[[User], ApiClient]
) -> None:
    number = agent_api.post_json(
        "/api/v1/service-orders", {"kind": "exchange", "customer_name": "a", "phone": "13812345678", "description": "b"}
    ).json()["number"]
    agent_api.post_json(f"/api/v1/service-orders/{number}/transition", {"action": "authorise", "reason": "13812345678"})
    page = agent_api.get("/api/v1/events/service-orders?limit=1").json()
    assert [i["kind"] for i in page["items"]] == ["service_order.registered"] and page["has_more"]
    rest = agent_api.get(f"/api/v1/events/service-orders?after={page['next']}").json()
    assert [i["kind"] for i in rest["items"]] == ["service_order.authorise"]
    masked = api_client_for(auditor).get("/api/v1/events/service-orders").json()
    assert "13812345678" not in str(masked)


def test_inspection_photos_join_the_inspection_on_the_timeline(agent_api: ApiClient) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.api.test_attachments import PNG

    number = agent_api.post_json(
        "/api/v1/service-orders", {"kind": "return", "customer_name": "a", "phone": "13812345678", "description": "b"}
    ).json()["number"]
    steps = [
        {"action": "authorise", "reason": "特批"},
        {"action": "ship_in", "carrier": "顺丰", "tracking_no": "SF5"},
        {"action": "receive"},
    ]
    for step in steps:
        assert agent_api.post_json(f"/api/v1/service-orders/{number}/transition", step).status_code == 200
    photo = SimpleUploadedFile("inspection.png", PNG, "image/png")
    response = agent_api.post(f"/api/v1/service-orders/{number}/attachments", {"file": photo, "kind": "inspection"})
    assert response.status_code == 201, response.content
    inspect = {"action": "inspect", "result": "no_fault"}
    body = agent_api.post_json(f"/api/v1/service-orders/{number}/transition", inspect).json()
    assert body["inspections"][0]["photos"] == 1
    timeline = agent_api.get(f"/api/v1/service-orders/{number}/timeline").json()
    assert timeline[-1]["after"] == {"status": "inspected", "before": "received", "result": "no_fault", "photos": 1}


def test_the_documents_enums_keep_their_own_names(client: Any) -> None:
    """A service-order enum named like a complaint's would replace it in the document."""
    schemas = client.get("/api/v1/openapi.json").json()["components"]["schemas"]
    assert "photo" in schemas["AttachmentKind"]["enum"]
    assert "signature" in schemas["ServiceAttachmentKind"]["enum"]
