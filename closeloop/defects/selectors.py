"""Reads of alerts and incidents for the desk and the API.

Holders of `defects.view_defectincident` see them; someone who does not see every complaint (a
department manager) sees only the alerts and incidents with at least one complaint of theirs, and of
each only those complaints (the others are counted, never named). Lists cost a fixed number of
queries: the page, one prefetch of the visible complaints, and the counts in the page's own query.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.db.models import Case, Count, Exists, IntegerField, OuterRef, Prefetch, Q, QuerySet, Value, When

from closeloop.complaints.models import Complaint
from closeloop.complaints.selectors import complaints_visible_to
from closeloop.core.types import AnyUser
from closeloop.defects.models import (
    AlertStatus,
    DefectAlert,
    DefectIncident,
    IncidentEvent,
    IncidentRemedy,
    IncidentStatus,
)
from closeloop.defects.services.common import LIVE_INCIDENT, may_view

COMPLAINT_FIELDS = ("id", "number", "status", "received_at", "batch_no", "province", "city", "product_id")


def _sees_all(user: AnyUser) -> bool:
    return user.has_perm("complaints.view_all_complaints")


def _visible_complaints(user: AnyUser) -> QuerySet[Complaint]:
    return complaints_visible_to(user).only(*COMPLAINT_FIELDS).order_by("received_at", "id")


def alerts_visible_to(user: AnyUser) -> QuerySet[DefectAlert]:
    if not may_view(user):
        return DefectAlert.objects.none()
    qs = DefectAlert.objects.all()
    if not _sees_all(user):
        through = DefectAlert.complaints.through.objects.filter(
            defectalert_id=OuterRef("pk"), complaint__in=complaints_visible_to(user)
        )
        qs = qs.filter(Exists(through))
    return qs


def incidents_visible_to(user: AnyUser) -> QuerySet[DefectIncident]:
    if not may_view(user):
        return DefectIncident.objects.none()
    qs = DefectIncident.objects.all()
    if not _sees_all(user):
        through = DefectIncident.complaints.through.objects.filter(
            defectincident_id=OuterRef("pk"), complaint__in=complaints_visible_to(user)
        )
        qs = qs.filter(Exists(through))
    return qs


# Open alerts first (quality acts on them), then the newest.
ALERT_ORDER = (
    Case(When(status=AlertStatus.OPEN, then=Value(0)), default=Value(1), output_field=IntegerField()),
    "-raised_at",
    "-id",
)
ALERT_FILTERS = {"open": [AlertStatus.OPEN], "incident": [AlertStatus.INCIDENT], "dismissed": [AlertStatus.DISMISSED]}


def alert_list(*, user: AnyUser, status: str = "") -> QuerySet[DefectAlert]:
    qs = (
        alerts_visible_to(user)
        .select_related("product__line", "incident", "decided_by")
        .annotate(complaint_count=Count("complaints", distinct=True))
        .prefetch_related(Prefetch("complaints", queryset=_visible_complaints(user), to_attr="visible_complaints"))
    )
    if status in ALERT_FILTERS:
        qs = qs.filter(status__in=ALERT_FILTERS[status])
    return qs.order_by(*ALERT_ORDER)


INCIDENT_ORDER = (
    Case(When(status__in=LIVE_INCIDENT, then=Value(0)), default=Value(1), output_field=IntegerField()),
    "-opened_at",
    "-id",
)
INCIDENT_FILTERS = {"live": list(LIVE_INCIDENT), "closed": [IncidentStatus.CLOSED]}


def incident_list(*, user: AnyUser, status: str = "") -> QuerySet[DefectIncident]:
    qs = (
        incidents_visible_to(user)
        .select_related("product__line", "opened_by")
        .annotate(
            complaint_count=Count("complaints", distinct=True),
            remedied_count=Count("remedies", distinct=True),
        )
        .prefetch_related(Prefetch("complaints", queryset=_visible_complaints(user), to_attr="visible_complaints"))
    )
    if status in INCIDENT_FILTERS:
        qs = qs.filter(status__in=INCIDENT_FILTERS[status])
    return qs.order_by(*INCIDENT_ORDER)


def alert_get(*, user: AnyUser, pk: int) -> DefectAlert:
    """DefectAlert.DoesNotExist when out of scope (a 404, like an alert that does not exist)."""
    return alert_list(user=user).get(pk=pk)


def incident_get(*, user: AnyUser, pk: int) -> DefectIncident:
    return incident_list(user=user).get(pk=pk)


def events_of(*, alert: DefectAlert | None = None, incident: DefectIncident | None = None) -> list[IncidentEvent]:
    qs = IncidentEvent.objects.select_related("actor")
    qs = qs.filter(alert=alert) if alert is not None else qs.filter(incident=incident)
    return list(qs.order_by("at", "id"))


@dataclass(frozen=True)
class IncidentComplaintRow:
    complaint: Complaint
    remedy: IncidentRemedy | None


def incident_complaint_rows(incident: DefectIncident) -> list[IncidentComplaintRow]:
    """The visible complaints of the incident (prefetched by incident_get) with their remedy."""
    remedies = {r.complaint_id: r for r in IncidentRemedy.objects.filter(incident=incident)}
    return [IncidentComplaintRow(c, remedies.get(c.pk)) for c in incident.visible_complaints]  # type: ignore[attr-defined]  # set by the selector (annotation or prefetch)


def improvement_actions_of(incident: DefectIncident) -> list[Any]:
    """The improvement actions linked to the incident (the improvement app owns them)."""
    related = getattr(incident, "improvement_actions", None)
    if related is None:
        return []
    return list(related.select_related("owner", "owner_department").order_by("created_at", "id"))


@dataclass(frozen=True)
class ComplaintDefects:
    alerts: list[DefectAlert]
    incidents: list[DefectIncident]


def complaint_defects(*, complaint: Complaint) -> ComplaintDefects:
    """The alerts and incidents a complaint belongs to (for its page): two queries."""
    alerts: list[DefectAlert] = list(
        # Counted over every complaint: the membership is a subquery, not a join that would count one.
        DefectAlert.objects.filter(pk__in=DefectAlert.objects.filter(complaints=complaint).values("pk"))
        .select_related("product", "incident")
        .annotate(complaint_count=Count("complaints", distinct=True))
        .order_by("-raised_at")
    )
    incidents: list[DefectIncident] = list(
        DefectIncident.objects.filter(pk__in=DefectIncident.objects.filter(complaints=complaint).values("pk"))
        .select_related("product")
        .annotate(complaint_count=Count("complaints", distinct=True))
        .order_by("-opened_at")
    )
    return ComplaintDefects(alerts=alerts, incidents=incidents)


def open_incidents_for(*, product_id: int) -> QuerySet[DefectIncident]:
    return DefectIncident.objects.filter(product_id=product_id, status__in=LIVE_INCIDENT).order_by("-opened_at")


# --- for the monthly report ---------------------------------------------------------------------------


@dataclass(frozen=True)
class IncidentsOverview:
    """What the monthly report says of defect incidents (insight.exports.contents)."""

    status_labels: dict[str, str]  # in the active language
    total: int
    # The latest opened first: number, title, status, batch_no, opened_at, remedy_applied_at,
    # closed_at, grouped (complaints in it), product__model.
    rows: list[dict[str, Any]]


def incidents_during(*, start: datetime.datetime, end: datetime.datetime, limit: int = 30) -> IncidentsOverview:
    """Incidents open at any time in [start, end): opened before its end, not closed before its start."""
    qs = (
        DefectIncident.objects.filter(opened_at__lt=end)
        .filter(Q(closed_at__isnull=True) | Q(closed_at__gte=start))
        .annotate(grouped=Count("complaints", distinct=True))
        .order_by("-opened_at", "-pk")
    )
    rows = list(
        qs.values(
            "number",
            "title",
            "status",
            "batch_no",
            "opened_at",
            "remedy_applied_at",
            "closed_at",
            "grouped",
            "product__model",
        )[:limit]
    )
    return IncidentsOverview(
        rows=rows,
        total=qs.count(),
        status_labels={value: str(label) for value, label in IncidentStatus.choices},
    )
