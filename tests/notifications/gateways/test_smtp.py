"""E-mail through EMAIL_URL to a real SMTP server (aiosmtpd on 127.0.0.1): STARTTLS and TLS from the start,
the server's certificate verified against the company CA named by EXTRA_CA_CERTS, and what arrives —
headers, the Chinese subject as RFC 2047 encoded words, the evidence attached."""

from __future__ import annotations

import email
import email.policy
import io
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone

from closeloop.complaints.models import Complaint, Priority
from closeloop.complaints.services import AttachmentUpload, complaint_transition
from closeloop.env import ImproperEnvironment, env_ca_file, env_email_url
from closeloop.notifications.models import Method, Notification, State
from closeloop.notifications.services import outbox_deliver
from tests.notifications.gateways.conftest import Pki, SmtpServer

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


def use_email_url(settings: Any, monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    """The settings closeloop/settings.py derives from EMAIL_URL."""
    monkeypatch.setenv("EMAIL_URL", url)
    conf = env_email_url("EMAIL_URL", file_path="/nonexistent")
    assert conf is not None
    settings.EMAIL_BACKEND = conf.backend
    settings.EMAIL_HOST, settings.EMAIL_PORT = conf.host, conf.port
    settings.EMAIL_HOST_USER, settings.EMAIL_HOST_PASSWORD = conf.user, conf.password
    settings.EMAIL_USE_TLS, settings.EMAIL_USE_SSL, settings.EMAIL_TIMEOUT = conf.use_tls, conf.use_ssl, 10
    settings.DEFAULT_FROM_EMAIL = "客诉中心 <complaints@example.com>"


@pytest.fixture
def urgent_complaint(make_complaint: Callable[..., Complaint], agent: Any) -> Complaint:
    complaint = make_complaint(
        priority=Priority.URGENT,
        email="wang.xiuying@example.com",
        attachments=[AttachmentUpload(name="灯罩裂纹.png", file=io.BytesIO(PNG), size=len(PNG))],
    )
    complaint_transition(complaint=complaint, action="acknowledge", actor=agent, via="desk")
    return complaint


def _the_email(complaint: Complaint) -> Notification:
    return Notification.objects.get(complaint=complaint, method=Method.EMAIL, kind="customer_acknowledged")


@pytest.mark.parametrize(("scheme", "implicit_tls"), [("smtp+tls", False), ("smtps", True)])
def test_a_customer_email_with_its_evidence_reaches_the_smtp_server_over_tls(
    scheme: str,
    implicit_tls: bool,
    urgent_complaint: Complaint,
    smtp_server: Callable[..., SmtpServer],
    pki: Pki,
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server = smtp_server(implicit_tls=implicit_tls)
    use_email_url(settings, monkeypatch, f"{scheme}://127.0.0.1:{server.port}")
    settings.EXTRA_CA_CERTS = str(pki.ca_file)
    row = _the_email(urgent_complaint)

    assert outbox_deliver(now=timezone.now())["sent"] == 2  # the e-mail and the SMS (console)

    row.refresh_from_db()
    assert row.state == State.SENT
    [received] = server.messages
    assert received.tls  # STARTTLS done, or TLS from the start
    assert received.rcpt_tos == ["wang.xiuying@example.com"]
    assert received.mail_from == "complaints@example.com"

    raw_headers = received.data.split(b"\r\n\r\n", 1)[0].decode("ascii")  # 7-bit on the wire
    subject_line = next(line for line in raw_headers.split("\r\n") if line.startswith("Subject:"))
    assert "=?utf-8?" in subject_line  # RFC 2047 encoded words, not raw UTF-8
    message = email.message_from_bytes(received.data, policy=email.policy.default)
    assert message["Subject"] == row.subject and row.subject.startswith("投诉受理通知")
    assert urgent_complaint.number in message["Subject"]
    assert message["Message-ID"] == f"<notification-{row.pk}@{settings.EMAIL_MESSAGE_ID_DOMAIN}>"
    assert message["To"] == "wang.xiuying@example.com"
    assert str(message["From"]) == "客诉中心 <complaints@example.com>"
    body = message.get_body(preferencelist=("plain",))
    assert body is not None and urgent_complaint.number in body.get_content()
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == "灯罩裂纹.png"
    assert attachment.get_content_type() == "image/png"
    assert attachment.get_content() == PNG


@pytest.mark.parametrize(("scheme", "implicit_tls"), [("smtp+tls", False), ("smtps", True)])
def test_the_servers_certificate_is_verified(
    scheme: str,
    implicit_tls: bool,
    urgent_complaint: Complaint,
    smtp_server: Callable[..., SmtpServer],
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without the company CA the certificate it signed is refused: nothing goes out in clear or to an
    impostor, and the message waits for its next attempt."""
    server = smtp_server(implicit_tls=implicit_tls)
    use_email_url(settings, monkeypatch, f"{scheme}://127.0.0.1:{server.port}")
    settings.EXTRA_CA_CERTS = None

    outbox_deliver(now=timezone.now())

    row = _the_email(urgent_complaint)
    assert row.state == State.PENDING
    assert "CERTIFICATE_VERIFY_FAILED" in row.last_error
    assert server.messages == []


def test_extra_ca_certs_must_name_a_pem_file(tmp_path: Any, monkeypatch: pytest.MonkeyPatch, pki: Pki) -> None:
    monkeypatch.setenv("EXTRA_CA_CERTS", str(pki.ca_file))
    assert env_ca_file("EXTRA_CA_CERTS") == str(pki.ca_file)
    monkeypatch.setenv("EXTRA_CA_CERTS", str(tmp_path / "missing.pem"))
    with pytest.raises(ImproperEnvironment, match=r"EXTRA_CA_CERTS=.*cannot be used"):
        env_ca_file("EXTRA_CA_CERTS")
    (tmp_path / "not.pem").write_text("not a certificate")
    monkeypatch.setenv("EXTRA_CA_CERTS", str(tmp_path / "not.pem"))
    with pytest.raises(ImproperEnvironment, match="no PEM certificate"):
        env_ca_file("EXTRA_CA_CERTS")
