"""REST endpoints for reopen, closing, archive and retention: thin calls of the same services as the desk.

A complaint the user may not see is a 404; a role that may not act is a 403; a refused rule (wrong
state, missing reason, what closing still waits for) is a 422 naming it.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, Router

from closeloop import authz
from closeloop.complaints.api import Number
from closeloop.complaints.lifecycle import Status
from closeloop.complaints.models import Complaint, Via
from closeloop.complaints.schemas import Text
from closeloop.complaints.selectors import complaint_get
from closeloop.complaints.services import complaint_transition
from closeloop.core.api_responses import ONE_ERRORS, ONE_WRITE_ERRORS, WRITE_ERRORS
from closeloop.core.schema import Schema
from closeloop.core.types import User
from closeloop.followup.services.closing import closing_checklist, complaint_archive, complaint_reopen
from closeloop.followup.services.retention import complaints_anonymise

router = Router(tags=["closing"])


class ReopenIn(Schema):
    reason: Text = Field("", max_length=10000, description="why the customer is not satisfied (required)")


class ClosingStateOut(Schema):
    number: str
    status: Status
    status_label: str
    reopen_count: int
    closed_at: datetime.datetime | None
    archived_at: datetime.datetime | None


class ChecklistItemOut(Schema):
    label: str
    met: bool
    missing: str = Field(description="what is missing, empty when met")
    details: list[str]


class ChecklistOut(Schema):
    number: str
    status: Status
    can_close_now: bool = Field(description="the state allows closing and every condition is met")
    items: list[ChecklistItemOut]


class AnonymiseIn(Schema):
    dry_run: bool = Field(True, description="only report what would change")


class AnonymiseOut(Schema):
    id: int
    dry_run: bool
    cutoff: datetime.datetime = Field(description="complaints archived before this are anonymised")
    complaints: list[str] = Field(description="numbers of the complaints anonymised (or that would be)")
    customers: int
    contacts: int
    attachments: int


def _user(request: HttpRequest) -> User:
    return request.auth  # type: ignore[attr-defined]  # the user, put there by the API's authentication


def _state(complaint: Complaint) -> dict[str, Any]:
    return {
        "number": complaint.number,
        "status": complaint.status,
        "status_label": str(Status(complaint.status).label),
        "reopen_count": complaint.reopen_count,
        "closed_at": complaint.closed_at,
        "archived_at": complaint.archived_at,
    }


@router.post(
    "/complaints/{number}/reopen",
    response={200: ClosingStateOut, **ONE_WRITE_ERRORS},
    summary="Reopen: the customer is not satisfied (escalates, second result due in 3 working days)",
)
def reopen(request: HttpRequest, number: Number, payload: ReopenIn) -> dict[str, Any]:
    """Reopens a resolved or closed complaint when the customer is not satisfied; it escalates and a second
    result is due in 3 working days. Customer service and CS supervisors; a complaint that cannot reopen is a
    422."""
    user = _user(request)
    complaint = complaint_get(user=user, number=number)
    return _state(complaint_reopen(complaint=complaint, reason=payload.reason, actor=user, via=Via.API))


@router.get(
    "/complaints/{number}/closing-checklist",
    response={200: ChecklistOut, **ONE_ERRORS},
    summary="What closing still waits for",
    operation_id="complaints_closing_checklist_get",
)
def checklist(request: HttpRequest, number: Number) -> dict[str, Any]:
    """What closing still waits for: the follow-up outcome, feedback forms to approve, open tasks. An unknown or
    invisible complaint is a 404."""
    complaint = complaint_get(user=_user(request), number=number)
    result = closing_checklist(complaint)
    return {
        "number": complaint.number,
        "status": complaint.status,
        "can_close_now": result.ready,
        "items": [vars(item) for item in result.items],
    }


@router.post(
    "/complaints/{number}/close",
    response={200: ClosingStateOut, **ONE_WRITE_ERRORS},
    summary="Close: needs a follow-up outcome and every feedback form approved",
)
def close(request: HttpRequest, number: Number) -> dict[str, Any]:
    """Closes a complaint (customer service and CS supervisors) once it has a follow-up outcome and every
    feedback form is approved. Otherwise a 422 (`complaint.transition_not_allowed`) naming what is missing."""
    user = _user(request)
    complaint = complaint_get(user=user, number=number)
    return _state(complaint_transition(complaint=complaint, action="close", actor=user, via=Via.API))


@router.post(
    "/complaints/{number}/archive",
    response={200: ClosingStateOut, **ONE_WRITE_ERRORS},
    summary="Archive a closed complaint now (administrators); it is read-only afterwards",
)
def archive(request: HttpRequest, number: Number) -> dict[str, Any]:
    """Archives a closed complaint now (administrators); it is read-only afterwards. A complaint not closed is a
    422."""
    user = _user(request)
    complaint = complaint_get(user=user, number=number)
    return _state(complaint_archive(complaint=complaint, actor=user, via=Via.API))


@router.post(
    "/retention/anonymise",
    response={200: AnonymiseOut, **WRITE_ERRORS},
    summary="Anonymise personal data past the retention period (administrators); dry run by default",
)
def anonymise(request: HttpRequest, payload: AnonymiseIn) -> dict[str, Any]:
    """Anonymises the personal data of customers past the retention period (administrators,
    followup.anonymise_personal_data); a dry run by default reports what it would do. Nothing is deleted:
    events and figures stay."""
    user = _user(request)
    authz.require(user, "followup.anonymise_personal_data")
    result = complaints_anonymise(dry_run=payload.dry_run, actor=user, via=Via.API)
    assert result.run is not None
    return {
        "id": result.run.pk,
        "dry_run": result.dry_run,
        "cutoff": result.cutoff,
        "complaints": result.complaints,
        "customers": result.customers,
        "contacts": result.contacts,
        "attachments": result.attachments,
    }
