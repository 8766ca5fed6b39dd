"""Messages to the complainant at acknowledgement, solution and resolution (issue 4, domain rule 6).

The text comes from the admin-edited MessageTemplate of the code and method, in the customer's
language (rendered by notifications.message_templates). The method follows the priority: 一般 (normal)
by SMS, or e-mail when there is no phone; 重要 and 紧急 by SMS *and* in writing (e-mail with the
complaint's evidence attached).

The rendering context holds only what the customer already knows — the complaint's number, the
product, the date we received it and the solution as proposed to them (given by the caller,
handling.services.solutions) — never a contact detail, a name, an internal note, a handler or a
department.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from django.conf import settings
from django.db import transaction
from django.template import TemplateSyntaxError
from django.utils import timezone, translation

from closeloop.complaints.models import Attachment, Complaint, MailThreadMessage, Priority
from closeloop.notifications.message_templates import render_template
from closeloop.notifications.models import MessageTemplate, Method, Notification, NotificationAttachment, State
from closeloop.notifications.services import outbox_wake

CODES = ("acknowledged", "solution", "resolved")
LANGUAGES = ("zh-hans", "en")


def customer_language(complaint: Complaint) -> str:
    """The customer's language; customers have no language of their own yet, so Chinese by default."""
    language = getattr(complaint.customer, "language", "") or settings.LANGUAGE_CODE
    return "en" if str(language).lower().startswith("en") else "zh-hans"


def customer_methods(*, priority: int, phone: str, email: str) -> list[str]:
    """Domain rule 6: 一般 by phone/SMS (e-mail if we only have that); 重要/紧急 also in writing."""
    if priority == Priority.NORMAL:
        if phone:
            return [Method.SMS]
        return [Method.EMAIL] if email else []
    return [m for m, address in ((Method.SMS, phone), (Method.EMAIL, email)) if address]


def message_context(*, complaint: Complaint) -> dict[str, Any]:
    """What a template may use; the solution's fields stay empty unless the caller gives them."""
    return {
        "number": complaint.number,
        "product": complaint.product_label,
        "received_date": timezone.localtime(complaint.received_at).date().isoformat(),
        "solution": "",
        "measures": "",
        "compensation": "",
    }


def customer_notify(
    *,
    complaint: Complaint,
    code: str,
    now: datetime.datetime,
    attachments: Iterable[Attachment] = (),
    context: Callable[[], Mapping[str, str]] | None = None,
    dedup: str = "",
) -> list[Notification]:
    """Queue the customer's messages for `code` inside the caller's transaction. `context` gives what
    the message says beyond the complaint (the solution's description, measures and compensation),
    computed in the customer's language. The written e-mail of important and urgent complaints
    carries `attachments`, by default all of the complaint's evidence. Returns the rows: the caller's
    event names the methods used (never the addresses)."""
    if code not in CODES:
        raise ValueError(f"unknown customer message {code!r}")
    customer = complaint.customer
    if customer.anonymised_at is not None:
        return []
    methods = customer_methods(priority=complaint.priority, phone=customer.phone, email=customer.email)
    templates = {t.method: t for t in MessageTemplate.objects.filter(code=code, method__in=methods, is_active=True)}
    language = customer_language(complaint)
    with translation.override(language):
        values = {**message_context(complaint=complaint), **(context() if context is not None else {})}
    evidence: Sequence[Attachment] = list(attachments) or list(complaint.attachments.order_by("uploaded_at", "pk"))
    rows: list[Notification] = []
    for method in methods:
        template = templates.get(method)
        if template is None:
            continue
        dedup_key = f"customer:{complaint.pk}:{code}:{dedup}:{method}"[:120] if dedup else None
        if dedup_key and Notification.objects.filter(dedup_key=dedup_key).exists():
            continue
        try:
            subject, body = render_template(template, language=language, context=values)
        except TemplateSyntaxError:
            continue  # a broken template must not stop the complaint; the event says nothing was sent
        headers = {}
        if method == Method.EMAIL:
            subject, headers = thread_subject(subject, complaint.number), thread_headers(complaint)
        row = Notification.objects.create(
            created_at=now,
            method=method,
            recipient=None,
            address=customer.phone if method == Method.SMS else customer.email,
            complaint=complaint,
            kind=f"customer_{code}",
            subject=subject[:200],
            body=body,
            dedup_key=dedup_key,
            state=State.PENDING,
            next_attempt_at=now,
            headers=headers,
        )
        if method == Method.EMAIL:
            thread_message_record(complaint=complaint, message_id=row.message_id, inbound=False, at=now)
        if method == Method.EMAIL and complaint.priority != Priority.NORMAL and evidence:
            NotificationAttachment.objects.bulk_create(
                [NotificationAttachment(notification=row, attachment=a) for a in evidence]
            )
        rows.append(row)
    if rows:
        transaction.on_commit(outbox_wake)
    return rows


