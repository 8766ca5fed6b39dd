"""The responsibility roster over REST: read it, edit a department's lines (its managers), the change
log, leave with cover, and the proposal for a complaint's dispatch."""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Status

from closeloop import authz
from closeloop.complaints.api import ONE_ERRORS, ONE_WRITE_ERRORS, READ_ERRORS, WRITE_ERRORS, Number
from closeloop.complaints.schemas import MAX_OFFSET, RefOut, Text
from closeloop.complaints.selectors import complaint_get
from closeloop.core.api_since import UpdatedSince, updated_since
from closeloop.core.errors import DomainError
from closeloop.core.schema import Schema
from closeloop.core.types import User
from closeloop.directory.models import Absence, ComplaintType, Department, ProductLine, RosterChange, RosterEntry
from closeloop.handling import selectors
from closeloop.handling.services import roster as services

router = Router(tags=["roster"])


class RosterEntryOut(Schema):
    id: int
    department: RefOut
    handler: str | None = Field(description="username; null = the department pool")
    complaint_type: str | None = Field(description="type code; null = any")
    product_line: str | None = Field(description="product line code; null = any")
    province: str = Field(description="empty = any")
    valid_from: datetime.date
    valid_to: datetime.date | None
    note: str
    updated_at: datetime.datetime


class RosterPage(Schema):
    items: list[RosterEntryOut]
    count: int


class RosterFilters(Schema):
    department: Text = Field("", max_length=40)
    on: datetime.date | None = Field(None, description="only lines in force on this date")
    limit: int = Field(100, ge=1, le=500)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)


class RosterEntryIn(Schema):
    department: Text = Field(..., max_length=40)
    handler: Text | None = Field(None, max_length=150)
    complaint_type: Text | None = Field(None, max_length=40)
    product_line: Text | None = Field(None, max_length=40)
    province: Text = Field("", max_length=30)
    valid_from: datetime.date | None = Field(None, description="defaults to today")
    valid_to: datetime.date | None = None
    note: Text = Field("", max_length=200)


class RosterEntryPatch(Schema):
    handler: Text | None = Field(None, max_length=150)
    complaint_type: Text | None = Field(None, max_length=40)
    product_line: Text | None = Field(None, max_length=40)
    province: Text | None = Field(None, max_length=30)
    valid_from: datetime.date | None = None
    valid_to: datetime.date | None = None
    note: Text | None = Field(None, max_length=200)


class RosterEndIn(Schema):
    on: datetime.date | None = Field(None, description="the last day the line applies; default yesterday")


class RosterChangeOut(Schema):
    id: int
    entry: int
    at: datetime.datetime
    actor: str | None
    action: str
    before: dict[str, Any]
    after: dict[str, Any]
    updated_at: datetime.datetime = Field(description="a change is never changed: the time it was written")


class AbsenceOut(Schema):
    id: int
    user: str
    starts: datetime.date
    ends: datetime.date
    cover: str | None
    note: str
    updated_at: datetime.datetime


class AbsenceIn(Schema):
    user: Text = Field(..., max_length=150)
    starts: datetime.date
    ends: datetime.date
    cover: Text | None = Field(None, max_length=150)
    note: Text = Field("", max_length=200)


class ProposalOut(Schema):
    department: RefOut
    handler: str | None
    covering_for: str | None = Field(description="the rostered handler on leave, when a cover is proposed")
    entry: int | None


def _user(request: HttpRequest) -> User:
    user = request.auth  # type: ignore[attr-defined]  # the user, put there by the API's authentication
    authz.require(user, "handling.view_roster", message=_("You may not read the roster."))
    return user


def _ref(department: Department) -> dict[str, Any]:
    return {"code": department.code, "name": department.name, "name_en": department.name_en, "label": department.label}


def _entry(entry: RosterEntry) -> dict[str, Any]:
    return {
        "id": entry.pk,
        "department": _ref(entry.department),
        "handler": entry.handler.get_username() if entry.handler else None,
        "complaint_type": entry.complaint_type.code if entry.complaint_type else None,
        "product_line": entry.product_line.code if entry.product_line else None,
        "province": entry.province,
        "valid_from": entry.valid_from,
        "valid_to": entry.valid_to,
        "note": entry.note,
        "updated_at": entry.updated_at,
    }


def _absence(absence: Absence) -> dict[str, Any]:
    return {
        "id": absence.pk,
        "user": absence.user.get_username(),
        "starts": absence.starts,
        "ends": absence.ends,
        "cover": absence.cover.get_username() if absence.cover else None,
        "note": absence.note,
        "updated_at": absence.updated_at,
    }


def _lookup(model: Any, field: str, value: str | None, key: str = "code") -> Any:
    """A row named by its code (or username) in a request body: unknown is bad input (422)."""
    if not value:
        return None
    try:
        return model.objects.get(**{key: value.strip()})
    except model.DoesNotExist:
        raise DomainError(_("Unknown value."), field=field) from None


def _person(value: str | None, field: str) -> Any:
    return _lookup(get_user_model(), field, value, key="username")


@router.get("/roster", response={200: RosterPage, **READ_ERRORS}, summary="The responsibility roster")
def roster_list(request: HttpRequest, filters: Query[RosterFilters], since: Query[UpdatedSince]) -> dict[str, Any]:
    """The responsibility roster: which department and handler take which complaint type, product line and
    province, optionally only the lines in force on a date."""
    _user(request)
    queryset = updated_since(selectors.roster_entries(department_code=filters.department, on=filters.on), since)
    return {
        "items": [_entry(e) for e in queryset[filters.offset : filters.offset + filters.limit]],
        "count": queryset.count(),
    }


