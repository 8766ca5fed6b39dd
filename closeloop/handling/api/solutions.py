"""REST endpoints for solutions: propose, list, approve / reject level by level, execute, tick off
steps, and the approvals waiting for me. Thin: the services decide, `closeloop.api` turns their
errors into 403 / 422, and a solution or complaint the user may not see is a 404."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, P, PathEx, Query, Router, Status

from closeloop.complaints import selectors
from closeloop.complaints.api import ONE_ERRORS, ONE_WRITE_ERRORS, READ_ERRORS, Number
from closeloop.complaints.models import Via
from closeloop.complaints.schemas import Text
from closeloop.core.api_since import UpdatedSince, updated_since
from closeloop.core.errors import DomainError
from closeloop.core.schema import Schema
from closeloop.core.types import User
from closeloop.handling.models import CompensationForm, ExecutionStep, Measure, Solution, SolutionStatus, Task
from closeloop.handling.services import solutions as services

router = Router(tags=["solutions"])

Id = PathEx[int, P(ge=1, le=2**31 - 1)]


# --- schemas -------------------------------------------------------------------------------------


class StepIn(Schema):
    description: Text = Field(..., max_length=300)
    owner: Text | None = Field(None, max_length=150, description="username of the person who does it")
    due_date: datetime.date | None = None


class SolutionProposeIn(Schema):
    task: int = Field(..., ge=1, le=2**31 - 1, description="id of the department task the solution answers")
    measures: list[Measure] = Field(..., max_length=len(Measure.values))
    description: Text = Field(..., max_length=10000)
    compensation_amount: Decimal | None = Field(None, max_digits=10, decimal_places=2, description="CNY")
    compensation_form: CompensationForm | None = None
    custom_made: bool = False
    steps: list[StepIn] = Field(default_factory=list, max_length=services.MAX_STEPS)


class SolutionApproveIn(Schema):
    reason: Text = Field("", max_length=10000, description="optional remark")


class RejectIn(Schema):
    reason: Text = Field(..., max_length=10000)


class StepDoneIn(Schema):
    note: Text = Field("", max_length=2000)


class ApprovalOut(Schema):
    level: int
    role: str
    decided_by: str
    decided_at: datetime.datetime
    approved: bool
    note: str


class ExecutionStepOut(Schema):
    id: int
    description: str
    owner: str | None
    due_date: datetime.date | None
    done_at: datetime.datetime | None
    done_by: str | None
    note: str


class SolutionOut(Schema):
    id: int
    updated_at: datetime.datetime
    complaint: str = Field(description="the complaint's number")
    task: int | None
    department: str | None = Field(description="code of the proposing department")
    status: SolutionStatus
    status_label: str
    measures: list[str]
    description: str
    compensation_amount: Decimal | None
    compensation_form: str
    custom_made: bool
    proposed_by: str
    proposed_at: datetime.datetime
    required_levels: list[str] = Field(description="roles whose approval is needed, in order")
    approved_levels: int
    next_role: str | None = Field(description="the role that decides the next level, if any")
    decided_at: datetime.datetime | None
    rejection_reason: str
    approvals: list[ApprovalOut]
    steps: list[ExecutionStepOut]


# --- helpers -------------------------------------------------------------------------------------


def _user(request: HttpRequest) -> User:
    return request.auth  # type: ignore[attr-defined]  # the user, put there by the API's authentication


def _name(user: Any) -> str | None:
    return user.get_username() if user is not None else None


def _out(solution: Solution) -> dict[str, Any]:
    return {
        "id": solution.pk,
        "updated_at": solution.updated_at,
        "complaint": solution.complaint.number,
        "task": solution.task_id,
        "department": solution.task.department.code if solution.task_id else None,  # type: ignore[union-attr]  # the id was tested: the relation is set
        "status": solution.status,
        "status_label": solution.get_status_display(),
        "measures": list(solution.measures),
        "description": solution.description,
        "compensation_amount": solution.compensation_amount,
        "compensation_form": solution.compensation_form,
        "custom_made": solution.custom_made,
        "proposed_by": _name(solution.proposed_by),
        "proposed_at": solution.proposed_at,
        "required_levels": list(solution.required_levels),
        "approved_levels": solution.approved_levels,
        "next_role": solution.next_role,
        "decided_at": solution.decided_at,
        "rejection_reason": solution.rejection_reason,
        "approvals": [
            {
                "level": a.level,
                "role": a.role,
                "decided_by": _name(a.decided_by),
                "decided_at": a.decided_at,
                "approved": a.approved,
                "note": a.note,
            }
            for a in solution.approvals.all()
        ],
        "steps": [
            {
                "id": s.pk,
                "description": s.description,
                "owner": _name(s.owner),
                "due_date": s.due_date,
                "done_at": s.done_at,
                "done_by": _name(s.done_by),
                "note": s.note,
            }
            for s in solution.steps.all()
        ],
    }


def _visible_solution(user: User, solution_id: int) -> Solution:
    """Solution.DoesNotExist (→ 404) when it does not exist or its complaint is out of the user's scope."""
    return Solution.objects.select_related("complaint", "task").get(
        pk=solution_id, complaint__in=selectors.complaints_visible_to(user)
    )


def _fresh(solution_id: int) -> dict[str, Any]:
    solution = (
        Solution.objects.select_related("complaint", "proposed_by", "task__department")
        .prefetch_related("approvals__decided_by", "steps__owner", "steps__done_by")
        .get(pk=solution_id)
    )
    return _out(solution)


