"""What the desk pages of early warning share: access, labels of events, refusals."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from closeloop.core.errors import DomainError, PermissionDeniedError
from closeloop.core.forms_ui import add_domain_errors, refusal_status
from closeloop.defects.models import IncidentEvent
from closeloop.defects.services.common import may_manage, may_view

PAGE_SIZE = 50

EVENT_LABELS: dict[str, Promise] = {
    "raised": _("Alert raised"),
    "complaint_joined": _("Complaint joined"),
    "dismissed": _("Dismissed"),
    "incident_opened": _("Defect incident opened"),
    "incident_linked": _("Linked to a defect incident"),
    "opened": _("Opened"),
    "alert_linked": _("Alert linked"),
    "complaint_added": _("Complaint added"),
    "complaint_removed": _("Complaint removed"),
    "remedy_applied": _("Remedy applied"),
    "closed": _("Closed"),
    "rule_changed": _("Rule changed"),
    "rule_removed": _("Rule removed"),
}


def check_view(request: HttpRequest) -> None:
    if not may_view(request.user):
        raise PermissionDenied


@dataclass(frozen=True)
class EventRow:
    at: Any
    label: str
    actor: str
    note: str
    numbers: list[str]


def event_rows(events: list[IncidentEvent], *, visible: set[str] | None = None) -> list[EventRow]:
    """`visible`: the complaint numbers the user may see (None: all); others are never named."""
    rows = []
    for event in events:
        numbers: list[str] = []
        for key in ("complaints", "applied"):
            if isinstance(event.data.get(key), list):
                numbers.extend(str(n) for n in event.data[key])
        if isinstance(event.data.get("complaint"), str):
            numbers.append(event.data["complaint"])
        if visible is not None:
            numbers = [n for n in numbers if n in visible]
        actor = (event.actor.get_full_name() or event.actor.get_username()) if event.actor else str(_("system"))
        rows.append(
            EventRow(
                at=timezone.localtime(event.at),
                label=str(EVENT_LABELS.get(event.kind, event.kind)),
                actor=actor,
                note=event.note,
                numbers=numbers,
            )
        )
    return rows


def permission_refusal(request: HttpRequest) -> DomainError | None:
    """Refuse a non-quality user before reading the form, so that the answer does not depend on it."""
    if may_manage(request.user):
        return None
    return PermissionDeniedError(gettext("Only quality may act on defect alerts and incidents."))


def refusal(form: forms.Form, exc: DomainError | None) -> int:
    """Put the service's message on the form; the status of the page shown again."""
    if exc is not None:
        add_domain_errors(form, exc)
    return refusal_status(exc)