@router.post("/roster", response={201: RosterEntryOut, **WRITE_ERRORS}, summary="Add a roster line")
def roster_create(request: HttpRequest, payload: RosterEntryIn) -> Status:
    """Adds a roster line (a department's manager for their department, handling.edit_roster; administrators for
    every department). Overlapping or invalid lines are a 422 naming the field."""
    user = _user(request)
    entry = services.roster_entry_create(
        department=_lookup(Department, "department", payload.department),
        handler=_person(payload.handler, "handler"),
        complaint_type=_lookup(ComplaintType, "complaint_type", payload.complaint_type),
        product_line=_lookup(ProductLine, "product_line", payload.product_line),
        province=payload.province,
        valid_from=payload.valid_from or timezone.localdate(),
        valid_to=payload.valid_to,
        note=payload.note,
        actor=user,
    )
    return Status(201, _entry(entry))


def _entry_get(entry_id: int) -> RosterEntry:
    return RosterEntry.objects.select_related("department", "handler", "complaint_type", "product_line").get(
        pk=entry_id
    )


@router.patch("/roster/{entry_id}", response={200: RosterEntryOut, **ONE_WRITE_ERRORS}, summary="Change a line")
def roster_update(request: HttpRequest, entry_id: int, payload: RosterEntryPatch) -> dict[str, Any]:
    """Changes a roster line; the change is logged (GET /roster-changes). Needs handling.edit_roster on the
    line's department; an unknown line is a 404."""
    user = _user(request)
    entry = _entry_get(entry_id)
    given = payload.dict(exclude_unset=True)
    values: dict[str, Any] = {}
    for name, value in given.items():
        if name == "handler":
            values[name] = _person(value, "handler")
        elif name == "complaint_type":
            values[name] = _lookup(ComplaintType, name, value)
        elif name == "product_line":
            values[name] = _lookup(ProductLine, name, value)
        elif name == "valid_from" and value is None:
            raise DomainError(_("Give the date the line takes effect."), field="valid_from")
        else:
            values[name] = value if value is not None or name == "valid_to" else ""
    return _entry(services.roster_entry_update(entry=entry, values=values, actor=user))


@router.post("/roster/{entry_id}/end", response={200: RosterEntryOut, **ONE_WRITE_ERRORS}, summary="End a line")
def roster_end(request: HttpRequest, entry_id: int, payload: RosterEndIn) -> dict[str, Any]:
    """Ends a roster line from a date (handling.edit_roster); it stays in the log. A line already ended is a 422."""
    user = _user(request)
    return _entry(services.roster_entry_end(entry=_entry_get(entry_id), actor=user, on=payload.on))


@router.get("/roster-changes", response={200: list[RosterChangeOut], **READ_ERRORS}, summary="The change log")
def roster_change_list(request: HttpRequest, since: Query[UpdatedSince], department: Text = "") -> list[dict[str, Any]]:
    """The roster's change log, newest first (at most 200), optionally of one department: who changed which line,
    before and after."""
    _user(request)
    changes: list[RosterChange] = list(
        selectors.roster_changes(department_code=department[:40], limit=200, since=since.updated_since)
    )
    return [
        {
            "id": c.pk,
            "entry": c.entry_id,
            "at": c.at,
            "actor": c.actor.get_username() if c.actor else None,
            "action": c.action,
            "before": c.before,
            "after": c.after,
            "updated_at": c.at,
        }
        for c in changes
    ]


@router.get("/absences", response={200: list[AbsenceOut], **READ_ERRORS}, summary="Current and future leave")
def absence_list(request: HttpRequest, since: Query[UpdatedSince]) -> list[dict[str, Any]]:
    """Current and future leave, with who covers: the roster proposes the cover while someone is away."""
    _user(request)
    return [_absence(a) for a in updated_since(selectors.absences_current(), since)]


@router.post("/absences", response={201: AbsenceOut, **WRITE_ERRORS}, summary="Record short leave")
def absence_create(request: HttpRequest, payload: AbsenceIn) -> Status:
    """Records short leave for a member of the caller's department, with a cover (handling.edit_roster). An end
    before the start or a cover outside the department is a 422 naming the field."""
    user = _user(request)
    absence = services.absence_create(
        user=_person(payload.user, "user"),
        starts=payload.starts,
        ends=payload.ends,
        cover=_person(payload.cover, "cover"),
        note=payload.note,
        actor=user,
    )
    return Status(201, _absence(absence))


@router.get(
    "/complaints/{number}/roster-proposal",
    response={200: list[ProposalOut], **ONE_ERRORS},
    summary="Departments and handlers the roster proposes for dispatch",
)
def roster_proposal(request: HttpRequest, number: Number, on: datetime.date | None = None) -> list[dict[str, Any]]:
    """The departments and handlers the roster proposes for dispatching this complaint on a date (today by
    default), with covers for people on leave. An unknown or invisible complaint is a 404."""
    user = _user(request)
    complaint = complaint_get(user=user, number=number)
    proposals = services.roster_propose(complaint=complaint, on=on or timezone.localdate())
    return [
        {
            "department": _ref(p.department),
            "handler": p.handler.get_username() if p.handler is not None else None,
            "covering_for": p.covering_for.get_username() if p.covering_for is not None else None,
            "entry": p.entry.pk if p.entry is not None else None,
        }
        for p in proposals
    ]
