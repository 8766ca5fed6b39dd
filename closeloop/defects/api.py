"""REST endpoints of early warning: alerts, defect incidents and the rules — thin calls of the same
services and selectors as the desk. Alerts and incidents out of the caller's scope answer 404; lists
need `defects.view_defectincident` (403 otherwise) and cost a fixed number of queries."""

from __future__ import annotations

import datetime
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, P, PathEx, Query, Router, Status

from closeloop.complaints.lifecycle import Status as ComplaintStatus
from closeloop.complaints.models import Complaint, Via
from closeloop.complaints.schemas import Text
from closeloop.complaints.selectors import complaint_get
from closeloop.core.api_responses import ONE_ERRORS, ONE_WRITE_ERRORS, READ_ERRORS
from closeloop.core.api_since import UpdatedSince, updated_since
from closeloop.core.errors import DomainError, PermissionDeniedError
from closeloop.core.schema import Schema
from closeloop.core.types import User
from closeloop.defects import selectors
from closeloop.defects.models import AlertStatus, DefectAlert, DefectIncident, IncidentEvent, IncidentStatus
from closeloop.defects.services import incidents as services
from closeloop.defects.services import rules as rule_services
from closeloop.defects.services.common import TEXT_MAX, TITLE_MAX, check_manage, may_view
from closeloop.directory.models import Product, ProductLine
from closeloop.handling.models import Measure

router = Router(tags=["defects"])

RecordId = PathEx[int, P(ge=1, le=2_147_483_647, description="the record's id")]
LineCode = PathEx[Text, P(max_length=40, description='a product line\'s code, or "default" for the default rule')]


# --- schemas ----------------------------------------------------------------------------------------------


class ProductRef(Schema):
    model: str
    label: str
    line: str = Field(description="the product line's code")


class ComplaintRef(Schema):
    number: str
    status: ComplaintStatus
    status_label: str
    received_at: datetime.datetime
    batch_no: str
    province: str
    city: str


class IncidentComplaintOut(ComplaintRef):
    remedy_applied_at: datetime.datetime | None = Field(description="when the incident's remedy was recorded on it")


class DefectEventOut(Schema):
    at: datetime.datetime
    kind: str
    actor: str | None
    note: str
    complaints: list[str] = Field(description="the complaints the event names (those the caller may see)")


class IncidentRef(Schema):
    id: int
    number: str


class AlertOut(Schema):
    id: int
    updated_at: datetime.datetime
    product: ProductRef
    batch_no: str = Field(description="upper-cased; empty when raised for the model whatever the batch")
    status: AlertStatus
    status_label: str
    raised_at: datetime.datetime
    threshold: int
    window_days: int
    complaint_count: int
    complaints: list[ComplaintRef] = Field(description="the complaints the caller may see")
    hidden_complaints: int = Field(description="complaints of the alert outside the caller's departments")
    incident: IncidentRef | None
    decided_by: str | None
    decided_at: datetime.datetime | None
    decision_note: str


class AlertDetailOut(AlertOut):
    events: list[DefectEventOut]


class IncidentOut(Schema):
    id: int
    updated_at: datetime.datetime
    number: str
    title: str
    product: ProductRef
    batch_no: str = Field(description="empty: the incident is about the whole model")
    description: str
    status: IncidentStatus
    status_label: str
    opened_at: datetime.datetime
    opened_by: str
    remedy: str
    remedy_measure: str
    remedy_applied_at: datetime.datetime | None
    closed_at: datetime.datetime | None
    closed_note: str
    complaint_count: int
    remedied_count: int = Field(description="complaints the remedy was recorded on")
    complaints: list[ComplaintRef]
    hidden_complaints: int


class ActionRef(Schema):
    id: int
    number: str
    title: str
    status: str


class IncidentDetailOut(IncidentOut):
    complaints: list[IncidentComplaintOut]  # type: ignore[assignment]  # the detail's rows replace the list's
    alerts: list[int]
    improvement_actions: list[ActionRef]
    events: list[DefectEventOut]


class SkippedOut(Schema):
    number: str
    reason: str


class RemedyOut(Schema):
    applied: list[str] = Field(description="complaints the remedy was recorded on now")
    skipped: list[SkippedOut] = Field(description="complaints it could not be recorded on, and why")
    already: list[str] = Field(description="complaints that had it already")
    incident: IncidentDetailOut


