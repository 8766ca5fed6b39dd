"""The monthly reports' life: requested → generated (draft) → reviewed by the CS supervisor → approved by
management → sent through the outbox to the distribution list. Every step is a `ReportStep` row.

Generation reads a whole month (up to ~100k complaints) and takes seconds to a minute, so it runs in the
worker: a request writes the report row and its "requested" step, and the generation task builds both
files outside any transaction (reads only, no lock held — on SQLite a write transaction would stop
every other writer for that long), then stores them in one short transaction that re-checks the state.
Every other step is one transaction that locks the report row, checks role and state, changes the
status, and writes the step; a refusal raises before anything is written.

The monthly run: a periodic task asks `monthly_report_ensure` every day; from the first working day of
a month (by the default SLA policy's working calendar) it creates the previous month's report once — the
unique constraint on monthly reports makes a second worker's insert fail instead of generating twice.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import logging
import shutil
import tempfile
import time
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.db.models.fields.files import FieldFile
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from closeloop import authz
from closeloop.calendar.working import WorkingCalendar
from closeloop.complaints.models import Complaint
from closeloop.complaints.services import personal_data_access_record
from closeloop.core.errors import DomainError, PermissionDeniedError, ValidationFailed
from closeloop.core.links import absolute_url
from closeloop.core.masking import can_see_personal_data
from closeloop.core.roles import Role
from closeloop.core.types import AnyUser
from closeloop.insight.analysis import default_calendar
from closeloop.insight.exports.contents import CONTENTS_VERSION, local_iso, report_contents
from closeloop.insight.exports.labels import word
from closeloop.insight.exports.pdf import analysis_report_write
from closeloop.insight.exports.xlsx import SummaryStats, summary_table_write
from closeloop.insight.kpis import Period
from closeloop.insight.lifecycle import (
    APPROVE_PERMISSION,
    GENERATE_PERMISSION,
    LIFECYCLE,
    REVIEW_PERMISSION,
    VIEW_PERMISSION,
    wrong_state,
)
from closeloop.insight.models import Report, ReportKind, ReportStatus, ReportStep, report_path
from closeloop.insight.services.recipients import recipients_expand
from closeloop.notifications import texts
from closeloop.notifications.models import Method, Notification, NotificationAttachment, State
from closeloop.notifications.services import Message, notifications_build, notifications_queue

log = logging.getLogger(__name__)

Actor = AnyUser | None


MAX_PERIOD_DAYS = 366
NOTE_MAX_LENGTH = 2000
# A requested generation the worker has not finished after this long is done by the recovery sweep.
STALE_GENERATION = datetime.timedelta(minutes=15)
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF_TYPE = "application/pdf"
FILE_KINDS = ("xlsx", "pdf")


class Step(StrEnum):
    REQUESTED = "requested"
    GENERATED = "generated"
    REVIEWED = "reviewed"
    RETURNED = "returned"
    APPROVED = "approved"
    SENT = "sent"
    DOWNLOADED = "downloaded"
    EXPORTED_PERSONAL = "exported_personal"


STEP_LABELS = {
    Step.REQUESTED: _("generation requested"),
    Step.GENERATED: _("generated"),
    Step.REVIEWED: _("reviewed"),
    Step.RETURNED: _("returned to draft"),
    Step.APPROVED: _("approved"),
    Step.SENT: _("sent to the distribution list"),
    Step.DOWNLOADED: _("downloaded"),
    Step.EXPORTED_PERSONAL: _("exported with personal data"),
}


def step_label(action: str) -> str:
    return str(STEP_LABELS.get(action, action))  # type: ignore[call-overload]  # a step's action names a Step


# --- checks ----------------------------------------------------------------------------------------


def _has(user: Actor, permission: str) -> bool:
    return bool(user is not None and user.is_authenticated and user.has_perm(permission))


def _require(user: Actor, permission: str, message: Any) -> None:
    if not _has(user, permission):
        raise PermissionDeniedError(message)


def _note(note: str, *, required: bool = False, message: Any = None) -> str:
    note = (note or "").strip()
    if required and not note:
        raise ValidationFailed({"note": [str(message or _("Write a note."))]})
    if len(note) > NOTE_MAX_LENGTH:
        raise ValidationFailed({"note": [str(_("At most %(n)d characters.") % {"n": NOTE_MAX_LENGTH})]})
    return note


def period_check(period: Period, *, today: datetime.date) -> None:
    """A period that can be reported on: in order, not starting in the future, at most a year long."""
    if period.end < period.start:
        raise ValidationFailed({"end": [str(_("The end is before the start."))]})
    if period.start > today:
        raise ValidationFailed({"start": [str(_("The period has not begun yet."))]})
    if (period.end - period.start).days + 1 > MAX_PERIOD_DAYS:
        raise ValidationFailed({"end": [str(_("A report covers at most %(n)d days.") % {"n": MAX_PERIOD_DAYS})]})


def _locked(report: Report) -> Report:
    return Report.objects.select_for_update(no_key=True).get(pk=report.pk)


def _step(report: Report, action: Step, actor: Actor, *, before: str, note: str = "", at: datetime.datetime) -> None:
    ReportStep.objects.create(
        report=report,
        at=at,
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action.value,
        before=before,
        after=report.status,
        note=note,
    )


def report_language(report: Report) -> str:
    return (report.figures or {}).get("language") or settings.LANGUAGE_CODE


def report_period(report: Report) -> Period:
    return Period(report.period_start, report.period_end)


# --- notifications (staff; never personal data) ----------------------------------------------------


def _role_members(role: Role) -> list[Any]:
    return list(authz.recipients.members_of_role(role))


def _notify(
    *, users: list[Any], kind: str, subject: Any, report: Report, now: datetime.datetime, dedup: str, **params: Any
) -> None:
    """A staff notice in each reader's language: `subject` a lazy translation with `%(period)s` (and
    `params`), stored as message ids (notifications/texts.py); the e-mail copy in the installation's."""
    people = [u for u in users if u is not None and getattr(u, "is_active", True)]
    if not people:
        return
    path = reverse("insight:report", args=[report.pk])
    message = Message.words(
        kind=kind,
        subject=subject,
        body=_("Open the report: %(link)s"),
        params={"period": _period_words(report), "link": absolute_url(path), **params},
        dedup=dedup,
        link=path,
    )
    notifications_queue(notifications_build(message=message, recipients=people, now=now))


