"""The admin pages open, complaints and events are read-only there, and actions go through services."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.test import Client

from closeloop.complaints.models import Complaint
from closeloop.core.models import ApiToken

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_en(admin_user: User) -> Client:
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(admin_user)
    return client


@pytest.mark.parametrize(
    "path",
    [
        "/admin/directory/department/",
        "/admin/directory/department/add/",
        "/admin/directory/membership/",
        "/admin/directory/productline/",
        "/admin/directory/product/",
        "/admin/directory/complainttype/",
        "/admin/directory/customer/",
        "/admin/complaints/complaint/",
        "/admin/complaints/event/",
        "/admin/complaints/personaldataaccess/",
        "/admin/core/apitoken/",
        "/admin/core/apitoken/add/",
    ],
)
def test_admin_pages_open(admin_client_en: Client, make_complaint: Callable[..., Complaint], path: str) -> None:
    make_complaint()
    assert admin_client_en.get(path).status_code == 200


def test_complaint_is_read_only_in_admin(admin_client_en: Client, make_complaint: Callable[..., Complaint]) -> None:
    complaint = make_complaint(description="原话")
    page = admin_client_en.get(f"/admin/complaints/complaint/{complaint.pk}/change/")
    assert page.status_code == 200
    assert "原话" in page.content.decode()
    assert admin_client_en.get("/admin/complaints/complaint/add/").status_code == 403
    assert admin_client_en.post(f"/admin/complaints/complaint/{complaint.pk}/delete/").status_code == 403


def test_acknowledge_action_goes_through_the_service(
    admin_client_en: Client, make_complaint: Callable[..., Complaint]
) -> None:
    complaint = make_complaint()
    admin_client_en.post("/admin/complaints/complaint/", {"action": "acknowledge", "_selected_action": [complaint.pk]})
    complaint.refresh_from_db()
    assert complaint.status == "acknowledged"
    assert complaint.events.get(action="acknowledge").via == "admin"


def test_api_token_created_through_the_service(admin_client_en: Client, agent: User) -> None:
    response = admin_client_en.post("/admin/core/apitoken/add/", {"user": agent.pk, "name": "CRM"}, follow=True)
    token = ApiToken.objects.get()
    assert token.name == "CRM"
    assert "is shown only now" in response.content.decode()
    admin_client_en.post("/admin/core/apitoken/", {"action": "revoke", "_selected_action": [token.pk]})
    token.refresh_from_db()
    assert token.revoked_at is not None
