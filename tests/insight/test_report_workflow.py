"""The monthly workflow: generated (draft) → reviewed (CS supervisor) → approved (management) → sent by
e-mail through the outbox to the distribution list; refusals change nothing; the monthly run on the first
working day, once."""

# ruff: noqa: F811 - the fixtures imported from test_report_support are taken as parameters

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.core import mail
from django.db import IntegrityError, transaction
from django.utils import translation

from closeloop.core.errors import DomainError, PermissionDeniedError, ValidationFailed
from closeloop.core.roles import Role
from closeloop.insight.kpis import Period
from closeloop.insight.models import Recipient, Report, ReportKind, ReportStatus, ReportStep
from closeloop.insight.services.recipients import recipient_add, recipients_expand
from closeloop.insight.services.reports import (
    conclusions_prefill,
    file_attachments_supported,
    first_working_day,
    monthly_report_due,
    monthly_report_ensure,
    report_approve,
    report_create,
    report_generate,
    report_regenerate,
    report_return,
    report_review,
    report_send,
)
from closeloop.insight.tasks import monthly_report_task
from closeloop.notifications.models import Method, Notification, NotificationAttachment
from closeloop.notifications.services import outbox_deliver
from tests.conftest import aware
from tests.insight.test_report_support import (  # noqa: F401 - the fixtures this module's tests take
    GENERATED_AT,
    SEPTEMBER,
    Month,
    pdf_text,
    read,
    report_month,
    report_people,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english(settings: Any) -> Iterator[None]:
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def generated(report_month: Month) -> Report:
    report = report_create(period=SEPTEMBER, actor=report_month.people["supervisor"], language="en", now=GENERATED_AT)
    return report_generate(report=report, now=GENERATED_AT)


def _steps(report: Report) -> list[tuple[str, str, str]]:
    return list(report.steps.order_by("at", "pk").values_list("action", "before", "after"))


def _unchanged(report: Report, status: str, steps: int) -> None:
    report.refresh_from_db()
    assert report.status == status
    assert report.steps.count() == steps


def test_generated_draft_with_files_figures_and_steps(generated: Report) -> None:
    assert generated.status == ReportStatus.DRAFT
    assert generated.xlsx.name.endswith(".xlsx") and generated.pdf.name.endswith(".pdf")
    assert generated.complaint_count == 3
    assert generated.figures["volume"]["current"] == 3
    assert generated.figures["kpis"]["current"]["communication"]["numerator"] == 1
    assert [s[0] for s in _steps(generated)] == ["requested", "generated"]


def test_the_whole_way_to_sent(generated: Report, report_people: dict[str, User]) -> None:
    supervisor, management = report_people["supervisor"], report_people["management"]
    recipient_add(actor=supervisor, group=Group.objects.get(name=Role.MANAGEMENT))
    recipient_add(actor=supervisor, user=report_people["quality"])
    recipient_add(actor=supervisor, email="chairman@example.com")

    report = report_review(report=generated, actor=supervisor, note="数字已核对")
    assert report.status == ReportStatus.REVIEWED
    report = report_approve(report=report, actor=management, note="同意发送")
    assert report.status == ReportStatus.SENT and report.sent_at is not None
    assert _steps(report)[2:] == [
        ("reviewed", "draft", "reviewed"),
        ("approved", "reviewed", "approved"),
        ("sent", "approved", "sent"),
    ]
    approved = report.steps.get(action="approved")
    assert approved.actor == management and approved.note == "同意发送"


def test_the_supervisor_writes_the_conclusions_which_are_printed_and_named_on_approval(
    generated: Report, report_people: dict[str, User]
) -> None:
    supervisor, management = report_people["supervisor"], report_people["management"]
    supervisor.first_name, supervisor.last_name = "李", "主管"
    supervisor.save()
    # The form starts from the generated summary of what changed most.
    assert conclusions_prefill(generated).startswith("3 valid complaints were received in the period, 2 more")
    old_pdf = generated.pdf.name
    text = "本月质量类投诉集中在驱动电源，已要求供应商整改。\n建议下月起对来料全检。"
    report = report_review(report=generated, actor=supervisor, conclusions=text, now=aware(2026, 10, 11, 9, 0))
    report.refresh_from_db()
    assert report.figures["conclusions"] == {"text": text, "author": "李 主管", "at": "2026-10-11 09:00"}
    assert report.pdf.name != old_pdf
    printed = pdf_text(read(report.pdf))
    assert "Analysis and conclusions本月质量类投诉集中在驱动电源，已要求供应商整改。建议下月起对来料全检。" in printed
    assert "Written by 李 主管, 2026-10-11 09:00" in printed
    assert "generated summary" not in printed
    report = report_approve(report=report, actor=management, note="同意")
    assert report.steps.get(action="approved").note == "同意\nAnalysis and conclusions by 李 主管"


def test_too_long_conclusions_change_nothing(generated: Report, report_people: dict[str, User]) -> None:
    with pytest.raises(ValidationFailed):
        report_review(report=generated, actor=report_people["supervisor"], conclusions="长" * 10001)
    generated.refresh_from_db()
    assert generated.status == ReportStatus.DRAFT and generated.figures["conclusions"]["text"] == ""


def test_refusals_change_nothing(generated: Report, report_people: dict[str, User]) -> None:
    p = report_people
    with pytest.raises(PermissionDeniedError):
        report_review(report=generated, actor=p["agent"])
    _unchanged(generated, ReportStatus.DRAFT, 2)
    with pytest.raises(PermissionDeniedError):
        report_approve(report=generated, actor=p["supervisor"])
    with pytest.raises(DomainError, match="reviewed by the CS supervisor"):
        report_approve(report=generated, actor=p["management"])  # approve from draft
    with pytest.raises(DomainError, match="approved report can be sent"):
        report_send(report=generated, actor=p["management"])
    _unchanged(generated, ReportStatus.DRAFT, 2)

    report = report_review(report=generated, actor=p["supervisor"])
    with pytest.raises(DomainError, match="Only a draft"):
        report_review(report=report, actor=p["supervisor2"])
    with pytest.raises(PermissionDeniedError):
        report_approve(report=report, actor=p["supervisor"])
    with pytest.raises(PermissionDeniedError):
        report_approve(report=report, actor=p["auditor"])
    with pytest.raises(DomainError, match="Only a draft"):
        report_regenerate(report=report, actor=p["supervisor"])
    with pytest.raises(ValidationFailed) as refused:
        report_return(report=report, actor=p["management"], note="  ")
    assert refused.value.field == "note"
    _unchanged(report, ReportStatus.REVIEWED, 3)


def test_double_send_refused(generated: Report, report_people: dict[str, User]) -> None:
    p = report_people
    recipient_add(actor=p["supervisor"], user=p["quality"])
    report = report_approve(report=report_review(report=generated, actor=p["supervisor"]), actor=p["management"])
    assert report.status == ReportStatus.SENT
    mails = Notification.objects.filter(kind="report_sent").count()
    with pytest.raises(DomainError, match="sent already"):
        report_send(report=report, actor=p["management"])
    _unchanged(report, ReportStatus.SENT, 5)
    assert Notification.objects.filter(kind="report_sent").count() == mails


def test_the_reviewer_cannot_also_approve(generated: Report, make_user: Callable[..., User]) -> None:
    both = make_user(Role.CS_SUPERVISOR, username="both")
    both.groups.add(Group.objects.get(name=Role.MANAGEMENT))
    report = report_review(report=generated, actor=both)
    with pytest.raises(DomainError, match="cannot also approve"):
        report_approve(report=report, actor=both)
    _unchanged(report, ReportStatus.REVIEWED, 3)


def test_return_to_draft_by_management_then_again(generated: Report, report_people: dict[str, User]) -> None:
    p = report_people
    report = report_review(report=generated, actor=p["supervisor"])
    report = report_return(report=report, actor=p["management"], note="请补充批次问题说明")
    assert report.status == ReportStatus.DRAFT
    returned = report.steps.get(action="returned")
    assert (returned.before, returned.after, returned.note) == ("reviewed", "draft", "请补充批次问题说明")
    # The supervisors are told why.
    assert Notification.objects.filter(
        kind="report_returned", recipient=p["supervisor"], subject__contains="请补充批次问题说明"
    ).exists()
    # A draft is sent back by the CS supervisor (not by management), and may be generated again.
    with pytest.raises(DomainError):
        report_return(report=report, actor=p["management"], note="again")
    report = report_return(report=report, actor=p["supervisor"], note="数据有误，重新生成")
    report = report_regenerate(report=report, actor=p["supervisor"])
    assert report.generated_at is None
    report = report_generate(report=report, now=GENERATED_AT)
    assert report.status == ReportStatus.DRAFT and report.generated_at is not None
    assert [s[0] for s in _steps(report)][-3:] == ["returned", "requested", "generated"]


def test_approved_with_an_empty_list_waits_then_is_sent(generated: Report, report_people: dict[str, User]) -> None:
    p = report_people
    report = report_approve(report=report_review(report=generated, actor=p["supervisor"]), actor=p["management"])
    assert report.status == ReportStatus.APPROVED  # nobody to send it to yet
    with pytest.raises(DomainError, match="distribution list is empty"):
        report_send(report=report, actor=p["management"])
    recipient_add(actor=p["management"], email="board@example.com")
    with pytest.raises(PermissionDeniedError):
        report_send(report=report, actor=p["supervisor"])
    report = report_send(report=report, actor=p["management"])
    assert report.status == ReportStatus.SENT


def test_distribution_list_expands_groups_once_per_person(report_people: dict[str, User], make_user: Any) -> None:
    p = report_people
    p["management"].email, p["management2"].email = "gm@example.com", "gm2@example.com"
    p["management"].save()
    p["management2"].save()
    recipient_add(actor=p["supervisor"], group=Group.objects.get(name=Role.MANAGEMENT))
    recipient_add(actor=p["supervisor"], user=p["management"])  # also in the group: once
    recipient_add(actor=p["supervisor"], email="GM@example.com")  # a listed person's address: once
    recipient_add(actor=p["supervisor"], email="chairman@example.com")
    with pytest.raises(ValidationFailed):
        recipient_add(actor=p["supervisor"], email="chairman@EXAMPLE.com")
    with pytest.raises(ValidationFailed):
        recipient_add(actor=p["supervisor"], email="not an address")
    with pytest.raises(PermissionDeniedError):
        recipient_add(actor=p["agent"], email="x@example.com")
    people, addresses = recipients_expand()
    assert sorted(u.username for u in people) == ["r_gm", "r_gm2"]
    assert addresses == ["chairman@example.com"]
    assert Recipient.objects.count() == 4


def test_outbox_messages_carry_both_files(generated: Report, report_people: dict[str, User], settings: Any) -> None:
    p = report_people
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    p["management2"].email = "gm2@example.com"
    p["management2"].save()
    recipient_add(actor=p["supervisor"], user=p["management2"])
    recipient_add(actor=p["supervisor"], email="chairman@example.com")
    report = report_approve(report=report_review(report=generated, actor=p["supervisor"]), actor=p["management"])
    assert report.status == ReportStatus.SENT
    sent = Notification.objects.filter(kind="report_sent")
    assert set(sent.values_list("method", "recipient__username", "address")) == {
        (Method.IN_APP, "r_gm2", ""),
        (Method.EMAIL, "r_gm2", ""),
        (Method.EMAIL, None, "chairman@example.com"),
    }
    email = sent.filter(method=Method.EMAIL).first()
    assert email is not None and "2026-09" in email.subject
    if not file_attachments_supported():
        pytest.skip("NotificationAttachment cannot hold a stored file yet (see the notifications change asked for)")
    for row in sent.filter(method=Method.EMAIL):
        names = sorted(NotificationAttachment.objects.filter(notification=row).values_list("name", flat=True))
        assert names == ["complaint-analysis-2026-09.pdf", "complaint-summary-2026-09.xlsx"]
    outbox_deliver()
    assert sent.filter(method=Method.EMAIL, state="sent").count() == 2
    mails = [message for message in mail.outbox if "analysis report" in message.subject]
    assert sorted(message.to[0] for message in mails) == ["chairman@example.com", "gm2@example.com"]
    for message in mails:
        attached = {name: (content, kind) for name, content, kind in message.attachments}
        assert attached["complaint-analysis-2026-09.pdf"][0].startswith(b"%PDF")
        assert attached["complaint-summary-2026-09.xlsx"][0].startswith(b"PK")  # a zip: the xlsx


# --- the monthly run -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("year", "month", "first"),
    [
        (2026, 10, datetime.date(2026, 10, 8)),  # National Day holiday 1–7 October
        (2026, 11, datetime.date(2026, 11, 2)),  # 1 November is a Sunday
        (2026, 9, datetime.date(2026, 9, 1)),  # a Tuesday
        (2026, 1, datetime.date(2026, 1, 4)),  # New Year 1–3 January; Sunday the 4th is a make-up working day
    ],
)
def test_first_working_day_by_the_calendar(year: int, month: int, first: datetime.date) -> None:
    assert first_working_day(year, month) == first