class RuleOut(Schema):
    product_line: str = Field(description='the line\'s code, or "default"')
    product_line_label: str
    own_rule: bool = Field(description="false: the line follows the default rule")
    updated_at: datetime.datetime | None = Field(description="of the rule that applies; null when there is none")
    threshold: int | None
    window_days: int | None
    is_active: bool


class AlertFilters(Schema):
    status: AlertStatus | None = None
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=1_000_000)


class IncidentFilters(Schema):
    status: IncidentStatus | None = None
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=1_000_000)


class DismissIn(Schema):
    reason: Text = Field(..., max_length=TEXT_MAX, description="why this is not a defect")


class OpenIncidentIn(Schema):
    title: Text = Field(..., max_length=TITLE_MAX)
    description: Text = Field("", max_length=TEXT_MAX)
    batch_no: Text | None = Field(None, max_length=60, description="null: the alert's batch; empty: the whole model")


class LinkIn(Schema):
    incident: Text = Field(..., max_length=20, description="number of an open incident of the same model")


class AddComplaintIn(Schema):
    complaint: Text = Field(..., max_length=20, description="the complaint's number")
    note: Text = Field("", max_length=TEXT_MAX)


class RemoveComplaintIn(Schema):
    complaint: Text = Field(..., max_length=20, description="the complaint's number")
    reason: Text = Field(..., max_length=TEXT_MAX)


class RemedyIn(Schema):
    remedy: Text = Field(..., max_length=TEXT_MAX, description="e.g. replace every unit of the batch")
    measure: Measure


class CloseIn(Schema):
    note: Text = Field(..., max_length=TEXT_MAX)


class RuleIn(Schema):
    threshold: int = Field(3, ge=1, le=999, description="complaints that raise an alert")
    window_days: int = Field(7, ge=1, le=365, description="within this many days")
    is_active: bool = True


# --- serialisation ----------------------------------------------------------------------------------------


def _user(request: HttpRequest) -> User:
    return request.auth  # type: ignore[attr-defined]  # the user, put there by the API's authentication


def _sees_all(user: User) -> bool:
    return user.has_perm("complaints.view_all_complaints")


def _product(product: Product) -> dict[str, Any]:
    return {"model": product.model, "label": product.label, "line": product.line.code}


def _complaint(c: Complaint) -> dict[str, Any]:
    return {
        "number": c.number,
        "status": c.status,
        "status_label": str(ComplaintStatus(c.status).label),
        "received_at": c.received_at,
        "batch_no": c.batch_no,
        "province": c.province,
        "city": c.city,
    }


def _username(user: Any) -> str | None:
    return user.get_username() if user is not None else None


def _events(events: list[IncidentEvent], visible: set[str] | None) -> list[dict[str, Any]]:
    out = []
    for event in events:
        numbers: list[str] = []
        for key in ("complaints", "applied"):
            if isinstance(event.data.get(key), list):
                numbers.extend(str(n) for n in event.data[key])
        if isinstance(event.data.get("complaint"), str):
            numbers.append(event.data["complaint"])
        out.append(
            {
                "at": event.at,
                "kind": event.kind,
                "actor": _username(event.actor),
                "note": event.note,
                "complaints": [n for n in numbers if visible is None or n in visible],
            }
        )
    return out


def _alert(alert: DefectAlert) -> dict[str, Any]:
    visible = alert.visible_complaints  # type: ignore[attr-defined]  # set by the selector (annotation or prefetch)
    return {
        "id": alert.pk,
        "updated_at": alert.updated_at,
        "product": _product(alert.product),
        "batch_no": alert.batch_no,
        "status": alert.status,
        "status_label": str(alert.get_status_display()),
        "raised_at": alert.raised_at,
        "threshold": alert.threshold,
        "window_days": alert.window_days,
        "complaint_count": alert.complaint_count,  # type: ignore[attr-defined]  # set by the selector (annotation or prefetch)
        "complaints": [_complaint(c) for c in visible],
        "hidden_complaints": alert.complaint_count - len(visible),  # type: ignore[attr-defined]  # set by the selector (annotation or prefetch)
        "incident": {"id": alert.incident.pk, "number": alert.incident.number} if alert.incident else None,
        "decided_by": _username(alert.decided_by),
        "decided_at": alert.decided_at,
        "decision_note": alert.decision_note,
    }


