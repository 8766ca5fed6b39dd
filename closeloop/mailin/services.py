"""E-mail intake: one service for both entries, the MTA pipe (`closeloop mail ingest`) and the worker's
IMAP polling. A raw message becomes a new complaint, a customer message on the complaint it answers, or
nothing (an automatic reply, a bounce, a duplicate), in one transaction.

Safe by construction: the InboundMail row with its unique Message-ID is inserted first in the transaction,
so a second delivery of the same mail takes no effect; automatic replies and bounces create nothing and
so can never be answered (no mail loops); a mail over MAIL_MAX_BYTES is refused and kept in the quarantine
folder; a mail that cannot be read becomes a complaint to triage with the original attached.
"""

from __future__ import annotations

import datetime
import email.parser
import email.policy
import hashlib
import io
import logging
import re
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from closeloop.complaints.customer_messages import complaint_by_message_ids, thread_message_record
from closeloop.complaints.events import event_record
from closeloop.complaints.lifecycle import Status
from closeloop.complaints.models import AttachmentKind, Channel, Complaint, Via
from closeloop.complaints.services import (
    AttachmentUpload,
    IntakeData,
    attachment_refusal,
    attachment_store,
    complaint_register,
)
from closeloop.core.errors import ValidationFailed
from closeloop.core.masking import mask_log_text
from closeloop.directory.selectors import EMAIL
from closeloop.handling.services.customer_words import customer_words_notify, told_of_customer_words
from closeloop.mailin.conf import Mailbox
from closeloop.mailin.models import InboundMail, Outcome
from closeloop.mailin.parse import ParsedMail, parse_mail, synthetic_message_id
from closeloop.mailin.text import reply_text
from closeloop.notifications.models import Notification, notification_id_in
from closeloop.notifications.services import outbox_bounced

log = logging.getLogger(__name__)

PIPE = "pipe"
# The complaint number as our subjects carry it (`[TS20261206-0007]`, or bare after a client's "Re:").
NUMBER_IN_SUBJECT = r"\bTS\d{8}-\d{4}\b"
# Complaints a reply can no longer be added to: it opens a new complaint instead.
CLOSED_TO_REPLIES = frozenset({Status.ARCHIVED})
# How much of the description a mail gives at most; the rest stays in the original.
DESCRIPTION_MAX_CHARS = 20_000


class TemporaryFailure(Exception):
    """The mail could not be taken now (the database, a setting) and must be delivered again later."""


@dataclass(frozen=True)
class IngestResult:
    outcome: str
    complaint: Complaint | None = None
    duplicate: bool = False


def mailbox_default(name: str = PIPE) -> Mailbox:
    return Mailbox(name=name, type_code=settings.MAIL_DEFAULT_TYPE)


def _quarantine(raw: bytes, now: datetime.datetime) -> str:
    folder = settings.MAIL_QUARANTINE_DIR
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{now:%Y%m%d-%H%M%S}-{hashlib.sha256(raw).hexdigest()[:16]}.eml"
    path.write_bytes(raw)
    return str(path)


def _refuse_oversize(raw: bytes, mailbox: Mailbox, now: datetime.datetime) -> IngestResult:
    """Only the headers are read: the Message-ID keeps a re-delivery from filling the quarantine twice."""
    head = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(raw[:65536])
    message_id = (str(head.get("Message-ID") or "").strip() or synthetic_message_id(raw))[:255]
    if InboundMail.objects.filter(message_id=message_id).exists():
        return IngestResult(outcome=Outcome.REFUSED, duplicate=True)
    reason = f"{len(raw)} bytes, over MAIL_MAX_BYTES ({settings.MAIL_MAX_BYTES})"
    path = _quarantine(raw, now)
    try:
        InboundMail.objects.create(
            message_id=message_id,
            received_at=now,
            mailbox=mailbox.name,
            outcome=Outcome.REFUSED,
            size=len(raw),
            reason=reason,
            quarantine_path=path[:255],
        )
    except IntegrityError:
        return IngestResult(outcome=Outcome.REFUSED, duplicate=True)
    log.warning("mail refused: %s; kept in %s", reason, path)
    return IngestResult(outcome=Outcome.REFUSED)


