"""GET /complaints and /complaints/{number}: scope, masking, access log, fixed query count."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User

from closeloop.complaints.models import Complaint, PersonalDataAccess
from closeloop.core.roles import Role
from closeloop.directory.models import Department
from tests.api.conftest import ApiClient

pytestmark = pytest.mark.django_db

LIST = "/api/v1/complaints"


def detail_url(complaint: Complaint) -> str:
    return f"/api/v1/complaints/{complaint.number}"


def test_retrieve_has_timeline_and_actions(agent_api: ApiClient, make_complaint: Callable[..., Complaint]) -> None:
    complaint = make_complaint()

    body = agent_api.get(detail_url(complaint)).json()

    assert body["number"] == complaint.number
    assert [e["action"] for e in body["events"]] == ["registered"]
    assert body["events"][0]["actor"] == "agent"
    assert {a["action"] for a in body["available_actions"]} == {
        "acknowledge",
        "resolve",
        "invalidate",
        "mark_duplicate",
    }
    resolve = next(a for a in body["available_actions"] if a["action"] == "resolve")
    assert resolve["required"] == ["resolution"]


def test_read_only_role_is_offered_no_action(
    api_client_for: Callable[[User], ApiClient], auditor: User, make_complaint: Callable[..., Complaint]
) -> None:
    complaint = make_complaint()
    assert api_client_for(auditor).get(detail_url(complaint)).json()["available_actions"] == []


def test_unknown_number_is_404(agent_api: ApiClient) -> None:
    response = agent_api.get("/api/v1/complaints/TS20260101-9999")
    assert response.status_code == 404
    assert response.json()["detail"]


def test_handler_outside_the_department_gets_404_and_an_empty_list(
    make_user: Callable[..., User],
    api_client_for: Callable[[User], ApiClient],
    make_complaint: Callable[..., Complaint],
    other_department: Department,
    handler: User,
) -> None:
    quality_complaint = make_complaint(type_code="quality")  # → quality department
    outsider = api_client_for(make_user(Role.HANDLER, departments=[other_department]))
    insider = api_client_for(handler)

    assert outsider.get(detail_url(quality_complaint)).status_code == 404
    assert quality_complaint.number not in {c["number"] for c in outsider.get(LIST).json()["items"]}
    assert outsider.get(LIST).json()["count"] == 0
    # …and cannot act on it either: 404, not 403, so its existence is not revealed.
    ack = outsider.post_json(f"{detail_url(quality_complaint)}/acknowledge")
    assert ack.status_code == 404

    assert insider.get(detail_url(quality_complaint)).status_code == 200
    assert [c["number"] for c in insider.get(LIST).json()["items"]] == [quality_complaint.number]


def test_contact_is_masked_without_the_permission_and_nothing_is_logged(
    make_user: Callable[..., User],
    api_client_for: Callable[[User], ApiClient],
    make_complaint: Callable[..., Complaint],
    department: Department,
) -> None:
    complaint = make_complaint(
        phone="13812345678", email="zhang.wei@example.com", address="浙江省杭州市西湖区文三路1号"
    )
    manager = api_client_for(make_user(Role.DEPT_MANAGER, departments=[department], manager=True))

    customer = manager.get(detail_url(complaint)).json()["customer"]
    listed = manager.get(LIST).json()["items"][0]["customer"]

    for shown in (customer, listed):
        assert shown["masked"] is True
        assert shown["phone"] == "138****5678"
        assert shown["email"] == "z***@example.com"
        assert "文三路" not in shown["address"]
    assert not PersonalDataAccess.objects.exists()


def test_unmasked_single_view_is_logged(
    agent_api: ApiClient, agent: User, make_complaint: Callable[..., Complaint]
) -> None:
    complaint = make_complaint(phone="13812345678")

    customer = agent_api.get(detail_url(complaint)).json()["customer"]

    assert customer == {**customer, "phone": "13812345678", "masked": False}
    access = PersonalDataAccess.objects.get()
    assert (access.user, access.complaint, access.customer, access.where) == (
        agent,
        complaint,
        complaint.customer,
        "api",
    )


def test_unmasked_list_page_is_logged_in_one_insert(
    agent_api: ApiClient, make_complaint: Callable[..., Complaint], count_queries: Callable[[], Any]
) -> None:
    complaints = [make_complaint() for _ in range(4)]

    with count_queries() as queries:
        response = agent_api.get(LIST, {"limit": 3})

    assert len(response.json()["items"]) == 3
    assert PersonalDataAccess.objects.filter(where="api_list").count() == 3
    inserts = [q["sql"] for q in queries.captured_queries if "INSERT" in q["sql"] and "personaldataaccess" in q["sql"]]
    assert len(inserts) == 1
    newest = {c.number for c in complaints[-3:]}
    assert {a.complaint.number for a in PersonalDataAccess.objects.all()} == newest


@pytest.mark.parametrize("size", [5, 40])
def test_list_query_count_does_not_grow(
    size: int,
    agent_api: ApiClient,
    make_complaint: Callable[..., Complaint],
    count_queries: Callable[[], Any],
    product: Any,
) -> None:
    for i in range(size):
        make_complaint(product_model="XD-100" if i % 2 else "", type_code="quality" if i % 3 else "service")
    agent_api.get(LIST)  # warm up: token last-used write, permission caches of a fresh client

    with count_queries() as queries:
        response = agent_api.get(LIST, {"limit": 200})

    assert response.status_code == 200
    assert response.json()["count"] == size
    assert len(response.json()["items"]) == size
    # the page's ids, their rows, the count, one access-log insert (selectors.queue_page; the token and its
    # user's permissions are kept by the process after the warm-up: accounts/api_auth.py)
    assert queries.count == EXPECTED_LIST_QUERIES, [q["sql"] for q in queries.captured_queries]


EXPECTED_LIST_QUERIES = 4


def test_list_filters_sort_and_paginate(agent_api: ApiClient, make_complaint: Callable[..., Complaint]) -> None:
    urgent = make_complaint(priority=1, description="灯罩破裂", type_code="service")
    normal = make_complaint(priority=3, channel="web")
    agent_api.post_json(f"{detail_url(normal)}/acknowledge")

    def numbers(**params: Any) -> list[str]:
        response = agent_api.get(LIST, params)
        assert response.status_code == 200, response.content
        return [c["number"] for c in response.json()["items"]]

    assert numbers(priority=1) == [urgent.number]
    assert numbers(status="acknowledged") == [normal.number]
    assert numbers(type="service") == [urgent.number]
    assert numbers(channel="web") == [normal.number]
    assert numbers(q="破裂") == [urgent.number]
    assert numbers(sort="priority") == [urgent.number, normal.number]
    assert numbers(limit=1, offset=1, sort="priority") == [normal.number]
    assert agent_api.get(LIST, {"limit": 1}).json()["count"] == 2


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 201},
        {"limit": 0},
        {"offset": -1},
        {"offset": 10**28},  # past 64 bits the database itself would refuse it: a 500
        {"status": "lost"},
        {"sort": "x"},
        {"q": "a\x00b"},  # PostgreSQL cannot compare text with NUL
    ],
)
def test_list_bad_query_is_422(agent_api: ApiClient, params: dict[str, Any]) -> None:
    response = agent_api.get(LIST, params)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][0] == "query"


def test_extreme_dates_in_filters_are_harmless(agent_api, make_complaint) -> None:
    make_complaint()
    response = agent_api.get("/api/v1/complaints?received_from=0001-01-01&received_to=9999-12-31")
    assert response.status_code == 200
    assert response.json()["count"] == 1
