"""The intake service (both entries call it): a mail becomes a complaint, a reply lands on its complaint,
and automatic replies, bounces, duplicates, junk and oversize mails are safe."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core import mail as django_mail
from django.core.management import call_command
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from closeloop.complaints.customer_messages import customer_notify
from closeloop.complaints.models import Attachment, Channel, Complaint, Event, MailThreadMessage, Priority
from closeloop.complaints.services import complaint_transition
from closeloop.directory.models import Customer
from closeloop.handling.services.tasks import complaint_dispatch
from closeloop.mailin.conf import Mailbox
from closeloop.mailin.models import InboundMail, Outcome
from closeloop.mailin.services import mail_ingest
from closeloop.notifications.models import Method, Notification, State
from closeloop.notifications.services import outbox_deliver
from tests.mailin.samples import EXE, PNG, bounce, mail, message_id

pytestmark = pytest.mark.django_db

QUALITY = Mailbox(name="main", type_code="quality", priority=Priority.IMPORTANT)


def registered(raw: bytes, mailbox: Mailbox = QUALITY) -> Complaint:
    result = mail_ingest(raw=raw, mailbox=mailbox)
    assert result.complaint is not None, result
    return Complaint.objects.select_related("customer").get(pk=result.complaint.pk)


def test_a_gb2312_mail_with_attachments_becomes_a_complaint() -> None:
    raw = (
        mail(
            subject="王喆：吸顶灯外壳开裂",
            body="型号 XD-100，灯罩有裂纹，见附件。",
            charset="gbk",
            attachments=[("灯罩裂纹.png", "image/png", PNG), ("说明.exe", "application/octet-stream", EXE)],
            filename_charset="gbk",
        )
        .replace(b"?gbk?", b"?gb2312?")
        .replace(b'charset="gbk"', b'charset="gb2312"')
    )
    complaint = registered(raw)

    assert complaint.channel == Channel.EMAIL and complaint.type.code == "quality"
    assert complaint.priority == Priority.IMPORTANT and complaint.department.code == "quality"
    assert complaint.description == "王喆：吸顶灯外壳开裂\n\n型号 XD-100，灯罩有裂纹，见附件。"
    assert (complaint.customer.name, complaint.customer.email) == ("王芳", "wang.fang@customer.example.cn")
    files = {a.original_name: a for a in complaint.attachments.all()}
    # The refused type is kept only inside the original.
    assert set(files) == {"灯罩裂纹.png", f"{complaint.number}-mail-1.eml"}
    assert files["灯罩裂纹.png"].content_type == "image/png"
    original = files[f"{complaint.number}-mail-1.eml"]
    assert original.content_type == "message/rfc822" and original.file.read() == raw
    event = complaint.events.get(action="email_received")
    assert event.via == "email" and event.note == "王喆：吸顶灯外壳开裂"
    assert event.after["refused"] and "说明.exe" in event.after["refused"][0]
    assert InboundMail.objects.get(complaint=complaint).outcome == Outcome.REGISTERED


def test_the_sender_matches_the_customer_by_address() -> None:
    first = registered(mail(sender="Wang.Fang@Customer.example.cn"))
    second = registered(mail(subject="另一台灯也坏了"))
    assert first.customer_id == second.customer_id
    assert Customer.objects.filter(email="wang.fang@customer.example.cn").count() == 1


def test_an_html_only_mail_is_stored_as_text() -> None:
    complaint = registered(mail(subject="灯不亮", body="<p>灯<b>不亮</b></p><script>x()</script>", html=True))
    assert complaint.description == "灯不亮\n\n灯不亮"


def test_the_same_message_id_twice_makes_one_complaint() -> None:
    raw = mail(msgid="<dup-1@customer.example.cn>")
    first = mail_ingest(raw=raw, mailbox=QUALITY)
    again = mail_ingest(raw=raw, mailbox=QUALITY)
    assert again.duplicate and again.complaint == first.complaint
    assert Complaint.objects.count() == 1 and InboundMail.objects.count() == 1


def test_automatic_replies_and_bounces_create_nothing_and_are_never_answered() -> None:
    for headers in ({"Auto-Submitted": "auto-replied"}, {"X-Autoreply": "yes"}, {"Precedence": "bulk"}):
        assert mail_ingest(raw=mail(headers=headers), mailbox=QUALITY).outcome == Outcome.AUTO_REPLY
    assert mail_ingest(raw=bounce("<someone-else@example.com>"), mailbox=QUALITY).outcome == Outcome.BOUNCE
    assert not Complaint.objects.exists() and not Notification.objects.exists()


def test_a_bounce_of_our_mail_marks_that_outbox_message_failed(agent: Any) -> None:
    complaint = registered(mail())
    complaint_transition(complaint=complaint, action="acknowledge", actor=agent, via="desk")
    ours = Notification.objects.get(complaint=complaint, method=Method.EMAIL)
    outbox_deliver()
    ours.refresh_from_db()
    assert ours.state == State.SENT

    assert mail_ingest(raw=bounce(ours.message_id), mailbox=QUALITY).outcome == Outcome.BOUNCE
    ours.refresh_from_db()
    assert ours.state == State.FAILED and ours.last_error.startswith("bounced")
    assert Complaint.objects.count() == 1


def test_junk_becomes_a_complaint_to_triage_with_the_original() -> None:
    junk = b"\x00\x01 this is not a mail \xff\xfe"
    result = mail_ingest(raw=junk, mailbox=QUALITY)
    assert result.outcome == Outcome.TRIAGE
    complaint = Complaint.objects.get(pk=result.complaint.pk)
    assert complaint.description.startswith("To triage")
    assert complaint.customer.email == "unknown-sender@mail.invalid"
    assert complaint.attachments.get().file.read() == junk
    assert complaint.events.filter(action="email_triage").exists()


def test_a_mail_without_any_text_goes_to_triage_under_its_sender() -> None:
    raw = b"From: li.lei@customer.example.cn\r\nMessage-ID: <empty@customer.example.cn>\r\n\r\n"
    result = mail_ingest(raw=raw, mailbox=QUALITY)
    assert result.outcome == Outcome.TRIAGE
    assert result.complaint.customer.email == "li.lei@customer.example.cn"


def test_an_oversize_mail_is_refused_and_quarantined(settings: Any, tmp_path: Path, caplog: Any) -> None:
    settings.MAIL_MAX_BYTES = 2000
    settings.MAIL_QUARANTINE_DIR = tmp_path / "quarantine"
    raw = mail(attachments=[("big.png", "image/png", PNG * 3)])
    result = mail_ingest(raw=raw, mailbox=QUALITY)
    assert result.outcome == Outcome.REFUSED and result.complaint is None
    kept = list((tmp_path / "quarantine").iterdir())
    assert [p.read_bytes() for p in kept] == [raw]
    assert "over MAIL_MAX_BYTES" in caplog.text
    assert mail_ingest(raw=raw, mailbox=QUALITY).duplicate
    assert len(list((tmp_path / "quarantine").iterdir())) == 1
    assert not Complaint.objects.exists()


# --- threading ------------------------------------------------------------------------------------


def test_our_mail_to_the_customer_is_threaded_and_their_reply_lands_on_the_complaint(
    agent: Any, handler: Any, department: Any, settings: Any
) -> None:
    settings.MAIL_REPLY_TO = "客诉中心 <complaints@factory.example.com>"
    first_id = message_id()
    complaint = registered(mail(msgid=first_id))
    complaint_transition(complaint=complaint, action="acknowledge", actor=agent, via="desk")
    ours = Notification.objects.get(complaint=complaint, method=Method.EMAIL)
    assert complaint.number in ours.subject
    assert ours.headers == {
        "Reply-To": "客诉中心 <complaints@factory.example.com>",
        "In-Reply-To": first_id,
        "References": first_id,
    }
    django_mail.outbox.clear()
    outbox_deliver()
    sent = django_mail.outbox[0].message()
    assert sent["Message-ID"] == ours.message_id and sent["In-Reply-To"] == first_id
    assert sent["Reply-To"] and "complaints@factory.example.com" in sent["Reply-To"]

    complaint_dispatch(complaint=complaint, assignments=[(department, handler)], actor=agent, via="desk")
    reply = mail(
        subject=f"Re: {ours.subject}",
        body="好的，明天上午在家。\n\n在 2026年12月6日 10:00，客诉中心 写道：\n> 您的投诉已受理\n> 旧内容",
        headers={"In-Reply-To": ours.message_id, "References": f"{first_id} {ours.message_id}"},
        attachments=[("补充照片.png", "image/png", PNG)],
    )
    result = mail_ingest(raw=reply, mailbox=QUALITY)
    assert result.outcome == Outcome.REPLY and result.complaint.pk == complaint.pk
    event = complaint.events.get(action="customer_replied")
    assert event.note == "好的，明天上午在家。" and event.via == "email" and event.after["sender_is_customer"]
    assert complaint.attachments.filter(original_name="补充照片.png").exists()
    told = set(
        Notification.objects.filter(kind="customer_replied", method=Method.IN_APP).values_list("recipient", flat=True)
    )
    assert told == {handler.pk, agent.pk}
    assert Complaint.objects.count() == 1

    # Our next mail answers the customer's reply and names the whole thread.
    (latest,) = customer_notify(complaint=complaint, code="resolved", now=timezone.now())
    assert latest.headers["In-Reply-To"] == parse_id(reply)
    assert latest.headers["References"].split() == [first_id, ours.message_id, parse_id(reply)]


def parse_id(raw: bytes) -> str:
    from closeloop.mailin.parse import parse_mail

    return parse_mail(raw).message_id


def test_a_reply_found_by_the_number_in_its_subject(make_complaint: Callable[..., Complaint]) -> None:
    complaint = make_complaint(email="zhao.lei@customer.example.cn", phone="")
    raw = mail(
        subject=f"回复：[{complaint.number}] 投诉受理通知",
        body="请问什么时候处理？\n\n-----原始邮件-----\n发件人：客诉中心\n主题：受理",
        sender="zhao.lei@customer.example.cn",
    )
    result = mail_ingest(raw=raw, mailbox=QUALITY)
    assert result.outcome == Outcome.REPLY and result.complaint.pk == complaint.pk
    assert complaint.events.get(action="customer_replied").note == "请问什么时候处理？"
    assert MailThreadMessage.objects.filter(complaint=complaint, inbound=True).count() == 1


def test_an_unknown_number_in_the_subject_makes_a_new_complaint() -> None:
    result = mail_ingest(raw=mail(subject="Re: [TS20200101-0001] 灯不亮"), mailbox=QUALITY)
    assert result.outcome == Outcome.REGISTERED


# --- the MTA entry --------------------------------------------------------------------------------


def test_the_command_takes_files_and_standard_input(tmp_path: Path, monkeypatch: Any, capsys: Any) -> None:
    one, two = tmp_path / "1.eml", tmp_path / "2.eml"
    one.write_bytes(mail(subject="第一封"))
    two.write_bytes(mail(subject="第二封", headers={"Auto-Submitted": "auto-replied"}))
    call_command("mail", "ingest", str(one), str(two), "--type", "service", "--priority", "urgent")
    complaint = Complaint.objects.get()
    assert (complaint.type.code, complaint.priority) == ("service", Priority.URGENT)

    class Stdin:
        buffer = io.BytesIO(mail(subject="第三封"))

    monkeypatch.setattr("sys.stdin", Stdin)
    call_command("mail", "ingest")
    assert Complaint.objects.count() == 2
    assert "auto_reply" in capsys.readouterr().out


def test_the_command_asks_the_mta_to_retry_when_the_mail_cannot_be_taken(tmp_path: Path) -> None:
    path = tmp_path / "1.eml"
    path.write_bytes(mail())
    with pytest.raises(SystemExit) as exit_:
        call_command("mail", "ingest", str(path), "--type", "no-such-type")
    assert exit_.value.code == 75
    assert not Complaint.objects.exists() and not InboundMail.objects.exists()
    call_command("mail", "ingest", str(path))  # once the administrator fixed it, the retry is taken
    assert Complaint.objects.count() == 1


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=2000) | st.builds(lambda b: mail(body=b.decode("latin-1")), st.binary(max_size=200)))
def test_any_bytes_are_taken_at_worst_as_a_complaint_to_triage(raw: bytes) -> None:
    result = mail_ingest(raw=raw, mailbox=QUALITY)
    assert (
        result.outcome in {Outcome.REGISTERED, Outcome.TRIAGE, Outcome.AUTO_REPLY, Outcome.BOUNCE} or result.duplicate
    )
    if result.outcome in {Outcome.REGISTERED, Outcome.TRIAGE} and not result.duplicate:
        assert Attachment.objects.filter(complaint=result.complaint, content_type="message/rfc822").exists()
    assert Event.objects.count() >= 0
