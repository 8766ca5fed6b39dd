"""Registration on the desk: the happy path, and every bad input shown on its field with what was
typed kept and nothing written."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from closeloop.complaints.models import Attachment, Complaint, Event
from closeloop.core.roles import Role
from closeloop.directory.models import ComplaintType, Customer, Department

pytestmark = pytest.mark.django_db

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)


def form_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "channel": "hotline",
        "received_at": "2026-11-23T10:15",
        "phone": "138 1234 5678",
        "email": "",
        "customer_kind": "end_user",
        "customer_name": "李娜",
        "organisation": "",
        "address": "上海市浦东新区世纪大道100号",
        "province": "上海",
        "city": "上海",
        "product_model": "",
        "product_text": "",
        "batch_no": "B2026-11",
        "purchase_date": "2026-10-01",
        "order_no": "SO-778",
        "type": "quality",
        "priority": "2",
        "description": "灯罩有裂纹",
        "onsite_situation": "",
        "demand": "换货",
        "department": "",
        "attachment_kind": "photo",
        "paper_original_location": "",
    }
    data.update(overrides)
    return data


def field_errors(response: Any, field: str) -> list[str]:
    return [str(e) for e in response.context["form"].errors.get(field, [])]


def assert_nothing_written() -> None:
    assert not Complaint.objects.exists()
    assert not Customer.objects.exists()
    assert not Event.objects.exists()
    assert not Attachment.objects.exists()


def test_form_has_sensible_defaults(agent_client: Client) -> None:
    response = agent_client.get("/desk/new/")
    body = response.content.decode()
    assert response.status_code == 200
    assert re.search(r'<option value="hotline" selected>', body)
    assert re.search(r'name="received_at" value="\d{4}-\d\d-\d\dT\d\d:\d\d"', body)
    assert re.search(r'name="phone"[^>]*autofocus', body, re.S)
    assert re.search(r'type="radio" name="priority" value="3"[^>]*checked', body)
    # Each type carries the department proposed for it.
    assert 'value="quality"' in body and 'data-department="Quality"' in body


def _reference_reads(queries: Any) -> list[str]:
    return [
        q["sql"]
        for q in queries.captured_queries
        if '"directory_complainttype"' in q["sql"] or '"directory_department"' in q["sql"]
    ]


def test_reference_data_is_read_once_per_process(agent_client: Client, count_queries: Callable[[], Any]) -> None:
    """Types and departments come from the per-process reference cache: the page is opened for every call."""
    # Counted at once: a captured list is read off the connection's log, which the next request empties.
    with count_queries() as queries:
        agent_client.get("/desk/new/")
    first, first_reference = queries.count, _reference_reads(queries)
    with count_queries() as queries:
        agent_client.get("/desk/new/")
    again, again_reference = queries.count, _reference_reads(queries)

    assert len(first_reference) == 2  # the types with their departments, the departments
    assert again_reference == []
    assert again == first - 2

    # More reference data costs no query more, once cached again.
    quality = Department.objects.get(code="quality")
    for i in range(5):
        Department.objects.create(code=f"branch-{i}", name=f"分部{i}")
        ComplaintType.objects.create(code=f"kind-{i}", name=f"类型{i}", default_department=quality)
    agent_client.get("/desk/new/")
    with count_queries() as queries:
        body = agent_client.get("/desk/new/").content.decode()
    assert queries.count == again
    assert 'name="type" value="kind-4"' in body and '<option value="branch-4">' in body


def test_a_changed_type_shows_at_once(agent_client: Client) -> None:
    """Saving reference data clears the cache in this process (closeloop/core/refcache.py)."""
    assert 'name="type" value="quality"' in agent_client.get("/desk/new/").content.decode()
    quality = ComplaintType.objects.get(code="quality")
    quality.is_active = False
    quality.save()
    Department.objects.create(code="after-sales", name="售后", name_en="After-sales")

    body = agent_client.get("/desk/new/").content.decode()

    assert 'name="type" value="quality"' not in body
    assert 'name="type" value="installation"' in body
    assert "After-sales" in body


def test_the_forms_choices_are_made_per_language_and_again_when_the_reference_data_changes() -> None:
    """The registration form's choices are kept per language (closeloop/complaints/forms.py) and made
    again when the reference cache reads the types or departments again."""
    from django.utils import translation

    from closeloop.complaints.forms import RegistrationForm

    Department.objects.create(code="after-sales", name="售后", name_en="After-sales")
    with translation.override("en"):
        english = dict(RegistrationForm().fields["department"].choices)
    with translation.override("zh-hans"):
        chinese = dict(RegistrationForm().fields["department"].choices)
    assert english["after-sales"] == "After-sales" and chinese["after-sales"] == "售后"

    Department.objects.filter(code="after-sales").update(name_en="Service")  # no signal: the cache keeps its rows
    with translation.override("en"):
        assert dict(RegistrationForm().fields["department"].choices)["after-sales"] == "After-sales"
    Department.objects.get(code="after-sales").save()  # a save clears the reference cache in this process
    with translation.override("en"):
        assert dict(RegistrationForm().fields["department"].choices)["after-sales"] == "Service"


def test_register_requires_the_permission(client_for: Callable[[User], Client], make_user: Callable[..., User]) -> None:
    auditor = make_user(Role.AUDITOR)
    assert client_for(auditor).get("/desk/new/").status_code == 403
    assert client_for(auditor).post("/desk/new/", form_data()).status_code == 403


def test_register_happy_path(agent_client: Client, agent: User, product: Any) -> None:
    photo = SimpleUploadedFile("crack.png", PNG, content_type="image/png")
    response = agent_client.post(
        "/desk/new/",
        form_data(
            product_model="XD-100", attachments=[photo], attachment_kind="photo", paper_original_location="档案柜A"
        ),
    )

    complaint = Complaint.objects.get()
    assert response.status_code == 302
    assert response.url == f"/desk/c/{complaint.number}/"
    assert complaint.customer.phone == "13812345678"
    assert complaint.product == product
    assert complaint.priority == 2
    assert complaint.department.code == "quality"
    assert complaint.registered_by == agent
    assert complaint.batch_no == "B2026-11"
    assert str(complaint.purchase_date) == "2026-10-01"
    attachment = complaint.attachments.get()
    assert (attachment.original_name, attachment.paper_original_location) == ("crack.png", "档案柜A")
    assert complaint.events.get().via == "desk"

    page = agent_client.get(response.url)
    assert f"Complaint {complaint.number} registered." in page.content.decode()


def test_department_can_be_chosen_instead_of_the_proposal(agent_client: Client) -> None:
    agent_client.post("/desk/new/", form_data(department="tech"))
    assert Complaint.objects.get().department.code == "tech"


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"phone": "", "email": ""}, "phone", "Give a phone number or an e-mail address"),
        ({"phone": "12345"}, "phone", "Enter a mainland mobile number"),
        ({"phone": "138abc"}, "phone", "may contain only digits"),
        ({"email": "not-an-address", "phone": ""}, "email", "Enter a valid e-mail address."),
        ({"received_at": "2099-01-01T10:00"}, "received_at", "cannot be in the future"),
        ({"purchase_date": "2099-01-01"}, "purchase_date", "cannot be in the future"),
        ({"received_at": "yesterday"}, "received_at", "Enter a valid date/time."),
        ({"department": "nope"}, "department", "Select a valid choice."),
        ({"type": ""}, "type", "Choose a complaint type from the list."),
        ({"type": "nope"}, "type", "Select a valid choice."),
        ({"customer_name": ""}, "customer_name", "Enter the complainant's name."),
        ({"description": "   "}, "description", "Describe the problem in the customer's own words."),
    ],
)
def test_bad_input_is_shown_on_its_field(
    agent_client: Client, overrides: dict[str, str], field: str, message: str
) -> None:
    response = agent_client.post("/desk/new/", form_data(**overrides))

    assert response.status_code == 200
    assert any(message in e for e in field_errors(response, field)), field_errors(response, field)
    body = response.content.decode()
    assert "The complaint was not registered." in body
    # What was typed is kept, the wrong value included (so it can be corrected rather than retyped).
    typed = form_data(**overrides)
    for name in ("customer_name", "order_no", "address", "batch_no"):
        if typed[name]:
            assert f'value="{typed[name]}"' in body
    if typed["description"].strip():
        assert typed["description"] in body
    for name, value in overrides.items():
        if value.strip() and name not in ("department", "type"):
            assert value in body
    assert_nothing_written()


def test_typed_values_come_back_exactly(agent_client: Client) -> None:
    response = agent_client.post(
        "/desk/new/", form_data(phone="12345", received_at="2026-11-22T08:05", priority="1", type="logistics")
    )
    body = response.content.decode()
    assert 'value="12345"' in body
    assert 'value="2026-11-22T08:05"' in body
    assert re.search(r'name="priority" value="1"[^>]*checked', body)
    assert re.search(r'name="type" value="logistics"[^>]*checked', body)
    assert 'id="department-proposal">Warehouse &amp; Logistics<' in body


def test_oversized_attachment(agent_client: Client, settings: Any) -> None:
    settings.ATTACHMENT_MAX_BYTES = 50
    big = SimpleUploadedFile("big.png", PNG + b"\0" * 100, content_type="image/png")

    response = agent_client.post("/desk/new/", form_data(attachments=[big]))

    assert any("big.png" in e and "limit" in e for e in field_errors(response, "attachments"))
    assert "Files cannot be kept after an error: choose them again." in response.content.decode()
    assert 'value="李娜"' in response.content.decode()
    assert_nothing_written()


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("setup.exe", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\0" * 64),
        ("photos.zip", b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + b"\0" * 64),
        ("fake.png", b"MZ\x90\x00\x03\x00\x00\x00" + b"\0" * 64),  # the name lies; the bytes decide
    ],
)
def test_forbidden_file_type(agent_client: Client, name: str, content: bytes) -> None:
    upload = SimpleUploadedFile(name, content, content_type="image/png")

    response = agent_client.post("/desk/new/", form_data(attachments=[upload]))

    assert any(name in e and "not accepted" in e for e in field_errors(response, "attachments"))
    assert_nothing_written()


def test_several_errors_at_once(agent_client: Client) -> None:
    response = agent_client.post(
        "/desk/new/",
        form_data(phone="12", received_at="2099-01-01T00:00", customer_name="", description="", type=""),
    )
    for field in ("phone", "received_at", "customer_name", "description", "type"):
        assert field_errors(response, field), field
    assert_nothing_written()


def test_html_in_description_is_kept_as_text(agent_client: Client) -> None:
    evil = "<script>alert('x')</script><b>bold</b>"
    rejected = agent_client.post("/desk/new/", form_data(description=evil, phone="1"))
    assert "<script>alert" not in rejected.content.decode()
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in rejected.content.decode()

    response = agent_client.post("/desk/new/", form_data(description=evil), follow=True)
    body = response.content.decode()
    assert Complaint.objects.get().description == evil
    assert "<script>alert" not in body
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;&lt;b&gt;bold&lt;/b&gt;" in body


def test_returning_customer_is_reused(agent_client: Client, make_complaint: Callable[..., Complaint]) -> None:
    first = make_complaint(phone="13812345678", customer_name="李娜")
    agent_client.post("/desk/new/", form_data())
    assert Customer.objects.count() == 1
    assert Complaint.objects.exclude(pk=first.pk).get().customer == first.customer