def _period_words(report: Report) -> dict[str, str]:
    """The period's name in each language of the desk ("2026年11月", "November 2026")."""
    return texts.each_language(lambda: str(report_period(report).label))


# --- generation ------------------------------------------------------------------------------------


def _enqueue_generation(report_id: int) -> None:
    from closeloop.insight.tasks import report_generate_task

    try:
        report_generate_task(report_id)
    except Exception:  # the recovery sweep generates it later; never fail the user's request for this
        log.warning("could not enqueue the generation of report %s", report_id, exc_info=True)


def report_create(
    *,
    period: Period,
    actor: Actor,
    language: str | None = None,
    kind: str = ReportKind.ON_DEMAND,
    now: datetime.datetime | None = None,
) -> Report:
    """Ask for a report of any period (on demand) or the monthly one (the periodic task, actor None).
    The worker generates it after commit."""
    now = now or timezone.now()
    if actor is not None:
        _require(actor, GENERATE_PERMISSION, _("You may not generate reports."))
    if kind == ReportKind.MONTHLY and not period.is_month:
        raise ValidationFailed({"month": [str(_("A monthly report covers one calendar month."))]})
    period_check(period, today=timezone.localdate(now))
    language = language or settings.LANGUAGE_CODE
    try:
        with transaction.atomic():
            report = Report.objects.create(
                kind=kind,
                period_start=period.start,
                period_end=period.end,
                created_at=now,
                created_by=actor if actor is not None and actor.is_authenticated else None,
                figures={"language": language},
            )
            _step(report, Step.REQUESTED, actor, before="", at=now, note=period.label)
            transaction.on_commit(lambda: _enqueue_generation(report.pk))
    except IntegrityError:
        raise DomainError(
            _("The monthly report for %(period)s exists already.") % {"period": period.label}, field="month"
        ) from None
    return report


