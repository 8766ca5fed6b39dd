"""REST endpoints of the monthly reports and their distribution list: thin calls of the same services as
the desk. Reading needs `insight.view_report`; the workflow's role and state rules are the services'
(403 for a role that may not act, 422 on the `status` or `note` field for a refused step)."""

from __future__ import annotations

import datetime
import re
import tempfile
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.http import FileResponse, HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, P, PathEx, Query, Router, Status

from closeloop.core.api_responses import ONE_ERRORS, ONE_WRITE_ERRORS, READ_ERRORS, WRITE_ERRORS
from closeloop.core.api_since import UpdatedSince, updated_since
from closeloop.core.errors import PermissionDeniedError, ValidationFailed
from closeloop.core.files import file_response
from closeloop.core.schema import Schema
from closeloop.core.types import User
from closeloop.insight.kpis import Period
from closeloop.insight.models import Recipient, Report, ReportKind, ReportStatus
from closeloop.insight.services import recipients as recipient_services
from closeloop.insight.services import reports as services

ReportId = PathEx[int, P(ge=1, le=2_147_483_647, description="the report's id")]
RecipientId = PathEx[int, P(ge=1, le=2_147_483_647, description="the distribution list entry's id")]
MONTH = re.compile(r"^(\d{4})-(\d{2})$")

router = Router(tags=["reports"])


class ReportStepOut(Schema):
    at: datetime.datetime
    action: str
    label: str
    by: str | None
    before: str
    after: str
    note: str


class ReportOut(Schema):
    id: int
    updated_at: datetime.datetime
    kind: ReportKind
    period_start: datetime.date
    period_end: datetime.date
    status: ReportStatus
    status_label: str
    complaint_count: int
    created_at: datetime.datetime
    created_by: str | None
    generated_at: datetime.datetime | None = Field(description="null while the worker is generating it")
    sent_at: datetime.datetime | None
    xlsx_url: str | None = Field(description="the summary table (Excel, personal data masked)")
    pdf_url: str | None = Field(description="the analysis report (PDF)")


class ReportDetailOut(ReportOut):
    figures: dict[str, Any] = Field(description="every figure of the analysis report, as generated")
    steps: list[ReportStepOut]
    actions: list[str] = Field(description="workflow steps the caller may take now")


class ReportFilters(Schema):
    status: ReportStatus | None = None
    kind: ReportKind | None = None
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=1_000_000)


class ReportIn(Schema):
    month: str | None = Field(None, description="a calendar month, YYYY-MM", examples=["2026-09"])
    start: datetime.date | None = Field(None, description="first day of a period (with `end`), local dates")
    end: datetime.date | None = None
    language: str | None = Field(None, description="zh-hans (default) or en: the documents' language")


class NoteIn(Schema):
    note: str = Field("", max_length=2000)


class ReviewIn(NoteIn):
    conclusions: str | None = Field(
        None,
        max_length=10000,
        description="the analysis and conclusions printed in the report (三、分析结果); omitted keeps the generated "
        "summary",
    )


class RecipientOut(Schema):
    id: int
    kind: str = Field(description="user, group or email")
    user: str | None = Field(description="username")
    group: str | None = Field(description="role code")
    email: str | None
    updated_at: datetime.datetime


class RecipientIn(Schema):
    user: str | None = Field(None, description="a username")
    group: str | None = Field(None, description="a role code, e.g. management")
    email: str | None = Field(None, max_length=254)


def _user(request: HttpRequest) -> User:
    return request.auth  # type: ignore[attr-defined]  # the user, put there by the API's authentication


def _require_view(user: User) -> None:
    if not services.may_view(user):
        raise PermissionDeniedError(_("You may not read reports."))


def _name(user: Any) -> str | None:
    return user.get_username() if user is not None else None


def _out(report: Report) -> dict[str, Any]:
    base = f"/api/v1/reports/{report.pk}"
    return {
        "id": report.pk,
        "updated_at": report.updated_at,
        "kind": report.kind,
        "period_start": report.period_start,
        "period_end": report.period_end,
        "status": report.status,
        "status_label": str(report.get_status_display()),
        "complaint_count": report.complaint_count,
        "created_at": report.created_at,
        "created_by": _name(report.created_by),
        "generated_at": report.generated_at,
        "sent_at": report.sent_at,
        "xlsx_url": f"{base}/xlsx" if report.xlsx else None,
        "pdf_url": f"{base}/pdf" if report.pdf else None,
    }


def _detail(user: User, pk: int) -> dict[str, Any]:
    report = Report.objects.select_related("created_by").get(pk=pk)
    steps = report.steps.select_related("actor").order_by("at", "pk")
    return {
        **_out(report),
        "figures": report.figures or {},
        "steps": [
            {
                "at": s.at,
                "action": s.action,
                "label": services.step_label(s.action),
                "by": _name(s.actor),
                "before": s.before,
                "after": s.after,
                "note": s.note,
            }
            for s in steps
        ],
        "actions": services.report_actions_for(report=report, user=user),
    }


