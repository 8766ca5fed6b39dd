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


def test_an_e_mail_an_agent_writes_joins_the_thread_and_shows_once(
    agent_client: Client, agent: Any, settings: Any
) -> None:
    from closeloop.complaints.services import customer_message_send

    settings.MAIL_REPLY_TO = "complaints@factory.example.com"
    box = Mailbox(name="main", type_code="quality")
    complaint = mail_ingest(raw=mail(msgid="<first@customer.example.cn>"), mailbox=box).complaint
    row = customer_message_send(
        complaint=complaint, method=Method.EMAIL, subject="上门安排", text="明天上午上门。", actor=agent, via="desk"
    )
    assert row.subject == f"[{complaint.number}] 上门安排"
    assert row.headers == {
        "Reply-To": "complaints@factory.example.com",
        "In-Reply-To": "<first@customer.example.cn>",
        "References": "<first@customer.example.cn>",
    }
    # The customer's answer to it comes back to the complaint.
    answer = mail_ingest(raw=mail(body="好的。", headers={"In-Reply-To": row.message_id}), mailbox=box)
    assert answer.complaint.pk == complaint.pk

    timeline = agent_client.get(f"/desk/c/{complaint.number}/").content.decode()
    timeline = timeline.split('<ol class="timeline">')[1].split("</ol>")[0]
    assert timeline.count('class="mail mail-out"') == 1 and timeline.count("明天上午上门。") == 1
    assert "Written to the customer · e-mail" in timeline
