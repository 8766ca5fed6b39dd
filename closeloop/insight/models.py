"""KPI targets, the monthly reports (投诉汇总表 + 分析统计报告) with their approval steps, and the
distribution list the approved reports are sent to."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from closeloop.core.events import AppendOnlyModel, TransactionId
from closeloop.core.models import UpdatedAtModel

User = settings.AUTH_USER_MODEL


class Kpi(models.TextChoices):
    """The KPIs of kpis.md, in the order the KPI table shows them."""

    TIMELY_PROCESSING = "timely_processing", _("timely processing rate (投诉处理及时率)")
    TIMELY_REPLY = "timely_reply", _("timely reply rate (及时回复率)")
    COMMUNICATION = "communication", _("communication rate (沟通率)")
    RESULT_REPLY = "result_reply", _("result reply rate (结果回复率)")
    SATISFACTION = "satisfaction", _("satisfaction rate (客户满意度)")
    REPEAT = "repeat", _("repeat complaint rate (客户投诉重复率)")
    ACK_ON_TIME = "ack_on_time", _("acknowledgement on time (及时确认率)")
    FOLLOWUP_ON_TIME = "followup_on_time", _("follow-up on time (及时回访率)")
    REOPEN = "reopen", _("reopen rate (重开率)")


# Lower is better for these two; a target is a ceiling, not a floor.
LOWER_IS_BETTER = frozenset({Kpi.REPEAT, Kpi.REOPEN})


class KpiTarget(models.Model):
    kpi = models.CharField(_("KPI"), max_length=20, choices=Kpi.choices, unique=True)
    target = models.DecimalField(_("target (%)"), max_digits=5, decimal_places=1)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True, db_index=True)
    updated_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["kpi"]
        verbose_name = _("KPI target")
        verbose_name_plural = _("KPI targets")

    def __str__(self) -> str:
        return f"{self.kpi} {self.target}%"

    @property
    def lower_is_better(self) -> bool:
        return self.kpi in LOWER_IS_BETTER


class ReportKind(models.TextChoices):
    MONTHLY = "monthly", _("monthly")
    ON_DEMAND = "on_demand", _("on demand")


class ReportStatus(models.TextChoices):
    # Generated; the CS supervisor reviews it (or sends it back to be regenerated).
    DRAFT = "draft", _("draft")
    # Reviewed by the CS supervisor; waiting for management's approval.
    REVIEWED = "reviewed", _("reviewed")
    # Approved by management; the outbox sends it to the distribution list.
    APPROVED = "approved", _("approved")
    SENT = "sent", _("sent")


def report_path(instance: Report, filename: str) -> str:
    return f"reports/{instance.period_start:%Y-%m}/{filename}"


class Report(UpdatedAtModel):
    """One period's summary table (Excel) and analysis report (PDF), generated together."""

    kind = models.CharField(_("kind"), max_length=10, choices=ReportKind.choices, default=ReportKind.ON_DEMAND)
    period_start = models.DateField(_("from"))
    # Inclusive: the last local date of the period.
    period_end = models.DateField(_("to"))
    status = models.CharField(_("status"), max_length=10, choices=ReportStatus.choices, default=ReportStatus.DRAFT)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("created by")
    )
    generated_at = models.DateTimeField(_("generated at"), null=True, blank=True)
    xlsx = models.FileField(_("summary table"), upload_to=report_path, max_length=255, blank=True)
    pdf = models.FileField(_("analysis report"), upload_to=report_path, max_length=255, blank=True)
    # The figures the files were made from (KPIs, distributions, comparison, generated summary),
    # kept so that the JSON API and later comparisons read what the approvers saw.
    figures = models.JSONField(_("figures"), default=dict, blank=True)
    complaint_count = models.PositiveIntegerField(_("complaints"), default=0)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        ordering = ["-period_start", "-created_at"]
        verbose_name = _("report")
        verbose_name_plural = _("reports")
        permissions = [
            ("generate_report", _("Can generate reports on demand")),
            ("review_report", _("Can review reports (CS supervisor)")),
            ("approve_report", _("Can approve reports (management)")),
        ]
        constraints = [
            # The periodic task may run on several workers: one monthly report per month.
            models.UniqueConstraint(
                fields=["period_start"], condition=Q(kind="monthly"), name="report_one_monthly_per_period"
            )
        ]

    def __str__(self) -> str:
        return f"{self.period_start:%Y-%m-%d}–{self.period_end:%Y-%m-%d} ({self.status})"


class ReportStep(AppendOnlyModel):
    """Each step of a report's life (generated, reviewed, returned, approved, sent, downloaded).
    Append-only."""

    report = models.ForeignKey(Report, on_delete=models.PROTECT, related_name="steps")
    at = models.DateTimeField(_("time"), default=timezone.now)
    actor = models.ForeignKey(
        User,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=pgettext_lazy("who took the report step", "by"),
    )
    action = models.CharField(_("action"), max_length=20)
    before = models.CharField(_("status before"), max_length=10, blank=True)
    after = models.CharField(_("status after"), max_length=10, blank=True)
    note = models.TextField(_("note"), blank=True)
    # The writing transaction (core/events.py, TransactionId): the change feed reads in (txid, id) order.
    txid = models.BigIntegerField(editable=False, db_default=TransactionId())

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("report step")
        # The change feed (closeloop/integrations/feed.py): the next page after a cursor.
        indexes = [models.Index(fields=["txid", "id"], name="report_step_feed")]
        verbose_name_plural = _("report steps")

    def __str__(self) -> str:
        return f"{self.report_id} {self.action} @ {self.at:%Y-%m-%d %H:%M}"


class Recipient(UpdatedAtModel):
    """The distribution list (分析统计报告发送接收人): a person, every member of a role group, or an
    outside e-mail address."""

    user = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.CASCADE, related_name="+", verbose_name=_("person")
    )
    group = models.ForeignKey(
        "auth.Group", null=True, blank=True, on_delete=models.CASCADE, related_name="+", verbose_name=_("group")
    )
    email = models.EmailField(_("e-mail address"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("report recipient")
        verbose_name_plural = _("report distribution list")
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(user__isnull=False, group__isnull=True, email="")
                    | Q(user__isnull=True, group__isnull=False, email="")
                    | (Q(user__isnull=True, group__isnull=True) & ~Q(email=""))
                ),
                name="recipient_exactly_one",
            )
        ]

    def __str__(self) -> str:
        return str(self.user or self.group or self.email)
