"""Retention (domain rule 7): complaints archived longer than RETENTION_YEARS ago lose their personal
data; every figure the reports use stays.

What goes:
- the customer's name, phone, e-mail, address and company — only once ALL of that customer's
  complaints are archived past retention (a customer with a recent complaint is still being served);
- contact-log summaries (they record what was said to a named person, often with phone numbers);
- attachment files (photos, scans, screenshots): the stored file is deleted; the row keeps its
  kind, size and content type, its name becomes "removed";
- the order/invoice number and the customer's delivery address on outgoing customer messages.
What stays: dates, type, product, batch, region (province/city), priority, channel, status,
satisfaction, deadlines, events, and the complaint's description and follow-up comments, which are
about the product and feed quality analysis (customers rarely write their own contact details there;
phone numbers and e-mail addresses in them are blanked out all the same).
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from closeloop.complaints.events import event_record
from closeloop.complaints.lifecycle import Status
from closeloop.complaints.models import Attachment, Complaint
from closeloop.core.types import User
from closeloop.directory.models import Customer
from closeloop.followup.models import Anonymisation, FollowUp
from closeloop.handling.models import ContactLog
from closeloop.notifications.models import Notification

ANONYMOUS_NAME = "已匿名"
REMOVED = "removed"
MASK = "***"

_PHONE = re.compile(r"(?<!\d)(?:\+?86[- ]?)?(?:1[3-9]\d[- ]?\d{4}[- ]?\d{4}|0\d{2,3}[- ]?\d{7,8})(?!\d)")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def scrub(text: str) -> str:
    """Blank out phone numbers and e-mail addresses in a free text."""
    return _EMAIL.sub(MASK, _PHONE.sub(MASK, text or ""))


@dataclass
class RetentionResult:
    cutoff: datetime.datetime
    dry_run: bool
    complaints: list[str] = field(default_factory=list)
    customers: int = 0
    contacts: int = 0
    attachments: int = 0
    run: Anonymisation | None = None


def retention_cutoff(now: datetime.datetime) -> datetime.datetime:
    """RETENTION_YEARS calendar years back (29 February falls back to the 28th)."""
    years = settings.RETENTION_YEARS
    try:
        return now.replace(year=now.year - years)
    except ValueError:
        return now.replace(year=now.year - years, day=28)


def _due(cutoff: datetime.datetime) -> list[Complaint]:
    return list(
        Complaint.objects.filter(status=Status.ARCHIVED, archived_at__lt=cutoff, anonymised_at__isnull=True).order_by(
            "archived_at", "pk"
        )
    )


def _customers_due(customer_ids: set[int], cutoff: datetime.datetime) -> list[int]:
    """Customers whose every complaint is archived past retention (and who are not anonymised yet)."""
    kept = Complaint.objects.filter(customer=OuterRef("pk")).filter(
        ~Q(status=Status.ARCHIVED) | Q(archived_at__isnull=True) | Q(archived_at__gte=cutoff)
    )
    return list(
        Customer.objects.filter(pk__in=customer_ids, anonymised_at__isnull=True)
        .exclude(Exists(kept))
        .values_list("pk", flat=True)
    )


def complaints_anonymise(
    *,
    dry_run: bool = False,
    actor: User | None = None,
    via: str = "system",
    now: datetime.datetime | None = None,
) -> RetentionResult:
    """Anonymise what is past retention (or, dry run, only count it). Either way an Anonymisation row
    records the run."""
    now = now or timezone.now()
    cutoff = retention_cutoff(now)
    complaints = _due(cutoff)
    ids = [c.pk for c in complaints]
    customer_ids = _customers_due({c.customer_id for c in complaints}, cutoff)
    result = RetentionResult(
        cutoff=cutoff,
        dry_run=dry_run,
        complaints=[c.number for c in complaints],
        customers=len(customer_ids),
        contacts=ContactLog.objects.filter(complaint_id__in=ids).exclude(summary="").count(),
        attachments=Attachment.objects.filter(complaint_id__in=ids).exclude(original_name=REMOVED).count(),
    )
    with transaction.atomic():
        if not dry_run:
            files = _anonymise(complaints, customer_ids, actor=actor, via=via, now=now)
            # Stored files go only once the database no longer points at them.
            transaction.on_commit(lambda: _delete_files(files))
        result.run = Anonymisation.objects.create(
            at=now,
            by=actor if actor is not None and actor.is_authenticated else None,
            dry_run=dry_run,
            cutoff=cutoff,
            complaints=len(result.complaints),
            customers=result.customers,
            details={
                "numbers": result.complaints,
                "contacts": result.contacts,
                "attachments": result.attachments,
            },
        )
    return result


def _anonymise(
    complaints: list[Complaint],
    customer_ids: list[int],
    *,
    actor: User | None,
    via: str,
    now: datetime.datetime,
) -> list[tuple[object, str]]:
    files: list[tuple[object, str]] = []
    for complaint in complaints:
        locked = Complaint.objects.select_for_update(no_key=True).get(pk=complaint.pk)
        if locked.anonymised_at is not None:  # another run got there first
            continue
        contacts = ContactLog.objects.filter(complaint=locked).exclude(summary="").update(summary="")
        attachments = list(Attachment.objects.filter(complaint=locked).exclude(original_name=REMOVED))
        for attachment in attachments:
            if attachment.file:
                files.append((attachment.file.storage, attachment.file.name))
        Attachment.objects.filter(pk__in=[a.pk for a in attachments]).update(file="", original_name=REMOVED)
        for followup in FollowUp.objects.filter(complaint=locked):
            comments, suggestions = scrub(followup.comments), scrub(followup.suggestions)
            if (comments, suggestions) != (followup.comments, followup.suggestions):
                FollowUp.objects.filter(pk=followup.pk).update(comments=comments, suggestions=suggestions)
        # Messages to the customer keep their kind and dates; the address and wording (which greets
        # the customer by name) go.
        Notification.objects.filter(complaint=locked, recipient__isnull=True).exclude(address="").update(
            address="", body=""
        )
        locked.description = scrub(locked.description)
        locked.onsite_situation = scrub(locked.onsite_situation)
        locked.demand = scrub(locked.demand)
        locked.order_no = ""
        locked.anonymised_at = now
        locked.save(update_fields=["description", "onsite_situation", "demand", "order_no", "anonymised_at"])
        event_record(
            complaint=locked,
            action="anonymised",
            actor=actor,
            via=via,
            at=now,
            after={
                "contacts": contacts,
                "attachments": len(attachments),
                "customer": locked.customer_id in customer_ids,
            },
        )
    Customer.objects.filter(pk__in=customer_ids).update(
        name=ANONYMOUS_NAME, phone="", email="", address="", organisation="", anonymised_at=now
    )
    return files


def _delete_files(files: list[tuple[object, str]]) -> None:
    for storage, name in files:
        storage.delete(name)  # type: ignore[attr-defined]  # a Storage, typed object in the list
