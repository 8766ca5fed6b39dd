"""What every write of the defects app shares: who may act, the per-model lock, the event rows on the
alert/incident and on the complaints' timelines."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from django.utils.translation import gettext as _

from closeloop.complaints.events import events_insert_many
from closeloop.complaints.lifecycle import Status
from closeloop.complaints.models import Complaint, Via
from closeloop.core.errors import DomainError, PermissionDeniedError
from closeloop.core.types import AnyUser, User
from closeloop.defects.models import DefectAlert, DefectIncident, IncidentEvent, IncidentStatus
from closeloop.directory.models import Product

MANAGE_PERMISSION = "defects.manage_incident"
VIEW_PERMISSION = "defects.view_defectincident"
# The admin's model permission also lets an administrator change the rules.
RULE_PERMISSIONS = (MANAGE_PERMISSION, "defects.change_spikerule")

# A remedied incident is still open: complaints about its model/batch keep joining it until it is closed.
LIVE_INCIDENT = (IncidentStatus.OPEN, IncidentStatus.REMEDIED)

TEXT_MAX = 2000
TITLE_MAX = 200  # DefectIncident.title


def may_view(user: AnyUser | None) -> bool:
    return bool(user is not None and user.is_authenticated and user.has_perm(VIEW_PERMISSION))


def may_manage(user: AnyUser | None) -> bool:
    """Quality: dismiss alerts, open and run incidents."""
    return bool(user is not None and user.is_authenticated and user.has_perm(MANAGE_PERMISSION))


def may_edit_rules(user: AnyUser | None) -> bool:
    return bool(user is not None and user.is_authenticated and any(user.has_perm(p) for p in RULE_PERMISSIONS))


def check_manage(user: AnyUser | None) -> None:
    if not may_manage(user):
        raise PermissionDeniedError(_("Only quality may act on defect alerts and incidents."))


def required_text(value: str, field: str, *, max_length: int = TEXT_MAX) -> str:
    text = (value or "").strip()
    if not text:
        raise DomainError(_("This field is required."), field=field, code="required")
    if len(text) > max_length:
        raise DomainError(
            _("At most %(count)s characters, please.") % {"count": max_length}, field=field, code="too_long"
        )
    return text


def batch_key(batch_no: str) -> str:
    """Batch numbers are typed by hand: the same batch in any case is one key."""
    return (batch_no or "").strip().upper()[:60]


def lock_product(product_id: int) -> None:
    """Every write of the app takes the row lock of the product model first: spike checks of concurrent
    intakes, quality's decisions and complaints joining then happen one after the other per model, so
    a spike raises one alert and a complaint lands in one place. (SQLite serialises writers anyway.)"""
    Product.objects.select_for_update(no_key=True).filter(pk=product_id).values_list("pk", flat=True).first()


def actor_or_none(actor: AnyUser | None) -> User | None:
    return actor if actor is not None and actor.is_authenticated else None


def defect_event(
    *,
    kind: str,
    at: datetime.datetime,
    actor: AnyUser | None = None,
    alert: DefectAlert | None = None,
    incident: DefectIncident | None = None,
    data: dict[str, Any] | None = None,
    note: str = "",
    via: str = Via.SYSTEM,
) -> IncidentEvent:
    return IncidentEvent.objects.create(
        kind=kind,
        at=at,
        actor=actor_or_none(actor),
        alert=alert,
        incident=incident,
        data={**(data or {}), "via": via},
        note=note,
    )


def complaint_events(
    *,
    complaints: Iterable[Complaint],
    action: str,
    at: datetime.datetime,
    actor: AnyUser | None,
    via: str,
    after: dict[str, Any],
    note: str = "",
) -> list[str]:
    """One timeline event per complaint in one round trip; archived complaints are read-only and get
    none. Returns the numbers of the archived ones left out. The caller holds the product lock, and
    the complaints were read in its transaction."""
    writer = actor_or_none(actor)
    rows, archived = [], []
    for complaint in complaints:
        if complaint.status == Status.ARCHIVED:
            archived.append(complaint.number)
            continue
        rows.append(
            {
                "complaint_id": complaint.pk,
                "at": at,
                "actor_id": writer.pk if writer is not None else None,
                "via": via,
                "action": action,
                "after": after,
                "note": note,
            }
        )
    events_insert_many(rows)
    return archived
