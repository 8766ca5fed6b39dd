"""Desk pages: registration (errors keep what was typed), the detail page's actions, the technician's
day, the warehouse, the complaint page's panel, and the menu entry."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from closeloop.complaints.models import Complaint
from closeloop.serviceorders.lifecycle import Kind, ServiceStatus
from closeloop.serviceorders.models import ServiceOrder
from closeloop.serviceorders.services import order_transition

pytestmark = pytest.mark.django_db


def logged_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_register_from_the_desk_and_see_it_in_the_queue(agent: User) -> None:
    client = logged_in(agent)
    assert 'href="/desk/service/"' in client.get("/desk/").content.decode()  # the menu entry
    response = client.post(
        "/desk/service/register",
        {
            "phone": "13812345678",
            "customer_name": "李雷",
            "customer_kind": "end_user",
            "kind": "repair",
            "channel": "hotline",
            "priority": "3",
            "description": "不亮了",
        },
    )
    order = ServiceOrder.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(order.number)
    assert order.number in client.get("/desk/service/").content.decode()


def test_a_refused_registration_keeps_what_was_typed(agent: User) -> None:
    response = logged_in(agent).post(
        "/desk/service/register",
        {
            "phone": "12",
            "customer_name": "李雷",
            "customer_kind": "end_user",
            "kind": "repair",
            "channel": "hotline",
            "priority": "3",
            "description": "灯罩裂了",
        },
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert "灯罩裂了" in page
    # The desk's one error summary: each error a link to its field (forms.js moves the focus there).
    assert "data-error-summary" in page and 'href="#id_phone"' in page
    assert not ServiceOrder.objects.exists()


def test_detail_offers_the_kinds_actions_and_performs_them(register: Callable[..., ServiceOrder], agent: User) -> None:
    order = register(kind=Kind.CONSULTATION)
    client = logged_in(agent)
    page = client.get(f"/desk/service/{order.number}").content.decode()
    assert 'value="answer"' in page and 'value="book"' not in page
    refused = client.post(f"/desk/service/{order.number}/act", {"action": "answer", "resolution": ""})
    assert refused.status_code == 422
    done = client.post(f"/desk/service/{order.number}/act", {"action": "answer", "resolution": "已答复"})
    assert done.status_code == 302
    order.refresh_from_db()
    assert order.status == ServiceStatus.RESOLVED


def test_the_technicians_day_lists_todays_visits(
    register: Callable[..., ServiceOrder], agent: User, technician: User
) -> None:
    order = register(kind=Kind.REPAIR, now=timezone.now(), address="幸福路 1 号")
    today = timezone.localdate()
    order_transition(
        order=order,
        action="book",
        actor=agent,
        via="desk",
        data={"technician": technician.username, "day": today.isoformat(), "slot": "09-11"},
    )
    page = logged_in(technician).get("/desk/service/my-day").content.decode()
    assert order.number in page and 'value="record_visit"' in page
    tomorrow = (today + datetime.timedelta(days=1)).isoformat()
    assert order.number not in logged_in(technician).get(f"/desk/service/my-day?day={tomorrow}").content.decode()


def test_the_warehouse_receives_and_inspects(register: Callable[..., ServiceOrder], warehouse: User) -> None:
    order = register(kind=Kind.RETURN)
    order_transition(order=order, action="authorise", actor=warehouse, via="desk", data={"reason": "特批"})
    order_transition(
        order=order, action="ship_in", actor=warehouse, via="desk", data={"carrier": "顺丰", "tracking_no": "SF9"}
    )
    client = logged_in(warehouse)
    assert "SF9" in client.get("/desk/service/warehouse").content.decode()
    client.post(f"/desk/service/{order.number}/act", {"action": "receive", "next": "/desk/service/warehouse"})
    client.post(f"/desk/service/{order.number}/act", {"action": "inspect", "result": "accepted", "note": "完好"})
    order.refresh_from_db()
    assert order.status == ServiceStatus.INSPECTED


def test_the_complaint_page_shows_the_rma_it_waits_for(
    make_complaint: Callable[..., Complaint], agent: User, count_queries: Any
) -> None:
    complaint = make_complaint()
    client = logged_in(agent)
    response = client.post(f"/desk/service/from-complaint/{complaint.number}", {"kind": "exchange"})
    order = ServiceOrder.objects.get()
    assert response.status_code == 302
    page = client.get(f"/desk/c/{complaint.number}/").content.decode()
    assert order.number in page


def test_masked_roles_see_no_phone_on_the_detail(register: Callable[..., ServiceOrder], auditor: User) -> None:
    order = register(kind=Kind.REPAIR, phone="13812345678")
    page = logged_in(auditor).get(f"/desk/service/{order.number}").content.decode()
    assert "13812345678" not in page and "138****5678" in page


def test_the_technician_adds_a_photo_of_the_signature(register: Callable[..., ServiceOrder], technician: User) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.api.test_attachments import PNG

    order = register(kind=Kind.REPAIR, department_code="tech")
    response = logged_in(technician).post(
        f"/desk/service/{order.number}/attach",
        {"kind": "signature", "file": SimpleUploadedFile("sign.png", PNG, "image/png")},
    )
    assert response.status_code == 302
    assert order.attachments.get().kind == "signature"
