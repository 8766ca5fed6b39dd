"""The complaint page: scope, masking and its access log, attachments, timeline, and transitions."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from closeloop.complaints.models import Complaint, PersonalDataAccess
from closeloop.complaints.services import AttachmentUpload
from closeloop.core.roles import Role
from closeloop.directory.models import Department
from tests.desk.test_register import PNG

pytestmark = pytest.mark.django_db


def test_detail_shows_the_registration(
    agent_client: Client, make_complaint: Callable[..., Complaint], product: Any
) -> None:
    complaint = make_complaint(
        product_model="XD-100",
        batch_no="LOT-9",
        order_no="SO-1",
        demand="退款",
        onsite_situation="客户家中",
        email="li@example.com",
        address="北京市海淀区中关村大街1号",
    )
    body = agent_client.get(f"/desk/c/{complaint.number}/").content.decode()
    for text in (complaint.number, "LOT-9", "SO-1", "退款", "客户家中", "XD-100", "li@example.com", "中关村大街1号"):
        assert text in body
    assert complaint.customer.phone in body


def test_unknown_number_is_404(agent_client: Client) -> None:
    assert agent_client.get("/desk/c/TS20000101-0001/").status_code == 404


def test_handler_of_another_department_gets_404(
    client_for: Callable[[User], Client], handler: User, make_complaint: Callable[..., Complaint]
) -> None:
    other = make_complaint(type_code="installation")  # tech, not the handler's quality department
    own = make_complaint(type_code="quality")
    client = client_for(handler)

    assert client.get(f"/desk/c/{own.number}/").status_code == 200
    assert client.get(f"/desk/c/{other.number}/").status_code == 404
    assert client.post(f"/desk/c/{other.number}/do/acknowledge/").status_code == 404


def test_masked_for_a_department_manager(
    client_for: Callable[[User], Client],
    make_user: Callable[..., User],
    department: Department,
    make_complaint: Callable[..., Complaint],
) -> None:
    manager = make_user(Role.DEPT_MANAGER, departments=[department])
    complaint = make_complaint(phone="13812345678", email="zhang.wei@example.com")

    body = client_for(manager).get(f"/desk/c/{complaint.number}/").content.decode()

    assert "138****5678" in body
    assert "z***@example.com" in body
    assert "13812345678" not in body
    assert "zhang.wei@example.com" not in body
    assert not PersonalDataAccess.objects.exists()


def test_unmasked_detail_is_logged(agent_client: Client, agent: User, make_complaint: Callable[..., Complaint]) -> None:
    complaint = make_complaint()
    agent_client.get(f"/desk/c/{complaint.number}/")
    access = PersonalDataAccess.objects.get()
    assert (access.user, access.complaint, access.customer, access.where) == (
        agent,
        complaint,
        complaint.customer,
        "detail",
    )


def test_user_text_is_escaped(agent_client: Client, make_complaint: Callable[..., Complaint]) -> None:
    complaint = make_complaint(
        description="<script>alert(1)</script>", demand="<img src=x onerror=alert(2)>", customer_name="<b>X</b>"
    )
    body = agent_client.get(f"/desk/c/{complaint.number}/").content.decode()
    assert "<script>alert(1)" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "<img src=x" not in body
    assert "&lt;b&gt;X&lt;/b&gt;" in body


def test_timeline(agent_client: Client, agent: User, make_complaint: Callable[..., Complaint]) -> None:
    complaint = make_complaint()
    agent_client.post(f"/desk/c/{complaint.number}/do/acknowledge/")
    agent_client.post(f"/desk/c/{complaint.number}/do/resolve/", {"resolve-resolution": "Replaced the <lamp>"})

    body = agent_client.get(f"/desk/c/{complaint.number}/").content.decode()

    timeline = body[body.index("Timeline") :]
    assert timeline.index("Registered") < timeline.index("Acknowledged") < timeline.index("Resolved")
    assert "registered → acknowledged" in timeline
    assert "acknowledged → resolved" in timeline
    assert "Replaced the &lt;lamp&gt;" in timeline
    assert "agent · desk" in timeline


def _attach(complaint: Complaint, agent: User, name: str = "photo.png") -> Any:
    from closeloop.complaints.services import complaint_attach

    return complaint_attach(
        complaint=complaint,
        upload=AttachmentUpload(name=name, file=io.BytesIO(PNG), size=len(PNG), paper_original_location="柜A"),
        actor=agent,
        via="desk",
    )


def test_attachment_download_checks_visibility(
    client_for: Callable[[User], Client],
    agent_client: Client,
    agent: User,
    handler: User,
    make_complaint: Callable[..., Complaint],
) -> None:
    other = make_complaint(type_code="installation")
    attachment = _attach(other, agent)
    url = f"/desk/c/{other.number}/attachments/{attachment.pk}/"

    page = agent_client.get(f"/desk/c/{other.number}/").content.decode()
    assert url in page and "photo.png" in page and "柜A" in page
    response = agent_client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content) == PNG

    assert client_for(handler).get(url).status_code == 404
    # An attachment id of another complaint does not open through a visible complaint's URL.
    own = make_complaint(type_code="quality")
    assert client_for(handler).get(f"/desk/c/{own.number}/attachments/{attachment.pk}/").status_code == 404


def test_actions_offered_by_role(
    agent_client: Client, client_for: Callable[[User], Client], auditor: User, make_complaint: Callable[..., Complaint]
) -> None:
    complaint = make_complaint()
    agent_page = agent_client.get(f"/desk/c/{complaint.number}/").content.decode()
    assert f"/desk/c/{complaint.number}/do/acknowledge/" in agent_page
    assert f"/desk/c/{complaint.number}/do/mark_duplicate/" in agent_page

    auditor_page = client_for(auditor).get(f"/desk/c/{complaint.number}/").content.decode()
    assert "/do/" not in auditor_page


def test_acknowledge(agent_client: Client, make_complaint: Callable[..., Complaint]) -> None:
    complaint = make_complaint()
    response = agent_client.post(f"/desk/c/{complaint.number}/do/acknowledge/", follow=True)
    complaint.refresh_from_db()
    assert complaint.status == "acknowledged"
    assert "Receipt acknowledged; the customer is told. Next: dispatch it" in response.content.decode()
    assert f"/desk/c/{complaint.number}/do/acknowledge/" not in response.content.decode()


def test_missing_reason_is_a_field_error(agent_client: Client, make_complaint: Callable[..., Complaint]) -> None:
    complaint = make_complaint()
    response = agent_client.post(f"/desk/c/{complaint.number}/do/invalidate/", {"invalidate-reason": "  "})

    assert response.status_code == 422
    form = next(f for f in response.context["transition_forms"] if f.transition.action == "invalidate")
    assert "This field is required to “Mark invalid”: reason." in form.errors["reason"]
    complaint.refresh_from_db()
    assert complaint.status == "registered"


def test_invalidate_with_reason(agent_client: Client, make_complaint: Callable[..., Complaint]) -> None:
    complaint = make_complaint()
    agent_client.post(f"/desk/c/{complaint.number}/do/invalidate/", {"invalidate-reason": "广告"})
    complaint.refresh_from_db()
    assert (complaint.status, complaint.status_reason) == ("invalid", "广告")


def test_mark_duplicate_resolves_the_number(agent_client: Client, make_complaint: Callable[..., Complaint]) -> None:
    original = make_complaint()
    copy = make_complaint()
    response = agent_client.post(
        f"/desk/c/{copy.number}/do/mark_duplicate/",
        {"mark_duplicate-reason": "same call", "mark_duplicate-duplicate_of": original.number.lower()},
    )
    assert response.status_code == 302
    copy.refresh_from_db()
    assert (copy.status, copy.duplicate_of) == ("duplicate", original)
    assert original.number in agent_client.get(f"/desk/c/{copy.number}/").content.decode()


@pytest.mark.parametrize("target", ["TS19990101-0001", "self"])
def test_mark_duplicate_of_an_unknown_or_itself(
    agent_client: Client, make_complaint: Callable[..., Complaint], target: str
) -> None:
    complaint = make_complaint()
    number = complaint.number if target == "self" else target
    response = agent_client.post(
        f"/desk/c/{complaint.number}/do/mark_duplicate/",
        {"mark_duplicate-reason": "typed <reason>", "mark_duplicate-duplicate_of": number},
    )
    assert response.status_code == 422
    form = next(f for f in response.context["transition_forms"] if f.transition.action == "mark_duplicate")
    assert form.errors["duplicate_of"]
    body = response.content.decode()
    assert "typed &lt;reason&gt;" in body  # what was typed is kept (and escaped)
    assert f'value="{number}"' in body
    complaint.refresh_from_db()
    assert complaint.status == "registered"


def test_duplicate_of_a_complaint_the_handler_cannot_see(
    client_for: Callable[[User], Client],
    make_user: Callable[..., User],
    department: Department,
    make_complaint: Callable[..., Complaint],
) -> None:
    # The number of a complaint outside the user's scope is "not found", exactly like an unknown one.
    hidden = make_complaint(type_code="installation")
    from closeloop.complaints.forms import TransitionForm
    from closeloop.complaints.lifecycle import TRANSITIONS

    handler = make_user(Role.HANDLER, departments=[department])
    own = make_complaint(type_code="quality")
    form = TransitionForm(
        {"mark_duplicate-reason": "x", "mark_duplicate-duplicate_of": hidden.number},
        transition=TRANSITIONS["mark_duplicate"],
        complaint=own,
        user=handler,
    )
    assert not form.is_valid()
    assert form.errors["duplicate_of"] == [f"There is no complaint {hidden.number} that you can see."]


def test_wrong_state_is_a_clear_message(agent_client: Client, make_complaint: Callable[..., Complaint]) -> None:
    complaint = make_complaint()
    agent_client.post(f"/desk/c/{complaint.number}/do/acknowledge/")

    response = agent_client.post(f"/desk/c/{complaint.number}/do/acknowledge/")

    assert response.status_code == 422
    assert "“Acknowledge receipt” is not possible while the complaint is acknowledged." in response.content.decode()
    assert complaint.events.count() == 2


def test_role_without_the_action(
    client_for: Callable[[User], Client], auditor: User, make_complaint: Callable[..., Complaint]
) -> None:
    complaint = make_complaint()
    response = client_for(auditor).post(f"/desk/c/{complaint.number}/do/acknowledge/")
    assert response.status_code == 403
    assert "Your role may not “Acknowledge receipt”." in response.content.decode()
    complaint.refresh_from_db()
    assert complaint.status == "registered"


def test_unknown_action(agent_client: Client, make_complaint: Callable[..., Complaint]) -> None:
    complaint = make_complaint()
    response = agent_client.post(f"/desk/c/{complaint.number}/do/explode/")
    assert response.status_code == 400
    assert "Unknown action “explode”." in response.content.decode()


def test_transition_needs_post(agent_client: Client, make_complaint: Callable[..., Complaint]) -> None:
    complaint = make_complaint()
    assert agent_client.get(f"/desk/c/{complaint.number}/do/acknowledge/").status_code == 405
