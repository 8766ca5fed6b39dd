"""Delivery backends. SMS is pluggable: settings.SMS_BACKEND names a class with `send(phone, text)`."""

from __future__ import annotations

import logging
from typing import Protocol

from django.conf import settings
from django.core.mail import EmailMessage
from django.utils.module_loading import import_string

from closeloop.core.masking import mask_phone
from closeloop.notifications.models import Method, Notification

log = logging.getLogger(__name__)


class SmsBackend(Protocol):
    def send(self, phone: str, text: str) -> None: ...


class ConsoleSmsBackend:
    """Logs the message with the number masked; for installations without an SMS gateway yet."""

    def send(self, phone: str, text: str) -> None:
        log.info("SMS to %s: %s", mask_phone(phone), text)


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
