"""GET /api/v1/notifications and marking read; the audit office's copy on dispatch on the timeline."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User

from closeloop.complaints.models import Complaint, Event
from closeloop.directory.models import Department
from closeloop.handling.services.tasks import complaint_dispatch
from closeloop.notifications.models import Method, Notification
from tests.api.conftest import ApiClient

pytestmark = pytest.mark.django_db
URL = "/api/v1/notifications"


@pytest.fixture
def dispatched(
    make_complaint: Callable[..., Complaint], agent: User, auditor: User, handler: User, department: Department
) -> Complaint:
    complaint = make_complaint()
    complaint_dispatch(complaint=complaint, assignments=[(department, handler)], actor=agent, via="desk")
    return complaint


def test_the_auditors_copy_is_listed_and_on_the_timeline(
    dispatched: Complaint, auditor: User, api_client_for: Callable[[User], ApiClient]
) -> None:
    client = api_client_for(auditor)

    page = client.get(URL).json()

    assert page["unread"] == page["count"] == 1
    (item,) = page["items"]
    assert item["kind"] == "dispatch_cc"
    assert item["complaint"] == dispatched.number
    assert item["read_at"] is None
    event = Event.objects.get(complaint=dispatched, action="auditors_copied")
    assert event.after["auditors"] == ["auditor"]
    timeline = client.get(f"/api/v1/complaints/{dispatched.number}").json()["events"]
    assert "auditors_copied" in [e["action"] for e in timeline]


def test_mark_one_read_then_all(
    dispatched: Complaint, auditor: User, handler: User, api_client_for: Callable[[User], ApiClient]
) -> None:
    Notification.objects.create(recipient=auditor, method=Method.IN_APP, kind="note", subject="second")
    client = api_client_for(auditor)
    first = client.get(URL, {"unread": True}).json()["items"][0]

    read = client.post(f"{URL}/{first['id']}/read")

    assert read.status_code == 200
    assert read.json()["read_at"] is not None
    assert client.get(URL, {"unread": True}).json()["count"] == 1
    assert client.get(URL, {"unread": False}).json()["count"] == 1
    assert client.post(f"{URL}/read-all").json() == {"marked": 1}
    assert client.get(URL).json()["unread"] == 0
    # Someone else's notification does not exist for the caller.
    assert api_client_for(handler).post(f"{URL}/{first['id']}/read").status_code == 404


def test_the_list_is_paginated(auditor: User, api_client_for: Callable[[User], ApiClient]) -> None:
    Notification.objects.bulk_create(
        [Notification(recipient=auditor, method=Method.IN_APP, kind="k", subject=f"#{i}") for i in range(5)]
    )
    Notification.objects.create(recipient=auditor, method=Method.EMAIL, kind="k", subject="by mail")

    page = api_client_for(auditor).get(URL, {"limit": 2, "offset": 4}).json()

    assert page["count"] == 5  # the e-mail copy is a delivery, not a notice of its own
    assert len(page["items"]) == 1
