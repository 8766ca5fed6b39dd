"""Status lookup by complaint number + last 4 digits of the phone."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from closeloop.complaints.models import Complaint
from closeloop.complaints.services import complaint_transition

pytestmark = pytest.mark.django_db

PHONE = "13812345678"


@pytest.fixture
def complaint(make_complaint: Callable[..., Complaint]) -> Complaint:
    return make_complaint(phone=PHONE, product_text="旧款<i>台灯</i>")


def _comparable(response: Any, typed: str) -> str:
    html = response.content.decode()
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)
    return html.replace(typed, "NUMBER")


def test_right_digits_show_the_customer_status(client: Client, lookup: Any, complaint: Complaint) -> None:
    response = lookup(complaint.number, "5678")

    assert response.status_code == 302
    assert response["Location"] == reverse("portal:status_detail", args=[complaint.number])
    page = client.get(response["Location"])
    html = page.content.decode()
    assert page.status_code == 200
    assert complaint.number in html
    assert "We have received your complaint" in html
    assert "Complaint received" in html  # milestone
    assert "旧款&lt;i&gt;台灯&lt;/i&gt;" in html  # typed product shown escaped


def test_number_is_matched_whatever_the_case(client: Client, lookup: Any, complaint: Complaint) -> None:
    response = lookup(f"  {complaint.number.lower()} ", "5678")

    assert response.status_code == 302


def test_resolved_complaint_shows_resolved_without_internal_notes(
    client: Client, lookup: Any, complaint: Complaint, agent: User
) -> None:
    complaint_transition(complaint=complaint, action="acknowledge", actor=agent, via="desk")
    complaint_transition(
        complaint=complaint, action="resolve", actor=agent, via="desk", data={"resolution": "内部备注：赔偿200元"}
    )

    html = client.get(lookup(complaint.number, "5678")["Location"]).content.decode()

    assert "Resolved" in html
    assert "We started working on your complaint" in html
    assert "内部备注" not in html
    assert agent.username not in html
    assert complaint.description not in html  # only what the portal promises to show


def test_invalid_complaint_reads_closed_without_the_reason(
    client: Client, lookup: Any, complaint: Complaint, agent: User
) -> None:
    complaint_transition(complaint=complaint, action="invalidate", actor=agent, via="desk", data={"reason": "广告骚扰"})

    html = client.get(lookup(complaint.number, "5678")["Location"]).content.decode()

    assert "Closed" in html
    assert "广告骚扰" not in html


def test_wrong_digits_give_the_same_page_as_an_unknown_number(lookup: Any, complaint: Complaint) -> None:
    wrong_digits = lookup(complaint.number, "0000")
    unknown = lookup("TS20990101-9999", "5678")

    assert wrong_digits.status_code == unknown.status_code == 200
    assert "could not find a complaint" in wrong_digits.content.decode()
    assert _comparable(wrong_digits, complaint.number) == _comparable(unknown, "TS20990101-9999")


def test_email_only_customer_cannot_use_the_lookup_and_is_told_why(
    lookup: Any, make_complaint: Callable[..., Complaint]
) -> None:
    complaint = make_complaint(phone="", email="li@example.com")

    response = lookup(complaint.number, "0000")

    html = response.content.decode()
    assert "could not find a complaint" in html
    assert "only an e-mail address" in html


def test_attempts_are_limited_per_ip_even_with_the_right_digits(
    settings: Any, lookup: Any, complaint: Complaint
) -> None:
    settings.PORTAL_LOOKUP_MAX_ATTEMPTS = 3
    for _ in range(3):
        lookup("TS20990101-0001", "1234")

    response = lookup(complaint.number, "5678")

    assert response.status_code == 429
    assert "Too many attempts" in response.content.decode()


def test_wrong_guesses_across_ips_make_the_number_ask_for_the_whole_phone(
    settings: Any, client: Client, lookup: Any, complaint: Complaint
) -> None:
    settings.PORTAL_LOOKUP_NUMBER_MAX_WRONG = 3
    for i in range(3):
        lookup(complaint.number, f"000{i}", REMOTE_ADDR=f"10.0.0.{i}")

    right_digits = lookup(complaint.number, "5678", REMOTE_ADDR="10.0.0.99")
    whole_phone = client.post(
        reverse("portal:status"), {"number": complaint.number, "phone": "138 1234 5678"}, REMOTE_ADDR="10.0.0.99"
    )

    assert right_digits.status_code == 200  # not refused: asked for more
    assert 'data-outcome="whole-phone"' in right_digits.content.decode()
    assert 'name="phone"' in right_digits.content.decode()
    assert whole_phone.status_code == 302
    assert whole_phone["Location"] == reverse("portal:status_detail", args=[complaint.number])


def test_malformed_digits_are_a_field_error(lookup: Any, complaint: Complaint) -> None:
    response = lookup(complaint.number, "56a")

    assert response.status_code == 400
    assert "phone_last4" in response.context["form"].errors


def test_status_page_needs_a_lookup_in_this_browser(client: Client, lookup: Any, complaint: Complaint) -> None:
    url = reverse("portal:status_detail", args=[complaint.number])

    assert client.get(url)["Location"] == reverse("portal:status")
    lookup(complaint.number, "5678")
    assert client.get(url).status_code == 200
    assert Client().get(url).status_code == 302
