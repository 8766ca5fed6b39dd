"""The text of a staff notification in a chat (WeCom, DingTalk): subject, body and links.

Staff notifications carry no contact details by construction (the services write numbers and links, not
phones or addresses); a chat is a third party's cloud, so whatever looks like a mobile number, a
landline or an e-mail address is masked here once more before it leaves.
"""

from __future__ import annotations

import re

from django.urls import reverse

from closeloop.core.links import absolute_url
from closeloop.core.masking import mask_email, mask_phone
from closeloop.notifications.models import Notification

# Chats cut text at 2,048 bytes (WeCom text messages and group robots); the links must survive.
MAX_BYTES = 2048
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# A mainland mobile (1[3-9] and nine digits) or a landline with its area code (0xx(x)-xxxxxxx(x)),
# not inside a longer run of digits (a complaint number's date, an id).
_PHONE = re.compile(r"(?<![\d])(?:\+?86[\s-]?)?(?:1[3-9]\d(?:[\s-]?\d{4}){2}|0\d{2,3}[\s-]?\d{7,8})(?![\d])")


def mask_contact_details(text: str) -> str:
    text = _EMAIL.sub(lambda m: mask_email(m.group(0)), text)
    return _PHONE.sub(lambda m: mask_phone(re.sub(r"\D", "", m.group(0))), text)


def _cut(text: str, limit: int) -> str:
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    return data[: max(0, limit - 3)].decode("utf-8", errors="ignore") + "…"


def chat_text(notification: Notification, *, personal: bool) -> str:
    """`personal`: a message to one person (WeCom application message), which also links to their inbox
    entry — that link makes every row's text different, which WeCom's duplicate check relies on."""
    links = []
    if notification.complaint_id is not None and notification.complaint is not None:
        links.append(absolute_url(reverse("desk:detail", args=[notification.complaint.number])))
    if personal:
        links.append(absolute_url(reverse("notifications:inbox")) + f"#n{notification.pk}")
    tail = "\n".join(links)
    # Many staff messages repeat the subject as their body: said once in a chat.
    body = notification.body if notification.body.strip() != notification.subject.strip() else ""
    head = mask_contact_details("\n".join(part for part in (notification.subject, body) if part))
    room = MAX_BYTES - len(tail.encode("utf-8")) - 1
    return f"{_cut(head, room)}\n{tail}" if tail else _cut(head, MAX_BYTES)
