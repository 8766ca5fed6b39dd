"""GET /api/v1/customers/lookup?phone=: the screen pop of a call-centre (CTI)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import Permission, User

from closeloop.complaints.models import Complaint, PersonalDataAccess
from closeloop.complaints.services import complaint_transition
from closeloop.core.roles import Role
from tests.api.conftest import ApiClient

pytestmark = pytest.mark.django_db

URL = "/api/v1/customers/lookup"


@pytest.fixture
def caller(make_complaint: Callable[..., Complaint], agent: User) -> list[Complaint]:
    first = make_complaint(
        phone="13812345678", customer_name="李娜", email="li.na@example.com", address="杭州市西湖区文三路1号"
    )
    second = make_complaint(phone="13812345678", customer_name="李娜", priority=1)
    ended = make_complaint(phone="13812345678", customer_name="李娜")
    complaint_transition(complaint=ended, action="invalidate", actor=agent, via="api", data={"reason": "打错电话"})
    return [first, second, ended]


def test_the_caller_and_their_open_complaints(agent_api: ApiClient, agent: User, caller: list[Complaint]) -> None:
    response = agent_api.get(URL, {"phone": "+86 138-1234-5678"})

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["customer"] == {
        "kind": "end_user",
        "name": "李娜",
        "organisation": "",
        "phone": "13812345678",
        "email": "li.na@example.com",
        "address": "杭州市西湖区文三路1号",
        "masked": False,
    }
    assert body["complaint_count"] == 3
    # Open ones only, nearest deadline first (the urgent one is due sooner).
    assert [c["number"] for c in body["open_complaints"]] == [caller[1].number, caller[0].number]
    first = body["open_complaints"][0]
    assert (first["status"], first["priority"], first["subject"]) == ("registered", 1, "Quality · 吸顶灯通电后不亮")
    assert first["next_due_at"] and first["deadline_state"] == "ok"
    assert {d["milestone"] for d in first["deadlines"]} >= {"acknowledge"}
    access = PersonalDataAccess.objects.get(where="screen pop")
    assert (access.user, access.customer_id) == (agent, caller[0].customer_id)


def test_masked_for_a_role_without_personal_data(
    make_user: Callable[..., User], api_client_for: Callable[[User], ApiClient], caller: list[Complaint]
) -> None:
    quality = make_user(Role.QUALITY, username="qa")
    quality.user_permissions.add(Permission.objects.get(codename="view_customer"))

    body = api_client_for(quality).get(URL, {"phone": "13812345678"}).json()

    assert body["customer"]["masked"] is True
    assert body["customer"]["phone"] == "138****5678"
    assert body["customer"]["email"] == "l***@example.com"
    assert "文三路" not in body["customer"]["address"]
    assert len(body["open_complaints"]) == 2
    # Counted and logged as a search by a whole number.
    assert PersonalDataAccess.objects.filter(user=quality, where="screen pop").count() == 1


def test_masked_roles_are_counted_per_hour(
    make_user: Callable[..., User],
    api_client_for: Callable[[User], ApiClient],
    caller: list[Complaint],
    settings: Any,
) -> None:
    settings.PERSONAL_DATA_SEARCH_MAX_PER_HOUR = 2
    quality = make_user(Role.QUALITY, username="qa")
    quality.user_permissions.add(Permission.objects.get(codename="view_customer"))
    api = api_client_for(quality)

    statuses = [api.get(URL, {"phone": "13812345678"}).status_code for _ in range(3)]

    assert statuses == [200, 200, 429]


def test_unknown_number_is_404_and_logged(agent_api: ApiClient, agent: User) -> None:
    response = agent_api.get(URL, {"phone": "13900000000"})

    assert response.status_code == 404
    assert response.json() == {"detail": "No customer has this phone number.", "code": "customer.not_found"}
    access = PersonalDataAccess.objects.get(where="screen pop")
    assert (access.user, access.customer) == (agent, None)


@pytest.mark.parametrize("phone", ["12345", "138-abc", ""])
def test_malformed_number_is_a_field_error(agent_api: ApiClient, phone: str) -> None:
    response = agent_api.get(URL, {"phone": phone})

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "phone"]
    assert not PersonalDataAccess.objects.exists()


def test_missing_parameter_is_422(agent_api: ApiClient) -> None:
    assert agent_api.get(URL).status_code == 422


def test_roles_outside_the_call_centre_may_not(
    make_user: Callable[..., User], api_client_for: Callable[[User], ApiClient], caller: list[Complaint]
) -> None:
    response = api_client_for(make_user(Role.AUDITOR, username="audit")).get(URL, {"phone": "13812345678"})

    assert response.status_code == 403


def test_session_authentication(client_for: Any, agent: User, caller: list[Complaint]) -> None:
    response = client_for(agent).get(URL, {"phone": "13812345678"})

    assert response.status_code == 200
    assert response.json()["customer"]["name"] == "李娜"


def test_query_count_does_not_grow_with_complaints(
    agent_api: ApiClient, make_complaint: Callable[..., Complaint], count_queries: Any
) -> None:
    make_complaint(phone="13812345678", customer_name="李娜")
    agent_api.get(URL, {"phone": "13812345678"})  # the token's first use of the day is recorded once
    with count_queries() as one:
        agent_api.get(URL, {"phone": "13812345678"})
    for _ in range(4):
        make_complaint(phone="13812345678", customer_name="李娜")
    with count_queries() as five:
        body = agent_api.get(URL, {"phone": "13812345678"}).json()

    assert len(body["open_complaints"]) == 5
    assert five.count == one.count
