"""The other side of the rule: a role that sees contact data masked still finds a customer's complaints by
the whole phone number or e-mail address — counted against PERSONAL_DATA_SEARCH_MAX_PER_HOUR and logged
as a personal-data access — and still finds complaint numbers by part of them. Roles that see personal
data search as before."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client

from closeloop.complaints import selectors
from closeloop.complaints.models import Complaint, PersonalDataAccess
from closeloop.core.roles import Role
from tests.api.conftest import ApiClient

pytestmark = pytest.mark.django_db

PHONE = "13912344405"
EMAIL = "zhang.wei@example.com"


def desk_numbers(response: Any) -> list[str]:
    return re.findall(r'class="number" href="/desk/c/([^/]+)/"', response.content.decode())


def api_numbers(response: Any) -> list[str]:
    assert response.status_code == 200, response.content
    return [item["number"] for item in response.json()["items"]]


@pytest.fixture
def target(make_complaint: Callable[..., Complaint]) -> Complaint:
    make_complaint(phone="13800001111", email="other@example.com")
    return make_complaint(phone=PHONE, email=EMAIL)


@pytest.fixture
def auditor_desk(auditor: User, desk_client_for: Callable[[User], Client]) -> Client:
    return desk_client_for(auditor)


@pytest.fixture
def auditor_api(auditor: User, api_client_for: Callable[[User], ApiClient]) -> ApiClient:
    return api_client_for(auditor)


@pytest.mark.parametrize(
    "term", [PHONE, "139 1234 4405", "+86 139-1234-4405", EMAIL, "Zhang.Wei@Example.com", f"  {EMAIL} "]
)
def test_a_masked_role_finds_a_customer_by_the_whole_phone_or_email(
    target: Complaint, auditor: User, auditor_desk: Client, auditor_api: ApiClient, term: str
) -> None:
    assert desk_numbers(auditor_desk.get("/desk/", {"q": term})) == [target.number]
    assert api_numbers(auditor_api.get("/api/v1/complaints", {"q": term})) == [target.number]
    logged = PersonalDataAccess.objects.filter(user=auditor).order_by("where")
    assert [(a.where, a.customer_id, a.complaint_id) for a in logged] == [
        ("api search", target.customer_id, None),
        ("queue search", target.customer_id, None),
    ]


def test_a_search_that_finds_nobody_is_logged_too(target: Complaint, auditor: User, auditor_desk: Client) -> None:
    assert desk_numbers(auditor_desk.get("/desk/", {"q": "13900000000"})) == []
    assert desk_numbers(auditor_desk.get("/desk/", {"q": "nobody@example.com"})) == []
    assert list(PersonalDataAccess.objects.values_list("user", "customer", "where")) == [
        (auditor.pk, None, "queue search"),
        (auditor.pk, None, "queue search"),
    ]


def test_part_of_a_complaint_number_still_finds_it_and_is_not_counted(
    target: Complaint, auditor_desk: Client, auditor_api: ApiClient, settings: Any
) -> None:
    settings.PERSONAL_DATA_SEARCH_MAX_PER_HOUR = 0
    date_digits, sequence = target.number[2:10], target.number[-4:]
    for term in (date_digits, sequence, target.number, target.number.lower()):
        assert target.number in desk_numbers(auditor_desk.get("/desk/", {"q": term})), term
        assert target.number in api_numbers(auditor_api.get("/api/v1/complaints", {"q": term})), term
    assert not PersonalDataAccess.objects.exists()


def test_whole_contact_searches_are_limited_per_hour(
    target: Complaint, auditor: User, auditor_desk: Client, auditor_api: ApiClient, settings: Any
) -> None:
    settings.PERSONAL_DATA_SEARCH_MAX_PER_HOUR = 3
    for term in (PHONE, EMAIL):
        assert desk_numbers(auditor_desk.get("/desk/", {"q": term})) == [target.number]
    assert api_numbers(auditor_api.get("/api/v1/complaints", {"q": "13900000000"})) == []

    refused = auditor_api.get("/api/v1/complaints", {"q": PHONE})
    assert refused.status_code == 429
    assert "3 phone numbers or e-mail addresses in this hour" in refused.json()["detail"]
    assert 0 < int(refused["Retry-After"]) <= 3600
    desk = auditor_desk.get("/desk/", {"q": PHONE})
    assert desk.status_code == 200
    assert desk_numbers(desk) == []
    assert "3 phone numbers or e-mail addresses in this hour" in desk.content.decode()
    # Refused searches did not run and are not logged as accesses; other searches still work.
    assert PersonalDataAccess.objects.count() == 3
    assert desk_numbers(auditor_desk.get("/desk/", {"q": target.number})) == [target.number]
    assert api_numbers(auditor_api.get("/api/v1/complaints", {"q": target.number[-4:]})) == [target.number]


def test_the_limit_is_per_user(
    target: Complaint,
    auditor_api: ApiClient,
    make_user: Callable[..., User],
    api_client_for: Callable[[User], ApiClient],
    settings: Any,
) -> None:
    settings.PERSONAL_DATA_SEARCH_MAX_PER_HOUR = 1
    assert api_numbers(auditor_api.get("/api/v1/complaints", {"q": PHONE})) == [target.number]
    assert auditor_api.get("/api/v1/complaints", {"q": PHONE}).status_code == 429
    quality = api_client_for(make_user(Role.QUALITY))
    assert api_numbers(quality.get("/api/v1/complaints", {"q": PHONE})) == [target.number]


def test_typing_an_address_does_not_run_a_counted_search(
    target: Complaint, auditor_desk: Client, settings: Any
) -> None:
    """The desk searches while one types; a pause on a whole number would spend the allowance (and
    run the search) without the user asking. Only Enter or the button do."""
    settings.PERSONAL_DATA_SEARCH_MAX_PER_HOUR = 1
    typed = auditor_desk.get("/desk/", {"q": PHONE}, headers={"HX-Request": "true", "HX-Trigger-Name": "q"})
    assert desk_numbers(typed) == []
    assert "Press Enter to search by this whole phone number" in typed.content.decode()
    assert not PersonalDataAccess.objects.exists()
    submitted = auditor_desk.get("/desk/", {"q": PHONE}, headers={"HX-Request": "true"})
    assert desk_numbers(submitted) == [target.number]
    # Names and numbers are still searched while typing.
    by_number = auditor_desk.get(
        "/desk/", {"q": target.number[-4:]}, headers={"HX-Request": "true", "HX-Trigger-Name": "q"}
    )
    assert desk_numbers(by_number) == [target.number]


def test_roles_that_see_personal_data_search_as_before(
    target: Complaint,
    agent: User,
    desk_client_for: Callable[[User], Client],
    api_client_for: Callable[[User], ApiClient],
    settings: Any,
) -> None:
    settings.PERSONAL_DATA_SEARCH_MAX_PER_HOUR = 0
    desk, api = desk_client_for(agent), api_client_for(agent)
    for term in (PHONE[-4:], PHONE[-6:], PHONE, "139 1234 4405", EMAIL.upper()):
        assert desk_numbers(desk.get("/desk/", {"q": term})) == [target.number], term
        assert api_numbers(api.get("/api/v1/complaints", {"q": term})) == [target.number], term
    assert not PersonalDataAccess.objects.exclude(where__in=["queue", "api_list"]).exists()
    # An e-mail is found by the whole address only, by everybody.
    assert desk_numbers(desk.get("/desk/", {"q": "wei@example.com"})) == []


def test_the_same_answers_from_the_indexes_and_from_the_queue_filter(
    target: Complaint, auditor_desk: Client, settings: Any
) -> None:
    """A term matching more than QUEUE_COUNT_CAP is applied as a filter in the queue's order instead of
    the indexed lookups: both must follow the rule."""
    for cap in (10_000, 0):
        settings.QUEUE_COUNT_CAP = cap
        assert desk_numbers(auditor_desk.get("/desk/", {"q": PHONE[-5:]})) == [], cap
        assert desk_numbers(auditor_desk.get("/desk/", {"q": PHONE})) == [target.number], cap
        assert desk_numbers(auditor_desk.get("/desk/", {"q": EMAIL})) == [target.number], cap


def test_a_counted_search_costs_a_fixed_number_of_queries(
    make_complaint: Callable[..., Complaint], auditor_desk: Client, count_queries: Callable[[], Any]
) -> None:
    make_complaint(phone=PHONE, email=EMAIL)
    auditor_desk.get("/desk/", {"q": PHONE})  # the hour's counter is created once
    with count_queries() as small:
        auditor_desk.get("/desk/", {"q": PHONE})
    for _ in range(30):
        make_complaint(phone=PHONE)
    with count_queries() as large:
        response = auditor_desk.get("/desk/", {"q": PHONE})
    assert len(desk_numbers(response)) == 25
    assert small.count == large.count


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the indexes are PostgreSQL's")
@pytest.mark.parametrize("masked", [True, False], ids=["masked", "unmasked"])
@pytest.mark.parametrize("term", [PHONE, PHONE[-5:], EMAIL, "吸顶灯", "灯"])
def test_every_branch_of_a_search_is_read_from_an_index(target: Complaint, masked: bool, term: str) -> None:
    """With sequential and plain index scans priced out (a scan of the primary key filtering every row
    would otherwise stand in for a sequential scan on these small tables), no branch of the UNION may still
    need one: each is answered by an index condition."""
    from django.conf import settings

    ids = Complaint.objects.order_by().values_list("id", flat=True)
    conditions = selectors._search_conditions(term, masked=masked, indexed=True)
    first, *rest = [ids.filter(condition) for condition in conditions]
    sql, params = first.union(*rest, all=True)[: settings.QUEUE_COUNT_CAP].query.sql_with_params()
    with connection.cursor() as cursor:
        for method in ("seqscan", "indexscan", "indexonlyscan"):
            cursor.execute(f"SET LOCAL enable_{method} = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Seq Scan" not in plan, plan
