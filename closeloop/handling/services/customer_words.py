"""What the customer adds to their complaint from outside the desk (a reply by e-mail, information and
photos from the portal's status page) reaches the people working on it: the handlers of its open tasks and
its agent, with a notice linking to the complaint, in each reader's language.

In handling because "who works on it now" is the open tasks' handlers, which complaints cannot see."""

from __future__ import annotations

import datetime

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy

from closeloop.authz.recipients import members_of_role
from closeloop.complaints.models import Complaint, Event
from closeloop.complaints.services import AttachmentUpload, complaint_customer_add
from closeloop.core.masking import mask_log_text
from closeloop.core.roles import Role
from closeloop.core.types import User
from closeloop.handling.models import ACTIVE_TASK_STATUSES
from closeloop.notifications.services import Message, notifications_build, notifications_queue


def told_of_customer_words(complaint: Complaint) -> list[User]:
    """The handlers of the complaint's open tasks and its agent (who registered or acknowledged it); when
    the complaint has neither yet (it came in by e-mail or from the portal), the agents."""
    user_model = get_user_model()
    ids = set(
        complaint.tasks.filter(status__in=ACTIVE_TASK_STATUSES, handler__isnull=False).values_list(
            "handler_id", flat=True
        )
    )
    agent_ids = set(
        complaint.events.filter(action__in=["registered", "acknowledge"], actor__isnull=False).values_list(
            "actor_id", flat=True
        )
    )
    ids |= agent_ids
    people = list(user_model.objects.filter(pk__in=ids, is_active=True).order_by("username"))
    if not agent_ids:
        people += [user for user in members_of_role(Role.AGENT) if user.pk not in ids]
    return people


def customer_words_notify(
    *, complaint: Complaint, kind: str, subject: Promise, text: str, people: list[User], now: datetime.datetime
) -> None:
    """A notice to each of `people` about what the customer wrote: the subject (a lazy translation with
    `%(number)s`) in each reader's language, the customer's words masked and kept as written; it leads to
    the complaint's page."""
    notifications_queue(
        notifications_build(
            message=Message.words(
                kind=kind,
                subject=subject,
                body=mask_log_text(text[:300]),
                params={"number": complaint.number},
                complaint_id=complaint.pk,
            ),
            recipients=people,
            now=now,
        )
    )


def customer_addition_record(
    *,
    complaint: Complaint,
    text: str,
    uploads: list[AttachmentUpload],
    via: str,
    now: datetime.datetime | None = None,
) -> Event:
    """The customer adds information and files to their open complaint (the portal's status page): the
    timeline's event (complaints' `complaint_customer_add`, which names who was told) and a notice to the
    people working on it, in one transaction."""
    now = now or timezone.now()
    with transaction.atomic():
        people = told_of_customer_words(complaint)
        event = complaint_customer_add(
            complaint=complaint, text=text, uploads=uploads, via=via, now=now, told=[p.get_username() for p in people]
        )
        files = len(event.after.get("attachments") or [])
        customer_words_notify(
            complaint=complaint,
            kind="customer_added",
            subject=gettext_lazy("%(number)s: the customer added information on the status page")
            if not files
            else gettext_lazy("%(number)s: the customer added information and photos on the status page"),
            text=text.strip(),
            people=people,
            now=now,
        )
    return event
