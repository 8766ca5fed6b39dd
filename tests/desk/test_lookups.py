"""The registration form's lookups: customers by phone prefix or e-mail, products by model."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from closeloop.complaints.models import Complaint, PersonalDataAccess
from closeloop.core.roles import Role

pytestmark = pytest.mark.django_db


def test_customer_by_phone_prefix_with_previous_complaints(
    agent_client: Client, agent: User, make_complaint: Callable[..., Complaint]
) -> None:
    make_complaint(phone="13812345678", customer_name="李娜", email="li@example.com")
    make_complaint(phone="13812345678", customer_name="李娜")
    make_complaint(phone="13900000000", customer_name="王五")

    body = agent_client.get("/desk/lookup/customers", {"phone": "138 1234"}).content.decode()

    assert "李娜" in body
    assert "王五" not in body
    assert "2 previous complaints" in body
    assert 'data-phone="13812345678"' in body
    assert 'data-email="li@example.com"' in body
    # Unmasked contact data shown outside a complaint is logged too.
    access = PersonalDataAccess.objects.get(where="lookup")
    assert (access.user, access.customer.name, access.complaint) == (agent, "李娜", None)


def test_customer_lookup_needs_four_digits(agent_client: Client, make_complaint: Callable[..., Complaint]) -> None:
    make_complaint(phone="13812345678", customer_name="李娜")
    assert "李娜" not in agent_client.get("/desk/lookup/customers", {"phone": "138"}).content.decode()
    assert "李娜" in agent_client.get("/desk/lookup/customers", {"phone": "+86 1381"}).content.decode()


def test_customer_by_email(agent_client: Client, make_complaint: Callable[..., Complaint]) -> None:
    make_complaint(phone="", email="li@example.com", customer_name="李娜")
    body = agent_client.get("/desk/lookup/customers", {"phone": "", "email": "LI@example.com"}).content.decode()
    assert "李娜" in body
    assert "1 previous complaint" in body


def test_customer_lookup_needs_the_register_permission(
    client_for: Callable[[User], Client], make_user: Callable[..., User], make_complaint: Callable[..., Complaint]
) -> None:
    make_complaint(phone="13812345678")
    response = client_for(make_user(Role.AUDITOR)).get("/desk/lookup/customers", {"phone": "1381"})
    assert response.status_code == 403


def test_product_autocomplete(agent_client: Client, product: Any) -> None:
    body = agent_client.get("/desk/lookup/products", {"q": "xd"}).content.decode()
    assert '<option value="XD-100">' in body
    assert agent_client.get("/desk/lookup/products", {"q": "zzz"}).content.decode().strip() == ""
    # The datalist input sends its own name.
    assert "XD-100" in agent_client.get("/desk/lookup/products", {"product_model": "LED"}).content.decode()
