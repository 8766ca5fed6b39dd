"""Improvement actions (改进措施): what a department changes so that a kind of complaint stops
recurring, with its owner, its deadline (on the working calendar, with a warning point), its status
and the effect the system measures before and after it was done."""

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


class ActionSource(models.TextChoices):
    FEEDBACK_FORM = "feedback_form", _("feedback form suggestion")
    FOLLOWUP = "followup", _("follow-up suggestion")
    ROOT_CAUSE = "root_cause", _("root cause")
    INCIDENT = "incident", _("defect incident")
    REPORT = "report", _("monthly report")
    OTHER = "other", _("other")


class ActionStatus(models.TextChoices):
    PLANNED = "planned", _("planned")
    IN_PROGRESS = "in_progress", _("in progress")
    DONE = "done", pgettext_lazy("improvement action state", "done")
    # Owner and quality have judged the measured effect.
    VERIFIED = "verified", _("verified")


class ImprovementAction(UpdatedAtModel):
    # GJ + local year and month of creation + a monthly sequence: GJ202611-001.
    number = models.CharField(_("action number"), max_length=20, unique=True)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("what will be changed"))
    source = models.CharField(_("source"), max_length=14, choices=ActionSource.choices)
    # Where it came from; at most the one matching `source` is set.
    feedback_form = models.ForeignKey(
        "handling.FeedbackForm", null=True, blank=True, on_delete=models.PROTECT, related_name="improvement_actions"
    )
    followup = models.ForeignKey(
        "followup.FollowUp", null=True, blank=True, on_delete=models.PROTECT, related_name="improvement_actions"
    )
    incident = models.ForeignKey(
        "defects.DefectIncident",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="improvement_actions",
        verbose_name=_("defect incident"),
    )
    report = models.ForeignKey(
        "insight.Report", null=True, blank=True, on_delete=models.PROTECT, related_name="improvement_actions"
    )
    # The complaint it was raised from (the feedback form's or follow-up's, or the one whose page offered
    # the link), so that the complaint page lists it whatever the source.
    complaint = models.ForeignKey(
        "complaints.Complaint",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="improvement_actions",
        verbose_name=_("complaint"),
    )
    # What the action targets; the effect evaluation counts complaints matching all that are set.
    product_line = models.ForeignKey(
        "directory.ProductLine",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("product line"),
    )
    product = models.ForeignKey(
        "directory.Product", null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("model")
    )
    complaint_type = models.ForeignKey(
        "directory.ComplaintType",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("complaint type"),
    )
    # Matched (case-insensitively, as a phrase) against the feedback forms' root causes.
    root_cause = models.CharField(_("root cause"), max_length=200, blank=True)
    # The root-cause category it removes (with its sub-causes): the report links top causes to actions.
    cause_category = models.ForeignKey(
        "directory.CauseCategory",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("root-cause category"),
    )

    owner_department = models.ForeignKey(
        "directory.Department", on_delete=models.PROTECT, related_name="+", verbose_name=_("owner department")
    )
    owner = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+", verbose_name=_("owner"))
    status = models.CharField(_("status"), max_length=12, choices=ActionStatus.choices, default=ActionStatus.PLANNED)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # The deadline as given (a duration such as "20wd", or a date), computed on the working calendar;
    # the warning point as the default SLA policy sets it.
    target = models.CharField(_("deadline as given"), max_length=20, blank=True)
    due_at = models.DateTimeField(_("due"))
    warn_at = models.DateTimeField(_("warning point"))
    warned_at = models.DateTimeField(_("warned"), null=True, blank=True)
    breached_at = models.DateTimeField(_("overdue since"), null=True, blank=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    done_note = models.TextField(_("what was done"), blank=True)
    # Length of each of the two equal windows of the effect evaluation.
    window_days = models.PositiveSmallIntegerField(_("evaluation window (days)"), default=30)
    owner_effective = models.BooleanField(_("effective (owner)"), null=True)
    owner_judged_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    owner_judged_at = models.DateTimeField(null=True, blank=True)
    owner_note = models.TextField(_("owner's judgement"), blank=True)
    quality_effective = models.BooleanField(_("effective (quality)"), null=True)
    quality_judged_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    quality_judged_at = models.DateTimeField(null=True, blank=True)
    quality_note = models.TextField(_("quality's judgement"), blank=True)
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("improvement action")
        verbose_name_plural = _("improvement actions")
        permissions = [("manage_improvement", _("Can create and judge improvement actions"))]
        indexes = [
            models.Index(fields=["status", "due_at"], name="action_status_due"),
            models.Index(fields=["owner_department", "status"], name="action_department_status"),
            models.Index(fields=["owner", "status"], name="action_owner_status"),
            models.Index(fields=["source", "status"], name="action_source_status"),
            models.Index(fields=["-created_at", "-id"], name="action_created"),
            # "Overdue": not done and past the deadline.
            models.Index(fields=["due_at"], name="action_open_due", condition=Q(done_at__isnull=True)),
            models.Index(
                fields=["warn_at"], name="action_to_warn", condition=Q(done_at__isnull=True, warned_at__isnull=True)
            ),
            models.Index(
                fields=["due_at"], name="action_to_breach", condition=Q(done_at__isnull=True, breached_at__isnull=True)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"


class ActionEvent(AppendOnlyModel):
    """One change to an improvement action. Append-only: never updated, never deleted."""

    action = models.ForeignKey(ImprovementAction, on_delete=models.PROTECT, related_name="events")
    at = models.DateTimeField(_("time"), default=timezone.now)
    actor = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("action"), max_length=30)
    # desk, api, system (the warning sweep), admin — as on complaint events.
    via = models.CharField(_("via"), max_length=10, blank=True)
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)
    note = models.TextField(_("note"), blank=True)
    # The writing transaction (core/events.py, TransactionId): the change feed reads in (txid, id) order.
    txid = models.BigIntegerField(editable=False, db_default=TransactionId())

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("improvement action event")
        # The change feed (closeloop/integrations/feed.py): the next page after a cursor.
        indexes = [models.Index(fields=["txid", "id"], name="action_event_feed")]
        verbose_name_plural = _("improvement action events")

    def __str__(self) -> str:
        return f"{self.action_id} {self.kind} @ {self.at:%Y-%m-%d %H:%M}"


class MonthlySequence(models.Model):
    """Last improvement-action number handed out in a local month ("202611"). Incremented inside the
    creating transaction, so concurrent creations get distinct numbers and a rollback returns one."""

    month = models.CharField(max_length=6, primary_key=True)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("improvement action number sequence")

    def __str__(self) -> str:
        return f"{self.month}: {self.last}"
