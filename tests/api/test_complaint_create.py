"""POST /api/v1/complaints: registration through the intake service, errors as field-level 422s."""

from __future__ import annotations

import datetime
import re
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from closeloop.complaints.models import Complaint, DailySequence, Event
from closeloop.directory.models import Customer, Product
from tests.api.conftest import ApiClient, intake_payload

pytestmark = pytest.mark.django_db

URL = "/api/v1/complaints"


def locs(response: Any) -> list[list[str | int]]:
    return [error["loc"] for error in response.json()["detail"]]


def fields(response: Any) -> set[str | int]:
    return {loc[-1] for loc in locs(response)}


def test_register_happy_path(agent_api: ApiClient, agent: User, product: Product) -> None:
    response = agent_api.post_json(
        URL,
        intake_payload(
            product_model="xd-100",
            batch_no="B2026-11",
            purchase_date="2026-10-01",
            demand="换货",
            external_ref="SHOP-991",
        ),
    )

    assert response.status_code == 201, response.content
    body = response.json()
    today = timezone.localdate()
    assert re.fullmatch(rf"TS{today:%Y%m%d}-\d{{4}}", body["number"])
    assert body["channel"] == "api"
    assert body["status"] == "registered"
    assert body["priority"] == 2
    assert body["product"]["model"] == "XD-100"
    assert body["department"]["code"] == "quality"
    assert datetime.datetime.fromisoformat(body["received_at"]) == datetime.datetime.fromisoformat(
        "2026-11-20T09:30:00+08:00"
    )
    # The create response is the summary plus the clocks intake started; the full record is one GET away.
    assert {d["milestone"] for d in body["deadlines"]} == {"acknowledge", "first_response", "resolution"}
    full = agent_api.get(f"{URL}/{body['number']}").json()
    assert [e["action"] for e in full["events"]] == ["registered"]
    assert full["events"][0]["via"] == "api"
    assert "acknowledge" in {a["action"] for a in full["available_actions"]}

    complaint = Complaint.objects.get(number=body["number"])
    assert complaint.registered_by == agent
    assert complaint.external_ref == "SHOP-991"
    assert Event.objects.get(complaint=complaint).actor == agent


def test_channel_can_be_given(agent_api: ApiClient) -> None:
    response = agent_api.post_json(URL, intake_payload(channel="dealer"))
    assert response.status_code == 201
    assert response.json()["channel"] == "dealer"


def test_customer_is_reused_by_phone(agent_api: ApiClient) -> None:
    first = agent_api.post_json(URL, intake_payload(phone="13812345678"))
    second = agent_api.post_json(URL, intake_payload(phone="+86 138-1234-5678", customer_name="Li Na"))

    assert first.status_code == second.status_code == 201
    assert Customer.objects.count() == 1
    numbers = {first.json()["number"], second.json()["number"]}
    assert Complaint.objects.filter(number__in=numbers).values("customer").distinct().count() == 1
    assert len(numbers) == 2


def _assert_nothing_written(before: tuple[int, int, int]) -> None:
    assert (Complaint.objects.count(), Customer.objects.count(), DailySequence.objects.count()) == before


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"phone": None, "email": None}, "phone"),
        ({"phone": "12345"}, "phone"),
        ({"phone": "138-abcd-5678"}, "phone"),
        ({"email": "not-an-address", "phone": None}, "email"),
        ({"received_at": (timezone.now() + datetime.timedelta(hours=1)).isoformat()}, "received_at"),
        ({"received_at": "2026-11-20T09:30:00"}, "received_at"),  # no offset: ambiguous
        ({"received_at": "0001-01-01T00:00:00+01:00"}, "received_at"),
        ({"type": "weather"}, "type"),
        ({"priority": 4}, "priority"),
        ({"channel": "carrier-pigeon"}, "channel"),
        ({"customer_name": "  "}, "customer_name"),
        ({"description": None}, "description"),
        ({"purchase_date": "2099-01-01"}, "purchase_date"),
        ({"department": "nowhere"}, "department"),
    ],
)
def test_bad_input_is_422_naming_the_field(agent_api: ApiClient, overrides: dict[str, Any], field: str) -> None:
    before = (Complaint.objects.count(), Customer.objects.count(), DailySequence.objects.count())

    response = agent_api.post_json(URL, intake_payload(**overrides))

    assert response.status_code == 422, response.content
    assert field in fields(response), response.json()
    for error in response.json()["detail"]:
        assert error["loc"][0] == "body"
        assert error["msg"]
        assert error["type"]
    _assert_nothing_written(before)


