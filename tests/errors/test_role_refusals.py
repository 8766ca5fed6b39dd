"""A role refusal is 403 (the API's documented answer for a missing permission); a refusal because of
the complaint's state stays 422 with the stable type `transition_not_allowed`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from closeloop.complaints.models import Complaint
from closeloop.core.errors import DomainError, PermissionDeniedError
from closeloop.core.roles import Role
from tests.api.conftest import ApiClient

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english(settings: Any) -> None:
    settings.LANGUAGE_CODE = "en"


def test_the_api_answers_a_role_refusal_with_403_and_changes_nothing(
    api_client_for: Callable[[User], ApiClient], handler: User, make_complaint: Callable[..., Complaint]
) -> None:
    complaint = make_complaint(type_code="quality")  # the handler's department: visible to them

    response = api_client_for(handler).post_json(f"/api/v1/complaints/{complaint.number}/acknowledge")

    assert response.status_code == 403, response.content
    assert response.json() == {
        "detail": "Your role may not “Acknowledge receipt”.",
        "code": "complaint.permission_denied",
    }
    complaint.refresh_from_db()
    assert complaint.status == "registered"
    assert complaint.events.count() == 1


def test_the_generic_transition_endpoint_also_answers_403(
    api_client_for: Callable[[User], ApiClient],
    make_user: Callable[..., User],
    make_complaint: Callable[..., Complaint],
) -> None:
    complaint = make_complaint()
    auditor = make_user(Role.AUDITOR)

    response = api_client_for(auditor).post_json(
        f"/api/v1/complaints/{complaint.number}/transitions", {"action": "invalidate", "reason": "spam"}
    )

    assert response.status_code == 403, response.content


def test_dispatch_by_a_role_that_may_not_dispatch_is_403(
    api_client_for: Callable[[User], ApiClient], handler: User, make_complaint: Callable[..., Complaint]
) -> None:
    complaint = make_complaint(type_code="quality")

    response = api_client_for(handler).post_json(
        f"/api/v1/complaints/{complaint.number}/dispatch", {"assignments": [{"department": "quality"}]}
    )

    assert response.status_code == 403, response.content


def test_the_wrong_state_is_still_422_with_a_stable_type(
    agent_api: ApiClient, make_complaint: Callable[..., Complaint]
) -> None:
    complaint = make_complaint()
    agent_api.post_json(f"/api/v1/complaints/{complaint.number}/invalidate", {"reason": "spam"})

    response = agent_api.post_json(f"/api/v1/complaints/{complaint.number}/acknowledge")

    assert response.status_code == 422
    assert response.json()["detail"] == [
        {
            "loc": ["body", "action"],
            "msg": "“Acknowledge receipt” is not possible while the complaint is invalid.",
            "type": "transition_not_allowed",
            "code": "complaint.not_open",
        }
    ]


def test_permission_denied_is_a_domain_error_yet_the_api_picks_its_own_handler() -> None:
    from closeloop.api import api

    assert issubclass(PermissionDeniedError, DomainError)
    handler = api._lookup_exception_handler(PermissionDeniedError("no"))
    assert handler is not None and handler.__name__ == "permission_denied_error"


def test_the_desk_says_why_and_answers_403(
    client_for: Callable[[User], Client], make_user: Callable[..., User], make_complaint: Callable[..., Complaint]
) -> None:
    complaint = make_complaint()

    response = client_for(make_user(Role.AUDITOR)).post(f"/desk/c/{complaint.number}/do/acknowledge/")

    assert response.status_code == 403
    assert "Your role may not “Acknowledge receipt”." in response.content.decode()
    complaint.refresh_from_db()
    assert complaint.status == "registered"
