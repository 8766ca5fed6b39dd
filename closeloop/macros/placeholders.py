"""The placeholders of a canned reply, and rendering them safely.

A placeholder is `{name}` with a name from PLACEHOLDERS; nothing else in braces is touched, and a value is
put in as plain text (no attribute or index access as str.format would allow, no template language), so
neither a reply's author nor a customer's name can make the text do anything. An unknown name is refused
when the reply is saved (`unknown_placeholders`).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from closeloop.complaints.models import Complaint
from closeloop.core.types import User

PATTERN = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def _due(complaint: Complaint, agent: User | None) -> str:
    due = complaint.next_due_at
    return timezone.localtime(due).date().isoformat() if due else ""


def _agent(complaint: Complaint, agent: User | None) -> str:
    if agent is None:
        return ""
    return agent.get_full_name() or agent.get_username()


PLACEHOLDERS: dict[str, tuple[object, Callable[[Complaint, User | None], str]]] = {
    "customer_name": (_("the customer's name"), lambda c, a: c.customer.name),
    "complaint_number": (_("the complaint's number"), lambda c, a: c.number),
    "product": (_("the product"), lambda c, a: c.product_label),
    "received_date": (
        _("the day we received the complaint"),
        lambda c, a: timezone.localtime(c.received_at).date().isoformat(),
    ),
    "due_date": (_("the day the next answer is due"), _due),
    "agent_name": (_("your name"), _agent),
}


def unknown_placeholders(text: str) -> list[str]:
    return sorted({name for name in PATTERN.findall(text) if name not in PLACEHOLDERS})


def render(text: str, *, complaint: Complaint, agent: User | None) -> str:
    values: dict[str, str] = {}

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in PLACEHOLDERS:
            return match.group(0)
        if name not in values:
            values[name] = PLACEHOLDERS[name][1](complaint, agent)
        return values[name]

    return PATTERN.sub(value, text)
