"""REST endpoints for follow-ups (回访): the call list, a complaint's rounds, attempts, the customer's
answer, survey links, and the active satisfaction scale. Thin: reads through followup.selectors
(a follow-up is visible exactly when its complaint is; 404 otherwise), writes through the services."""

from __future__ import annotations

import datetime
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, P, PathEx, Query, Router

from closeloop.complaints import selectors as complaint_selectors
from closeloop.complaints.api import Number
from closeloop.complaints.models import Via
from closeloop.complaints.schemas import Text
from closeloop.complaints.services import personal_data_access_record
from closeloop.core.api_responses import ONE_ERRORS, ONE_WRITE_ERRORS, READ_ERRORS
from closeloop.core.api_since import UpdatedSince, updated_since
from closeloop.core.schema import Schema
from closeloop.core.types import User
from closeloop.followup import selectors
from closeloop.followup.models import AttemptResult, FollowUp, FollowUpMethod, SurveyLink
from closeloop.followup.services import followups as services
from closeloop.followup.services.survey import survey_link_create
from closeloop.sla.presentation import time_left

router = Router(tags=["follow-ups"])

FollowUpId = PathEx[int, P(ge=1, le=2**63 - 1, description="the follow-up's id")]


# --- schemas -------------------------------------------------------------------------------------


class LevelOut(Schema):
    code: str
    label_zh: str
    label_en: str
    order: int
    counts_as_satisfied: bool
    reopens: bool


class ScaleOut(Schema):
    code: str
    name: str
    levels: list[LevelOut]


class AttemptOut(Schema):
    id: int
    at: datetime.datetime
    by: str | None
    method: str
    result: str
    note: str


class FollowUpCustomerOut(Schema):
    name: str
    phone: str = Field(..., description="masked unless the caller may see personal data")
    masked: bool


class FollowUpOut(Schema):
    id: int
    updated_at: datetime.datetime
    complaint: str
    round: int
    created_at: datetime.datetime
    due_at: datetime.datetime | None
    time_left: str | None = Field(None, description="ok | warning | breached | paused")
    outcome: str = Field(..., description="'' while open; satisfied | unsatisfied | unreachable")
    method: str
    solved: bool | None
    level: str | None
    level_label: str | None
    comments: str
    suggestions: str
    completed_at: datetime.datetime | None
    completed_by: str | None
    attempts: list[AttemptOut]


class CallListItemOut(FollowUpOut):
    customer: FollowUpCustomerOut


class CallListFilters(Schema):
    due: Literal["today", "overdue", "all"] = "all"
    limit: int = Field(100, ge=1, le=500)
    offset: int = Field(0, ge=0, le=10_000_000)


class CallListPage(Schema):
    items: list[CallListItemOut]
    count: int


class AttemptIn(Schema):
    method: Literal["phone", "sms", "email"] = "phone"
    result: AttemptResult
    note: Text = Field("", max_length=services.NOTE_MAX_LENGTH)


class RecordIn(Schema):
    method: FollowUpMethod = FollowUpMethod.PHONE
    solved: bool = Field(..., description="is the customer's problem solved?")
    level: Text = Field(..., max_length=40, description="a level code of GET /satisfaction-scale")
    comments: Text = Field("", max_length=services.TEXT_MAX_LENGTH)
    suggestions: Text = Field("", max_length=services.TEXT_MAX_LENGTH)


class SurveyLinkIn(Schema):
    method: Literal["sms", "email"]


class SurveyLinkOut(Schema):
    id: int
    followup: int
    method: str
    expires_at: datetime.datetime


# --- serialisation -------------------------------------------------------------------------------


def _user(request: HttpRequest) -> User:
    return request.auth  # type: ignore[attr-defined]  # the user, put there by the API's authentication


def _name(user: Any) -> str | None:
    if user is None:
        return None
    return user.get_full_name() or user.get_username()


def _out(followup: FollowUp) -> dict[str, Any]:
    due_at = getattr(followup, "due_at", None)
    level = followup.satisfaction
    badge = None
    if due_at is not None and not followup.outcome:
        badge = time_left(due_at=due_at, warn_at=followup.warn_at, paused=followup.paused_at is not None)  # type: ignore[attr-defined]  # annotated by the selector
    return {
        "id": followup.pk,
        "updated_at": followup.updated_at,
        "complaint": followup.complaint.number,
        "round": followup.round,
        "created_at": followup.created_at,
        "due_at": due_at,
        "time_left": badge.state if badge is not None else None,
        "outcome": followup.outcome,
        "method": followup.method,
        "solved": followup.solved,
        "level": level.code if level else None,
        "level_label": level.label_zh if level else None,
        "comments": followup.comments,
        "suggestions": followup.suggestions,
        "completed_at": followup.completed_at,
        "completed_by": _name(followup.completed_by),
        "attempts": [
            {"id": a.pk, "at": a.at, "by": _name(a.by), "method": a.method, "result": a.result, "note": a.note}
            for a in followup.attempts.all()
        ],
    }


def _one(request: HttpRequest, pk: int) -> dict[str, Any]:
    followup = selectors.followup_get(user=_user(request), pk=pk)
    return _out(followup)