def _alert_detail(user: User, pk: int) -> dict[str, Any]:
    alert = selectors.alert_get(user=user, pk=pk)
    visible = None if _sees_all(user) else {c.number for c in alert.visible_complaints}  # type: ignore[attr-defined]  # set by the selector (annotation or prefetch)
    return {**_alert(alert), "events": _events(selectors.events_of(alert=alert), visible)}


def _incident(incident: DefectIncident) -> dict[str, Any]:
    visible = incident.visible_complaints  # type: ignore[attr-defined]  # set by the selector (annotation or prefetch)
    return {
        "id": incident.pk,
        "updated_at": incident.updated_at,
        "number": incident.number,
        "title": incident.title,
        "product": _product(incident.product),
        "batch_no": incident.batch_no,
        "description": incident.description,
        "status": incident.status,
        "status_label": str(incident.get_status_display()),
        "opened_at": incident.opened_at,
        "opened_by": incident.opened_by.get_username(),
        "remedy": incident.remedy,
        "remedy_measure": incident.remedy_measure,
        "remedy_applied_at": incident.remedy_applied_at,
        "closed_at": incident.closed_at,
        "closed_note": incident.closed_note,
        "complaint_count": incident.complaint_count,  # type: ignore[attr-defined]  # set by the selector (annotation or prefetch)
        "remedied_count": incident.remedied_count,  # type: ignore[attr-defined]  # set by the selector (annotation or prefetch)
        "complaints": [_complaint(c) for c in visible],
        "hidden_complaints": incident.complaint_count - len(visible),  # type: ignore[attr-defined]  # set by the selector (annotation or prefetch)
    }


def _incident_detail(user: User, pk: int) -> dict[str, Any]:
    incident = selectors.incident_get(user=user, pk=pk)
    rows = selectors.incident_complaint_rows(incident)
    visible = None if _sees_all(user) else {row.complaint.number for row in rows}
    return {
        **_incident(incident),
        "complaints": [
            {**_complaint(row.complaint), "remedy_applied_at": row.remedy.applied_at if row.remedy else None}
            for row in rows
        ],
        "alerts": list(incident.alerts.order_by("raised_at").values_list("pk", flat=True)),
        "improvement_actions": [
            {"id": a.pk, "number": a.number, "title": a.title, "status": a.status}
            for a in selectors.improvement_actions_of(incident)
        ],
        "events": _events(selectors.events_of(incident=incident), visible),
    }


def _check_view(user: User) -> None:
    if not may_view(user):
        raise PermissionDeniedError(_("Your role may not see defect alerts and incidents."))


def _named_complaint(user: User, number: str) -> Complaint:
    """A complaint named in the body: unknown or out of scope is a 422 on the field, not a 404."""
    try:
        return complaint_get(user=user, number=number.strip().upper())
    except Complaint.DoesNotExist:
        raise DomainError(_("There is no complaint with this number."), field="complaint") from None


# --- alerts -----------------------------------------------------------------------------------------------


@router.get("/defects/alerts", response={200: list[AlertOut], **READ_ERRORS}, summary="Defect alerts, open first")
def alert_list(request: HttpRequest, filters: Query[AlertFilters], since: Query[UpdatedSince]) -> list[dict[str, Any]]:
    """Defect spike alerts (too many complaints about one model or batch in a window), open first; for quality
    and those who may see defects (403 otherwise)."""
    user = _user(request)
    _check_view(user)
    qs = updated_since(selectors.alert_list(user=user, status=filters.status or ""), since)
    return [_alert(a) for a in qs[filters.offset : filters.offset + filters.limit]]


@router.get("/defects/alerts/{pk}", response={200: AlertDetailOut, **ONE_ERRORS}, summary="One defect alert")
def alert_detail(request: HttpRequest, pk: RecordId) -> dict[str, Any]:
    """One alert with its complaints and events. An unknown alert is a 404; a role that may not see defects a
    403."""
    return _alert_detail(_user(request), pk)


@router.post(
    "/defects/alerts/{pk}/dismiss",
    response={200: AlertDetailOut, **ONE_WRITE_ERRORS},
    summary="Quality dismisses the alert (not a defect)",
)
def alert_dismiss(request: HttpRequest, pk: RecordId, payload: DismissIn) -> dict[str, Any]:
    """Quality dismisses the alert as not a defect, with a note. An alert no longer open is a 422."""
    user = _user(request)
    alert = selectors.alert_get(user=user, pk=pk)
    check_manage(user)
    services.alert_dismiss(alert=alert, reason=payload.reason, actor=user, via=Via.API)
    return _alert_detail(user, pk)


