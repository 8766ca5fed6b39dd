"""Reads for the customer portal: the number + last-4-digits lookup and the customer-safe view."""

from __future__ import annotations

import datetime
import hmac
from dataclasses import dataclass

from django.utils.functional import Promise

from closeloop.complaints.models import Complaint
from closeloop.portal.customer_status import customer_status


def complaint_number_normalize(raw: str) -> str:
    return (raw or "").strip().upper()


def complaint_for_lookup(*, number: str, phone_last4: str) -> Complaint | None:
    """The complaint when `phone_last4` are the last 4 digits of its complainant's phone, else None.

    An unknown number, wrong digits and a complainant without a phone all take this same path and
    give the same answer, so a caller cannot tell which one it was.
    """
    complaint = (
        Complaint.objects.select_related("customer", "product", "type")
        .filter(number=complaint_number_normalize(number))
        .first()
    )
    phone = complaint.customer.phone if complaint is not None else ""
    expected = phone[-4:] if len(phone) >= 4 else "----"
    digits_match = hmac.compare_digest(expected.encode(), (phone_last4 or "").encode())
    if complaint is None or not phone or not digits_match:
        return None
    return complaint


def complaint_for_whole_phone(*, number: str, phone: str) -> Complaint | None:
    """The complaint when `phone` (digits, as `normalize_phone` gives them) is its complainant's whole
    phone number, else None — the same None for every reason, like `complaint_for_lookup`."""
    complaint = (
        Complaint.objects.select_related("customer", "product", "type")
        .filter(number=complaint_number_normalize(number))
        .first()
    )
    expected = complaint.customer.phone if complaint is not None else ""
    matches = hmac.compare_digest((expected or "-").encode(), (phone or "").encode())
    if complaint is None or not expected or not matches:
        return None
    return complaint


def complaint_for_customer(*, number: str) -> Complaint | None:
    """A complaint this browser was already allowed to see (after intake or a lookup)."""
    return (
        Complaint.objects.select_related("customer", "product", "type")
        .filter(number=complaint_number_normalize(number))
        .first()
    )


@dataclass(frozen=True)
class Milestone:
    at: datetime.datetime
    label: Promise


def customer_milestones(*, complaint: Complaint) -> list[Milestone]:
    """Dates on which the complaint reached a customer-visible state. Built from the status changes
    in the event log only: no notes, no actors, no internal steps."""
    milestones: list[Milestone] = []
    rows = complaint.events.order_by("at", "id").values_list("at", "before", "after")
    for at, before, after in rows:
        status = after.get("status") if isinstance(after, dict) else None
        previous = before.get("status") if isinstance(before, dict) else None
        if not status or status == previous:
            continue
        label = customer_status(status).milestone
        if label is None or (milestones and str(milestones[-1].label) == str(label)):
            continue
        milestones.append(Milestone(at=at, label=label))
    return milestones