def mail_ingest(*, raw: bytes, mailbox: Mailbox | None = None, now: datetime.datetime | None = None) -> IngestResult:
    """Take one raw RFC 5322 message. Returns what became of it; raises TemporaryFailure when it must be
    delivered again (anything else the caller meets is a bug, and the mail is retried too)."""
    now = now or timezone.now()
    mailbox = mailbox or mailbox_default()
    if len(raw) > settings.MAIL_MAX_BYTES:
        return _refuse_oversize(raw, mailbox, now)
    mail = parse_mail(raw)
    mail.message_id = mail.message_id[:255]
    earlier = InboundMail.objects.filter(message_id=mail.message_id).only("outcome", "complaint").first()
    if earlier is not None:
        log.info("mail %s already taken (%s)", earlier.pk, earlier.outcome)
        return IngestResult(outcome=earlier.outcome, complaint=earlier.complaint, duplicate=True)
    try:
        with transaction.atomic():
            inbound = InboundMail.objects.create(
                message_id=mail.message_id, received_at=now, mailbox=mailbox.name, outcome=Outcome.TRIAGE, size=len(raw)
            )
            result = _take(mail=mail, raw=raw, mailbox=mailbox, inbound=inbound, now=now)
            inbound.outcome = result.outcome
            inbound.complaint = result.complaint
            inbound.save(update_fields=["outcome", "complaint", "reason"])
    except IntegrityError:
        # The same mail taken at this very moment by another delivery (its row committed first).
        if InboundMail.objects.filter(message_id=mail.message_id).exists():
            return IngestResult(outcome="", duplicate=True)
        raise
    log.info(
        "mail %s from mailbox %s: %s%s",
        inbound.pk,
        mailbox.name,
        result.outcome,
        f" ({result.complaint.number})" if result.complaint else "",
    )
    return result


def _take(
    *, mail: ParsedMail, raw: bytes, mailbox: Mailbox, inbound: InboundMail, now: datetime.datetime
) -> IngestResult:
    if mail.bounce:
        ids = [pk for pk in map(notification_id_in, mail.bounced_ids) if pk is not None]
        failed = outbox_bounced(ids=ids, reason=mask_log_text(mail.subject)[:200]) if ids else 0
        inbound.reason = f"bounce of {failed} of our messages" if failed else "bounce"
        return IngestResult(outcome=Outcome.BOUNCE)
    if mail.auto_reply:
        inbound.reason = mail.auto_reply[:300]
        return IngestResult(outcome=Outcome.AUTO_REPLY)
    complaint = _answered_complaint(mail)
    if complaint is not None and not mail.problems:
        return _reply(mail=mail, raw=raw, complaint=complaint, now=now)
    if not mail.problems:
        try:
            return _register(mail=mail, raw=raw, mailbox=mailbox, now=now)
        except ValidationFailed as exc:
            problems = "; ".join(f"{name}: {' '.join(map(str, errors))}" for name, errors in exc.errors.items())
            mail.problems.append(problems)
    inbound.reason = mask_log_text("; ".join(mail.problems))[:300]
    return _triage(mail=mail, raw=raw, mailbox=mailbox, now=now)


def _answered_complaint(mail: ParsedMail) -> Complaint | None:
    """The complaint a mail answers: by a Message-ID of its thread, else by our own outbox Message-ID
    (mails sent before the thread was recorded), else by the complaint number in the subject."""
    complaint = complaint_by_message_ids(mail.thread_ids)
    if complaint is None:
        ours = [pk for pk in map(notification_id_in, mail.thread_ids) if pk is not None]
        if ours:
            complaint_id = (
                Notification.objects.filter(pk__in=ours, complaint__isnull=False)
                .values_list("complaint_id", flat=True)
                .first()
            )
            complaint = (
                Complaint.objects.filter(pk=complaint_id).select_related("customer").first() if complaint_id else None
            )
    if complaint is None and (match := re.search(NUMBER_IN_SUBJECT, mail.subject)) is not None:
        complaint = Complaint.objects.filter(number=match.group(0)).select_related("customer").first()
    if complaint is not None and complaint.status in CLOSED_TO_REPLIES:
        return None
    return complaint


def _uploads(mail: ParsedMail) -> tuple[list[tuple[AttachmentUpload, str]], list[str]]:
    """The mail's files that pass the checks of every attachment, with their sniffed type; the reasons of
    the others, which stay in the original only."""
    accepted, refused = [], []
    for part in mail.attachments:
        upload = AttachmentUpload(
            name=part.name, file=io.BytesIO(part.content), size=len(part.content), kind=AttachmentKind.PHOTO
        )
        content_type, refusal = attachment_refusal(upload)
        if refusal:
            refused.append(refusal)
            continue
        if not content_type.startswith("image/"):
            upload.kind = AttachmentKind.OTHER
        upload.file.seek(0)
        accepted.append((upload, content_type))
    return accepted, refused


def _original(raw: bytes, number: str, seq: int) -> AttachmentUpload:
    return AttachmentUpload(
        name=f"{number}-mail-{seq}.eml", file=io.BytesIO(raw), size=len(raw), kind=AttachmentKind.OTHER
    )


def _keep_original(complaint: Complaint, raw: bytes, now: datetime.datetime) -> None:
    """The mail as received, on the complaint: the record, not evidence, so not sniffed (it is served as a
    download like every file that is not a picture)."""
    seq = complaint.attachments.filter(content_type="message/rfc822").count() + 1
    attachment_store(
        complaint=complaint,
        upload=_original(raw, complaint.number, seq),
        content_type="message/rfc822",
        by=None,
        now=now,
    )


