"""Repeat complaints (domain rule 5) found at intake.

A repeat is a NEW complaint by the same complainant about the same product model within
settings.REPEAT_WINDOW_DAYS after an earlier one of theirs was resolved. complaints.services.
complaint_register asks `detect_repeat` before the insert and records `repeat_detected`; the desk links
and unlinks repeats by hand in followup.services.repeats.

Repeat detection also sees the records of other packages about the same customer and product (issue 16:
the service orders). Complaints do not name them: a package adds a finder with `related_finder_add` in
its AppConfig.ready(); intake records what they found (`related_found`), and the desk and the API show
it with the complaint.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db.models import QuerySet
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from closeloop.complaints.events import EventRow, event_row
from closeloop.complaints.lifecycle import NOT_COUNTED_STATUSES
from closeloop.complaints.models import Complaint
from closeloop.core.types import AnyUser, User

REASON_MAX = 300  # Complaint.repeat_reason


def _same_model(qs: QuerySet[Complaint], complaint: Complaint) -> QuerySet[Complaint] | None:
    """Restrict to the complaint's product model; None when it names none (then it cannot repeat)."""
    if complaint.product_id:
        return qs.filter(product_id=complaint.product_id)
    text = complaint.product_text.strip()
    if text:
        return qs.filter(product__isnull=True, product_text__iexact=text)
    return None


def detect_repeat(*, complaint: Complaint) -> Complaint | None:
    """The most recently resolved earlier complaint that makes `complaint` a repeat, or None.

    Works on an unsaved complaint too (intake calls it before the insert so that the row is written
    once). One query on the (customer, -received_at) index; none when no product is named."""
    if not complaint.customer_id:
        return None
    window = datetime.timedelta(days=settings.REPEAT_WINDOW_DAYS)
    received_at = complaint.received_at
    qs = (
        Complaint.objects.filter(
            customer_id=complaint.customer_id,
            received_at__lte=received_at,
            resolved_at__gte=received_at - window,
            resolved_at__lte=received_at,
        )
        .exclude(status__in=NOT_COUNTED_STATUSES)
        .only("id", "number", "received_at", "resolved_at", "status")
    )
    if complaint.pk is not None:
        qs = qs.exclude(pk=complaint.pk)
    same_model = _same_model(qs, complaint)
    if same_model is None:
        return None
    return same_model.order_by("-resolved_at", "-id").first()


def repeat_reason_text(*, complaint: Complaint, earlier: Complaint) -> str:
    """e.g. "same customer and model XD-100; TS20261101-0003 resolved 12 days earlier"."""
    model = complaint.product.model if complaint.product else complaint.product_text.strip()
    days = max((complaint.received_at - earlier.resolved_at).days, 0) if earlier.resolved_at else 0
    resolved = ngettext(
        "%(number)s resolved %(days)d day earlier", "%(number)s resolved %(days)d days earlier", days
    ) % {"number": earlier.number, "days": days}
    text = _("same customer and model %(model)s; %(resolved)s") % {"model": model, "resolved": resolved}
    return text[:REASON_MAX]


def repeat_detected_event(*, complaint: Complaint, actor: User | None, via: str, now: datetime.datetime) -> EventRow:
    """The timeline entry of a repeat found at intake (the complaint already carries repeat_of), as a row
    for `events_insert_many`: intake writes its events in one statement."""
    return event_row(
        complaint=complaint,
        action="repeat_detected",
        actor=actor,
        via=via,
        at=now,
        after={"repeat_of": complaint.repeat_of.number if complaint.repeat_of else None},
        note=complaint.repeat_reason,
    )


# --- records of other packages about the same customer and product -------------------------------


@dataclass(frozen=True)
class RelatedRecord:
    """A record of another package that a complaint's intake saw: e.g. a service order (售服单)."""

    record_type: str  # "service_order"
    number: str
    status: str  # its status, as a label
    url: str  # its desk page
    why: str  # e.g. "service order SF20261110-0002 (repair), received 2026-11-10, still open"


Finder = Callable[..., list[RelatedRecord]]
# Dotted paths of `finder(*, complaint, user) -> list[RelatedRecord]`, filled by AppConfig.ready();
# `user` None: every record (intake's own look); else only those the user may see.
RELATED_FINDERS: list[str] = []
_finders: list[Finder] | None = None


def related_finder_add(path: str) -> None:
    if path not in RELATED_FINDERS:
        RELATED_FINDERS.append(path)


def related_records(*, complaint: Complaint, user: AnyUser | None = None) -> list[RelatedRecord]:
    """The other packages' recent records of the complaint's customer about the same product (one
    query per finder; none when the complaint names no product)."""
    global _finders
    if _finders is None:
        _finders = [import_string(path) for path in RELATED_FINDERS]
    if not complaint.customer_id or (not complaint.product_id and not complaint.product_text.strip()):
        return []
    return [record for finder in _finders for record in finder(complaint=complaint, user=user)]


def related_found_event(
    *, complaint: Complaint, records: list[RelatedRecord], actor: User | None, via: str, now: datetime.datetime
) -> EventRow:
    """The timeline entry of the related records intake saw, as a row for `events_insert_many`."""
    return event_row(
        complaint=complaint,
        action="related_found",
        actor=actor,
        via=via,
        at=now,
        after={"records": [{"type": r.record_type, "number": r.number} for r in records]},
        note="; ".join(r.why for r in records)[:1000],
    )