def test_due_from_the_first_working_day_on() -> None:
    assert monthly_report_due(today=datetime.date(2026, 10, 1)) is None
    assert monthly_report_due(today=datetime.date(2026, 10, 7)) is None
    assert monthly_report_due(today=datetime.date(2026, 10, 8)) == SEPTEMBER
    assert monthly_report_due(today=datetime.date(2026, 10, 9)) == SEPTEMBER  # a missed day is caught up
    assert monthly_report_due(today=datetime.date(2026, 9, 30)) == Period.month(2026, 8)


def test_monthly_run_on_the_first_working_day_once(
    report_month: Month, report_people: dict[str, User], django_capture_on_commit_callbacks: Any
) -> None:
    assert monthly_report_ensure(now=aware(2026, 10, 7, 8, 30)) is None  # still the holiday
    assert not Report.objects.exists()
    with django_capture_on_commit_callbacks():  # the generation is done here, not by the enqueued task
        report = monthly_report_ensure(now=aware(2026, 10, 8, 8, 30))
    assert report is not None
    assert (report.kind, report.period_start, report.period_end) == (
        ReportKind.MONTHLY,
        datetime.date(2026, 9, 1),
        datetime.date(2026, 9, 30),
    )
    assert report.status == ReportStatus.DRAFT and report.complaint_count == 3
    assert report.created_by is None
    # The CS supervisors are told it waits for their review.
    told = Notification.objects.filter(kind="report_generated", method=Method.IN_APP)
    assert sorted(told.values_list("recipient__username", flat=True)) == ["r_supervisor", "r_supervisor2"]
    # Later runs (the same day, the next day, another worker) make nothing more.
    assert monthly_report_ensure(now=aware(2026, 10, 8, 9, 30)) is None
    assert monthly_report_ensure(now=aware(2026, 10, 9, 8, 30)) is None
    assert Report.objects.count() == 1
    assert told.count() == 2


