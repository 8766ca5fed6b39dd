"""REST endpoints of the improvement app: the list with its filters, one action with its measured effect,
what the create form would propose for a source, creation, and the owner's and quality's steps.

Thin: reads through `improvement.selectors` (an action is visible as on the desk; 404 otherwise), writes
through `improvement.services`. People are named by username, departments, product lines and complaint
types by code, products by model, complaints by number.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, P, PathEx, Query, Router, Status

from closeloop.complaints.models import Complaint, Via
from closeloop.complaints.schemas import Text
from closeloop.core.api_responses import ONE_ERRORS, ONE_WRITE_ERRORS, READ_ERRORS, WRITE_ERRORS
from closeloop.core.api_since import UpdatedSince, updated_since
from closeloop.core.errors import DomainError, PermissionDeniedError
from closeloop.core.schema import Schema
from closeloop.core.types import User
from closeloop.directory.models import CauseCategory, ComplaintType, Department, Product, ProductLine
from closeloop.improvement import selectors, services
from closeloop.improvement.evaluation import action_evaluate
from closeloop.improvement.models import ActionSource, ActionStatus, ImprovementAction

router = Router(tags=["improvement actions"])

# An action's id in a path; bounded so that no database is asked for an id it cannot store.
ActionId = PathEx[int, P(ge=1, le=2**63 - 1, description="the improvement action's id")]
RecordId = Field(None, ge=1, le=2**63 - 1)


# --- schemas -------------------------------------------------------------------------------------------------


class JudgementOut(Schema):
    effective: bool
    note: str
    by: str | None = Field(description="username")
    at: datetime.datetime | None


class ImprovementActionOut(Schema):
    id: int
    updated_at: datetime.datetime
    number: str = Field(description="GJ + year and month + sequence, e.g. GJ202611-001")
    title: str
    description: str
    source: ActionSource
    source_label: str
    feedback_form: int | None
    followup: int | None
    incident: int | None
    report: int | None
    complaint: str | None = Field(description="the complaint's number")
    product_line: str | None = Field(description="code")
    product: str | None = Field(description="model")
    complaint_type: str | None = Field(description="code")
    root_cause: str
    cause_category: str | None = Field(None, description="the root-cause category's code")
    owner_department: str = Field(description="code")
    owner: str = Field(description="username")
    status: ActionStatus
    status_label: str
    target: str = Field(description="the deadline as given: a duration such as 20wd, or a date")
    due_at: datetime.datetime
    warn_at: datetime.datetime
    overdue: bool
    warned_at: datetime.datetime | None
    breached_at: datetime.datetime | None
    created_at: datetime.datetime
    created_by: str | None
    started_at: datetime.datetime | None
    done_at: datetime.datetime | None
    done_note: str
    window_days: int
    owner_judgement: JudgementOut | None
    quality_judgement: JudgementOut | None
    verified_at: datetime.datetime | None


class FiguresOut(Schema):
    complaints: int = Field(description="targeted complaints received in the window")
    all_complaints: int = Field(description="all complaints received in the window (the rate's denominator)")
    complaint_rate: float | None = Field(description="percent, one decimal")
    satisfied: int
    rated: int
    satisfaction: float | None = Field(description="percent, one decimal")


class WindowOut(Schema):
    start: str
    end: str


class ChangeOut(Schema):
    complaints: int
    complaint_rate: float | None = Field(description="percentage points")
    satisfaction: float | None = Field(description="percentage points")


class EvaluationOut(Schema):
    window_days: int
    length_seconds: int = Field(description="each window's length; shorter than window_days while it runs")
    shortened: bool
    before_window: WindowOut
    after_window: WindowOut
    before: FiguresOut
    after: FiguresOut
    change: ChangeOut


class ActionEventOut(Schema):
    at: datetime.datetime
    kind: str
    actor: str | None
    via: str
    before: dict[str, Any]
    after: dict[str, Any]
    note: str


class AllowedOut(Schema):
    start: bool
    complete: bool
    judge_owner: bool
    judge_quality: bool


class ActionDetailOut(ImprovementActionOut):
    evaluation: EvaluationOut | None = Field(description="null until the action is done")
    events: list[ActionEventOut]
    allowed: AllowedOut = Field(description="what the requesting user may do now")


class ActionPage(Schema):
    items: list[ImprovementActionOut]
    count: int


class ActionFiltersIn(Schema):
    status: ActionStatus | None = None
    department: Text | None = Field(None, max_length=40, description="owner department's code")
    owner: Text | None = Field(None, max_length=150, description="username")
    overdue: bool = Field(False, description="only actions not done and past their deadline")
    source: ActionSource | None = None
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=10_000_000)


class SourcesIn(Schema):
    feedback_form: int | None = RecordId
    followup: int | None = RecordId
    incident: int | None = RecordId
    report: int | None = RecordId
    complaint: Text | None = Field(None, max_length=20, description="a complaint's number")


class ActionIn(Schema):
    source: ActionSource
    feedback_form: int | None = RecordId
    followup: int | None = RecordId
    incident: int | None = RecordId
    report: int | None = RecordId
    complaint: Text | None = Field(None, max_length=20, description="the complaint's number (optional)")
    title: Text = Field(..., max_length=200)
    description: Text = Field(..., max_length=10000)
    product_line: Text | None = Field(None, max_length=40, description="code")
    product: Text | None = Field(None, max_length=60, description="model")
    complaint_type: Text | None = Field(None, max_length=40, description="code")
    root_cause: Text = Field("", max_length=200)
    cause_category: Text | None = Field(
        None, max_length=40, description="a root-cause category's code, e.g. man-training"
    )
    owner_department: Text = Field(..., max_length=40, description="code")
    owner: Text = Field(..., max_length=150, description="username; a member of the owner department")
    target: Text | None = Field(None, max_length=20, description="time allowed on the working calendar, e.g. 20wd")
    due_date: datetime.date | None = Field(None, description="or a due date: the end of that working day")
    window_days: int = Field(services.DEFAULT_WINDOW_DAYS, ge=0, le=10000, description="evaluation window, 7–365")


class ActionPrefillOut(Schema):
    source: ActionSource
    feedback_form: int | None
    followup: int | None
    incident: int | None
    report: int | None
    complaint: str | None
    title: str
    description: str
    product_line: str | None
    product: str | None
    complaint_type: str | None
    root_cause: str
    owner_department: str | None
    window_days: int


class CompleteIn(Schema):
    done_note: Text = Field(..., max_length=10000, description="what was done")


class JudgeIn(Schema):
    side: str = Field(..., max_length=10, description="owner | quality")
    effective: bool
    note: Text = Field(..., max_length=10000)


# --- serialisation -------------------------------------------------------------------------------------------


def _user(request: HttpRequest) -> User:
    return request.auth  # type: ignore[attr-defined]  # the user, put there by the API's authentication


def _username(user: Any) -> str | None:
    return user.get_username() if user is not None else None


def _judgement(effective: bool | None, note: str, by: Any, at: Any) -> dict[str, Any] | None:
    if effective is None:
        return None
    return {"effective": effective, "note": note, "by": _username(by), "at": at}


def _out(action: ImprovementAction, now: datetime.datetime) -> dict[str, Any]:
    return {
        "id": action.pk,
        "updated_at": action.updated_at,
        "number": action.number,
        "title": action.title,
        "description": action.description,
        "source": action.source,
        "source_label": str(action.get_source_display()),
        "feedback_form": action.feedback_form_id,
        "followup": action.followup_id,
        "incident": action.incident_id,
        "report": action.report_id,
        "complaint": action.complaint.number if action.complaint else None,
        "product_line": action.product_line.code if action.product_line else None,
        "product": action.product.model if action.product else None,
        "complaint_type": action.complaint_type.code if action.complaint_type else None,
        "root_cause": action.root_cause,
        "cause_category": action.cause_category.code if action.cause_category else None,
        "owner_department": action.owner_department.code,
        "owner": action.owner.get_username(),
        "status": action.status,
        "status_label": str(action.get_status_display()),
        "target": action.target,
        "due_at": action.due_at,
        "warn_at": action.warn_at,
        "overdue": action.done_at is None and action.due_at <= now,
        "warned_at": action.warned_at,
        "breached_at": action.breached_at,
        "created_at": action.created_at,
        "created_by": _username(action.created_by),
        "started_at": action.started_at,
        "done_at": action.done_at,
        "done_note": action.done_note,
        "window_days": action.window_days,
        "owner_judgement": _judgement(
            action.owner_effective, action.owner_note, action.owner_judged_by, action.owner_judged_at
        ),
        "quality_judgement": _judgement(
            action.quality_effective, action.quality_note, action.quality_judged_by, action.quality_judged_at
        ),
        "verified_at": action.verified_at,
    }


def _detail(request: HttpRequest, pk: int) -> dict[str, Any]:
    user = _user(request)
    action = selectors.action_get(user=user, pk=pk)
    now = timezone.now()
    evaluation = action_evaluate(action, now=now)
    allowed = services.action_allowed(action=action, user=user)
    return {
        **_out(action, now),
        "evaluation": evaluation.as_dict() if evaluation else None,
        "events": [
            {
                "at": e.at,
                "kind": e.kind,
                "actor": _username(e.actor),
                "via": e.via,
                "before": e.before,
                "after": e.after,
                "note": e.note,
            }
            for e in selectors.action_events(action)
        ],
        "allowed": {
            "start": allowed.start,
            "complete": allowed.complete,
            "judge_owner": allowed.judge_owner,
            "judge_quality": allowed.judge_quality,
        },
    }


def _lookup(model: Any, field: str, value: str | None, message: str, *, key: str = "code", **filters: Any) -> Any:
    """The row whose `key` is `value` (None for no value); a 422 on `field` when there is none."""
    if not value:
        return None
    row = model.objects.filter(**{key: value.strip()}, **filters).first()
    if row is None:
        raise DomainError(message, field=field)
    return row


def _sources(user: User, data: dict[str, Any]) -> dict[str, Any]:
    """The source records named in the payload, each visible to the user (else a 422 on its field)."""
    refs: dict[str, Any] = {}
    for name in ("feedback_form", "followup", "incident", "report"):
        if data.get(name):
            try:
                refs[name] = selectors.SOURCE_LOOKUPS[name](user=user, pk=data[name])
            except ObjectDoesNotExist:
                raise DomainError(_("The record the action comes from cannot be found."), field=name) from None
    number = (data.get("complaint") or "").strip()
    if number:
        try:
            complaint = selectors.complaints_visible_to(user).get(number=number)
        except Complaint.DoesNotExist:
            raise DomainError(_("There is no such complaint."), field="complaint") from None
        refs["complaint"] = selectors.complaint_source(user=user, pk=complaint.pk)
    return refs


# --- endpoints -----------------------------------------------------------------------------------------------


@router.get("/improvement-actions", response={200: ActionPage, **READ_ERRORS}, summary="Improvement actions I may see")
def improvement_action_list(
    request: HttpRequest, filters: Query[ActionFiltersIn], since: Query[UpdatedSince]
) -> dict[str, Any]:
    """The improvement actions the caller may see (owners and their departments; quality and management all),
    newest first, with filters by status, department, owner, source and overdue."""
    user = _user(request)
    if not selectors.can_view(user):
        raise PermissionDenied(_("You may not see improvement actions."))
    department = owner = None
    if filters.department:
        department = Department.objects.filter(code=filters.department.strip()).values_list("pk", flat=True).first()
        department = department or 0  # an unknown code matches nothing
    if filters.owner:
        owner = get_user_model().objects.filter(username=filters.owner.strip()).values_list("pk", flat=True).first()
        owner = owner or 0
    now = timezone.now()
    queryset = selectors.action_list(
        user=user,
        filters=selectors.ActionFilters(
            status=filters.status.value if filters.status else "",
            department=department,
            owner=owner,
            overdue=filters.overdue,
            source=filters.source.value if filters.source else "",
        ),
        now=now,
    )
    queryset = updated_since(queryset, since)
    page = list(queryset[filters.offset : filters.offset + filters.limit])
    return {"items": [_out(action, now) for action in page], "count": queryset.count()}


@router.get(
    "/improvement-actions/prefill",
    response={200: ActionPrefillOut, **ONE_ERRORS},
    summary="What a new action from this source would propose",
)
def improvement_action_prefill(request: HttpRequest, sources: Query[SourcesIn]) -> dict[str, Any]:
    """What a new action from this complaint, incident or report would propose (title, department, description),
    for a form to start from. An unknown or invisible source is a 404."""
    user = _user(request)
    if not services.can_create(user):
        raise PermissionDeniedError(_("You may not raise improvement actions."))
    try:
        refs = _sources(user, sources.dict())
    except DomainError:
        raise ObjectDoesNotExist from None  # a source that is not there (or not visible): 404
    values = services.action_prefill(**refs)

    def pk(name: str) -> int | None:
        row = values.get(name)
        return row.pk if row is not None else None

    def code(name: str) -> str | None:
        row = values.get(name)
        return row.code if row is not None else None

    return {
        "source": values["source"],
        **{name: pk(name) for name in ("feedback_form", "followup", "incident", "report")},
        "complaint": values["complaint"].number if values.get("complaint") is not None else None,
        "title": values.get("title", ""),
        "description": values.get("description", ""),
        "product_line": code("product_line"),
        "product": values["product"].model if values.get("product") is not None else None,
        "complaint_type": code("complaint_type"),
        "root_cause": values.get("root_cause", ""),
        "owner_department": code("owner_department"),
        "window_days": values["window_days"],
    }


@router.get(
    "/improvement-actions/{pk}",
    response={200: ActionDetailOut, **ONE_ERRORS},
    summary="One action with its measured effect and its events",
)
def improvement_action_retrieve(request: HttpRequest, pk: ActionId) -> dict[str, Any]:
    """One improvement action with its measured effect and its events, if the caller may see it; otherwise a 404."""
    return _detail(request, pk)


@router.post("/improvement-actions", response={201: ActionDetailOut, **WRITE_ERRORS}, summary="Raise an action")
def improvement_action_create(request: HttpRequest, payload: ActionIn) -> Status:
    """Raises an improvement action from a complaint, an incident or a report, with owner, department and due
    date (improvement.create_action). An unknown source or owner is a 422 naming the field."""
    user = _user(request)
    if not services.can_create(user):
        raise PermissionDeniedError(
            _("Only quality, CS supervisors and management (or holders of the permission) raise improvement actions.")
        )
    data = payload.dict()
    refs = _sources(user, data)
    user_model = get_user_model()
    action = services.action_create(
        data=services.ActionInput(
            source=payload.source.value,
            title=payload.title,
            description=payload.description,
            owner_department=_lookup(
                Department, "owner_department", payload.owner_department, _("There is no department with this code.")
            ),
            owner=_lookup(
                user_model, "owner", payload.owner, _("There is no such user."), key="username", is_active=True
            ),
            target=payload.target or "",
            due_date=payload.due_date,
            product_line=_lookup(
                ProductLine, "product_line", payload.product_line, _("There is no product line with this code.")
            ),
            product=_lookup(
                Product,
                "product",
                payload.product,
                _("There is no product with this model number."),
                key="model__iexact",
            ),
            complaint_type=_lookup(
                ComplaintType, "complaint_type", payload.complaint_type, _("There is no complaint type with this code.")
            ),
            root_cause=payload.root_cause,
            cause_category=_lookup(
                CauseCategory,
                "cause_category",
                payload.cause_category,
                _("There is no root-cause category with this code."),
            ),
            window_days=payload.window_days,
            **refs,
        ),
        actor=user,
        via=Via.API,
    )
    return Status(201, _detail(request, action.pk))


@router.post(
    "/improvement-actions/{pk}/start",
    response={200: ActionDetailOut, **ONE_WRITE_ERRORS},
    summary="Start work (owner or a manager of the owner department)",
)
def improvement_action_start(request: HttpRequest, pk: ActionId) -> dict[str, Any]:
    """The owner or a manager of the owner department starts work (improvement.act_as_owner). An action not open
    is a 422."""
    user = _user(request)
    services.action_start(action=selectors.action_get(user=user, pk=pk), actor=user, via=Via.API)
    return _detail(request, pk)


@router.post(
    "/improvement-actions/{pk}/complete",
    response={200: ActionDetailOut, **ONE_WRITE_ERRORS},
    summary="Report it done, with what was done (owner or a manager of the owner department)",
)
def improvement_action_complete(request: HttpRequest, pk: ActionId, payload: CompleteIn) -> dict[str, Any]:
    """The owner side reports the action done, with what was done (improvement.act_as_owner); effect evaluation
    follows. An action not in progress is a 422; an empty description a 422."""
    user = _user(request)
    services.action_complete(
        action=selectors.action_get(user=user, pk=pk), actor=user, done_note=payload.done_note, via=Via.API
    )
    return _detail(request, pk)


@router.post(
    "/improvement-actions/{pk}/judge",
    response={200: ActionDetailOut, **ONE_WRITE_ERRORS},
    summary="Judge the effect as the owner side or as quality; verified once both have",
)
def improvement_action_judge(request: HttpRequest, pk: ActionId, payload: JudgeIn) -> dict[str, Any]:
    """Judges the effect, as the owner side or as quality (improvement.judge_effect_as_quality); verified once
    both have judged it effective. An action not completed is a 422."""
    user = _user(request)
    services.action_judge(
        action=selectors.action_get(user=user, pk=pk),
        actor=user,
        side=payload.side,
        effective=payload.effective,
        note=payload.note,
        via=Via.API,
    )
    return _detail(request, pk)