def _since(updated_at: datetime.datetime, since: UpdatedSince) -> bool:
    """For a complaint's own short lists, read whole: the same rule as core/api_since.updated_since."""
    return since.updated_since is None or updated_at >= since.updated_since


# --- endpoints -----------------------------------------------------------------------------------


@router.get("/followups", response={200: CallListPage, **READ_ERRORS}, summary="Open follow-ups (the call list)")
def followup_list(request: HttpRequest, filters: Query[CallListFilters], since: Query[UpdatedSince]) -> dict[str, Any]:
    """The follow-up call list: open follow-ups due now or later, with the customer's name and phone (masked for
    roles without personal data; each unmasked page is logged). Needs followup.make_followup."""
    user = _user(request)
    queryset = updated_since(selectors.followups_open(user=user, due=filters.due), since)
    page = list(queryset[filters.offset : filters.offset + filters.limit])
    items = []
    unmasked = []
    for followup in page:
        contact = complaint_selectors.customer_contact(customer=followup.complaint.customer, user=user)
        if not contact.masked:
            unmasked.append(followup.complaint)
        items.append(
            {**_out(followup), "customer": {"name": contact.name, "phone": contact.phone, "masked": contact.masked}}
        )
    personal_data_access_record(user=user, complaints=unmasked, where="api:followups")
    return {"items": items, "count": queryset.count()}


@router.get(
    "/complaints/{number}/followups",
    response={200: list[FollowUpOut], **ONE_ERRORS},
    summary="The complaint's follow-up rounds",
)
def complaint_followups(request: HttpRequest, number: Number, since: Query[UpdatedSince]) -> list[dict[str, Any]]:
    """The complaint's follow-up rounds with their attempts and outcome. An unknown or invisible complaint is a
    404."""
    complaint = complaint_selectors.complaint_get(user=_user(request), number=number)
    rounds = [r for r in selectors.followups_for_complaint(complaint=complaint) if _since(r.updated_at, since)]
    for followup in rounds:
        followup.complaint = complaint
    return [_out(f) for f in rounds]


@router.post(
    "/followups/{pk}/attempts",
    response={200: FollowUpOut, **ONE_WRITE_ERRORS},
    summary="Record an attempt that did not reach the customer",
)
def followup_attempt_create(request: HttpRequest, pk: FollowUpId, payload: AttemptIn) -> dict[str, Any]:
    """Records a call that did not reach the customer (followup.make_followup); after the last allowed attempt
    the follow-up ends as unreachable. A finished follow-up is a 422."""
    followup = selectors.followup_get(user=_user(request), pk=pk)
    services.followup_attempt(
        followup=followup,
        method=payload.method,
        result=payload.result.value,
        note=payload.note,
        actor=_user(request),
        via=Via.API,
    )
    return _one(request, pk)


@router.post(
    "/followups/{pk}/record",
    response={200: FollowUpOut, **ONE_WRITE_ERRORS},
    summary="Record the customer's answer (not solved or a reopening level reopens the complaint)",
)
def followup_record_create(request: HttpRequest, pk: FollowUpId, payload: RecordIn) -> dict[str, Any]:
    """Records the customer's answer and satisfaction (followup.make_followup); not solved, or a level that
    reopens, reopens and escalates the complaint. A finished follow-up is a 422; an unknown level a 422."""
    followup = selectors.followup_get(user=_user(request), pk=pk)
    services.followup_record(
        followup=followup,
        method=payload.method.value,
        solved=payload.solved,
        level=payload.level,
        comments=payload.comments,
        suggestions=payload.suggestions,
        actor=_user(request),
        via=Via.API,
    )
    return _one(request, pk)


@router.post(
    "/followups/{pk}/survey-link",
    response={200: SurveyLinkOut, **ONE_WRITE_ERRORS},
    summary="Send the customer a single-use survey link by SMS or e-mail (through the outbox)",
)
def followup_survey_link(request: HttpRequest, pk: FollowUpId, payload: SurveyLinkIn) -> dict[str, Any]:
    """Sends the customer a single-use survey link by SMS or e-mail through the outbox (followup.make_followup).
    No address for the method is a 422 on `method`; a finished follow-up a 422."""
    followup = selectors.followup_get(user=_user(request), pk=pk)
    survey_link_create(followup=followup, method=payload.method, actor=_user(request), via=Via.API)
    link = SurveyLink.objects.filter(followup=followup).order_by("-created_at", "-id").first()
    assert link is not None
    # The token itself goes to the customer only; it is never stored nor returned.
    return {"id": link.pk, "followup": followup.pk, "method": link.sent_via, "expires_at": link.expires_at}


@router.get("/satisfaction-scale", response={200: ScaleOut, **READ_ERRORS}, summary="The active satisfaction scale")
def satisfaction_scale(request: HttpRequest) -> dict[str, Any]:
    """The active satisfaction scale: its levels, their labels and which of them reopen a complaint."""
    scale = selectors.active_scale()
    return {
        "code": scale.code,
        "name": scale.name,
        "levels": [
            {
                "code": lv.code,
                "label_zh": lv.label_zh,
                "label_en": lv.label_en,
                "order": lv.order,
                "counts_as_satisfied": lv.counts_as_satisfied,
                "reopens": lv.reopens,
            }
            for lv in scale.levels.all()
        ],
    }
