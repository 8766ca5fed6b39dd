"""Bulk actions on the queue: each complaint through its own service, one result per row."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from closeloop.complaints.models import Complaint
from closeloop.core.roles import Role
from closeloop.directory.models import Department

pytestmark = pytest.mark.django_db


def _rows(body: str) -> dict[str, str]:
    found = re.findall(r'<tr class="bulk-(ok|refused)">\s*<td><a class="number" href="/desk/c/([^/]+)/"', body)
    return {number: state for state, number in found}


def test_bulk_priority_changes_each_and_reports_each(
    agent_client: Client, make_complaint: Callable[..., Complaint]
) -> None:
    a, b = make_complaint(priority=3), make_complaint(priority=3)
    closed = make_complaint(priority=3)
    Complaint.objects.filter(pk=closed.pk).update(status="closed")

    answer = agent_client.post(
        "/desk/h/bulk/",
        {
            "action": "priority",
            "priority": "1",
            "reason": "批量升级",
            "n": [a.number, b.number, closed.number, "TS0-0"],
        },
    )

    assert answer.status_code == 200
    rows = _rows(answer.content.decode())
    assert rows == {a.number: "ok", b.number: "ok", closed.number: "refused", "TS0-0": "refused"}
    assert list(Complaint.objects.filter(pk__in=[a.pk, b.pk]).values_list("priority", flat=True)) == [1, 1]
    assert Complaint.objects.get(pk=closed.pk).priority == 3


def test_bulk_dispatch_goes_through_the_dispatch_service(
    agent_client: Client, make_complaint: Callable[..., Complaint]
) -> None:
    a, b = make_complaint(), make_complaint()
    department = Department.objects.filter(is_active=True).first()
    assert department is not None
    answer = agent_client.post(
        "/desk/h/bulk/", {"action": "dispatch", "department": department.pk, "n": [a.number, b.number]}
    )
    assert _rows(answer.content.decode()) == {a.number: "ok", b.number: "ok"}
    for complaint in (a, b):
        complaint.refresh_from_db()
        assert complaint.status == "dispatched"
        assert complaint.tasks.filter(department=department).exists()


def test_close_refuses_what_may_not_close(agent_client: Client, make_complaint: Callable[..., Complaint]) -> None:
    registered = make_complaint()
    answer = agent_client.post("/desk/h/bulk/", {"action": "close", "n": [registered.number]})
    assert _rows(answer.content.decode()) == {registered.number: "refused"}
    registered.refresh_from_db()
    assert registered.status == "registered"


def test_bad_input_changes_nothing_and_says_why(agent_client: Client, make_complaint: Callable[..., Complaint]) -> None:
    complaint = make_complaint(priority=3)
    for data, message in (
        ({"action": "priority", "priority": "1", "n": [complaint.number]}, "Say why the priority changes."),
        ({"action": "dispatch", "department": "x", "n": [complaint.number]}, "Choose the department."),
        ({"action": "priority", "priority": "1", "reason": "r"}, "Tick at least one complaint."),
        ({"action": "explode", "n": [complaint.number]}, "Choose an action."),
    ):
        answer = agent_client.post("/desk/h/bulk/", data)
        assert answer.status_code == 422 and message in answer.content.decode()
    assert Complaint.objects.get(pk=complaint.pk).priority == 3


def test_only_the_desk_may_act_in_bulk(
    client_for: Callable[[User], Client], make_user: Callable[..., User], make_complaint: Callable[..., Complaint]
) -> None:
    complaint = make_complaint(priority=3)
    quality = client_for(make_user(Role.QUALITY))
    answer = quality.post(
        "/desk/h/bulk/", {"action": "priority", "priority": "1", "reason": "r", "n": [complaint.number]}
    )
    assert answer.status_code == 403
    assert Complaint.objects.get(pk=complaint.pk).priority == 3
    assert 'form="bulk-form"' not in quality.get("/desk/").content.decode()


def test_the_queue_with_its_bulk_form_costs_the_same_for_more_rows(
    agent_client: Client, make_complaint: Callable[..., Complaint], count_queries: Callable[[], Any]
) -> None:
    make_complaint()
    agent_client.get("/desk/")  # fills the per-process reference cache (types, departments): counts compare warm pages
    with count_queries() as few:
        body = agent_client.get("/desk/").content.decode()
    assert 'id="bulk-form"' in body and 'form="bulk-form"' in body
    for _ in range(6):
        make_complaint()
    agent_client.get("/desk/")  # fills the per-process reference cache (types, departments)
    with count_queries() as many:
        agent_client.get("/desk/")
    assert few.count == many.count
