"""Demo data for the e-mail channel: two customers write to the complaints mailbox, the agent
acknowledges one (the acknowledgement goes out threaded) and the customer answers it — all through the
intake service, as the MTA pipe would deliver them. Idempotent: a second run changes nothing."""

from __future__ import annotations

import base64
import datetime
from email.utils import format_datetime

from django.contrib.auth import get_user_model
from django.utils import timezone

from closeloop.complaints.services import complaint_transition
from closeloop.mailin.conf import Mailbox
from closeloop.mailin.models import InboundMail
from closeloop.mailin.services import mail_ingest
from closeloop.notifications.models import Method, Notification

DEMO_DOMAIN = "demo-customer.example.cn"
MAILBOX = Mailbox(name="demo", type_code="quality")
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


def _word(text: str, charset: str) -> str:
    return f"=?{charset}?B?{base64.b64encode(text.encode(charset)).decode()}?="


def _mail(
    *,
    sender: str,
    name: str,
    subject: str,
    body: str,
    msgid: str,
    at: datetime.datetime,
    charset: str = "utf-8",
    html: bool = False,
    photo: bool = False,
    headers: dict[str, str] | None = None,
) -> bytes:
    label = "gb2312" if charset == "gbk" else charset
    lines = [
        f"From: {_word(name, label)} <{sender}>",
        "To: complaints@factory.example.com",
        f"Subject: {_word(subject, label)}",
        f"Date: {format_datetime(at)}",
        f"Message-ID: {msgid}",
        "MIME-Version: 1.0",
        *(f"{key}: {value}" for key, value in (headers or {}).items()),
    ]
    text = [
        f'Content-Type: text/{"html" if html else "plain"}; charset="{label}"',
        "Content-Transfer-Encoding: base64",
        "",
        base64.encodebytes(body.encode(charset)).decode(),
    ]
    if not photo:
        return "\r\n".join(lines + text).encode()
    attachment = [
        "--demo",
        f'Content-Type: image/png; name="{_word("灯罩发黄.png", "utf-8")}"',
        "Content-Disposition: attachment",
        "Content-Transfer-Encoding: base64",
        "",
        base64.encodebytes(PNG).decode(),
    ]
    return "\r\n".join(
        [*lines, 'Content-Type: multipart/mixed; boundary="demo"', "", "--demo", *text, *attachment, "--demo--"]
    ).encode()


def demo_mail_threads() -> int:
    """The demo's e-mail complaints; returns how many mails were taken (0 on a second run)."""
    if InboundMail.objects.filter(message_id__endswith=f"@{DEMO_DOMAIN}>").exists():
        return 0
    now = timezone.now()
    agent = get_user_model().objects.filter(username="agent").first()
    first = mail_ingest(
        raw=_mail(
            sender=f"sun.li@{DEMO_DOMAIN}",
            name="孙丽",
            subject="吸顶灯灯罩发黄，有焦味",
            body="您好：\n上个月买的 XD-1001 吸顶灯，灯罩边缘发黄，开灯半小时后有焦味。照片见附件。\n孙丽",
            msgid=f"<demo-1@{DEMO_DOMAIN}>",
            at=now - datetime.timedelta(hours=5),
            charset="gbk",
            photo=True,
        ),
        mailbox=MAILBOX,
        now=now - datetime.timedelta(hours=5),
    )
    taken = 1
    if first.complaint is not None and agent is not None:
        complaint_transition(
            complaint=first.complaint,
            action="acknowledge",
            actor=agent,
            via="desk",
            now=now - datetime.timedelta(hours=4),
        )
        ours = Notification.objects.filter(complaint=first.complaint, method=Method.EMAIL).first()
        if ours is not None:
            mail_ingest(
                raw=_mail(
                    sender=f"sun.li@{DEMO_DOMAIN}",
                    name="孙丽",
                    subject=f"回复：{ours.subject}",
                    body="好的，谢谢。我工作日晚上七点以后在家，可以上门。\n\n"
                    f"在 {timezone.localtime(ours.created_at):%Y年%m月%d日 %H:%M}，客诉中心 写道：\n> {ours.body[:60]}",
                    msgid=f"<demo-2@{DEMO_DOMAIN}>",
                    at=now - datetime.timedelta(hours=2),
                    headers={"In-Reply-To": ours.message_id, "References": f"<demo-1@{DEMO_DOMAIN}> {ours.message_id}"},
                ),
                mailbox=MAILBOX,
                now=now - datetime.timedelta(hours=2),
            )
            taken += 1
    mail_ingest(
        raw=_mail(
            sender=f"store@{DEMO_DOMAIN}",
            name="佛山门店",
            subject="到货三台灯具外包装破损",
            body="<html><body><p>今天到货的三台 <b>XD-1001</b> 外包装破损，其中一台灯罩碎裂。</p>"
            "<p>请安排补发。</p></body></html>",
            msgid=f"<demo-3@{DEMO_DOMAIN}>",
            at=now - datetime.timedelta(hours=1),
            html=True,
        ),
        mailbox=Mailbox(name="demo", type_code="logistics"),
        now=now - datetime.timedelta(hours=1),
    )
    return taken + 1
