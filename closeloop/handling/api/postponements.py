"""REST endpoints for postponement requests (推迟回访申请): thin calls of the same services as the desk.

A task or request on a complaint the user may not see is a 404; a role that may not act is a 403; a
refused rule (missing reason, wrong state, a date not later than the deadline) is a 422 on its field.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, P, PathEx, Query, Router, Status
from pydantic import AwareDatetime

from closeloop.complaints.api import ONE_ERRORS, ONE_WRITE_ERRORS, READ_ERRORS
from closeloop.complaints.models import Via
from closeloop.complaints.schemas import Text
from closeloop.complaints.selectors import complaints_visible_to
from closeloop.core.api_since import UpdatedSince, updated_since
from closeloop.core.schema import Schema
from closeloop.core.types import User
from closeloop.handling.models import Postponement, PostponementStatus, Task
from closeloop.handling.services import postponements as services

# Ids in paths: bounded so that no request reaches the database with a number it cannot hold.
TaskId = PathEx[int, P(ge=1, le=2_147_483_647, description="the department task's id")]
RecordId = PathEx[int, P(ge=1, le=2_147_483_647, description="the record's id")]

router = Router(tags=["postponements"])


class PostponementIn(Schema):
    reason: Text = Field("", max_length=2000, description="why the reply deadline cannot be met")
    proposed_due: AwareDatetime = Field(description="the proposed new reply deadline, with its time zone")


class OpinionIn(Schema):
    agrees: bool
    opinion: Text = Field("", max_length=2000)


class ConfirmIn(Schema):
    agrees: bool
    note: Text = Field("", max_length=2000, description="required when disagreeing with the manager")


class DecideIn(Schema):
    approve: bool
    note: Text = Field("", max_length=2000)


class PostponementStepOut(Schema):
    by: str | None
    at: datetime.datetime | None
    agrees: bool | None
    text: str


class PostponementOut(Schema):
    id: int
    updated_at: datetime.datetime
    complaint: str = Field(description="the complaint's number")
    task: int
    department: str = Field(description="code of the task's department")
    status: PostponementStatus
    status_label: str
    requested_by: str
    requested_at: datetime.datetime
    reason: str
    proposed_due: datetime.datetime
    original_due: datetime.datetime | None = Field(description="the reply deadline before an approved move")
    manager: PostponementStepOut
    customer_service: PostponementStepOut
    management: PostponementStepOut
    next_step: str | None = Field(description="opinion, confirm or decide, if the caller may take it now")


class PostponementFilters(Schema):
    status: PostponementStatus | None = None
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=1_000_000)


def _user(request: HttpRequest) -> User:
    return request.auth  # type: ignore[attr-defined]  # the user, put there by the API's authentication


def _name(user: User | None) -> str | None:
    return user.get_username() if user is not None else None


def _out(postponement: Postponement, user: User, managed: set[int] | None = None) -> dict[str, Any]:
    p = postponement
    return {
        "id": p.pk,
        "updated_at": p.updated_at,
        "complaint": p.task.complaint.number,
        "task": p.task_id,
        "department": p.task.department.code,
        "status": p.status,
        "status_label": str(p.get_status_display()),
        "requested_by": _name(p.requested_by),
        "requested_at": p.requested_at,
        "reason": p.reason,
        "proposed_due": p.proposed_due,
        "original_due": p.original_due,
        "manager": {"by": _name(p.manager), "at": p.manager_at, "agrees": p.manager_agrees, "text": p.manager_opinion},
        "customer_service": {"by": _name(p.cs_by), "at": p.cs_at, "agrees": p.cs_agrees, "text": p.cs_note},
        "management": {
            "by": _name(p.management_by),
            "at": p.management_at,
            "agrees": p.management_agrees,
            "text": p.management_note,
        },
        "next_step": services.postponement_step_for(postponement=p, user=user, managed=managed),
    }


def _visible(user: User, pk: int) -> Postponement:
    return services.postponements_visible_to(user).get(pk=pk)  # DoesNotExist → 404


def _reread(user: User, postponement: Postponement) -> dict[str, Any]:
    return _out(_visible(user, postponement.pk), user)


@router.post(
    "/tasks/{task_id}/postponements",
    response={201: PostponementOut, **ONE_WRITE_ERRORS},
    summary="Ask for a later reply deadline",
)
def postponement_create(request: HttpRequest, task_id: TaskId, payload: PostponementIn) -> Status:
    """The handler asks for a later reply deadline with a reason (handling.request_postponement); the manager
    gives an opinion and customer service confirms. A date not after the current deadline is a 422 on
    `proposed_due`; a task that cannot be postponed a 422."""
    user = _user(request)
    task = Task.objects.filter(complaint__in=complaints_visible_to(user)).get(pk=task_id)
    postponement = services.postponement_request(
        task=task, reason=payload.reason, proposed_due=payload.proposed_due, actor=user, via=Via.API
    )
    return Status(201, _reread(user, postponement))


@router.get("/postponements", response={200: list[PostponementOut], **READ_ERRORS}, summary="Postponement requests")
def postponement_list(
    request: HttpRequest, filters: Query[PostponementFilters], since: Query[UpdatedSince]
) -> list[dict[str, Any]]:
    """Requests on complaints the caller may see, newest first."""
    user = _user(request)
    qs = updated_since(services.postponements_visible_to(user), since).order_by("-requested_at", "-id")
    if filters.status:
        qs = qs.filter(status=filters.status)
    rows = list(qs[filters.offset : filters.offset + filters.limit])
    managed = services.managed_department_ids(user)
    return [_out(row, user, managed) for row in rows]


@router.get("/postponements/{pk}", response={200: PostponementOut, **ONE_ERRORS}, summary="One request")
def postponement_detail(request: HttpRequest, pk: RecordId) -> dict[str, Any]:
    """One postponement request with its opinions and decision, if the caller may see its complaint; otherwise a
    404."""
    user = _user(request)
    return _out(_visible(user, pk), user)


@router.post(
    "/postponements/{pk}/opinion",
    response={200: PostponementOut, **ONE_WRITE_ERRORS},
    summary="The department manager's opinion",
)
def postponement_opinion(request: HttpRequest, pk: RecordId, payload: OpinionIn) -> dict[str, Any]:
    """The department's manager agrees or not with the request, with a note. Only a manager of the task's
    department; a request not waiting for an opinion is a 422."""
    user = _user(request)
    postponement = services.postponement_manager_opinion(
        postponement=_visible(user, pk), agrees=payload.agrees, opinion=payload.opinion, actor=user, via=Via.API
    )
    return _reread(user, postponement)


@router.post(
    "/postponements/{pk}/confirm",
    response={200: PostponementOut, **ONE_WRITE_ERRORS},
    summary="Customer service confirms (or sends it to management)",
)
def postponement_confirm(request: HttpRequest, pk: RecordId, payload: ConfirmIn) -> dict[str, Any]:
    """Customer service confirms the new deadline, or sends a request the manager opposed to management
    (handling.confirm_postponement). A request not waiting for confirmation is a 422."""
    user = _user(request)
    postponement = services.postponement_cs_confirm(
        postponement=_visible(user, pk), agrees=payload.agrees, note=payload.note, actor=user, via=Via.API
    )
    return _reread(user, postponement)


@router.post(
    "/postponements/{pk}/decide",
    response={200: PostponementOut, **ONE_WRITE_ERRORS},
    summary="Management decides a disputed request",
)
def postponement_decide(request: HttpRequest, pk: RecordId, payload: DecideIn) -> dict[str, Any]:
    """Management decides a disputed postponement request (handling.decide_postponement). A request not sent to
    management is a 422."""
    user = _user(request)
    postponement = services.postponement_management_decide(
        postponement=_visible(user, pk), approve=payload.approve, note=payload.note, actor=user, via=Via.API
    )
    return _reread(user, postponement)