def test_domain_errors_have_ninja_validation_shape(agent_api: ApiClient) -> None:
    response = agent_api.post_json(URL, intake_payload(phone=None, email=None, type="weather"))

    assert response.status_code == 422
    assert response.json() == {
        "detail": [
            {
                "loc": ["body", "phone"],
                "msg": response.json()["detail"][0]["msg"],
                "type": "invalid",
                "code": "complaint.invalid_phone",
            },
            {
                "loc": ["body", "type"],
                "msg": response.json()["detail"][1]["msg"],
                "type": "invalid",
                "code": "complaint.invalid_type",
            },
        ]
    }


def test_schema_errors_name_the_field_like_domain_errors(agent_api: ApiClient) -> None:
    response = agent_api.post_json(URL, intake_payload(priority=7, description=None))

    assert response.status_code == 422
    assert sorted(locs(response)) == [["body", "description"], ["body", "priority"]]


def test_malformed_json_is_400(agent_api: ApiClient) -> None:
    response = agent_api.post(URL, data="{not json", content_type="application/json")
    assert response.status_code == 400


def test_role_without_register_permission_is_403(api_client_for: Any, auditor: User) -> None:
    before = (Complaint.objects.count(), Customer.objects.count(), DailySequence.objects.count())

    response = api_client_for(auditor).post_json(URL, intake_payload())

    assert response.status_code == 403
    assert response.json()["detail"]
    _assert_nothing_written(before)


def test_intake_costs_a_fixed_number_of_statements_and_skips_the_repeat_check_for_a_new_customer(
    agent_api: ApiClient, agent: User, count_queries: Any
) -> None:
    from closeloop.complaints.models import PersonalDataAccess

    agent_api.post_json("/api/v1/complaints", intake_payload(phone="13900000001"))  # warm-up
    counts, complaint_reads = [], []
    for phone in ("13900000002", "13900000003"):
        with count_queries() as queries:
            response = agent_api.post_json(
                "/api/v1/complaints", intake_payload(phone=phone, product_text="吸顶灯 XD-100")
            )
        assert response.status_code == 201
        counts.append(queries.count)
        complaint_reads.append(
            [q["sql"] for q in queries.captured_queries if q["sql"].startswith('SELECT "complaints_complaint"')]
        )
    assert counts[0] == counts[1]
    assert complaint_reads == [[], []]  # a customer created just now cannot repeat an earlier complaint
    # The returned unmasked data is logged in the intake's own transaction.
    number = response.json()["number"]
    assert PersonalDataAccess.objects.filter(user=agent, complaint__number=number, where="api").count() == 1
    # A returning customer is checked (one read of their earlier complaints).
    with count_queries() as again:
        assert (
            agent_api.post_json(
                "/api/v1/complaints", intake_payload(phone="13900000003", product_text="吸顶灯 XD-100")
            ).status_code
            == 201
        )
    assert len([q for q in again.captured_queries if q["sql"].startswith('SELECT "complaints_complaint"')]) == 1


# The statement budget of one API intake (issue 20), each named so that a new one is a decision:
# the customer looked up (before the transaction, so that it waits for no writer), SAVEPOINT, the
# customer asked again (an existence check: none was found, and an intake of the same customer may have
# committed meanwhile) and created, the day's number, the complaint, its SLA clocks (one bulk insert),
# its events (one insert), the log of the unmasked data returned, RELEASE. The token and
# its user's permissions are kept by the process (accounts/api_auth.py); nothing is written for the
# spike check (the worker claims it).
INTAKE_STATEMENTS = 10


def test_api_intake_stays_within_its_statement_budget(agent_api: ApiClient, count_queries: Any) -> None:
    agent_api.post_json("/api/v1/complaints", intake_payload(phone="13900000011"))  # warm-up
    with count_queries() as queries:
        response = agent_api.post_json("/api/v1/complaints", intake_payload(phone="13900000012", product_text="XD"))
    assert response.status_code == 201
    assert queries.count == INTAKE_STATEMENTS, "\n".join(q["sql"][:120] for q in queries.captured_queries)
    # With an external reference, the same: a repeat is found by the unique constraint, not looked up first.
    with count_queries() as queries:
        response = agent_api.post_json(
            "/api/v1/complaints", intake_payload(phone="13900000013", external_ref="CRM-20-1")
        )
    assert response.status_code == 201
    assert queries.count == INTAKE_STATEMENTS
    again = agent_api.post_json("/api/v1/complaints", intake_payload(phone="13900000013", external_ref="CRM-20-1"))
    assert again.status_code == 200 and again.json()["number"] == response.json()["number"]