def report_regenerate(*, report: Report, actor: Actor, now: datetime.datetime | None = None) -> Report:
    """A draft may be generated again (e.g. after data were corrected or the CS supervisor returned it)."""
    now = now or timezone.now()
    _require(actor, GENERATE_PERMISSION, _("You may not generate reports."))
    with transaction.atomic():
        locked = _locked(report)
        if locked.status != ReportStatus.DRAFT:
            raise wrong_state(locked, _("Only a draft can be generated again."))
        locked.generated_at = None
        locked.save(update_fields=["generated_at"])
        _step(locked, Step.REQUESTED, actor, before=locked.status, at=now, note=gettext("regenerate"))
        transaction.on_commit(lambda: _enqueue_generation(locked.pk))
    return locked


def _file_name(report: Report, kind: str) -> str:
    return f"{'summary' if kind == 'xlsx' else 'analysis'}-{report_period(report).label}-r{report.pk}.{kind}"


def download_name(report: Report, kind: str) -> str:
    language = report_language(report)
    title = word("summary_title" if kind == "xlsx" else "report_title", language)
    if language.startswith("en"):
        title = "complaint-summary" if kind == "xlsx" else "complaint-analysis"
    return f"{title}-{report_period(report).label}.{kind}"


@dataclass
class Generated:
    xlsx: str
    pdf: str
    contents: dict[str, Any]
    stats: SummaryStats
    seconds: float


def report_files_build(report: Report, *, now: datetime.datetime) -> Generated:
    """Both documents for the report's period, written to storage (no database writes). The Excel is
    always masked: the stored copy is downloaded by every report reader and e-mailed to the list."""
    started = time.perf_counter()
    period, language = report_period(report), report_language(report)
    workdir = Path(tempfile.mkdtemp(prefix="closeloop-report-"))
    saved: list[str] = []
    try:
        xlsx_path, pdf_path = workdir / "summary.xlsx", workdir / "analysis.pdf"
        contents = report_contents(period, now=now, language=language)
        stats = summary_table_write(
            xlsx_path, period=period, language=language, viewer=None, now=now, analysis=contents
        )
        contents["summary_table"] = {"rows": stats.rows, "masked": stats.masked}
        analysis_report_write(pdf_path, contents)
        for kind, path in (("xlsx", xlsx_path), ("pdf", pdf_path)):
            with path.open("rb") as handle:
                saved.append(default_storage.save(report_path(report, _file_name(report, kind)), File(handle)))
    except BaseException:
        for name in saved:
            default_storage.delete(name)
        raise
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return Generated(saved[0], saved[1], contents, stats, time.perf_counter() - started)


def report_generate(*, report: Report, now: datetime.datetime | None = None) -> Report:
    """Build both files and store them on the draft (the worker's job; also called by the bench and tests).
    `now` is the moment the KPIs are counted at ("already past its deadline")."""
    now = now or timezone.now()
    built = report_files_build(report, now=now)
    old: list[str] = []
    try:
        with transaction.atomic():
            locked = _locked(report)
            if locked.status != ReportStatus.DRAFT:
                raise wrong_state(locked, _("The report moved on while it was being generated; it was not replaced."))
            first = not locked.xlsx
            old = [f.name for f in (locked.xlsx, locked.pdf) if f]
            locked.xlsx.name, locked.pdf.name = built.xlsx, built.pdf
            locked.figures = built.contents
            locked.complaint_count = built.stats.rows
            locked.generated_at = timezone.now()
            locked.save(update_fields=["xlsx", "pdf", "figures", "complaint_count", "generated_at"])
            note = f"{built.stats.rows} · {built.seconds:.1f} s" + ("" if first else f" · {gettext('regenerated')}")
            _step(locked, Step.GENERATED, None, before=locked.status, at=locked.generated_at, note=note)
            _generated_notify(locked, first=first, now=now)
            # a list comprehension as the lambda's loop; its Nones are dropped
            transaction.on_commit(lambda: [default_storage.delete(name) for name in old])  # type: ignore[func-returns-value]
    except BaseException:
        default_storage.delete(built.xlsx)
        default_storage.delete(built.pdf)
        raise
    return locked