# --- the e-mail thread ----------------------------------------------------------------------------
# A long thread names its first mail and the latest ones (RFC 5322 allows trimming the middle).
REFERENCES_KEPT = 20


def thread_subject(subject: str, number: str) -> str:
    """A mail to the customer names the complaint in its subject, so a reply finds it even when the
    customer's client drops In-Reply-To and References."""
    return subject if number in subject else f"[{number}] {subject}"[:200]


def thread_headers(complaint: Complaint) -> dict[str, str]:
    """What makes our next mail to the customer part of the complaint's thread: In-Reply-To the customer's
    latest mail (else our latest), References to the thread, Reply-To the complaints mailbox."""
    headers: dict[str, str] = {}
    if settings.MAIL_REPLY_TO:
        headers["Reply-To"] = settings.MAIL_REPLY_TO
    thread = list(MailThreadMessage.objects.filter(complaint=complaint).values_list("message_id", "inbound"))
    if thread:
        theirs = [message_id for message_id, inbound in thread if inbound]
        headers["In-Reply-To"] = (theirs or [thread[-1][0]])[-1]
        ids = [message_id for message_id, _inbound in thread]
        if len(ids) > REFERENCES_KEPT:
            ids = ids[:1] + ids[-(REFERENCES_KEPT - 1) :]
        headers["References"] = " ".join(ids)
    return headers


def thread_message_record(*, complaint: Complaint, message_id: str, inbound: bool, at: datetime.datetime) -> None:
    """Add a Message-ID to the complaint's thread (once; a Message-ID belongs to one complaint)."""
    MailThreadMessage.objects.bulk_create(
        [MailThreadMessage(complaint=complaint, message_id=message_id[:255], inbound=inbound, at=at)],
        ignore_conflicts=True,
    )


def complaint_by_message_ids(message_ids: Sequence[str]) -> Complaint | None:
    """The complaint whose thread holds one of `message_ids` (the nearest first), or None."""
    if not message_ids:
        return None
    found = dict(
        MailThreadMessage.objects.filter(message_id__in=list(message_ids)).values_list("message_id", "complaint_id")
    )
    for message_id in message_ids:
        if message_id in found:
            return Complaint.objects.select_related("customer").get(pk=found[message_id])
    return None


# --- Written by an agent from the complaint (issue 15) ------------------------------------------------
# The admin-edited MessageTemplate rows whose code starts with WRITE_PREFIX are the agent's starting
# points; the agent edits the text and sends it. Their context adds the customer's name and the nearest
# due date to `message_context`: the agent reads every word before it leaves.
WRITE_PREFIX = "write_"
WRITE_METHODS = (Method.EMAIL, Method.SMS)
WRITE_KIND = "customer_message"
SMS_MAX_CHARS = 500  # 阿里云 and 腾讯云 split long texts into parts of 67 characters, up to about 500
EMAIL_MAX_CHARS = 10_000
SUBJECT_MAX_CHARS = 200
# Written as it stands and replaced when the message is sent (a link is made only for a message that
# leaves): filled by the package that owns it, registered from its AppConfig.ready().
LATE_PLACEHOLDERS: dict[str, Callable[..., str]] = {}


def late_placeholder_register(name: str, provider: Callable[..., str]) -> None:
    """`provider(complaint=, method=, actor=, now=)` returns the text of `{name}` in a message being sent,
    or raises DomainError when it cannot (e.g. no follow-up is waiting for a survey)."""
    LATE_PLACEHOLDERS[name] = provider


def write_templates(*, method: str) -> list[MessageTemplate]:
    return list(
        MessageTemplate.objects.filter(code__startswith=WRITE_PREFIX, method=method, is_active=True).order_by("code")
    )


def write_context(*, complaint: Complaint) -> dict[str, Any]:
    due = complaint.next_due_at
    return {
        **message_context(complaint=complaint),
        "customer_name": complaint.customer.name,
        "due_date": timezone.localtime(due).date().isoformat() if due else "",
        # Left as written, for customer_message_send to replace: see LATE_PLACEHOLDERS.
        **{name: "{" + name + "}" for name in LATE_PLACEHOLDERS},
    }


def write_draft(*, complaint: Complaint, method: str, code: str) -> tuple[str, str]:
    """(subject, text) of a template for this complaint, in the customer's language, for the agent to
    edit; ("", "") when there is no such active template or it does not render."""
    template = MessageTemplate.objects.filter(
        code=code, method=method, code__startswith=WRITE_PREFIX, is_active=True
    ).first()
    if template is None:
        return "", ""
    language = customer_language(complaint)
    with translation.override(language):
        context = write_context(complaint=complaint)
    try:
        return render_template(template, language=language, context=context)
    except TemplateSyntaxError:
        return "", ""
