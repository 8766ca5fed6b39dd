"""REST endpoints for the responsible person's feedback form (责任人反馈表).

Thin: reads through the feedback selectors (a form is visible exactly when its complaint is; 404
otherwise), writes through the feedback services. The customer's phone is always masked on the form.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Field, P, PathEx, Query, Router

from closeloop.complaints import selectors as complaint_selectors
from closeloop.complaints.api import ONE_ERRORS, ONE_WRITE_ERRORS, READ_ERRORS, Number
from closeloop.complaints.models import Via
from closeloop.complaints.schemas import Text
from closeloop.core.api_since import UpdatedSince, updated_since
from closeloop.core.files import file_response
from closeloop.core.schema import Schema
from closeloop.core.types import User
from closeloop.handling.models import FeedbackForm, FeedbackResult, FeedbackStatus
from closeloop.handling.pdf import feedback_form_pdf
from closeloop.handling.services import feedback as services

router = Router(tags=["feedback forms"])

# A form's id in a path; bounded so that no database is asked for an id it cannot store.
FormId = PathEx[int, P(ge=1, le=2**63 - 1, description="the feedback form's id")]


# --- schemas -------------------------------------------------------------------------------------


class KeyActionIO(Schema):
    at: Text = Field("", max_length=40, description="time as written on the form, e.g. 2026-05-20 10:00")
    text: Text = Field("", max_length=500)


class FeedbackPrefillOut(Schema):
    number: str
    customer_name: str
    phone_masked: str = Field(..., description="always masked: only the last 4 digits")
    product: str
    type: str
    description: str = Field(..., description="the customer's own words")
    demand: str
    handler: str
    department: str
    measures: str = Field(..., description="from the latest approved solution")
    compensation: str
    timeline: list[KeyActionIO] = Field(..., description="assembled from the contact log and the key events")


class FeedbackDeadlineOut(Schema):
    due_at: datetime.datetime
    warn_at: datetime.datetime
    paused: bool


class FeedbackFormOut(Schema):
    id: int
    updated_at: datetime.datetime
    complaint: str
    task: int | None
    department: str | None
    handler: str
    status: FeedbackStatus
    status_label: str
    revision: int
    result: str
    result_reason: str
    demand_met: bool | None
    demand_reason: str
    measures: str
    compensation: str
    key_actions: list[KeyActionIO]
    satisfaction_seen: str
    root_cause: str
    cause_category_id: int | None = Field(None, description="the root-cause category (人、机、料、法、环、测 …)")
    improvement_suggestion: str
    created_at: datetime.datetime
    submitted_at: datetime.datetime | None
    reviewed_by: str | None
    reviewed_at: datetime.datetime | None
    review_note: str
    deadline: FeedbackDeadlineOut | None
    missing: dict[str, list[str]] = Field(..., description="what a submission still lacks, per field")


class FeedbackFormDetailOut(FeedbackFormOut):
    prefill: FeedbackPrefillOut


class FeedbackFormPage(Schema):
    items: list[FeedbackFormOut]
    count: int


class FeedbackFormFilters(Schema):
    status: FeedbackStatus | None = None
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=10_000_000)


class FeedbackFormIn(Schema):
    """The fields to change; omitted ones keep their value. Incomplete drafts are fine."""

    result: FeedbackResult | None = None
    result_reason: Text | None = Field(None, max_length=10000)
    demand_met: bool | None = None
    demand_reason: Text | None = Field(None, max_length=10000)
    measures: Text | None = Field(None, max_length=10000)
    compensation: Text | None = Field(None, max_length=200)
    key_actions: list[KeyActionIO] | None = None
    satisfaction_seen: Text | None = Field(
        None, max_length=20, description="satisfied | basically_satisfied | unsatisfied"
    )
    root_cause: Text | None = Field(None, max_length=10000)
    cause_category_id: int | None = Field(None, description="an active root-cause category's id; null for none")
    improvement_suggestion: Text | None = Field(None, max_length=10000)


class ReturnIn(Schema):
    note: Text = Field(..., max_length=10000, description="what must be supplemented")


class FeedbackApproveIn(Schema):
    note: Text = Field("", max_length=10000)


# --- serialisation -------------------------------------------------------------------------------


def _user(request: HttpRequest) -> User:
    return request.auth  # type: ignore[attr-defined]  # the user, put there by the API's authentication


def _name(user: Any) -> str | None:
    if user is None:
        return None
    return user.get_full_name() or user.get_username()


def _out(form: FeedbackForm, values: dict[str, Any] | None = None) -> dict[str, Any]:
    values = values or {name: getattr(form, name) for name in services.EDITABLE_FIELDS}
    due_at = getattr(form, "due_at", None)
    return {
        "id": form.pk,
        "updated_at": form.updated_at,
        "complaint": form.complaint.number,
        "task": form.task_id,
        "department": form.task.department.code if form.task else None,
        "handler": _name(form.handler),
        "status": form.status,
        "status_label": str(form.get_status_display()),
        "revision": form.revision,
        **values,
        "created_at": form.created_at,
        "submitted_at": form.submitted_at,
        "reviewed_by": _name(form.reviewed_by),
        "reviewed_at": form.reviewed_at,
        "review_note": form.review_note,
        "deadline": (
            {"due_at": due_at, "warn_at": form.warn_at, "paused": form.paused_at is not None}  # type: ignore[attr-defined]  # annotated by the selector
            if due_at
            else None
        ),
        "missing": services.feedback_form_missing(form) if form.status in services.EDITABLE_STATUSES else {},
    }


def _detail(request: HttpRequest, pk: int) -> dict[str, Any]:
    form = services.feedback_form_get(user=_user(request), pk=pk)
    prefill = services.feedback_form_prefill(form)
    return {**_out(form, services.feedback_form_values(form, prefill)), "prefill": prefill.as_dict()}


# --- endpoints -----------------------------------------------------------------------------------


@router.get(
    "/complaints/{number}/feedback-forms",
    response={200: list[FeedbackFormOut], **ONE_ERRORS},
    summary="The complaint's feedback forms",
)
def complaint_feedback_forms(request: HttpRequest, number: Number, since: Query[UpdatedSince]) -> list[dict[str, Any]]:
    """The complaint's feedback forms (处理反馈单), each with its state and due date. An unknown or invisible
    complaint is a 404."""
    complaint = complaint_selectors.complaint_get(user=_user(request), number=number)
    forms = services.feedback_forms_for_complaint(complaint=complaint)
    return [_out(form) for form in forms if since.updated_since is None or form.updated_at >= since.updated_since]


@router.get("/feedback-forms", response={200: FeedbackFormPage, **READ_ERRORS}, summary="Feedback forms I may see")
def feedback_form_list(
    request: HttpRequest, filters: Query[FeedbackFormFilters], since: Query[UpdatedSince]
) -> dict[str, Any]:
    """The feedback forms the caller may see (their department's, or all for customer service and quality),
    newest first, filtered by state."""
    queryset = updated_since(
        services.feedback_forms_visible(user=_user(request), status=filters.status.value if filters.status else ""),
        since,
    )
    page = list(queryset[filters.offset : filters.offset + filters.limit])
    return {"items": [_out(form) for form in page], "count": queryset.count()}


@router.get("/feedback-forms/{pk}", response={200: FeedbackFormDetailOut, **ONE_ERRORS}, summary="One form")
def feedback_form_retrieve(request: HttpRequest, pk: FormId) -> dict[str, Any]:
    """One feedback form with its fields and state, if the caller may see it; otherwise a 404."""
    return _detail(request, pk)


@router.put("/feedback-forms/{pk}", response={200: FeedbackFormDetailOut, **ONE_WRITE_ERRORS}, summary="Save a draft")
def feedback_form_update(request: HttpRequest, pk: FormId, payload: FeedbackFormIn) -> dict[str, Any]:
    """Saves a draft of the form (the department filling it, handling.fill_feedback_form). A submitted or
    approved form is a 422; a field too long a 422 naming it."""
    form = services.feedback_form_get(user=_user(request), pk=pk)
    data = payload.dict(exclude_unset=True)
    if "result" in data:
        data["result"] = data["result"] or ""
    for name in (*services.TEXT_FIELDS, "satisfaction_seen"):
        if name in data and data[name] is None:
            data[name] = ""
    if "key_actions" in data:
        data["key_actions"] = data["key_actions"] or []
    services.feedback_form_save(form=form, data=data, actor=_user(request), via=Via.API)
    return _detail(request, pk)


@router.post(
    "/feedback-forms/{pk}/submit",
    response={200: FeedbackFormDetailOut, **ONE_WRITE_ERRORS},
    summary="Submit for the CS supervisor's review",
)
def feedback_form_submit(request: HttpRequest, pk: FormId) -> dict[str, Any]:
    """Submits the form for the CS supervisor's review (handling.fill_feedback_form). Missing required fields are
    a 422 naming them; a form already submitted a 422."""
    form = services.feedback_form_get(user=_user(request), pk=pk)
    services.feedback_form_submit(form=form, actor=_user(request), via=Via.API)
    return _detail(request, pk)


@router.post(
    "/feedback-forms/{pk}/approve",
    response={200: FeedbackFormDetailOut, **ONE_WRITE_ERRORS},
    summary="Approve for archive (CS supervisor)",
)
def feedback_form_approve(request: HttpRequest, pk: FormId, payload: FeedbackApproveIn | None = None) -> dict[str, Any]:
    """The CS supervisor approves the form for the archive (handling.review_feedback_form). A form not submitted
    is a 422."""
    form = services.feedback_form_get(user=_user(request), pk=pk)
    note = payload.note if payload is not None else ""
    services.feedback_form_review(form=form, approve=True, note=note, actor=_user(request), via=Via.API)
    return _detail(request, pk)


@router.post(
    "/feedback-forms/{pk}/return",
    response={200: FeedbackFormDetailOut, **ONE_WRITE_ERRORS},
    summary="Return for supplement (CS supervisor)",
)
def feedback_form_return(request: HttpRequest, pk: FormId, payload: ReturnIn) -> dict[str, Any]:
    """The CS supervisor returns the form for supplement with a note (handling.review_feedback_form). A form not
    submitted is a 422; an empty note a 422."""
    form = services.feedback_form_get(user=_user(request), pk=pk)
    services.feedback_form_review(form=form, approve=False, note=payload.note, actor=_user(request), via=Via.API)
    return _detail(request, pk)


@router.get(
    "/feedback-forms/{pk}/pdf",
    response={200: None, **ONE_ERRORS},
    summary="The form as a PDF in the paper form's layout",
    openapi_extra={"responses": {200: {"content": {"application/pdf": {}}, "description": "PDF"}}},
)
def feedback_form_pdf_download(request: HttpRequest, pk: FormId) -> HttpResponse:
    """The form as a PDF in the paper form's layout, for printing and signing; personal data masked for roles
    that see it masked. An unknown or invisible form is a 404."""
    form = services.feedback_form_get(user=_user(request), pk=pk)
    return file_response(
        feedback_form_pdf(form, services.feedback_form_prefill(form)),
        filename=f"feedback-{form.complaint.number}-{form.pk}.pdf",
        content_type="application/pdf",
    )