def _visible(user: User, pk: int) -> Report:
    _require_view(user)
    return Report.objects.get(pk=pk)  # DoesNotExist → 404


@router.get("/reports", response={200: list[ReportOut], **READ_ERRORS}, summary="Reports, newest period first")
def report_list(
    request: HttpRequest, filters: Query[ReportFilters], since: Query[UpdatedSince]
) -> list[dict[str, Any]]:
    """The reports, newest period first, filtered by state and kind; for those who may read reports (403
    otherwise)."""
    user = _user(request)
    _require_view(user)
    qs = updated_since(Report.objects.select_related("created_by"), since).order_by(
        "-period_start", "-created_at", "-pk"
    )
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    return [_out(r) for r in qs[filters.offset : filters.offset + filters.limit]]


@router.get("/reports/{pk}", response={200: ReportDetailOut, **ONE_ERRORS}, summary="One report with its figures")
def report_detail(request: HttpRequest, pk: ReportId) -> dict[str, Any]:
    """One report with its figures, steps and download links, for those who may read reports. An unknown report
    is a 404."""
    user = _user(request)
    _require_view(user)
    return _detail(user, pk)


def _period(payload: ReportIn) -> Period:
    if payload.month:
        match = MONTH.match(payload.month.strip())
        if not match or not 1 <= int(match.group(2)) <= 12:
            raise ValidationFailed({"month": [_("Enter a month as YYYY-MM.")]})
        return Period.month(int(match.group(1)), int(match.group(2)))
    if payload.start and payload.end:
        return Period(payload.start, payload.end)
    raise ValidationFailed({"month": [_("Give a month, or a start and an end.")]})


@router.post(
    "/reports",
    response={201: ReportDetailOut, **WRITE_ERRORS},
    summary="Generate a report for any period (the worker builds the files; poll until generated_at is set)",
)
def report_generate(request: HttpRequest, payload: ReportIn) -> Status:
    """Generates a report for any period (CS supervisors and management); the worker builds the files, so poll
    GET /reports/{pk} until `generated_at` is set. A period that does not parse or an end before the start is
    a 422."""
    user = _user(request)
    language = payload.language if payload.language in ("zh-hans", "en") else None
    report = services.report_create(period=_period(payload), actor=user, language=language)
    return Status(201, _detail(user, report.pk))


@router.post(
    "/reports/{pk}/regenerate", response={200: ReportDetailOut, **ONE_WRITE_ERRORS}, summary="Generate a draft again"
)
def report_regenerate(request: HttpRequest, pk: ReportId) -> dict[str, Any]:
    """Generates a draft again from today's data (CS supervisor). An approved or sent report is a 422."""
    user = _user(request)
    services.report_regenerate(report=_visible(user, pk), actor=user)
    return _detail(user, pk)


@router.post(
    "/reports/{pk}/review", response={200: ReportDetailOut, **ONE_WRITE_ERRORS}, summary="Review (CS supervisor)"
)
def report_review(request: HttpRequest, pk: ReportId, payload: ReviewIn) -> dict[str, Any]:
    """The CS supervisor marks the draft reviewed (with the conclusions), ready for management's approval. A
    report not in draft is a 422."""
    user = _user(request)
    services.report_review(report=_visible(user, pk), actor=user, note=payload.note, conclusions=payload.conclusions)
    return _detail(user, pk)


@router.post(
    "/reports/{pk}/return",
    response={200: ReportDetailOut, **ONE_WRITE_ERRORS},
    summary="Return to draft with a note (CS supervisor, management)",
)
def report_return(request: HttpRequest, pk: ReportId, payload: NoteIn) -> dict[str, Any]:
    """Returns a report to draft with a note (CS supervisor, management). A report already approved is a 422; an
    empty note a 422."""
    user = _user(request)
    services.report_return(report=_visible(user, pk), actor=user, note=payload.note)
    return _detail(user, pk)


@router.post(
    "/reports/{pk}/approve",
    response={200: ReportDetailOut, **ONE_WRITE_ERRORS},
    summary="Approve (management); sent to the distribution list at once when it is not empty",
)
def report_approve(request: HttpRequest, pk: ReportId, payload: NoteIn) -> dict[str, Any]:
    """Management approves the report; it is sent to the distribution list at once when the list is not empty. A
    report not reviewed is a 422."""
    user = _user(request)
    services.report_approve(report=_visible(user, pk), actor=user, note=payload.note)
    return _detail(user, pk)


@router.post(
    "/reports/{pk}/send",
    response={200: ReportDetailOut, **ONE_WRITE_ERRORS},
    summary="Send an approved report (management), e.g. after the distribution list was filled",
)
def report_send(request: HttpRequest, pk: ReportId) -> dict[str, Any]:
    """Sends an approved report to the distribution list (management), e.g. after the list was filled. A report
    not approved, or an empty list, is a 422."""
    user = _user(request)
    services.report_send(report=_visible(user, pk), actor=user)
    return _detail(user, pk)