def test_periodic_task_is_idempotent(
    report_month: Month, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    from django.utils import timezone

    monkeypatch.setattr(timezone, "now", lambda: aware(2026, 10, 8, 8, 30))
    with django_capture_on_commit_callbacks():
        monthly_report_task.call_local()
        monthly_report_task.call_local()
    assert Report.objects.filter(kind=ReportKind.MONTHLY).count() == 1
    assert ReportStep.objects.filter(action="generated").count() == 1


def test_one_monthly_report_per_month_is_a_database_rule(report_month: Month) -> None:
    Report.objects.create(kind=ReportKind.MONTHLY, period_start=SEPTEMBER.start, period_end=SEPTEMBER.end)
    with pytest.raises(IntegrityError), transaction.atomic():
        Report.objects.create(kind=ReportKind.MONTHLY, period_start=SEPTEMBER.start, period_end=SEPTEMBER.end)
    # A worker that lost the race finds the row and does nothing.
    assert monthly_report_ensure(now=aware(2026, 10, 8, 8, 30)) is None
    with pytest.raises(DomainError, match="exists already"):
        report_create(period=SEPTEMBER, actor=None, kind=ReportKind.MONTHLY, now=aware(2026, 10, 8, 8, 30))


def test_on_demand_for_any_period(report_month: Month, report_people: dict[str, User]) -> None:
    p = report_people
    period = Period(datetime.date(2026, 9, 1), datetime.date(2026, 9, 15))
    report = report_create(period=period, actor=p["management"], language="en", now=GENERATED_AT)
    report = report_generate(report=report, now=GENERATED_AT)
    assert report.kind == ReportKind.ON_DEMAND and report.complaint_count == 2  # A and B
    # Month to date: 1–15 September 2026 holds 11 working days; the first 11 working days of August 2026
    # (which began on a Saturday) end on Monday 17 August. The report says so.
    assert report.figures["previous"] == {"start": "2026-08-01", "end": "2026-08-17", "label": "2026-08-01–2026-08-17"}
    assert report.figures["comparison"]["working_days"] == 11
    assert "same number of working days (11)" in report.figures["comparison"]["note"]
    # Several on-demand reports of one period may exist.
    report_create(period=period, actor=p["supervisor"], now=GENERATED_AT)
    with pytest.raises(PermissionDeniedError):
        report_create(period=period, actor=p["agent"], now=GENERATED_AT)
    with pytest.raises(ValidationFailed):
        report_create(period=Period(datetime.date(2026, 9, 10), datetime.date(2026, 9, 1)), actor=p["management"])
    with pytest.raises(ValidationFailed):
        report_create(period=Period.month(2027, 1), actor=p["management"], now=GENERATED_AT)
    with pytest.raises(ValidationFailed):
        report_create(period=Period(datetime.date(2025, 1, 1), datetime.date(2026, 9, 1)), actor=p["management"])