def _generated_notify(report: Report, *, first: bool, now: datetime.datetime) -> None:
    if report.kind == ReportKind.MONTHLY and first:
        users = _role_members(Role.CS_SUPERVISOR)
        subject = _("Monthly complaint report %(period)s is ready for your review")
    elif report.created_by_id is not None:
        users = [report.created_by]
        subject = _("Complaint report %(period)s is ready")
    else:
        return
    _notify(
        users=users,
        kind="report_generated",
        subject=subject,
        report=report,
        now=now,
        dedup=f"report_generated:{report.pk}:{report.generated_at:%Y%m%d%H%M%S%f}",
    )


def reports_generate_pending(*, now: datetime.datetime | None = None) -> list[int]:
    """Recovery: generate the reports whose generation was asked for long ago and never finished (worker
    down, enqueue failed)."""
    now = now or timezone.now()
    ids = list(
        Report.objects.filter(status=ReportStatus.DRAFT, generated_at__isnull=True)
        .annotate(asked=Max("steps__at"))
        .filter(asked__lt=now - STALE_GENERATION)
        .order_by("pk")
        .values_list("pk", flat=True)[:5]
    )
    done = []
    for pk in ids:
        try:
            report_generate(report=Report.objects.get(pk=pk), now=now)
            done.append(pk)
        except DomainError:
            continue
    return done


# --- the monthly run -------------------------------------------------------------------------------


def working_calendar() -> WorkingCalendar:
    """The default SLA policy's working calendar (statutory holidays and make-up days included)."""
    return default_calendar()


def first_working_day(year: int, month: int, calendar: WorkingCalendar | None = None) -> datetime.date:
    calendar = calendar or working_calendar()
    day = datetime.date(year, month, 1)
    for _offset in range(31):
        if calendar.is_working_day(day):
            return day
        day += datetime.timedelta(days=1)
    return datetime.date(year, month, 1)


def monthly_report_due(*, today: datetime.date, calendar: WorkingCalendar | None = None) -> Period | None:
    """The month whose report is due today: the previous month, from the first working day of this one
    on (so that a day the worker was down is caught up the next day); None before that day."""
    if today < first_working_day(today.year, today.month, calendar):
        return None
    return Period.month_of(today.replace(day=1) - datetime.timedelta(days=1))


def monthly_report_ensure(*, now: datetime.datetime | None = None) -> Report | None:
    """Create and generate the previous month's report if it is due and does not exist; the report, or
    None when there was nothing to do (not due yet, or made already — by this or another worker)."""
    now = now or timezone.now()
    period = monthly_report_due(today=timezone.localdate(now))
    if period is None or Report.objects.filter(kind=ReportKind.MONTHLY, period_start=period.start).exists():
        return None
    try:
        report = report_create(period=period, actor=None, kind=ReportKind.MONTHLY, now=now)
    except DomainError:
        return None  # another worker inserted it first
    return report_generate(report=report, now=now)


# --- review, return, approve, send -----------------------------------------------------------------


CONCLUSIONS_MAX_LENGTH = 10000


def conclusions_prefill(report: Report) -> str:
    """The generated summary of what changed most, as the text the CS supervisor starts from; or what was
    written before (a report returned to draft and reviewed again)."""
    contents = report.figures or {}
    written = (contents.get("conclusions") or {}).get("text") or ""
    if written:
        return str(written)
    summary = contents.get("summary") or {}
    return "\n".join([summary.get("headline", ""), *summary.get("changes", [])]).strip()


def _person_name(user: Actor) -> str:
    if user is None or not user.is_authenticated:
        return ""
    return user.get_full_name() or user.get_username()