FILE_DOC = {
    "xlsx": {"content": {services.XLSX_TYPE: {}}, "description": "the summary table"},
    "pdf": {"content": {services.PDF_TYPE: {}}, "description": "the analysis report"},
}


def _file(request: HttpRequest, pk: int, kind: str) -> FileResponse:
    user = _user(request)
    field, name, content_type = services.report_download(report=_visible(user, pk), kind=kind, user=user)
    return file_response(field.open("rb"), filename=name, content_type=content_type)


@router.get(
    "/reports/{pk}/xlsx",
    response={200: None, **ONE_ERRORS},
    summary="The summary table (Excel, personal data masked); the download is recorded",
    openapi_extra={"responses": {200: FILE_DOC["xlsx"]}},
)
def report_xlsx(request: HttpRequest, pk: ReportId) -> FileResponse:
    """The summary table (投诉汇总表) as Excel with personal data masked; the download is recorded on the report. A
    report not generated yet is a 404."""
    return _file(request, pk, "xlsx")


@router.get(
    "/reports/{pk}/pdf",
    response={200: None, **ONE_ERRORS},
    summary="The analysis report (PDF); the download is recorded",
    openapi_extra={"responses": {200: FILE_DOC["pdf"]}},
)
def report_pdf(request: HttpRequest, pk: ReportId) -> FileResponse:
    """The analysis report as PDF; the download is recorded on the report. A report not generated yet is a 404."""
    return _file(request, pk, "pdf")


@router.get(
    "/reports/{pk}/xlsx/personal",
    response={200: None, **ONE_ERRORS},
    summary="The summary table with personal data, made now (roles that may see personal data; audited)",
    openapi_extra={"responses": {200: FILE_DOC["xlsx"]}},
)
def report_xlsx_personal(request: HttpRequest, pk: ReportId) -> FileResponse:
    """The summary table with personal data, made now, for roles that may see personal data
    (directory.see_personal_data, 403 otherwise); each download is audited."""
    user = _user(request)
    report = _visible(user, pk)
    handle = tempfile.TemporaryFile()  # noqa: SIM115 - the response closes (and so removes) it
    try:
        services.report_personal_export(report=report, user=user, target=handle)
    except BaseException:
        handle.close()
        raise
    handle.seek(0)
    name = services.download_name(report, "xlsx").replace(".xlsx", "-personal.xlsx")
    return file_response(handle, filename=name, content_type=services.XLSX_TYPE)


# --- distribution list -----------------------------------------------------------------------------


def _recipient_out(row: Recipient) -> dict[str, Any]:
    kind = "user" if row.user_id else "group" if row.group_id else "email"
    return {
        "id": row.pk,
        "kind": kind,
        "user": row.user.get_username() if row.user_id else None,  # type: ignore[union-attr]  # the id was tested: the relation is set
        "group": row.group.name if row.group_id else None,  # type: ignore[union-attr]  # the id was tested: the relation is set
        "email": row.email or None,
        "updated_at": row.updated_at,
    }


def _require_manage(user: User) -> None:
    if not recipient_services.recipients_may_manage(user):
        raise PermissionDeniedError(
            _("Only CS supervisors, management and administrators may change the distribution list.")
        )


@router.get("/report-recipients", response={200: list[RecipientOut], **READ_ERRORS}, summary="The distribution list")
def recipient_list(request: HttpRequest, since: Query[UpdatedSince]) -> list[dict[str, Any]]:
    """Who receives the approved reports: readable by those who manage it and by whoever may read the
    reports (auditors check who received what)."""
    user = _user(request)
    if not user.has_perm("insight.view_report"):
        _require_manage(user)
    return [_recipient_out(r) for r in recipient_services.recipients_list(since=since.updated_since)]


@router.post(
    "/report-recipients",
    response={201: RecipientOut, **WRITE_ERRORS},
    summary="Add a person, a role or an outside address",
)
def recipient_create(request: HttpRequest, payload: RecipientIn) -> Status:
    """Adds a person, a role or an outside e-mail address to the reports' distribution list
    (insight.manage_report_recipients). An address already listed or unknown person is a 422 naming the field."""
    actor = _user(request)
    _require_manage(actor)
    user = group = None
    if payload.user:
        user = get_user_model().objects.filter(username=payload.user).first()
        if user is None:
            raise ValidationFailed({"user": [_("No such user.")]})
    if payload.group:
        group = Group.objects.filter(name=payload.group).first()
        if group is None:
            raise ValidationFailed({"group": [_("No such role.")]})
    row = recipient_services.recipient_add(actor=actor, user=user, group=group, email=payload.email or "")
    return Status(201, _recipient_out(row))


@router.delete(
    "/report-recipients/{pk}", response={204: None, **ONE_ERRORS}, summary="Remove an entry of the distribution list"
)
def recipient_delete(request: HttpRequest, pk: RecipientId) -> Status:
    """Removes an entry from the distribution list (insight.manage_report_recipients). An unknown entry is a 404."""
    actor = _user(request)
    _require_manage(actor)
    recipient_services.recipient_remove(actor=actor, recipient=Recipient.objects.get(pk=pk))
    return Status(204, None)
