"""What the desk knows of the customer: their open complaints at registration (a warning when one is
about the same product), and the customer panel beside a complaint."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from closeloop.complaints.models import Complaint
from closeloop.core.roles import Role
from closeloop.directory.models import Product

pytestmark = pytest.mark.django_db


def test_registration_warns_of_an_open_complaint_on_the_same_product(
    agent_client: Client, make_complaint: Callable[..., Complaint], product: Product
) -> None:
    lamp = make_complaint(phone="13812345678", product_model="XD-100")
    other = make_complaint(phone="13812345678", product_text="落地灯")

    body = agent_client.get(
        "/desk/lookup/customers", {"phone": "13812345678", "product_model": "xd100"}
    ).content.decode()

    warning = re.search(r'<li class="same-product" role="alert">(.*?)</li>', body, re.S)
    assert warning is not None
    assert f'href="/desk/c/{lamp.number}/"' in warning.group(1)
    assert f'href="/desk/c/{other.number}/"' in body  # also open, not the same product
    assert body.count('class="same-product"') == 1


def test_no_warning_when_the_complaint_on_the_product_is_closed(
    agent_client: Client, make_complaint: Callable[..., Complaint], product: Product
) -> None:
    lamp = make_complaint(phone="13812345678", product_model="XD-100")
    Complaint.objects.filter(pk=lamp.pk).update(status="closed")
    body = agent_client.get(
        "/desk/lookup/customers", {"phone": "13812345678", "product_model": "XD-100"}
    ).content.decode()
    assert "same-product" not in body and lamp.number not in body
    assert "1 previous complaint" in body


def test_the_lookup_costs_the_same_for_one_customer_or_many_complaints(
    agent_client: Client, make_complaint: Callable[..., Complaint], count_queries: Callable[[], Any]
) -> None:
    make_complaint(phone="13812345678")
    with count_queries() as one:
        agent_client.get("/desk/lookup/customers", {"phone": "1381234"})
    for i in range(4):
        make_complaint(phone="13812345678")
        make_complaint(phone=f"1381234{i:04d}")
    with count_queries() as many:
        agent_client.get("/desk/lookup/customers", {"phone": "1381234"})
    assert one.count == many.count


def _panel(body: str) -> str:
    start = body.index('id="customer-panel"')
    return body[start : body.index("</section>", start)]


def test_the_customer_panel_lists_open_and_past_complaints_and_satisfaction(
    agent_client: Client, make_complaint: Callable[..., Complaint]
) -> None:
    this = make_complaint(phone="13812345678")
    still_open = make_complaint(phone="13812345678")
    closed = make_complaint(phone="13812345678")
    Complaint.objects.filter(pk=closed.pk).update(status="closed")
    stranger = make_complaint(phone="13900000000")

    panel = _panel(agent_client.get(f"/desk/c/{this.number}/").content.decode())

    assert f'href="/desk/c/{still_open.number}/"' in panel
    assert f'href="/desk/c/{closed.number}/"' in panel
    assert this.number not in panel and stranger.number not in panel
    assert panel.index(still_open.number) < panel.index(closed.number)
    assert "1 more open complaint" in panel
    assert "No follow-up answered yet." in panel


def test_the_customer_panel_costs_the_same_for_many_complaints(
    agent_client: Client, make_complaint: Callable[..., Complaint], count_queries: Callable[[], Any]
) -> None:
    this = make_complaint(phone="13812345678")
    with count_queries() as few:
        agent_client.get(f"/desk/c/{this.number}/")
    for _ in range(6):
        make_complaint(phone="13812345678", product_model="")
    with count_queries() as many:
        agent_client.get(f"/desk/c/{this.number}/")
    assert few.count == many.count


def test_a_masked_role_sees_the_panel_without_contact_data(
    client_for: Callable[[User], Client], make_user: Callable[..., User], make_complaint: Callable[..., Complaint]
) -> None:
    this = make_complaint(phone="13812345678", email="li@example.com")
    make_complaint(phone="13812345678")
    panel = _panel(client_for(make_user(Role.QUALITY)).get(f"/desk/c/{this.number}/").content.decode())
    assert "1381234" not in panel and "li@example.com" not in panel and "5678" not in panel