def _conclusions_pdf(report: Report, contents: dict[str, Any]) -> str:
    """The analysis report drawn again from its stored contents with the conclusions (no query; the
    figures stay those of the generation), saved under a new name."""
    workdir = Path(tempfile.mkdtemp(prefix="closeloop-report-"))
    try:
        path = workdir / "analysis.pdf"
        analysis_report_write(path, contents)
        with path.open("rb") as handle:
            return default_storage.save(report_path(report, _file_name(report, "pdf")), File(handle))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def report_review(
    *,
    report: Report,
    actor: Actor,
    note: str = "",
    conclusions: str | None = None,
    now: datetime.datetime | None = None,
) -> Report:
    """The CS supervisor has checked the draft and written the analysis and conclusions (三、分析结果 of
    seed 001: prefilled with the generated summary, see `conclusions_prefill`); they are stored with the
    report's figures with the writer's name and printed in the PDF, drawn again. Management approves next.
    `conclusions` None keeps what the report holds (the generated summary is then printed as such)."""
    now = now or timezone.now()
    LIFECYCLE.check_actor("review", actor)
    note = _note(note)
    text = None if conclusions is None else conclusions.strip()
    if text is not None and len(text) > CONCLUSIONS_MAX_LENGTH:
        raise ValidationFailed({"conclusions": [str(_("At most %(n)d characters.") % {"n": CONCLUSIONS_MAX_LENGTH})]})
    new_pdf = ""
    if text:
        LIFECYCLE.check(report, "review", actor)  # refuse before drawing anything
        contents = {**(report.figures or {})}
        contents["conclusions"] = {"text": text, "author": _person_name(actor), "at": local_iso(now)}
        if report.pdf:
            new_pdf = _conclusions_pdf(report, contents)
    try:
        with transaction.atomic():
            locked = _locked(report)
            before, _target = LIFECYCLE.move(locked, "review", actor)
            fields = ["status"]
            old_pdf = ""
            if text:
                figures = {**(locked.figures or {})}
                figures["conclusions"] = {"text": text, "author": _person_name(actor), "at": local_iso(now)}
                locked.figures = figures
                fields.append("figures")
                if new_pdf:
                    old_pdf, locked.pdf.name = locked.pdf.name, new_pdf
                    fields.append("pdf")
            locked.save(update_fields=fields)
            if old_pdf:
                transaction.on_commit(lambda: default_storage.delete(old_pdf))
            _step(locked, Step.REVIEWED, actor, before=before, note=note, at=now)
            _notify(
                users=_role_members(Role.MANAGEMENT),
                kind="report_reviewed",
                subject=_("Complaint report %(period)s is waiting for your approval"),
                report=locked,
                now=now,
                dedup=f"report_reviewed:{locked.pk}:{now:%Y%m%d%H%M%S%f}",
            )
    except BaseException:
        if new_pdf:
            default_storage.delete(new_pdf)
        raise
    return locked


def report_return(*, report: Report, actor: Actor, note: str, now: datetime.datetime | None = None) -> Report:
    """Back to draft with the reason: by the CS supervisor (a draft they will not review as it is, or their
    own review withdrawn) or by management (a reviewed report it does not approve)."""
    now = now or timezone.now()
    LIFECYCLE.check_actor("return", actor)
    note = _note(note, required=True, message=_("Say why the report goes back to draft."))
    with transaction.atomic():
        locked = _locked(report)
        before, _target = LIFECYCLE.move(locked, "return", actor)
        locked.save(update_fields=["status"])
        _step(locked, Step.RETURNED, actor, before=before, note=note, at=now)
        users = _role_members(Role.CS_SUPERVISOR)
        if locked.created_by_id:
            users.append(locked.created_by)
        users = [u for u in {u.pk: u for u in users}.values() if actor is None or u.pk != actor.pk]
        _notify(
            users=users,
            kind="report_returned",
            subject=_("Complaint report %(period)s was returned to draft: %(note)s"),
            note=note[:80],
            report=locked,
            now=now,
            dedup=f"report_returned:{locked.pk}:{now:%Y%m%d%H%M%S%f}",
        )
    return locked


def report_approve(*, report: Report, actor: Actor, note: str = "", now: datetime.datetime | None = None) -> Report:
    """Management approves the reviewed report; it is then sent to the distribution list at once (if the
    list is empty the report stays approved and can be sent once people are added)."""
    now = now or timezone.now()
    LIFECYCLE.check_actor("approve", actor)
    note = _note(note)
    with transaction.atomic():
        locked = _locked(report)
        before, _target = LIFECYCLE.move(locked, "approve", actor)
        locked.save(update_fields=["status"])
        # The approval names whose analysis and conclusions it approves.
        author = ((locked.figures or {}).get("conclusions") or {}).get("author")
        if author:
            note = "\n".join([note, gettext("Analysis and conclusions by %(name)s") % {"name": author}]).strip()
        _step(locked, Step.APPROVED, actor, before=before, note=note, at=now)
    if send_problem(locked) is None:
        try:
            return report_send(report=locked, actor=None, now=now)
        except DomainError as exc:
            log.warning("report %s approved but not sent: %s", locked.pk, exc.message)
    return locked


