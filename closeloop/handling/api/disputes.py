"""REST endpoints for responsibility disputes: thin calls of the same services as the desk."""

from __future__ import annotations

import datetime
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, P, PathEx, Query, Router, Status

from closeloop.complaints.api import ONE_ERRORS, ONE_WRITE_ERRORS, READ_ERRORS
from closeloop.complaints.models import Via
from closeloop.complaints.schemas import Text
from closeloop.complaints.selectors import complaints_visible_to
from closeloop.core.api_since import UpdatedSince, updated_since
from closeloop.core.errors import DomainError, PermissionDeniedError
from closeloop.core.schema import Schema
from closeloop.core.types import User
from closeloop.directory.models import Department
from closeloop.handling.models import Dispute, DisputeStatus, Task
from closeloop.handling.services import disputes as services

# Ids in paths: bounded so that no request reaches the database with a number it cannot hold.
TaskId = PathEx[int, P(ge=1, le=2_147_483_647, description="the department task's id")]
RecordId = PathEx[int, P(ge=1, le=2_147_483_647, description="the record's id")]

router = Router(tags=["disputes"])


class DisputeIn(Schema):
    reason: Text = Field("", max_length=2000, description="why the dispatch is contested")
    suggested_department: Text | None = Field(None, max_length=40, description="code of the department suggested")


class DisputeDecideIn(Schema):
    move_to: Text | None = Field(
        description="code of the responsible department; null upholds the dispatch", max_length=40
    )
    note: Text = Field("", max_length=2000)


class DisputeOut(Schema):
    id: int
    updated_at: datetime.datetime
    complaint: str = Field(description="the complaint's number")
    task: int
    department: str = Field(description="code of the contesting task's department")
    status: DisputeStatus
    status_label: str
    raised_by: str
    raised_at: datetime.datetime
    reason: str
    suggested_department: str | None
    decided_by: str | None
    decided_at: datetime.datetime | None
    decision_note: str
    target_department: str | None
    new_task: int | None
    time_lost_seconds: int = Field(description="raised → decided (or until now while pending)")


class DisputeFilters(Schema):
    status: DisputeStatus | None = None
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=1_000_000)


def _user(request: HttpRequest) -> User:
    return request.auth  # type: ignore[attr-defined]  # the user, put there by the API's authentication


def _code(department: Department | None) -> str | None:
    return department.code if department is not None else None


def _out(dispute: Dispute) -> dict[str, Any]:
    return {
        "id": dispute.pk,
        "updated_at": dispute.updated_at,
        "complaint": dispute.task.complaint.number,
        "task": dispute.task_id,
        "department": dispute.task.department.code,
        "status": dispute.status,
        "status_label": str(dispute.get_status_display()),
        "raised_by": dispute.raised_by.get_username(),
        "raised_at": dispute.raised_at,
        "reason": dispute.reason,
        "suggested_department": _code(dispute.suggested_department),
        "decided_by": dispute.decided_by.get_username() if dispute.decided_by else None,
        "decided_at": dispute.decided_at,
        "decision_note": dispute.decision_note,
        "target_department": _code(dispute.target_department),
        "new_task": dispute.new_task_id,
        "time_lost_seconds": int(dispute.time_lost.total_seconds()),
    }


def _department(code: str | None, field: str) -> Department | None:
    """A department named in a body: unknown is bad input (422 on the field), not a 404."""
    if not code:
        return None
    try:
        return Department.objects.get(code=code.strip())
    except Department.DoesNotExist:
        raise DomainError(_("There is no department with this code."), field=field) from None


def _visible(user: User, pk: int) -> Dispute:
    return services.disputes_visible_to(user).get(pk=pk)  # DoesNotExist → 404


@router.post(
    "/tasks/{task_id}/disputes",
    response={201: DisputeOut, **ONE_WRITE_ERRORS},
    summary="Contest a dispatch",
)
def dispute_create(request: HttpRequest, task_id: TaskId, payload: DisputeIn) -> Status:
    """A department contests a dispatch it believes is not its responsibility, with a reason
    (handling.raise_dispute); quality adjudicates. A task already replied to is a 422; an empty reason a 422."""
    user = _user(request)
    task = Task.objects.filter(complaint__in=complaints_visible_to(user)).get(pk=task_id)
    dispute = services.dispute_raise(
        task=task,
        reason=payload.reason,
        suggested_department=_department(payload.suggested_department, "suggested_department"),
        actor=user,
        via=Via.API,
    )
    return Status(201, _out(_visible(user, dispute.pk)))


@router.get("/disputes", response={200: list[DisputeOut], **READ_ERRORS}, summary="Responsibility disputes")
def dispute_list(
    request: HttpRequest, filters: Query[DisputeFilters], since: Query[UpdatedSince]
) -> list[dict[str, Any]]:
    """Disputes on complaints the caller may see, newest first."""
    qs = updated_since(services.disputes_visible_to(_user(request)), since).order_by("-raised_at", "-id")
    if filters.status:
        qs = qs.filter(status=filters.status)
    return [_out(d) for d in qs[filters.offset : filters.offset + filters.limit]]


@router.get("/disputes/{pk}", response={200: DisputeOut, **ONE_ERRORS}, summary="One dispute")
def dispute_detail(request: HttpRequest, pk: RecordId) -> dict[str, Any]:
    """One responsibility dispute with its decision, if the caller may see its complaint; otherwise a 404."""
    return _out(_visible(_user(request), pk))


@router.post(
    "/disputes/{pk}/decide",
    response={200: DisputeOut, **ONE_WRITE_ERRORS},
    summary="Quality names the responsible department",
)
def dispute_decide(request: HttpRequest, pk: RecordId, payload: DisputeDecideIn) -> dict[str, Any]:
    """Quality names the department responsible (handling.decide_dispute); the task moves there or stays. A
    dispute already decided is a 422; an unknown department a 422."""
    user = _user(request)
    dispute = _visible(user, pk)
    if not services.dispute_may_decide(user=user):  # a 403 before any complaint about the body
        raise PermissionDeniedError(_("Only quality may adjudicate a responsibility dispute."))
    move_to = _department(payload.move_to, "move_to")
    dispute = services.dispute_decide(dispute=dispute, move_to=move_to, note=payload.note, actor=user, via=Via.API)
    return _out(_visible(user, dispute.pk))
