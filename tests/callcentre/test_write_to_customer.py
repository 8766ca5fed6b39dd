"""An agent writes to the customer from the complaint, by e-mail or SMS: a template to start from, the
text edited, sent through the outbox and recorded on the timeline; refused when it cannot reach them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from closeloop.complaints.models import Complaint, Event
from closeloop.complaints.services import customer_message_send
from closeloop.core.errors import DomainError, PermissionDeniedError, ValidationFailed
from closeloop.core.roles import Role
from closeloop.notifications.models import Notification
from closeloop.notifications.services import outbox_deliver
from tests.api.conftest import ApiClient

pytestmark = pytest.mark.django_db


@pytest.fixture
def complaint(make_complaint: Callable[..., Complaint]) -> Complaint:
    return make_complaint(
        phone="13812345678", email="li.na@example.com", customer_name="李娜", product_text="XD-100 吸顶灯"
    )


def _written(complaint: Complaint) -> list[Notification]:
    return list(Notification.objects.filter(complaint=complaint, kind="customer_message"))


def test_an_sms_goes_through_the_outbox_and_onto_the_timeline(
    complaint: Complaint, agent: User, mailoutbox: list[Any]
) -> None:
    row = customer_message_send(
        complaint=complaint, method="sms", text="  李娜您好，师傅明天上午上门。 ", actor=agent, via="desk"
    )

    assert (row.method, row.address, row.subject, row.body, row.state) == (
        "sms",
        "13812345678",
        "",
        "李娜您好，师傅明天上午上门。",
        "pending",
    )
    event = Event.objects.get(complaint=complaint, action="customer_written")
    assert event.after == {"method": "sms", "notification": row.pk, "template": "", "subject": ""}
    assert event.note == "李娜您好，师傅明天上午上门。"
    assert "13812345678" not in str(event.after)
    # Delivered like every outbox row (the console SMS backend of the tests).
    assert outbox_deliver(now=timezone.now())["sent"] >= 1
    row.refresh_from_db()
    assert row.state == "sent"


def test_an_email_has_a_subject_and_is_sent(complaint: Complaint, agent: User, mailoutbox: list[Any]) -> None:
    customer_message_send(
        complaint=complaint, method="email", subject="", text="Dear Li Na, …", actor=agent, via="desk"
    )
    outbox_deliver(now=timezone.now())

    (mail,) = [m for m in mailoutbox if m.to == ["li.na@example.com"]]
    assert mail.subject == f"Your complaint {complaint.number}"
    assert mail.body == "Dear Li Na, …"


@pytest.mark.parametrize(
    ("overrides", "method", "message"),
    [
        ({"email": ""}, "email", "no e-mail address"),
        ({"phone": "", "email": "x@example.com"}, "sms", "no mobile number"),
        ({"phone": "02168881234"}, "sms", "landline"),
    ],
)
def test_refused_without_an_address_for_the_method(
    make_complaint: Callable[..., Complaint], agent: User, overrides: dict[str, str], method: str, message: str
) -> None:
    complaint = make_complaint(**overrides)

    with pytest.raises(DomainError) as refused:
        customer_message_send(complaint=complaint, method=method, text="您好", actor=agent, via="desk")

    assert (refused.value.field, message in str(refused.value.message)) == ("method", True)
    assert not _written(complaint)
    assert not Event.objects.filter(action="customer_written").exists()


def test_refused_for_an_anonymised_customer(complaint: Complaint, agent: User) -> None:
    complaint.customer.anonymised_at = timezone.now()
    complaint.customer.save()

    with pytest.raises(DomainError, match="anonymised"):
        customer_message_send(complaint=complaint, method="sms", text="您好", actor=agent, via="desk")


def test_text_rules(complaint: Complaint, agent: User) -> None:
    with pytest.raises(ValidationFailed) as empty:
        customer_message_send(complaint=complaint, method="sms", text="  ", actor=agent, via="desk")
    with pytest.raises(ValidationFailed) as long_sms:
        customer_message_send(complaint=complaint, method="sms", text="字" * 501, actor=agent, via="desk")
    with pytest.raises(ValidationFailed) as fax:
        customer_message_send(complaint=complaint, method="fax", text="您好", actor=agent, via="desk")

    assert "text" in empty.value.errors and "text" in long_sms.value.errors and "method" in fax.value.errors
    assert not _written(complaint)


@pytest.mark.parametrize("role", [Role.HANDLER, Role.AUDITOR, Role.QUALITY, Role.DEPT_MANAGER])
def test_only_customer_service_writes(
    complaint: Complaint, make_user: Callable[..., User], role: Role, department: Any
) -> None:
    with pytest.raises(PermissionDeniedError):
        customer_message_send(
            complaint=complaint, method="sms", text="您好", actor=make_user(role, username=f"u-{role}"), via="desk"
        )
    assert not _written(complaint)


def test_survey_placeholder_without_a_followup_is_refused(complaint: Complaint, agent: User) -> None:
    with pytest.raises(DomainError) as refused:
        customer_message_send(complaint=complaint, method="sms", text="请评价：{survey_url}", actor=agent, via="desk")

    assert refused.value.field == "text"
    assert not _written(complaint)


# --- the desk -------------------------------------------------------------------------------------


def test_desk_template_edit_send(agent_client: Client, complaint: Complaint) -> None:
    page = agent_client.get(f"/desk/c/{complaint.number}/").content.decode()
    assert 'id="write-to-customer"' in page
    assert '<option value="write_progress">progress update</option>' in page

    draft = agent_client.get(f"/desk/c/{complaint.number}/write/?method=sms&template=write_progress")
    text = draft.context["form"].initial["text"]
    # In the customer's language (English in these tests: LANGUAGE_CODE), the placeholders filled in.
    assert text.startswith(f"[Customer care] Dear 李娜, your complaint {complaint.number} is being handled")
    due = timezone.localtime(complaint.next_due_at).date().isoformat()
    assert due in text

    response = agent_client.post(
        f"/desk/c/{complaint.number}/write/",
        {"method": "sms", "template": "write_progress", "subject": "", "text": text + " 如有疑问请回电。"},
    )

    assert response.status_code == 302
    (row,) = _written(complaint)
    assert row.body.endswith("如有疑问请回电。")
    timeline = agent_client.get(f"/desk/c/{complaint.number}/").content.decode()
    assert "Written to the customer · SMS" in timeline
    assert "如有疑问请回电。" in timeline


def test_desk_refusal_keeps_the_text(agent_client: Client, make_complaint: Callable[..., Complaint]) -> None:
    complaint = make_complaint(email="")

    response = agent_client.post(
        f"/desk/c/{complaint.number}/write/", {"method": "email", "subject": "进展", "text": "我写了很多字"}
    )

    assert response.status_code == 422
    page = response.content.decode()
    assert "We have no e-mail address for this customer." in page
    assert "我写了很多字" in page and 'value="进展"' in page
    assert not _written(complaint)


def test_desk_roles_that_may_not_write_see_no_panel(
    client_for: Callable[[User], Client], make_user: Callable[..., User], complaint: Complaint
) -> None:
    auditor = client_for(make_user(Role.AUDITOR, username="audit"))

    assert 'id="write-to-customer"' not in auditor.get(f"/desk/c/{complaint.number}/").content.decode()
    assert auditor.get(f"/desk/c/{complaint.number}/write/").status_code == 403
    assert auditor.post(f"/desk/c/{complaint.number}/write/", {"method": "sms", "text": "x"}).status_code == 403


def test_timeline_masks_the_customers_contact_for_masked_roles(
    complaint: Complaint, agent: User, client_for: Callable[[User], Client], make_user: Callable[..., User]
) -> None:
    customer_message_send(
        complaint=complaint, method="sms", text="回电请拨13812345678或写信li.na@example.com", actor=agent, via="desk"
    )

    masked = client_for(make_user(Role.AUDITOR, username="audit")).get(f"/desk/c/{complaint.number}/")
    unmasked = client_for(agent).get(f"/desk/c/{complaint.number}/")

    assert "回电请拨138****5678或写信l***@example.com" in masked.content.decode()
    assert "13812345678" not in masked.content.decode()
    assert "回电请拨13812345678或写信li.na@example.com" in unmasked.content.decode()


# --- the API --------------------------------------------------------------------------------------


def test_api_sends_from_a_template(agent_api: ApiClient, complaint: Complaint) -> None:
    response = agent_api.post_json(
        f"/api/v1/complaints/{complaint.number}/messages", {"method": "email", "template": "write_missed_call"}
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["method"], body["to"], body["state"]) == ("email", "li.na@example.com", "pending")
    assert body["subject"] == f"We could not reach you ({complaint.number})"
    assert body["text"].startswith("Dear 李娜,")
    listed = agent_api.get(f"/api/v1/complaints/{complaint.number}/messages").json()
    assert [m["id"] for m in listed] == [body["id"]]
    events = agent_api.get(f"/api/v1/complaints/{complaint.number}").json()["events"]
    assert [(e["action"], e["via"]) for e in events if e["action"] == "customer_written"] == [
        ("customer_written", "api")
    ]


def test_api_refusals(agent_api: ApiClient, make_complaint: Callable[..., Complaint]) -> None:
    complaint = make_complaint(email="")
    url = f"/api/v1/complaints/{complaint.number}/messages"

    no_address = agent_api.post_json(url, {"method": "email", "text": "您好"})
    no_template = agent_api.post_json(url, {"method": "sms", "template": "write_nothing"})
    bad_method = agent_api.post_json(url, {"method": "fax", "text": "您好"})

    assert (no_address.status_code, no_address.json()["detail"][0]["loc"]) == (422, ["body", "method"])
    assert (no_template.status_code, no_template.json()["detail"][0]["loc"]) == (422, ["body", "template"])
    assert bad_method.status_code == 422
    assert not _written(complaint)


def test_api_forbidden_for_other_roles(
    api_client_for: Callable[[User], ApiClient], make_user: Callable[..., User], complaint: Complaint
) -> None:
    auditor = api_client_for(make_user(Role.AUDITOR, username="audit"))

    response = auditor.post_json(f"/api/v1/complaints/{complaint.number}/messages", {"method": "sms", "text": "x"})

    assert response.status_code == 403
    # An auditor sees what was written, with the address masked.
    customer_message_send(complaint=complaint, method="sms", text="您好", actor=complaint.registered_by, via="desk")
    assert auditor.get(f"/api/v1/complaints/{complaint.number}/messages").json()[0]["to"] == "138****5678"


def test_survey_placeholder_becomes_a_working_link(complaint: Complaint, agent: User, client: Client) -> None:
    from closeloop.complaints.services import complaint_transition
    from closeloop.followup.models import SurveyLink

    complaint_transition(complaint=complaint, action="resolve", actor=agent, via="desk", data={"resolution": "换货"})

    row = customer_message_send(
        complaint=complaint, method="email", text="请评价：{survey_url}", actor=agent, via="desk"
    )

    link = SurveyLink.objects.get(followup__complaint=complaint)
    assert link.sent_via == "email"
    url = row.body.removeprefix("请评价：")
    assert "/survey/" in url and "{survey_url}" not in row.body
    assert client.get(urlsplit(url).path).status_code == 200  # the portal opens the survey


def test_an_email_joins_the_complaints_thread(
    complaint: Complaint, agent: User, mailoutbox: list[Any], settings: Any
) -> None:
    from closeloop.complaints.models import MailThreadMessage

    settings.MAIL_REPLY_TO = "complaints@example.com"

    row = customer_message_send(
        complaint=complaint, method="email", subject="师傅上门时间", text="明天上午十点。", actor=agent, via="desk"
    )
    outbox_deliver(now=timezone.now())

    # The number in the subject and our Message-ID in the thread: the customer's reply finds the complaint.
    assert row.subject == f"[{complaint.number}] 师傅上门时间"
    assert MailThreadMessage.objects.filter(complaint=complaint, message_id=row.message_id, inbound=False).exists()
    (mail,) = [m for m in mailoutbox if m.to == ["li.na@example.com"]]
    assert mail.message()["Reply-To"] == "complaints@example.com"
    assert mail.message()["Message-ID"] == row.message_id
