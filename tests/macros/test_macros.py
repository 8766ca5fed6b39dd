"""Canned replies: placeholders filled safely and unknown ones refused on the field, personal and shared
replies and who may change them, the desk page, the complaint page's picker and sending through the outbox
onto the timeline, and the API."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.test import Client

from closeloop.complaints.models import Complaint, Event
from closeloop.core.errors import PermissionDeniedError, ValidationFailed
from closeloop.macros import services
from closeloop.macros.models import Macro
from closeloop.macros.placeholders import render, unknown_placeholders
from closeloop.notifications.models import Notification
from tests.api.conftest import ApiClient

pytestmark = pytest.mark.django_db

TEXT = "{customer_name}您好，您的投诉 {complaint_number} 我们已收到，将于 {due_date} 前答复。客服 {agent_name}"


def test_placeholders_are_filled_as_plain_text(make_complaint: Callable[..., Complaint], agent: User) -> None:
    complaint = make_complaint(customer_name="{complaint_number}.__class__")

    text = render("{customer_name} / {complaint_number} / {unknown} / {0}", complaint=complaint, agent=agent)

    # The customer's name is put in as written: not read again as a placeholder, nothing evaluated.
    assert text == f"{{complaint_number}}.__class__ / {complaint.number} / {{unknown}} / {{0}}"
    assert unknown_placeholders("{customer_name} {cutsomer_name} {x}") == ["cutsomer_name", "x"]


def test_an_unknown_placeholder_is_a_field_error_and_nothing_is_saved(agent: User) -> None:
    with pytest.raises(ValidationFailed) as refused:
        services.macro_create(actor=agent, title="确认收到", text="{customer_nam}您好", subject="{numbr}")

    assert set(refused.value.errors) == {"text", "subject"}
    assert "{customer_nam}" in refused.value.errors["text"][0]
    assert not Macro.objects.exists()


def test_personal_and_shared_replies(agent: User, supervisor: User, make_user: Callable[..., User]) -> None:
    mine = services.macro_create(actor=agent, title="我的", text=TEXT)
    shared = services.macro_create(actor=supervisor, title="共享", text=TEXT, shared=True)
    other_agent = make_user("agent", username="agent2")

    assert set(services.macros_for(agent)) == {mine, shared}
    assert list(services.macros_for(other_agent)) == [shared]
    with pytest.raises(PermissionDeniedError):
        services.macro_create(actor=agent, title="x", text="y", shared=True)
    with pytest.raises(PermissionDeniedError):
        services.macro_update(actor=agent, macro=shared, title="改", text="y")
    with pytest.raises(PermissionDeniedError):
        services.macro_delete(actor=other_agent, macro=mine)


def test_sending_from_a_reply_goes_through_the_outbox_onto_the_timeline(
    make_complaint: Callable[..., Complaint], agent: User
) -> None:
    complaint = make_complaint(phone="13912345678")
    macro = services.macro_create(actor=agent, title="确认收到", text=TEXT)
    _subject, draft = services.macro_draft(macro=macro, complaint=complaint, actor=agent)
    assert complaint.number in draft and "张伟" in draft

    row = services.macro_send(
        actor=agent, complaint=complaint, method="sms", text=draft + " 谢谢", macro=macro, via="desk"
    )

    assert Notification.objects.get(pk=row.pk).body.endswith("谢谢")
    event = Event.objects.filter(complaint=complaint, action="customer_written").get()
    assert event.after["template"] == f"macro:{macro.pk}"


def test_the_desk_page_and_the_complaint_picker(
    client: Client, agent: User, make_complaint: Callable[..., Complaint]
) -> None:
    complaint = make_complaint(phone="13912345670")
    client.force_login(agent)

    refused = client.post("/desk/macros/", {"title": "确认", "text": "{nope} 您好"})
    assert refused.status_code == 422 and "{nope} 您好" in refused.content.decode()
    assert client.post("/desk/macros/", {"title": "确认", "text": TEXT}).status_code == 302
    macro = Macro.objects.get()

    detail = client.get(f"/desk/c/{complaint.number}/")
    assert detail.status_code == 200 and f"/desk/macros/c/{complaint.number}/" in detail.content.decode()
    picker = client.get(f"/desk/macros/c/{complaint.number}/")
    assert "确认" in picker.content.decode()
    draft = client.get(f"/desk/macros/c/{complaint.number}/send/", {"macro": macro.pk})
    assert complaint.number in draft.content.decode()
    sent = client.post(
        f"/desk/macros/c/{complaint.number}/send/", {"macro": macro.pk, "method": "sms", "text": "您好，已处理"}
    )
    assert sent.status_code == 302
    assert Event.objects.filter(complaint=complaint, action="customer_written").exists()


def test_the_api(
    agent: User, make_complaint: Callable[..., Complaint], api_client_for: Callable[[User], ApiClient]
) -> None:
    complaint = make_complaint(phone="13912345671")
    client = api_client_for(agent)

    bad = client.post_json("/api/v1/macros", {"title": "x", "text": "{bogus}"})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "text"]
    created = client.post_json("/api/v1/macros", {"title": "确认收到", "text": TEXT})
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    assert [m["id"] for m in client.get("/api/v1/macros").json()] == [pk]

    sent = client.post_json(f"/api/v1/macros/{pk}/send", {"complaint": complaint.number, "method": "sms"})

    assert sent.status_code == 201, sent.content
    assert complaint.number in sent.json()["text"] and "{" not in sent.json()["text"]
    assert client.delete(f"/api/v1/macros/{pk}").status_code == 204
