"""A write whose required reference (a person, a department) is empty is a 422 naming the field, not an
IntegrityError (500): the services refuse a missing reference before they write."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User

from closeloop.core.errors import ValidationFailed
from closeloop.core.roles import Role
from closeloop.directory.models import Absence, RosterEntry
from closeloop.handling.services.roster import absence_create, roster_entry_create
from tests.api.conftest import ApiClient
from tests.handling.feedback.conftest import ApiClient as FeedbackApiClient

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_api(make_user: Callable[..., User], api_for: Callable[[User], FeedbackApiClient]) -> ApiClient:
    return api_for(make_user(Role.ADMIN))  # type: ignore[return-value]


def _fields(response: Any) -> list[list[str]]:
    return [entry["loc"] for entry in response.json()["detail"]]


@pytest.mark.parametrize("user", ["", "   "])
def test_leave_without_a_person_is_a_422_on_user(admin_api: ApiClient, user: str) -> None:
    body = {"user": user, "starts": "2026-12-01", "ends": "2026-12-02"}

    response = admin_api.post_json("/api/v1/absences", body)

    assert response.status_code == 422, response.content
    assert ["body", "user"] in _fields(response)
    assert not Absence.objects.exists()


@pytest.mark.parametrize("department", ["", "   "])
def test_roster_line_without_a_department_is_a_422_on_department(admin_api: ApiClient, department: str) -> None:
    body = {"department": department, "valid_from": "2026-01-01"}
    lines = RosterEntry.objects.count()

    response = admin_api.post_json("/api/v1/roster", body)

    assert response.status_code == 422, response.content
    assert ["body", "department"] in _fields(response)
    assert RosterEntry.objects.count() == lines


def test_the_services_refuse_a_missing_reference_whoever_calls_them(make_user: Callable[..., User]) -> None:
    admin = make_user(Role.ADMIN)
    day = datetime.date(2026, 12, 1)

    with pytest.raises(ValidationFailed) as leave:
        absence_create(user=None, starts=day, ends=day, actor=admin)  # type: ignore[arg-type]
    with pytest.raises(ValidationFailed) as line:
        roster_entry_create(department=None, valid_from=day, actor=admin)  # type: ignore[arg-type]

    assert "user" in leave.value.errors
    assert "department" in line.value.errors
