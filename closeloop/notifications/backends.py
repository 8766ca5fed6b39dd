"""Delivery backends. SMS is pluggable: settings.SMS_BACKEND names a class with `send(phone, text)`.

The console backends (the defaults, for installations without a gateway yet and for development) log
instead of sending: at INFO the masked recipient and the size, at DEBUG the text; never an address.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Protocol

from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend
from django.utils.module_loading import import_string

from closeloop.core.masking import mask_email, mask_phone
from closeloop.notifications.models import Method, Notification

log = logging.getLogger(__name__)


class SmsBackend(Protocol):
    def send(self, phone: str, text: str) -> None: ...


class ConsoleSmsBackend:
    """Logs the message with the number masked; for installations without an SMS gateway yet."""

    def send(self, phone: str, text: str) -> None:
        log.info("SMS to %s (%s characters)", mask_phone(phone), len(text))
        log.debug("SMS text: %s", text)


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


class DeliveryError(RuntimeError):
    pass


def deliver(notification: Notification) -> None:
    """Send one message; raises on failure so that the outbox retries it."""
    if notification.method == Method.IN_APP:
        return
    if notification.method == Method.EMAIL:
        to = notification.address or (notification.recipient.email if notification.recipient else "")
        if not to:
            raise DeliveryError("no e-mail address")
        # A stable Message-ID: should a worker die between sending and marking the row sent, the retry
        # carries the same ID and the receiving side can drop the copy.
        message = EmailMessage(
            notification.subject,
            notification.body,
            settings.DEFAULT_FROM_EMAIL,
            [to],
            headers={"Message-ID": f"<notification-{notification.pk}@{settings.EMAIL_MESSAGE_ID_DOMAIN}>"},
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
        return
    if notification.method == Method.SMS:
        if not notification.address:
            raise DeliveryError("no phone number")
        backend: SmsBackend = import_string(settings.SMS_BACKEND)()
        backend.send(notification.address, f"{notification.subject} {notification.body}".strip())
        return
    raise DeliveryError(f"unknown method {notification.method}")
