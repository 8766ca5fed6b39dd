"""The complaint page's timeline shows the e-mail thread: the customer's mails in, ours out."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from closeloop.complaints.services import complaint_transition
from closeloop.mailin.conf import Mailbox
from closeloop.mailin.services import mail_ingest
from closeloop.notifications.models import Method, Notification
from tests.mailin.samples import bounce, mail

pytestmark = pytest.mark.django_db


def test_the_timeline_shows_the_mails_in_and_out(agent_client: Client, agent: Any) -> None:
    box = Mailbox(name="main", type_code="quality")
    complaint = mail_ingest(raw=mail(subject="吸顶灯不亮", body="买了三天就坏了"), mailbox=box).complaint
    complaint_transition(complaint=complaint, action="acknowledge", actor=agent, via="desk")
    ours = Notification.objects.get(complaint=complaint, method=Method.EMAIL)
    reply = mail(
        subject=f"Re: {ours.subject}",
        body="好的，等你们电话。\n\n发件人: 客诉中心\n发送时间: 2026年12月6日\n主题: 受理",
        headers={"In-Reply-To": ours.message_id},
    )
    mail_ingest(raw=reply, mailbox=box)
    mail_ingest(raw=bounce(ours.message_id), mailbox=box)

    body = agent_client.get(f"/desk/c/{complaint.number}/").content.decode()
    assert body.count('class="mail mail-in"') == 2 and body.count('class="mail mail-out"') == 1
    assert "E-mail received" in body and "The customer replied by e-mail" in body
    assert "E-mail to the customer" in body and ours.subject in body
    assert "好的，等你们电话。" in body and "发送时间" not in body
    assert "bounced" in body  # our mail came back: the desk sees it was not delivered
    # In order: received, ours, the reply.
    assert body.index("E-mail received") < body.index("E-mail to the customer") < body.index("好的，等你们电话。")
    timeline = body.split('<ol class="timeline">')[1].split("</ol>")[0]
    assert "wang.fang@customer.example.cn" not in timeline  # the thread shows no address


def test_an_agent_writes_to_the_customer_from_a_template(
    agent_client: Client, client_for: Any, handler: Any, make_complaint: Any
) -> None:
    from closeloop.notifications.models import MessageTemplate

    complaint = make_complaint(email="li.na@customer.example.cn", phone="", product_model="XD-100")
    template = MessageTemplate.objects.create(
        code="desk_visit",
        method=Method.EMAIL,
        subject_zh="上门安排",
        body_zh="您的投诉 {{ number }} 将于明天上门处理。",
    )
    page = agent_client.get(f"/desk/c/{complaint.number}/?template={template.pk}").content.decode()
    assert "Write to the customer by e-mail" in page and "您的投诉 {{ number }} 将于明天上门处理。" in page

    response = agent_client.post(
        f"/desk/c/{complaint.number}/email/",
        {"subject": "上门安排", "body": "您的投诉 {{ number }} 将于明天上门处理。"},
    )
    assert response.status_code == 302
    row = Notification.objects.get(complaint=complaint, kind="customer_written")
    assert (row.method, row.address, row.state) == (Method.EMAIL, "li.na@customer.example.cn", "pending")
    assert row.subject == f"[{complaint.number}] 上门安排"
    assert row.body == f"您的投诉 {complaint.number} 将于明天上门处理。"
    event = complaint.events.get(action="customer_emailed")
    assert event.actor is not None and event.after["notification"] == row.pk

    timeline = agent_client.get(f"/desk/c/{complaint.number}/").content.decode()
    timeline = timeline.split('<ol class="timeline">')[1].split("</ol>")[0]
    assert timeline.count('class="mail mail-out"') == 1 and "E-mail written to the customer" not in timeline

    # A bad placeholder is refused with the form kept; a handler may not write to the customer.
    bad = agent_client.post(f"/desk/c/{complaint.number}/email/", {"subject": "x", "body": "{% if %}"})
    assert bad.status_code == 422 and "A placeholder is wrong" in bad.content.decode()
    assert (
        "Write to the customer by e-mail"
        not in client_for(handler).get(f"/desk/c/{complaint.number}/").content.decode()
    )
    assert client_for(handler).post(
        f"/desk/c/{complaint.number}/email/", {"subject": "x", "body": "y"}
    ).status_code in {403, 404}
    assert Notification.objects.filter(kind="customer_written").count() == 1
