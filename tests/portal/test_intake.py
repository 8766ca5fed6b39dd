"""The public complaint form: intake through the service, spam guard, errors kept, receipt."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from closeloop.complaints.models import Complaint, Event
from closeloop.directory.models import Product
from tests.portal.conftest import complaint_fields

pytestmark = pytest.mark.django_db


def test_submit_registers_a_web_complaint_via_the_portal(submit: Callable[..., Any], product: Product) -> None:
    response = submit()

    complaint = Complaint.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:receipt", args=[complaint.number])
    assert complaint.channel == "web"
    assert complaint.priority == 3  # normal: the desk triages
    assert complaint.registered_by is None
    assert complaint.product == product
    assert complaint.customer.phone == "13812345678"
    assert complaint.customer.kind == "end_user"
    assert (complaint.batch_no, complaint.order_no, str(complaint.purchase_date)) == ("B2026-11", "SO-88", "2026-10-01")
    assert (complaint.province, complaint.city, complaint.demand) == ("广东", "佛山市", "换新")
    event = Event.objects.get(complaint=complaint)
    assert (event.action, event.via, event.actor) == ("registered", "portal", None)


def test_receipt_shows_the_number_and_how_to_look_it_up(client: Client, submit: Callable[..., Any]) -> None:
    response = client.get(submit()["Location"])

    complaint = Complaint.objects.get()
    html = response.content.decode()
    assert response.status_code == 200
    assert complaint.number in html
    assert "last 4 digits" in html
    assert reverse("portal:status") in html


def test_unknown_product_model_is_kept_as_free_text(submit: Callable[..., Any]) -> None:
    submit(product_model="LX-999 吊灯")

    complaint = Complaint.objects.get()
    assert complaint.product is None
    assert complaint.product_text == "LX-999 吊灯"


def test_dealer_gives_the_company_name(submit: Callable[..., Any]) -> None:
    submit(customer_kind="dealer", organisation="佛山照明专卖店")

    customer = Complaint.objects.get().customer
    assert (customer.kind, customer.organisation) == ("dealer", "佛山照明专卖店")


def test_photos_are_attached(submit: Callable[..., Any]) -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    photos = [SimpleUploadedFile(f"p{i}.png", png, content_type="image/png") for i in range(2)]

    submit(attachments=photos)

    assert Complaint.objects.get().attachments.count() == 2


def test_a_rejected_attachment_is_a_field_error_and_nothing_is_written(submit: Callable[..., Any]) -> None:
    exe = SimpleUploadedFile("virus.png", b"MZ\x90\x00" + b"\x00" * 64, content_type="image/png")

    response = submit(attachments=[exe])

    assert response.status_code == 400
    assert response.context["form"].errors["attachments"]
    assert not Complaint.objects.exists()


def test_honeypot_filled_creates_nothing(submit: Callable[..., Any]) -> None:
    response = submit(website="http://spam.example")

    assert response.status_code == 400
    assert "could not accept the form" in response.content.decode()
    assert not Complaint.objects.exists()


def test_too_fast_submission_creates_nothing_and_keeps_the_text(settings: Any, submit: Callable[..., Any]) -> None:
    settings.PORTAL_FORM_MIN_SECONDS = 3

    response = submit(description="很快提交")

    assert response.status_code == 400
    assert not Complaint.objects.exists()
    html = response.content.decode()
    assert "could not accept the form" in html
    assert "很快提交" in html  # a person who was merely quick sends it again


@pytest.mark.parametrize("token", ["", "forged-token", "eyJ0IjoxfQ:1vAbCd:tampered"])
def test_missing_or_tampered_token_creates_nothing(client: Client, token: str) -> None:
    response = client.post(reverse("portal:home"), complaint_fields(form_token=token))

    assert response.status_code == 400
    assert not Complaint.objects.exists()


def test_expired_token_creates_nothing(client: Client, settings: Any) -> None:
    from closeloop.portal import spam_guard

    old = spam_guard.form_token_issue(now=1_000_000.0)

    response = client.post(reverse("portal:home"), complaint_fields(form_token=old))

    assert response.status_code == 400
    assert not Complaint.objects.exists()


def test_missing_phone_and_email_is_a_field_error_and_keeps_what_was_typed(submit: Callable[..., Any]) -> None:
    response = submit(phone="", email="", description="插座冒烟，很危险", batch_no="LOT-7")

    assert response.status_code == 400
    assert not Complaint.objects.exists()
    form = response.context["form"]
    assert "phone" in form.errors
    html = response.content.decode()
    assert "插座冒烟，很危险" in html
    assert 'value="LOT-7"' in html
    assert 'value="王芳"' in html


def test_bad_date_is_a_field_error(submit: Callable[..., Any]) -> None:
    response = submit(purchase_date="2026-13-45")

    assert "purchase_date" in response.context["form"].errors
    assert not Complaint.objects.exists()


def test_html_in_the_description_is_stored_as_typed_and_shown_escaped(
    client: Client, submit: Callable[..., Any]
) -> None:
    script = '<script>alert("x")</script><b>bold</b>'

    response = client.get(submit(description=script)["Location"])

    assert Complaint.objects.get().description == script
    html = response.content.decode()
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&lt;b&gt;bold&lt;/b&gt;" in html


def test_submissions_are_rate_limited_per_ip(settings: Any, submit: Callable[..., Any]) -> None:
    settings.PORTAL_SUBMIT_MAX_PER_IP = 2

    first, second, third = submit(), submit(), submit(description="第三次")

    assert (first.status_code, second.status_code, third.status_code) == (302, 302, 429)
    assert Complaint.objects.count() == 2
    html = third.content.decode()
    assert "Too many complaints" in html
    assert "第三次" in html


def test_receipt_is_only_for_the_browser_that_submitted(client: Client, submit: Callable[..., Any]) -> None:
    receipt_url = submit()["Location"]

    stranger = Client().get(receipt_url)
    guessed = client.get(reverse("portal:receipt", args=["TS20260101-0001"]))

    assert stranger.status_code == 302
    assert stranger["Location"] == reverse("portal:status")
    assert guessed.status_code == 302


def test_receipt_of_an_email_only_customer_says_updates_come_by_email(
    client: Client, submit: Callable[..., Any]
) -> None:
    response = client.get(submit(phone="", email="wang@example.com")["Location"])

    assert "updates by e-mail" in response.content.decode()


def test_form_offers_catalogue_models_and_active_types(client: Client, product: Product) -> None:
    html = client.get(reverse("portal:home")).content.decode()

    assert '<datalist id="portal-product-models">' in html
    assert 'value="XD-100"' in html
    assert 'value="installation"' in html
    assert 'name="website"' in html  # honeypot
