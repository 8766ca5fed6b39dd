"""The queue as a day's work: open complaints by default, partial numbers and models without dashes."""

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


def numbers(response: Any) -> list[str]:
    return re.findall(r'class="number" href="/desk/c/([^/]+)/"', response.content.decode())


def _set_status(complaint: Complaint, status: str) -> None:
    # The test's shortcut past the lifecycle: only the listing is under test here.
    Complaint.objects.filter(pk=complaint.pk).update(status=status, next_due_at=None)


def test_the_default_queue_holds_open_complaints_only(
    agent_client: Client, make_complaint: Callable[..., Complaint]
) -> None:
    open_one, closed, invalid = make_complaint(), make_complaint(), make_complaint()
    _set_status(closed, "closed")
    _set_status(invalid, "invalid")

    assert numbers(agent_client.get("/desk/")) == [open_one.number]
    every = {open_one.number, closed.number, invalid.number}
    assert set(numbers(agent_client.get("/desk/", {"status": "all"}))) == every
    assert numbers(agent_client.get("/desk/", {"status": "closed"})) == [closed.number]


def test_a_number_is_found_by_its_parts(agent_client: Client, make_complaint: Callable[..., Complaint]) -> None:
    complaints = [make_complaint() for _ in range(3)]
    wanted = complaints[1]
    day, seq = wanted.number[2:].split("-")  # TS20261206-0002

    for term in (wanted.number, wanted.number.lower(), f"{day}-{seq}", f"{day[4:]}-{seq}", f"-{seq}", seq):
        assert numbers(agent_client.get("/desk/", {"q": term})) == [wanted.number], term


def test_a_number_part_and_a_date_narrow_to_the_day(
    agent_client: Client, make_complaint: Callable[..., Complaint]
) -> None:
    wanted = make_complaint()
    day = wanted.received_at.astimezone().date()
    seq = wanted.number.split("-")[1]
    found = agent_client.get("/desk/", {"q": seq, "received_from": day, "received_to": day})
    assert wanted.number in numbers(found)


def test_a_model_is_found_without_its_dash(
    agent_client: Client, make_complaint: Callable[..., Complaint], product: Product
) -> None:
    lamp = make_complaint(product_model="XD-100")
    make_complaint(product_model="")
    for term in ("XD100", "xd100", "XD-100"):
        assert numbers(agent_client.get("/desk/", {"q": term})) == [lamp.number], term
        assert numbers(agent_client.get("/desk/", {"product": term})) == [lamp.number], term


def test_the_registration_completes_a_model_typed_without_its_dash(agent_client: Client, product: Product) -> None:
    assert "XD-100" in agent_client.get("/desk/lookup/products", {"q": "xd100"}).content.decode()


def test_a_masked_role_finds_no_phone_through_a_number_shaped_term(
    client_for: Callable[[User], Client], make_user: Callable[..., User], make_complaint: Callable[..., Complaint]
) -> None:
    # The phone's tail written like a number's part must not find the customer for a role that sees
    # phones masked (it would tell which digits hide behind the stars).
    complaint = make_complaint(phone="13912340006")
    quality = client_for(make_user(Role.QUALITY))
    tail = "0006" if not complaint.number.endswith("0006") else "2340006"
    assert numbers(quality.get("/desk/", {"q": f"1234-{tail[-4:]}"})) == []
    assert complaint.number not in numbers(quality.get("/desk/", {"q": "12340006"}))
