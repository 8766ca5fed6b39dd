"""From the status page the customer adds information and photos to their open complaint: recorded on the
timeline, files checked like every attachment, spam-guarded, and a refusal that says what to do. The
receipt links to the status page with the number filled in."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import translation

from closeloop.complaints.lifecycle import Status
from closeloop.complaints.models import Complaint
from closeloop.complaints.presentation import timeline_rows
from closeloop.complaints.services import complaint_transition
from closeloop.core.roles import Role
from closeloop.directory.models import Department
from closeloop.handling.services.tasks import complaint_dispatch
from closeloop.notifications.models import Method, Notification

pytestmark = pytest.mark.django_db

PHONE = "13812345678"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def complaint(make_complaint: Callable[..., Complaint]) -> Complaint:
    return make_complaint(phone=PHONE)


def _open_status_page(client: Client, lookup: Any, complaint: Complaint) -> str:
    response = lookup(complaint.number, PHONE[-4:])
    assert response.status_code == 302
    return client.get(response["Location"]).content.decode()


def _token(html: str) -> str:
    match = re.search(r'name="form_token" value="([^"]+)"', html)
    assert match, "the form carries a signed token"
    return match.group(1)


def _add(client: Client, complaint: Complaint, html: str, **fields: Any) -> Any:
    data = {"text": "", "website": "", "form_token": _token(html), **fields}
    return client.post(reverse("portal:status_add", args=[complaint.number]), data)


def test_the_customer_adds_text_and_a_photo_and_it_is_on_the_timeline(
    client: Client, lookup: Any, complaint: Complaint
) -> None:
    html = _open_status_page(client, lookup, complaint)
    assert "Add information or photos" in html
    photo = SimpleUploadedFile("lamp.png", PNG, content_type="image/png")

    response = _add(client, complaint, html, text="灯罩也裂了，周末在家", attachments=[photo])

    assert response.status_code == 302
    assert response["Location"].endswith("?added=1#add-information")
    assert "we have added it to your complaint" in client.get(response["Location"]).content.decode()
    event = complaint.events.get(action="customer_added")
    assert event.note == "灯罩也裂了，周末在家" and event.actor is None and event.via == "portal"
    assert [a.original_name for a in complaint.attachments.all()] == ["lamp.png"]
    assert event.after["attachments"][0]["name"] == "lamp.png"
    rows = timeline_rows(complaint.events.order_by("at", "id"), complaint)
    assert any(r.label.startswith("The customer added information on the status page") for r in rows)


def test_the_handler_is_told_with_a_notice_leading_to_the_complaint(
    client: Client, lookup: Any, complaint: Complaint, agent: User, make_user: Callable[..., User]
) -> None:
    department = Department.objects.get(code="tech")
    handler = make_user(Role.HANDLER, departments=[department], username="status_handler")
    complaint_dispatch(complaint=complaint, assignments=[(department, handler)], actor=agent, via="desk")
    html = _open_status_page(client, lookup, complaint)
    photo = SimpleUploadedFile("lamp.png", PNG, content_type="image/png")

    assert _add(client, complaint, html, text="灯罩也裂了", attachments=[photo]).status_code == 302

    notice = Notification.objects.get(recipient=handler, method=Method.IN_APP, kind="customer_added")
    with translation.override("en"):
        subject = notice.shown_subject
    assert subject == f"{complaint.number}: the customer added information and photos on the status page"
    assert notice.shown_body == "灯罩也裂了" and notice.complaint_id == complaint.pk
    desk = Client(HTTP_ACCEPT_LANGUAGE="en")
    desk.force_login(handler)
    opened = desk.get(reverse("notifications:open", args=[notice.pk]))
    assert opened.status_code == 302 and opened["Location"].startswith(reverse("desk:detail", args=[complaint.number]))
    # The agent who registered it is told too; the timeline says whom.
    assert Notification.objects.filter(recipient=agent, method=Method.IN_APP, kind="customer_added").exists()
    event = complaint.events.get(action="customer_added")
    assert event.after["told"] == sorted([agent.get_username(), handler.get_username()])
    rows = timeline_rows(complaint.events.order_by("at", "id"), complaint)
    assert any(r.label.endswith(f"told: {', '.join(event.after['told'])}") for r in rows)


def test_a_file_of_the_wrong_type_is_refused_on_its_field_and_the_text_kept(
    client: Client, lookup: Any, complaint: Complaint
) -> None:
    html = _open_status_page(client, lookup, complaint)
    exe = SimpleUploadedFile("virus.png", b"MZ\x90\x00" + b"\x00" * 64, content_type="image/png")

    response = _add(client, complaint, html, text="补充说明", attachments=[exe])

    assert response.status_code == 400
    page = response.content.decode()
    assert "this type of file is not accepted" in page
    assert "补充说明" in page
    assert not complaint.events.filter(action="customer_added").exists()
    assert not complaint.attachments.exists()


def test_nothing_to_add_is_a_field_error(client: Client, lookup: Any, complaint: Complaint) -> None:
    html = _open_status_page(client, lookup, complaint)
    response = _add(client, complaint, html, text="   ")
    assert response.status_code == 400
    assert "Write what you want to add, or attach a photo." in response.content.decode()


def test_a_bot_filling_the_honeypot_is_refused_with_what_a_person_should_do(
    client: Client, lookup: Any, complaint: Complaint
) -> None:
    html = _open_status_page(client, lookup, complaint)
    response = _add(client, complaint, html, text="buy cheap watches", website="http://spam.example")
    assert response.status_code == 400
    page = response.content.decode()
    assert "wait a few seconds and press the button again" in page
    assert "call our service hotline" in page
    assert "buy cheap watches" in page  # a person's text is not lost
    assert not complaint.events.filter(action="customer_added").exists()


def test_a_token_cannot_be_used_twice(client: Client, lookup: Any, complaint: Complaint) -> None:
    html = _open_status_page(client, lookup, complaint)
    assert _add(client, complaint, html, text="第一次").status_code == 302
    assert _add(client, complaint, html, text="第二次").status_code == 400
    assert complaint.events.filter(action="customer_added").count() == 1


def test_without_the_lookup_in_this_browser_nothing_is_added(client: Client, complaint: Complaint) -> None:
    response = client.post(reverse("portal:status_add", args=[complaint.number]), {"text": "x"})
    assert response.status_code == 302 and response["Location"] == reverse("portal:status")
    assert not complaint.events.filter(action="customer_added").exists()


def test_a_closed_complaint_offers_no_form_and_refuses_an_addition(
    client: Client, lookup: Any, complaint: Complaint, agent: User
) -> None:
    html = _open_status_page(client, lookup, complaint)
    complaint_transition(complaint=complaint, action="invalidate", actor=agent, via="desk", data={"reason": "广告"})
    assert Complaint.objects.get(pk=complaint.pk).status == Status.INVALID
    page = client.get(reverse("portal:status_detail", args=[complaint.number])).content.decode()
    assert "Add information or photos" not in page

    response = _add(client, complaint, html, text="还在吗")

    assert response.status_code == 400
    assert "no longer open" in response.content.decode()
    assert not complaint.events.filter(action="customer_added").exists()


def test_the_receipt_links_to_the_status_page_with_the_number_filled_in(
    client: Client, submit: Callable[..., Any]
) -> None:
    response = submit()
    receipt = client.get(response["Location"]).content.decode()
    number = Complaint.objects.get().number
    link = f"{reverse('portal:status')}?number={number}"
    assert f'href="{link}"' in receipt
    assert f'value="{number}"' in client.get(link).content.decode()
