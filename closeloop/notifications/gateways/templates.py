"""Our SMS are free text; 阿里云 and 腾讯云 send only templates approved in their console, with variables.

SMS_TEMPLATES maps a message kind (`customer_acknowledged`, `customer_solution`, `customer_resolved`,
`survey`, `customer_message`) to the vendor's template and says which of our fields fill its variables. The
fields are what the customer already knows — the complaint's number, the product, the date received, the
link in our text (the survey link), our subject or whole text — never a contact detail. `customer_message`
is what an agent wrote from the complaint (complaints.services.customer_message_send), read by them before
it left: its `text` may greet the customer by name.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from closeloop.notifications.gateways.conf import SmsTemplate
from closeloop.notifications.gateways.errors import PermanentDeliveryError
from closeloop.notifications.models import Notification

# The kinds of SMS CloseLoop sends today, for `closeloop check` (a kind without a template cannot be sent).
SMS_KINDS = ("customer_acknowledged", "customer_solution", "customer_resolved", "survey", "customer_message")
_LINK = re.compile(r"https?://[^\s，。；）)]+")
MAINLAND_MOBILE = re.compile(r"1\d{10}")


@dataclass(frozen=True)
class SmsMessage:
    """What an SMS backend is given. `key` is the same for every attempt at the outbox row; `attempt` counts
    from 1 (after 1, an earlier attempt may have reached the gateway before dying)."""

    phone: str
    text: str
    kind: str
    key: str
    fields: Mapping[str, str]
    attempt: int = 1
    queued_at: datetime.datetime | None = None


def sms_message(notification: Notification) -> SmsMessage:
    complaint = notification.complaint
    link = _LINK.search(notification.body)
    fields = {
        "number": complaint.number if complaint else "",
        "product": complaint.product_label if complaint else "",
        "received_date": timezone.localtime(complaint.received_at).date().isoformat() if complaint else "",
        "url": link.group(0) if link else "",
        "subject": notification.subject,
        "text": f"{notification.subject} {notification.body}".strip(),
    }
    return SmsMessage(
        phone=notification.address,
        text=fields["text"],
        kind=notification.kind,
        key=notification.delivery_key,
        fields=fields,
        attempt=notification.attempts,
        queued_at=notification.created_at,
    )


def sms_template(message: SmsMessage) -> tuple[SmsTemplate, list[tuple[str, str]]]:
    """The vendor template of the message's kind and its variables as (vendor name, value), in order."""
    template = settings.SMS_TEMPLATES.get(message.kind)
    if template is None:
        raise PermanentDeliveryError(f"no SMS template for messages of kind {message.kind!r} (SMS_TEMPLATES)")
    values = []
    for name, field in template.params:
        value = message.fields.get(field, "")
        if not value:
            raise PermanentDeliveryError(f"SMS template {template.code}: no value for {name} ({field})")
        values.append((name, value))
    return template, values


def mainland_mobile(phone: str) -> str:
    """The 11-digit mainland mobile number, or PermanentDeliveryError: a landline cannot receive an SMS."""
    if not MAINLAND_MOBILE.fullmatch(phone or ""):
        raise PermanentDeliveryError("not a mainland mobile number")
    return phone