@router.post(
    "/defects/alerts/{pk}/incident",
    response={201: IncidentDetailOut, **ONE_WRITE_ERRORS},
    summary="Quality opens a defect incident (批次问题) from the alert, grouping its complaints",
)
def alert_open_incident(request: HttpRequest, pk: RecordId, payload: OpenIncidentIn) -> Status:
    """Quality opens a defect incident (批次问题) from the alert, grouping its complaints. An alert no longer open is
    a 422; an empty title a 422."""
    user = _user(request)
    alert = selectors.alert_get(user=user, pk=pk)
    check_manage(user)
    incident = services.alert_open_incident(
        alert=alert,
        title=payload.title,
        description=payload.description,
        batch_no=payload.batch_no,
        actor=user,
        via=Via.API,
    )
    return Status(201, _incident_detail(user, incident.pk))


@router.post(
    "/defects/alerts/{pk}/link",
    response={200: IncidentDetailOut, **ONE_WRITE_ERRORS},
    summary="Quality adds the alert's complaints to an incident already open for the model",
)
def alert_link(request: HttpRequest, pk: RecordId, payload: LinkIn) -> dict[str, Any]:
    """Quality adds the alert's complaints to an incident already open for the same model. An incident of another
    model, or closed, is a 422 on `incident`."""
    user = _user(request)
    alert = selectors.alert_get(user=user, pk=pk)
    check_manage(user)
    incident = DefectIncident.objects.filter(number=payload.incident.strip().upper()).first()
    if incident is None:
        raise DomainError(_("There is no incident with this number."), field="incident")
    incident = services.alert_link_incident(alert=alert, incident=incident, actor=user, via=Via.API)
    return _incident_detail(user, incident.pk)


# --- incidents --------------------------------------------------------------------------------------------


@router.get(
    "/defects/incidents", response={200: list[IncidentOut], **READ_ERRORS}, summary="Defect incidents, open first"
)
def incident_list(
    request: HttpRequest, filters: Query[IncidentFilters], since: Query[UpdatedSince]
) -> list[dict[str, Any]]:
    """Defect incidents, open first, for those who may see defects (403 otherwise)."""
    user = _user(request)
    _check_view(user)
    qs = updated_since(selectors.incident_list(user=user), since)
    if filters.status:
        qs = qs.filter(status=filters.status)
    return [_incident(i) for i in qs[filters.offset : filters.offset + filters.limit]]


@router.get("/defects/incidents/{pk}", response={200: IncidentDetailOut, **ONE_ERRORS}, summary="One defect incident")
def incident_detail(request: HttpRequest, pk: RecordId) -> dict[str, Any]:
    """One incident with its complaints, remedies and events. An unknown incident is a 404."""
    return _incident_detail(_user(request), pk)


def _managed_incident(request: HttpRequest, pk: int) -> tuple[User, DefectIncident]:
    user = _user(request)
    incident = selectors.incident_get(user=user, pk=pk)  # out of scope → 404
    check_manage(user)  # then 403, before any complaint about the body
    return user, incident


@router.post(
    "/defects/incidents/{pk}/complaints",
    response={200: IncidentDetailOut, **ONE_WRITE_ERRORS},
    summary="Add a complaint about the incident's model",
    operation_id="defects_incidents_complaints_add",
)
def incident_add(request: HttpRequest, pk: RecordId, payload: AddComplaintIn) -> dict[str, Any]:
    """Quality adds a complaint about the incident's model. A complaint about another model is a 422 on
    `complaint`; a closed incident a 422."""
    user, incident = _managed_incident(request, pk)
    complaint = _named_complaint(user, payload.complaint)
    services.incident_add_complaint(incident=incident, complaint=complaint, note=payload.note, actor=user, via=Via.API)
    return _incident_detail(user, pk)


@router.post(
    "/defects/incidents/{pk}/complaints/remove",
    response={200: IncidentDetailOut, **ONE_WRITE_ERRORS},
    summary="Remove a complaint from the incident (with a reason)",
)
def incident_remove(request: HttpRequest, pk: RecordId, payload: RemoveComplaintIn) -> dict[str, Any]:
    """Quality removes a complaint from the incident, with a reason. A complaint not in the incident is a 422; a
    closed incident a 422."""
    user, incident = _managed_incident(request, pk)
    complaint = _named_complaint(user, payload.complaint)
    services.incident_remove_complaint(
        incident=incident, complaint=complaint, reason=payload.reason, actor=user, via=Via.API
    )
    return _incident_detail(user, pk)


