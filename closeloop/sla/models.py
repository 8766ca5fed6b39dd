"""Calendars, SLA policies and the deadlines they produce.

The arithmetic itself lives in `closeloop/calendar` (`working.py`, `durations.py`) and touches no
database; these rows are its configuration (`loader.py` turns them into a `WorkingCalendar`) and its
results (`Deadline`).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from closeloop.core.events import AppendOnlyModel
from closeloop.core.i18n import BilingualNamed
from closeloop.core.models import UpdatedAtModel
from closeloop.directory.models import CustomerKind, ProductLine, ServiceKind
from closeloop.sla.milestones import Milestone


def default_windows() -> list[list[str]]:
    return [["09:00", "12:00"], ["13:00", "18:00"]]


class Calendar(BilingualNamed):
    code = models.SlugField(_("code"), max_length=40, unique=True)
    time_zone = models.CharField(_("time zone"), max_length=60, default="Asia/Shanghai")
    windows = models.JSONField(
        _("working-hour windows"),
        default=default_windows,
        help_text=_('Local times, e.g. [["09:00", "12:00"], ["13:00", "18:00"]]'),
    )
    six_day_week = models.BooleanField(_("Saturdays are working days"), default=False)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("working calendar")
        verbose_name_plural = _("working calendars")


class CalendarDay(models.Model):
    """A date decided by an admin (override) or imported for a year the statutory package lacks."""

    class Source(models.TextChoices):
        OVERRIDE = "override", _("admin override")
        IMPORTED = "imported", _("imported schedule")

    calendar = models.ForeignKey(Calendar, on_delete=models.CASCADE, related_name="days")
    date = models.DateField(_("date"))
    source = models.CharField(_("source"), max_length=10, choices=Source.choices, default=Source.OVERRIDE)
    is_working = models.BooleanField(_("working day"))
    reason = models.CharField(_("reason"), max_length=100, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["date"]
        constraints = [models.UniqueConstraint(fields=["calendar", "date", "source"], name="calendar_day_unique")]
        verbose_name = _("calendar day")
        verbose_name_plural = _("calendar days")

    def __str__(self) -> str:
        return f"{self.calendar.code} {self.date} {'working' if self.is_working else 'holiday'}"


def default_escalation() -> list[dict[str, object]]:
    return [
        {"level": 1, "after": "0min", "roles": ["dept_manager", "cs_supervisor"]},
        {"level": 2, "after": "4h", "roles": ["management"]},
    ]


def default_level_names() -> dict[str, list[str]]:
    return {"1": ["紧急", "urgent"], "2": ["重要", "important"], "3": ["一般", "normal"]}


class Policy(UpdatedAtModel, BilingualNamed):
    code = models.SlugField(_("code"), max_length=40, unique=True)
    calendar = models.ForeignKey(Calendar, on_delete=models.PROTECT, related_name="policies")
    level_names = models.JSONField(
        _("priority level names"),
        default=default_level_names,
        help_text=_('{"1": ["紧急", "urgent"], "2": [...], "3": [...]}'),
    )
    warning_fraction = models.DecimalField(
        _("warning point"),
        max_digits=3,
        decimal_places=2,
        default=0.80,
        help_text=_("share of the allowed time after which the assignee is warned"),
    )
    escalation = models.JSONField(
        _("escalation ladder"),
        default=default_escalation,
        help_text=_("levels after the deadline: time after the due instant and the roles notified"),
    )
    is_default = models.BooleanField(_("default policy"), default=False)
    # Deadlines and complaints keep pointing at a policy, so a policy is never deleted: deactivated, no
    # rule selects it for new complaints any more (closeloop/sla/policies.py).
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")


class PolicyTarget(models.Model):
    policy = models.ForeignKey(Policy, on_delete=models.CASCADE, related_name="targets")
    milestone = models.CharField(_("milestone"), max_length=20, choices=Milestone.choices)
    urgent = models.CharField(_("level 1 (urgent)"), max_length=12)
    important = models.CharField(_("level 2 (important)"), max_length=12)
    normal = models.CharField(_("level 3 (normal)"), max_length=12)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["policy", "milestone"], name="policy_target_unique")]
        verbose_name = _("SLA target")
        verbose_name_plural = _("SLA targets")

    def __str__(self) -> str:
        return f"{self.policy.code}/{self.milestone}"

    def for_priority(self, priority: int) -> str:
        return {1: self.urgent, 2: self.important}.get(priority, self.normal)


class PolicyRule(UpdatedAtModel):
    """Chooses a policy by complainant type, product line and/or service-order kind; first match wins.

    A rule naming a service-order kind selects only for service orders of that kind (never for a
    complaint); a rule without one selects for complaints and for service orders of every kind."""

    policy = models.ForeignKey(Policy, on_delete=models.CASCADE, related_name="rules")
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    customer_kind = models.CharField(_("complainant type"), max_length=12, choices=CustomerKind.choices, blank=True)
    product_line = models.ForeignKey(
        ProductLine, null=True, blank=True, on_delete=models.CASCADE, verbose_name=_("product line")
    )
    service_kind = models.CharField(
        _("service order kind"),
        max_length=14,
        choices=ServiceKind.choices,
        blank=True,
        help_text=_("Only for service orders of this kind; empty: complaints and service orders of any kind."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["order", "id"]
        verbose_name = _("SLA policy rule")
        verbose_name_plural = _("SLA policy rules")

    def __str__(self) -> str:
        kind = self.service_kind or "*"
        return f"{self.order}: {self.customer_kind or '*'} / {self.product_line or '*'} / {kind} → {self.policy.code}"


class PolicyChange(AppendOnlyModel):
    """Who changed which policy, target or rule, with the values before and after (closeloop/sla/policies.py)."""

    policy = models.ForeignKey(Policy, on_delete=models.PROTECT, related_name="changes")
    at = models.DateTimeField(_("time"), default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField(_("action"), max_length=30)
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("SLA policy change")
        verbose_name_plural = _("SLA policy changes")
        # GET /policies/{code}/changes and its `updated_since`.
        indexes = [models.Index(fields=["policy", "at"], name="policy_change_at")]

    def __str__(self) -> str:
        return f"{self.policy_id} {self.action} @ {self.at:%Y-%m-%d %H:%M}"


class Deadline(models.Model):
    """One milestone's clock for one complaint (or one of its department tasks) or one service order.

    Exactly one subject is set: `complaint` (with `task` for a task's clocks) or `service_order`. Every
    reader of complaint clocks asks `complaint__isnull=False` or goes through the complaint's relation.
    The sweep claims rows with conditional updates on the *_at markers, so each warning and each
    escalation happens once however many workers run.
    """

    complaint = models.ForeignKey(
        "complaints.Complaint", null=True, blank=True, on_delete=models.CASCADE, related_name="deadlines"
    )
    service_order = models.ForeignKey(
        "serviceorders.ServiceOrder", null=True, blank=True, on_delete=models.CASCADE, related_name="deadlines"
    )
    # Set for a department task's milestones (verify, reply, analysis, progress, feedback form).
    task = models.ForeignKey("handling.Task", null=True, blank=True, on_delete=models.CASCADE, related_name="deadlines")
    milestone = models.CharField(_("milestone"), max_length=20, choices=Milestone.choices)
    policy = models.ForeignKey(Policy, on_delete=models.PROTECT, related_name="+")
    duration = models.CharField(_("target"), max_length=12)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField(_("started"))
    due_at = models.DateTimeField(_("due"))
    # Set when a postponement moved due_at; reports that count the original deadline read this.
    original_due_at = models.DateTimeField(_("original due"), null=True, blank=True)
    warn_at = models.DateTimeField(_("warning point"))
    # Closed: met, or cancelled (the complaint turned out invalid); reports count only the met ones.
    met_at = models.DateTimeField(
        pgettext_lazy("time a deadline was met or cancelled", "closed"), null=True, blank=True
    )
    cancelled = models.BooleanField(_("cancelled"), default=False)
    # Who met it, where the step has a person of its own (a service order's RMA steps, issue 16); a
    # complaint's clocks are met by the action its timeline event names.
    met_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Working time from start to met on the policy's calendar (first response and resolution only),
    # kept so that reports take medians and percentiles in SQL instead of redoing calendar arithmetic.
    worked_seconds = models.PositiveIntegerField(_("working time taken (seconds)"), null=True, blank=True)
    paused_at = models.DateTimeField(_("paused since"), null=True, blank=True)
    paused_seconds = models.PositiveIntegerField(_("paused (seconds)"), default=0)
    # The working time inside the pauses, subtracted from the working time taken.
    paused_work_seconds = models.PositiveIntegerField(_("paused working time (seconds)"), default=0)
    warned_at = models.DateTimeField(_("warned"), null=True, blank=True)
    breached_at = models.DateTimeField(_("breached"), null=True, blank=True)
    escalation_level = models.PositiveSmallIntegerField(_("escalation level"), default=0)
    escalated_at = models.DateTimeField(_("escalated"), null=True, blank=True)

    class Meta:
        verbose_name = _("deadline")
        verbose_name_plural = _("deadlines")
        constraints = [
            models.CheckConstraint(
                condition=Q(complaint__isnull=False, service_order__isnull=True)
                | Q(complaint__isnull=True, service_order__isnull=False, task__isnull=True),
                name="deadline_one_subject",
            ),
            models.UniqueConstraint(
                fields=["service_order", "milestone"],
                condition=Q(met_at__isnull=True, service_order__isnull=False),
                name="deadline_one_open_per_service_order_milestone",
            ),
            models.UniqueConstraint(
                fields=["complaint", "milestone"],
                condition=Q(met_at__isnull=True, task__isnull=True),
                name="deadline_one_open_per_milestone",
            ),
            models.UniqueConstraint(
                fields=["task", "milestone"],
                condition=Q(met_at__isnull=True, task__isnull=False),
                name="deadline_one_open_per_task_milestone",
            ),
        ]
        indexes = [
            # The sweep's three questions, each answered from a small partial index.
            models.Index(
                fields=["warn_at"],
                name="deadline_to_warn",
                condition=Q(met_at__isnull=True, warned_at__isnull=True, paused_at__isnull=True),
            ),
            models.Index(
                fields=["due_at"],
                name="deadline_to_breach",
                condition=Q(met_at__isnull=True, breached_at__isnull=True, paused_at__isnull=True),
            ),
            models.Index(
                fields=["escalation_level", "due_at"],
                name="deadline_to_escalate",
                condition=Q(met_at__isnull=True, breached_at__isnull=False, paused_at__isnull=True),
            ),
            models.Index(fields=["complaint", "milestone"], name="deadline_complaint"),
            # Reports: breaches in a period, follow-up clocks due in a period.
            models.Index(fields=["breached_at"], name="deadline_breached_at", condition=Q(breached_at__isnull=False)),
            models.Index(fields=["milestone", "due_at"], name="deadline_milestone_due"),
        ]

    def __str__(self) -> str:
        subject = f"SO{self.service_order_id}" if self.service_order_id else self.complaint_id
        return f"{subject}/{self.milestone} due {self.due_at:%Y-%m-%d %H:%M}"
