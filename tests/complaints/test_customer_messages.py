"""Messages to the customer at acknowledgement, solution and resolution: the method by priority
(domain rule 6), the evidence on written replies, both languages, and nothing the customer should
not read (personal data, internal notes)."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.test import Client
from django.utils import timezone

from closeloop.complaints.customer_messages import customer_notify
from closeloop.complaints.models import Complaint, Event, Priority
from closeloop.complaints.services import AttachmentUpload, complaint_transition
from closeloop.notifications.message_templates import render_template
from closeloop.notifications.models import MessageTemplate, Method, Notification, NotificationAttachment
from closeloop.notifications.services import outbox_deliver

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _photo() -> AttachmentUpload:
    return AttachmentUpload(name="灯罩裂纹.png", file=io.BytesIO(PNG), size=len(PNG))


@pytest.fixture
def complaint_with(make_complaint: Callable[..., Complaint]) -> Callable[..., Complaint]:
    def make(**overrides: Any) -> Complaint:
        fields: dict[str, Any] = {
            "customer_name": "王秀英",
            "email": "wang.xiuying@example.com",
            "address": "上海市浦东新区世纪大道100号",
            "onsite_situation": "内部备注：客户情绪激动",
            "demand": "要求退货",
            "product_text": "LED吸顶灯 XD-100",
        }
        fields.update(overrides)
        return make_complaint(**fields)

    return make


def _acknowledge(complaint: Complaint, agent: User) -> list[Notification]:
    complaint_transition(complaint=complaint, action="acknowledge", actor=agent, via="desk")
    return list(Notification.objects.filter(complaint=complaint, kind="customer_acknowledged").order_by("method"))


def test_normal_priority_is_told_by_sms_only(complaint_with, agent) -> None:
    complaint = complaint_with(priority=Priority.NORMAL)
    rows = _acknowledge(complaint, agent)
    assert [(r.method, r.address, r.recipient_id) for r in rows] == [(Method.SMS, complaint.customer.phone, None)]
    assert complaint.number in rows[0].body
    # The acknowledgement's own event says how the customer was told, never the address.
    event = Event.objects.get(complaint=complaint, action="acknowledge")
    assert event.after["customer_messages"] == ["sms"]
    assert complaint.customer.phone not in str(event.after)


def test_normal_priority_without_a_phone_gets_an_email_without_attachments(complaint_with, agent) -> None:
    complaint = complaint_with(priority=Priority.NORMAL, phone="", attachments=[_photo()])
    rows = _acknowledge(complaint, agent)
    assert [(r.method, r.address) for r in rows] == [(Method.EMAIL, "wang.xiuying@example.com")]
    assert not NotificationAttachment.objects.exists()


def test_urgent_gets_sms_and_a_written_email_with_the_evidence(complaint_with, agent, settings) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    complaint = complaint_with(priority=Priority.URGENT, attachments=[_photo()])
    rows = _acknowledge(complaint, agent)
    assert [r.method for r in rows] == [Method.EMAIL, Method.SMS]
    email = rows[0]
    assert [a.attachment.original_name for a in email.attachments.select_related("attachment")] == ["灯罩裂纹.png"]

    outbox_deliver(now=timezone.now())
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == ["wang.xiuying@example.com"] and complaint.number in sent.subject
    assert [(name, content) for name, content, _type in sent.attachments] == [("灯罩裂纹.png", PNG)]


def test_important_with_only_a_phone_gets_the_sms(complaint_with, agent) -> None:
    complaint = complaint_with(priority=Priority.IMPORTANT, email="")
    assert [r.method for r in _acknowledge(complaint, agent)] == [Method.SMS]


def test_chinese_by_default_and_english_when_the_customer_reads_english(complaint_with, settings) -> None:
    complaint = complaint_with(priority=Priority.URGENT)
    now = timezone.now()
    zh = {r.method: r for r in customer_notify(complaint=complaint, code="acknowledged", now=now)}
    assert "您的投诉已受理" in zh[Method.SMS].body
    assert zh[Method.EMAIL].subject.startswith("投诉受理通知")

    settings.LANGUAGE_CODE = "en"  # the customer's language falls back to the installation's
    en = {r.method: r for r in customer_notify(complaint=complaint, code="acknowledged", now=now)}
    assert "We have received your complaint" in en[Method.SMS].body
    assert en[Method.EMAIL].subject == f"We received your complaint ({complaint.number})"


def test_english_falls_back_to_chinese_when_the_template_has_no_english(db: None) -> None:
    template = MessageTemplate(code="x", method="sms", body_zh="编号{{ number }}", body_en="")
    assert render_template(template, language="en", context={"number": "TS1"}) == ("", "编号TS1")


def test_no_personal_data_or_internal_notes_reach_the_customer(complaint_with, agent) -> None:
    complaint = complaint_with(priority=Priority.URGENT)
    # Even a template that asks for them gets nothing: the context does not hold them.
    MessageTemplate.objects.filter(code="resolved", method="sms").update(
        body_zh="{{ number }}|{{ customer.name }}{{ complaint.customer.phone }}{{ phone }}{{ email }}"
        "{{ address }}{{ onsite_situation }}{{ demand }}{{ resolution }}{{ handler }}|"
    )
    complaint_transition(
        complaint=complaint, action="resolve", actor=agent, via="desk", data={"resolution": "内部：已和经销商对账"}
    )
    rows = list(Notification.objects.filter(complaint=complaint, kind__startswith="customer_"))
    assert rows
    sms = next(r for r in rows if r.kind == "customer_resolved" and r.method == Method.SMS)
    assert sms.body == f"{complaint.number}||"
    customer = complaint.customer
    secrets = [customer.name, customer.email, customer.address, "内部", "经销商", "要求退货", "agent"]
    for row in rows:
        text = row.subject + row.body
        for secret in secrets:
            assert secret not in text, (secret, row.kind, row.method)
        assert customer.phone not in text


def test_inactive_template_sends_nothing_and_the_event_says_so(complaint_with, agent) -> None:
    MessageTemplate.objects.filter(code="acknowledged").update(is_active=False)
    complaint = complaint_with()
    assert _acknowledge(complaint, agent) == []
    assert Event.objects.get(complaint=complaint, action="acknowledge").after["customer_messages"] == []


def test_default_templates_exist_for_every_code_and_method(db: None) -> None:
    pairs = set(MessageTemplate.objects.values_list("code", "method"))
    # The automatic messages, and the ones an agent starts from when writing to the customer (issue 15).
    codes = ("acknowledged", "solution", "resolved", "write_progress", "write_need_info", "write_missed_call")
    assert pairs == {(c, m) for c in (*codes, "write_survey") for m in ("sms", "email")}
    assert all(t.body_zh and t.body_en for t in MessageTemplate.objects.all())


def test_admin_edits_templates_with_a_preview(admin_user: User) -> None:
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(admin_user)
    template = MessageTemplate.objects.get(code="solution", method="email")
    assert client.get("/admin/notifications/messagetemplate/").status_code == 200
    page = client.get(f"/admin/notifications/messagetemplate/{template.pk}/change/")
    assert page.status_code == 200
    assert "TS20261123-0007" in page.content.decode()


def test_admin_refuses_a_template_that_does_not_compile(admin_user: User) -> None:
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(admin_user)
    template = MessageTemplate.objects.get(code="acknowledged", method="sms")
    response = client.post(
        f"/admin/notifications/messagetemplate/{template.pk}/change/",
        {"code": "acknowledged", "method": "sms", "body_zh": "编号{% if number %}", "body_en": "x", "is_active": "on"},
    )
    assert response.status_code == 200 and "errorlist" in response.content.decode()
    template.refresh_from_db()
    assert "{% if" not in template.body_zh