@router.post(
    "/defects/incidents/{pk}/remedy",
    response={200: RemedyOut, **ONE_WRITE_ERRORS},
    summary="Apply one remedy to every complaint of the incident (one transaction)",
)
def incident_remedy(request: HttpRequest, pk: RecordId, payload: RemedyIn) -> dict[str, Any]:
    """Quality applies one remedy (e.g. replace the driver) to every complaint of the incident in one
    transaction; each complaint's timeline records it. A closed incident is a 422."""
    user, incident = _managed_incident(request, pk)
    result = services.incident_apply_remedy(
        incident=incident, remedy=payload.remedy, measure=payload.measure.value, actor=user, via=Via.API
    )
    return {
        "applied": result.applied,
        "skipped": [{"number": number, "reason": str(why)} for number, why in result.skipped],
        "already": result.already,
        "incident": _incident_detail(user, pk),
    }


@router.post(
    "/defects/incidents/{pk}/close",
    response={200: IncidentDetailOut, **ONE_WRITE_ERRORS},
    summary="Close the incident with a note",
)
def incident_close(request: HttpRequest, pk: RecordId, payload: CloseIn) -> dict[str, Any]:
    """Quality closes the incident with a note. An incident already closed is a 422."""
    user, incident = _managed_incident(request, pk)
    services.incident_close(incident=incident, note=payload.note, actor=user, via=Via.API)
    return _incident_detail(user, pk)


# --- rules ------------------------------------------------------------------------------------------------


def _rule(row: rule_services.RuleRow) -> dict[str, Any]:
    rule = row.rule
    return {
        "product_line": row.code,
        "product_line_label": row.line.label if row.line is not None else str(_("default")),
        "own_rule": row.own,
        "threshold": rule.threshold if rule else None,
        "window_days": rule.window_days if rule else None,
        "is_active": bool(rule and rule.is_active),
        "updated_at": rule.updated_at if rule else None,
    }


def _rule_row(code: str) -> dict[str, Any]:
    return _rule(next(r for r in rule_services.rules_overview() if r.code == code))


def _line(code: str) -> ProductLine | None:
    if code == rule_services.DEFAULT_CODE:
        return None
    return ProductLine.objects.get(code=code)  # DoesNotExist → 404


@router.get(
    "/defects/rules",
    response={200: list[RuleOut], **READ_ERRORS},
    summary="Early-warning rules: the default, then what applies to each product line",
)
def rule_list(request: HttpRequest, since: Query[UpdatedSince]) -> list[dict[str, Any]]:
    """With `updated_since`: the lines whose rule (their own, or the default they follow) changed."""
    _check_view(_user(request))
    rows = [_rule(row) for row in rule_services.rules_overview()]
    if since.updated_since is None:
        return rows
    return [r for r in rows if r["updated_at"] is not None and r["updated_at"] >= since.updated_since]


@router.put(
    "/defects/rules/{code}",
    response={200: RuleOut, **ONE_WRITE_ERRORS},
    summary='Set the rule of a product line (or of "default")',
)
def rule_set(request: HttpRequest, code: LineCode, payload: RuleIn) -> dict[str, Any]:
    """Sets the early-warning rule (threshold, window, active) of a product line or of `default` (quality). A
    threshold or window out of range is a 422 naming it; an unknown line a 404."""
    user = _user(request)
    line = _line(code)
    rule_services.spike_rule_set(
        product_line=line,
        threshold=payload.threshold,
        window_days=payload.window_days,
        is_active=payload.is_active,
        actor=user,
        via=Via.API,
    )
    return _rule_row(code)


@router.delete(
    "/defects/rules/{code}",
    response={200: RuleOut, **ONE_WRITE_ERRORS},
    summary="Remove a product line's own rule: the default applies again",
)
def rule_remove(request: HttpRequest, code: LineCode) -> dict[str, Any]:
    """Removes a product line's own early-warning rule, so the default applies again (quality). `default` itself
    cannot be removed (422)."""
    rule_services.spike_rule_remove(product_line=_line(code), actor=_user(request), via=Via.API)
    return _rule_row(code)