def _received_at(mail: ParsedMail, now: datetime.datetime) -> datetime.datetime:
    """The Date header when it is believable (not in the future, not older than a month), else now."""
    date = mail.date
    if date is None or date > now or date < now - datetime.timedelta(days=31):
        return now
    return date


def _description(mail: ParsedMail) -> str:
    return "\n\n".join(part for part in (mail.subject, mail.text) if part.strip())[:DESCRIPTION_MAX_CHARS]


def _register(*, mail: ParsedMail, raw: bytes, mailbox: Mailbox, now: datetime.datetime) -> IngestResult:
    uploads, refused = _uploads(mail)
    data = IntakeData(
        channel=Channel.EMAIL,
        customer_name=(mail.sender_name or mail.sender_address.split("@")[0])[:100],
        email=mail.sender_address,
        description=_description(mail),
        type_code=mailbox.type_code,
        priority=mailbox.priority,
        department_code=mailbox.department_code,
        received_at=_received_at(mail, now),
        attachments=[upload for upload, _type in uploads],
    )
    complaint = complaint_register(data=data, actor=None, via=Via.EMAIL, now=now)
    _record_received(complaint=complaint, mail=mail, raw=raw, refused=refused, action="email_received", now=now)
    return IngestResult(outcome=Outcome.REGISTERED, complaint=complaint)


def _record_received(
    *,
    complaint: Complaint,
    mail: ParsedMail,
    raw: bytes,
    refused: list[str],
    action: str,
    now: datetime.datetime,
    note: str = "",
    sender_is_customer: bool = True,
) -> None:
    _keep_original(complaint, raw, now)
    thread_message_record(complaint=complaint, message_id=mail.message_id, inbound=True, at=now)
    event_record(
        complaint=complaint,
        action=action,
        actor=None,
        via=Via.EMAIL,
        at=now,
        note=note or mail.subject,
        after={
            "subject": mail.subject,
            "message_id": mail.message_id,
            "attachments": len(mail.attachments),
            "refused": refused,
            "sender_is_customer": sender_is_customer,
        },
    )


def _triage(*, mail: ParsedMail, raw: bytes, mailbox: Mailbox, now: datetime.datetime) -> IngestResult:
    """A complaint a person sorts out: under the sender if one can be read, else MAIL_TRIAGE_ADDRESS, with
    what could be read and the original attached."""
    reason = "; ".join(mail.problems) or "unreadable"
    address = mail.sender_address if EMAIL.match(mail.sender_address or "") else settings.MAIL_TRIAGE_ADDRESS
    # Stored text, in the installation's language whoever's request is active.
    with translation.override(settings.LANGUAGE_CODE):
        heading = _(
            "To triage: this e-mail could not be read as a complaint (%(reason)s). The original is attached."
        ) % {"reason": reason}
        unknown = _("Unknown sender")
    data = IntakeData(
        channel=Channel.EMAIL,
        customer_name=(mail.sender_name or unknown)[:100],
        email=address,
        description="\n\n".join(part for part in (heading, _description(mail)) if part)[:DESCRIPTION_MAX_CHARS],
        type_code=mailbox.type_code,
        priority=mailbox.priority,
        received_at=now,
    )
    try:
        complaint = complaint_register(data=data, actor=None, via=Via.EMAIL, now=now)
    except ValidationFailed as exc:  # the mailbox's defaults are wrong: an administrator must fix them
        raise TemporaryFailure(
            f"the mailbox {mailbox.name!r} cannot register a complaint: {sorted(exc.errors)}"
        ) from exc
    _record_received(complaint=complaint, mail=mail, raw=raw, refused=[], action="email_triage", now=now, note=reason)
    return IngestResult(outcome=Outcome.TRIAGE, complaint=complaint)


def _reply(*, mail: ParsedMail, raw: bytes, complaint: Complaint, now: datetime.datetime) -> IngestResult:
    """The customer's answer on the complaint's timeline, without the quoted earlier mail; the handlers of
    its open tasks and its agent are told."""
    locked = Complaint.objects.select_for_update(no_key=True).select_related("customer").get(pk=complaint.pk)
    uploads, refused = _uploads(mail)
    text = reply_text(mail.text)
    for upload, content_type in uploads:
        attachment_store(complaint=locked, upload=upload, content_type=content_type, by=None, now=now)
    _record_received(
        complaint=locked,
        mail=mail,
        raw=raw,
        refused=refused,
        action="customer_replied",
        now=now,
        note=text,
        sender_is_customer=mail.sender_address == (locked.customer.email or "").lower(),
    )
    customer_words_notify(
        complaint=locked,
        kind="customer_replied",
        subject=gettext_lazy("%(number)s: the customer replied by e-mail"),
        text=text,
        people=told_of_customer_words(locked),
        now=now,
    )
    return IngestResult(outcome=Outcome.REPLY, complaint=locked)
