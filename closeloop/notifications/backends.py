"""Delivery backends: `deliver` sends one outbox row by its method.

SMS is pluggable: settings.SMS_BACKEND names a class whose `send(SmsMessage)` returns the provider's
message id (closeloop/notifications/gateways/: 阿里云, 腾讯云, a generic HTTP gateway). Staff chat rows go
to WeCom or DingTalk. The console backends (the defaults, for installations without a gateway yet and for
development) log instead of sending: at INFO the masked recipient and the size, at DEBUG the text; never
an address.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Sequence
from typing import Protocol

from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.smtp import EmailBackend as DjangoSmtpBackend
from django.utils.functional import cached_property
from django.utils.module_loading import import_string

from closeloop.core.masking import mask_email, mask_phone
from closeloop.notifications.gateways import dingtalk, wecom
from closeloop.notifications.gateways.chat import chat_text
from closeloop.notifications.gateways.errors import DeliveryError, PermanentDeliveryError
from closeloop.notifications.gateways.templates import SmsMessage, sms_message
from closeloop.notifications.models import Method, Notification

log = logging.getLogger(__name__)

__all__ = ["ConsoleEmailBackend", "ConsoleSmsBackend", "DeliveryError", "SmtpEmailBackend", "deliver"]


class SmsBackend(Protocol):
    def send(self, message: SmsMessage) -> str: ...


class ConsoleSmsBackend:
    """Logs the message with the number masked; for installations without an SMS gateway yet."""

    def send(self, message: SmsMessage) -> str:
        log.info("SMS to %s (%s characters)", mask_phone(message.phone), len(message.text))
        log.debug("SMS text: %s", message.text)
        return ""


class SmtpEmailBackend(DjangoSmtpBackend):
    """Django's SMTP backend (what EMAIL_URL's smtp+tls:// and smtps:// use), verifying the server's
    certificate against the system's CAs plus EXTRA_CA_CERTS — a mail relay with a certificate from the
    company's own CA is trusted without replacing the system's list (SSL_CERT_FILE would)."""

    @cached_property
    def ssl_context(self) -> ssl.SSLContext:
        context = super().ssl_context  # type: ignore[misc]  # Django has it; django-stubs 5.2 does not
        if settings.EXTRA_CA_CERTS:
            context.load_verify_locations(cafile=settings.EXTRA_CA_CERTS)
        return context


class ConsoleEmailBackend(BaseEmailBackend):
    """Django's console backend prints whole messages, the customers' addresses with them, into the
    worker's log; this one logs who (masked) and what (subject, size) and the body at DEBUG only."""

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        for message in email_messages:
            recipients = ", ".join(mask_email(address) for address in message.recipients())
            log.info(
                "e-mail to %s: %s (%s characters, %s attachments)",
                recipients,
                message.subject,
                len(message.body),
                len(message.attachments),
            )
            log.debug("e-mail body: %s", message.body)
        return len(email_messages)


def deliver(notification: Notification) -> str:
    """Send one message; returns the provider's message id ("" when it gives none). Raises on failure so
    that the outbox retries it (PermanentDeliveryError: fails it at once)."""
    if notification.method == Method.IN_APP:
        return ""
    if notification.method == Method.EMAIL:
        _send_email(notification)
        return ""
    if notification.method == Method.SMS:
        if not notification.address:
            raise PermanentDeliveryError("no phone number")
        backend: SmsBackend = import_string(settings.SMS_BACKEND)()
        return backend.send(sms_message(notification))
    if notification.method == Method.WECOM:
        return wecom.send_app_message(userid=notification.address, text=chat_text(notification, personal=True))
    if notification.method == Method.WECOM_ROBOT:
        url = settings.WECOM_ROBOTS.get(notification.address)
        if url is None:
            raise PermanentDeliveryError(f"no WeCom robot for {notification.address!r} (WECOM_ROBOTS)")
        return wecom.send_robot_message(url=url, text=chat_text(notification, personal=False))
    if notification.method == Method.DINGTALK_ROBOT:
        robot = settings.DINGTALK_ROBOTS.get(notification.address)
        if robot is None:
            raise PermanentDeliveryError(f"no DingTalk robot for {notification.address!r} (DINGTALK_ROBOTS)")
        return dingtalk.send_robot_message(robot=robot, text=chat_text(notification, personal=False))
    raise PermanentDeliveryError(f"unknown method {notification.method}")


def _send_email(notification: Notification) -> None:
    to = notification.address or (notification.recipient.email if notification.recipient else "")
    if not to:
        raise PermanentDeliveryError("no e-mail address")
    # A stable Message-ID (Notification.message_id); the queuing side's headers thread a customer's mail.
    headers = {str(k): str(v) for k, v in (notification.headers or {}).items()}
    message = EmailMessage(
        notification.subject,
        notification.body,
        settings.DEFAULT_FROM_EMAIL,
        [to],
        headers={**headers, "Message-ID": notification.message_id},
    )
    # Written replies to customers carry the complaint's evidence (domain rule 6).
    for link in notification.attachments.select_related("attachment"):
        if link.attachment is not None:
            attachment = link.attachment
            with attachment.file.open("rb") as handle:
                message.attach(attachment.original_name, handle.read(), attachment.content_type or None)
        else:  # a stored document (e.g. the monthly report)
            with link.file.open("rb") as handle:
                name = link.name or link.file.name.rsplit("/", 1)[-1]
                message.attach(name, handle.read(), link.content_type or None)
    message.send()