def file_attachments_supported() -> bool:
    """Whether the outbox can attach a stored file that is not a complaint's evidence."""
    return any(getattr(f, "name", "") == "file" for f in NotificationAttachment._meta.get_fields())


def send_problem(report: Report) -> str | None:
    """Why the report cannot be sent now, or None."""
    if report.status != ReportStatus.APPROVED:
        return gettext("Only an approved report can be sent.")
    if not report.xlsx or not report.pdf:
        return gettext("The report has no files.")
    people, addresses = recipients_expand()
    if not people and not addresses:
        return gettext("The distribution list is empty: add people, groups or addresses first.")
    return None


def _mail_text(report: Report, approver: str) -> tuple[str, str]:
    language = report_language(report)
    contents = report.figures or {}
    summary = contents.get("summary") or {}
    period = report_period(report)
    lines = [summary.get("headline", ""), *(f"- {s}" for s in summary.get("changes") or [])]
    with translation.override(language):
        subject = gettext("Complaint summary table and analysis report %(period)s") % {"period": period.label}
        intro = gettext(
            "The complaint summary table (Excel) and the analysis report (PDF) for %(start)s – %(end)s are "
            "attached; approved by %(approver)s. Personal data in the table are masked."
        ) % {"start": period.start, "end": period.end, "approver": approver}
        if not file_attachments_supported():
            intro += "\n" + gettext("Download them in the desk: %(path)s") % {
                "path": absolute_url(reverse("insight:report", args=[report.pk]))
            }
    return subject, "\n\n".join([intro, "\n".join(line for line in lines if line)]).strip()


def _approver_name(report: Report) -> str:
    step = report.steps.filter(action=Step.APPROVED).select_related("actor").order_by("-at", "-pk").first()
    if step is None or step.actor is None:
        return "—"
    return step.actor.get_full_name() or step.actor.get_username()


def report_send(*, report: Report, actor: Actor = None, now: datetime.datetime | None = None) -> Report:
    """Queue the e-mail with both files to everyone on the distribution list (users of groups expanded,
    each person once, plus the outside addresses) and an in-app message to each person; then → sent.
    Called on approval (actor None) or by management to retry after the list was filled."""
    now = now or timezone.now()
    LIFECYCLE.check_actor("send", actor)
    with transaction.atomic():
        locked = _locked(report)
        LIFECYCLE.check(locked, "send", actor)
        people, addresses = recipients_expand()
        subject, body = _mail_text(locked, _approver_name(locked))
        dedup = f"report_sent:{locked.pk}"
        period = report_period(locked)
        path = reverse("insight:report", args=[locked.pk])
        # In the desk, each reader's language; the e-mail in the report's own (its files are in it).
        in_app = Message.words(
            kind="report_sent",
            subject=_("Complaint summary table and analysis report %(period)s"),
            body=_(
                "The complaint summary table (Excel) and the analysis report (PDF) for %(start)s – %(end)s are "
                "attached; approved by %(approver)s. Personal data in the table are masked."
            ),
            params={
                "period": _period_words(locked),
                "start": str(period.start),
                "end": str(period.end),
                "approver": _approver_name(locked),
            },
            dedup=dedup,
            link=path,
        )
        message = dataclasses.replace(in_app, subject=subject, body=body)
        rows = notifications_build(message=message, recipients=people, now=now)
        for address in addresses:
            digest = hashlib.sha256(address.lower().encode()).hexdigest()[:20]
            rows.append(
                Notification(
                    created_at=now,
                    method=Method.EMAIL,
                    address=address,
                    kind="report_sent",
                    subject=subject[:200],
                    body=body,
                    dedup_key=f"{dedup}:{digest}:email",
                    state=State.PENDING,
                    next_attempt_at=now,
                )
            )
        notifications_queue(rows)
        mails = list(
            Notification.objects.filter(
                dedup_key__in=[r.dedup_key for r in rows if r.method == Method.EMAIL]
            ).values_list("pk", flat=True)
        )
        if file_attachments_supported():
            files = [
                (locked.xlsx.name, download_name(locked, "xlsx"), XLSX_TYPE),
                (locked.pdf.name, download_name(locked, "pdf"), PDF_TYPE),
            ]
            NotificationAttachment.objects.bulk_create(
                [
                    NotificationAttachment(notification_id=pk, file=name, name=shown, content_type=content_type)
                    for pk in mails
                    for name, shown, content_type in files
                ]
            )
        before, _target = LIFECYCLE.move(locked, "send", actor, checked=True)
        locked.sent_at = now
        locked.save(update_fields=["status", "sent_at"])
        note = gettext("%(people)d people, %(addresses)d outside addresses, %(mails)d e-mails") % {
            "people": len(people),
            "addresses": len(addresses),
            "mails": len(mails),
        }
        _step(locked, Step.SENT, actor, before=before, note=note, at=now)
    return locked