def _steps(payload: SolutionProposeIn) -> list[services.StepData]:
    names = {s.owner.strip() for s in payload.steps if s.owner and s.owner.strip()}
    User = get_user_model()
    owners = {u.get_username(): u for u in User.objects.filter(username__in=names, is_active=True)}
    unknown = sorted(names - owners.keys())
    if unknown:
        raise DomainError(_("Unknown step owner: %(names)s.") % {"names": ", ".join(unknown)}, field="steps")
    return [
        services.StepData(
            description=s.description,
            owner=owners.get(s.owner.strip()) if s.owner and s.owner.strip() else None,
            due_date=s.due_date,
        )
        for s in payload.steps
    ]


# --- endpoints -----------------------------------------------------------------------------------


@router.post(
    "/complaints/{number}/solutions",
    response={201: SolutionOut, **ONE_WRITE_ERRORS},
    summary="Propose a solution (the task's handler or the department's manager)",
)
def solution_propose(request: HttpRequest, number: Number, payload: SolutionProposeIn) -> Status:
    """The task's handler or the department's manager proposes a solution with its measures and execution steps
    (handling.propose_solution); it then waits for approval by level. A complaint or task not in a state to
    propose is a 422."""
    user = _user(request)
    complaint = selectors.complaint_get(user=user, number=number)
    try:
        task = Task.objects.get(pk=payload.task, complaint=complaint)
    except Task.DoesNotExist:
        raise DomainError(_("This complaint has no such task."), field="task") from None
    solution = services.solution_propose(
        complaint=complaint,
        task=task,
        measures=[m.value for m in payload.measures],
        description=payload.description,
        compensation_amount=payload.compensation_amount,
        compensation_form=payload.compensation_form.value if payload.compensation_form else "",
        custom_made=payload.custom_made,
        steps=_steps(payload),
        actor=user,
        via=Via.API,
    )
    return Status(201, _fresh(solution.pk))


@router.get(
    "/complaints/{number}/solutions",
    response={200: list[SolutionOut], **ONE_ERRORS},
    summary="The complaint's solutions, newest first, with approvals and steps",
)
def solution_list(request: HttpRequest, number: Number, since: Query[UpdatedSince]) -> list[dict[str, Any]]:
    """The complaint's solutions, newest first, with their approvals by level and execution steps. An unknown or
    invisible complaint is a 404."""
    complaint = selectors.complaint_get(user=_user(request), number=number)
    return [_out(s) for s in updated_since(services.solutions_of(complaint=complaint), since)]


@router.post(
    "/solutions/{solution_id}/approve",
    response={200: SolutionOut, **ONE_WRITE_ERRORS},
    summary="Approve the level waiting for one of your roles",
)
def solution_approve(request: HttpRequest, solution_id: Id, payload: SolutionApproveIn | None = None) -> dict[str, Any]:
    """Approves the level of a solution that waits for one of the caller's roles (handling.decide_solution); the
    next level or execution follows. A solution not waiting for the caller is a 422."""
    user = _user(request)
    solution = _visible_solution(user, solution_id)
    reason = payload.reason if payload is not None else ""
    services.solution_decide(solution=solution, approve=True, reason=reason, actor=user, via=Via.API)
    return _fresh(solution.pk)


@router.post(
    "/solutions/{solution_id}/reject",
    response={200: SolutionOut, **ONE_WRITE_ERRORS},
    summary="Reject the solution at the level waiting for one of your roles; a reason is required",
)
def solution_reject(request: HttpRequest, solution_id: Id, payload: RejectIn) -> dict[str, Any]:
    """Rejects the solution at the level waiting for one of the caller's roles, with a required reason
    (handling.decide_solution); the handler proposes again. An empty reason is a 422; a solution not waiting
    for the caller a 422."""
    user = _user(request)
    solution = _visible_solution(user, solution_id)
    services.solution_decide(solution=solution, approve=False, reason=payload.reason, actor=user, via=Via.API)
    return _fresh(solution.pk)


@router.post(
    "/solutions/{solution_id}/execute",
    response={200: SolutionOut, **ONE_WRITE_ERRORS},
    summary="Start executing an approved solution",
)
def solution_execute(request: HttpRequest, solution_id: Id) -> dict[str, Any]:
    """Starts executing an approved solution (handling.execute_solution). A solution not approved is a 422."""
    user = _user(request)
    solution = _visible_solution(user, solution_id)
    services.solution_execute(solution=solution, actor=user, via=Via.API)
    return _fresh(solution.pk)


@router.post(
    "/solutions/{solution_id}/steps/{step_id}/done",
    response={200: SolutionOut, **ONE_WRITE_ERRORS},
    summary="Mark an execution step done (its owner, the department or customer service)",
)
def solution_step_done(
    request: HttpRequest, solution_id: Id, step_id: Id, payload: StepDoneIn | None = None
) -> dict[str, Any]:
    """Marks an execution step done (its owner, the department or customer service: handling.mark_step_done); the
    last one completes the solution. A step already done is a 422."""
    user = _user(request)
    solution = _visible_solution(user, solution_id)
    step = ExecutionStep.objects.select_related("solution__task").get(pk=step_id, solution=solution)
    note = payload.note if payload is not None else ""
    services.execution_step_done(step=step, note=note, actor=user, via=Via.API)
    return _fresh(solution.pk)


@router.get(
    "/approvals",
    response={200: list[SolutionOut], **READ_ERRORS},
    summary="Solutions waiting for a level that one of your roles decides, oldest first",
)
def approvals_pending(request: HttpRequest, since: Query[UpdatedSince]) -> list[dict[str, Any]]:
    """The solutions waiting for a level that one of the caller's roles decides, oldest first: the approvals
    inbox."""
    return [_out(s) for s in services.solutions_awaiting(user=_user(request), since=since.updated_since)]