# --- reading the files -----------------------------------------------------------------------------


def report_download(
    *, report: Report, kind: str, user: Actor, now: datetime.datetime | None = None
) -> tuple[FieldFile, str, str]:
    """The stored file, its download name and content type; the download is recorded as a step."""
    now = now or timezone.now()
    _require(user, VIEW_PERMISSION, _("You may not read reports."))
    if kind not in FILE_KINDS:
        raise DomainError(_("Unknown file."), field="kind")
    field = report.xlsx if kind == "xlsx" else report.pdf
    if not field:
        raise DomainError(_("The report is still being generated."), field="status", code="wrong_state")
    with transaction.atomic():
        _step(report, Step.DOWNLOADED, user, before=report.status, note=kind, at=now)
    return field, download_name(report, kind), XLSX_TYPE if kind == "xlsx" else PDF_TYPE


AUDIT_BATCH = 1000


def report_personal_export(
    *, report: Report, user: Actor, target: Any, now: datetime.datetime | None = None
) -> SummaryStats:
    """The summary table of the report's period with customer names and phones in clear, for a user who
    may see personal data; written to `target` from the current data. Every complaint exported is
    recorded in the personal-data audit, and the export is a step of the report."""
    now = now or timezone.now()
    _require(user, VIEW_PERMISSION, _("You may not read reports."))
    if not can_see_personal_data(user):
        raise PermissionDeniedError(_("You may not see personal data."))
    buffer: list[Complaint] = []

    def audit(row: dict[str, Any]) -> None:
        buffer.append(Complaint(pk=row["pk"], customer_id=row["customer_id"]))
        if len(buffer) >= AUDIT_BATCH:
            personal_data_access_record(user=user, complaints=buffer, where="insight.summary_table")  # type: ignore[arg-type]  # the report's reader is signed in
            buffer.clear()

    stats = summary_table_write(
        target,
        period=report_period(report),
        language=report_language(report),
        viewer=user,
        now=now,
        on_row=audit,
        analysis=report.figures if (report.figures or {}).get("version") == CONTENTS_VERSION else None,
    )
    with transaction.atomic():
        personal_data_access_record(user=user, complaints=buffer, where="insight.summary_table")  # type: ignore[arg-type]  # the report's reader is signed in
        _step(report, Step.EXPORTED_PERSONAL, user, before=report.status, note=str(stats.rows), at=now)
    return stats


# --- what a user may do ----------------------------------------------------------------------------


def report_actions_for(*, report: Report, user: Actor) -> list[str]:
    """The workflow buttons to offer this user now (the services still check everything)."""
    actions = []
    generated = report.generated_at is not None
    if report.status == ReportStatus.DRAFT:
        if _has(user, GENERATE_PERMISSION) and (generated or report.xlsx):
            actions.append("regenerate")
        if _has(user, REVIEW_PERMISSION) and generated:
            actions.append("review")
        if _has(user, REVIEW_PERMISSION):
            actions.append("return")
    elif report.status == ReportStatus.REVIEWED:
        if _has(user, APPROVE_PERMISSION):
            actions.append("approve")
        if _has(user, REVIEW_PERMISSION) or _has(user, APPROVE_PERMISSION):
            actions.append("return")
    elif report.status == ReportStatus.APPROVED and _has(user, APPROVE_PERMISSION):
        actions.append("send")
    return actions


def may_view(user: Actor) -> bool:
    return _has(user, VIEW_PERMISSION)


def may_generate(user: Actor) -> bool:
    return _has(user, GENERATE_PERMISSION)
