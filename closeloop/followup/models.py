"""Closing the loop: the follow-up (回访) with its attempts and the customer's satisfaction, the
configurable satisfaction scale, and single-use survey links for self-service answers."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from closeloop.core.models import UpdatedAtModel

User = settings.AUTH_USER_MODEL


class SatisfactionScale(models.Model):
    """非常满意/满意/一般/不满意 by default; 满意/基本满意/不满意 is the other shipped configuration."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    is_active = models.BooleanField(_("in use"), default=False)

    class Meta:
        verbose_name = _("satisfaction scale")
        verbose_name_plural = _("satisfaction scales")

    def __str__(self) -> str:
        return self.name


class SatisfactionLevel(models.Model):
    scale = models.ForeignKey(SatisfactionScale, on_delete=models.CASCADE, related_name="levels")
    code = models.SlugField(_("code"), max_length=40)
    label_zh = models.CharField(_("label (Chinese)"), max_length=40)
    label_en = models.CharField(_("label (English)"), max_length=40)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    counts_as_satisfied = models.BooleanField(_("counts as satisfied"), default=False)
    # An answer at this level reopens the complaint (e.g. 不满意).
    reopens = models.BooleanField(_("reopens the complaint"), default=False)

    class Meta:
        ordering = ["scale", "order"]
        constraints = [models.UniqueConstraint(fields=["scale", "code"], name="satisfaction_level_unique")]
        verbose_name = _("satisfaction level")
        verbose_name_plural = _("satisfaction levels")

    def __str__(self) -> str:
        return self.label_zh


class FollowUpMethod(models.TextChoices):
    PHONE = "phone", _("phone")
    SMS = "sms", _("SMS")
    EMAIL = "email", _("e-mail")
    SURVEY = "survey", _("survey link")


class AttemptResult(models.TextChoices):
    REACHED = "reached", _("reached")
    NO_ANSWER = "no_answer", _("no answer")
    BUSY = "busy", _("busy")
    WRONG_NUMBER = "wrong_number", _("wrong number")
    REFUSED = "refused", _("refused to answer")


class FollowUpOutcome(models.TextChoices):
    SATISFIED = "satisfied", _("satisfied")
    UNSATISFIED = "unsatisfied", _("not satisfied / not solved")
    UNREACHABLE = "unreachable", _("unreachable")


class FollowUp(UpdatedAtModel):
    """One follow-up round: created when the complaint is resolved (due 2wd), done by the agent pool."""

    complaint = models.ForeignKey("complaints.Complaint", on_delete=models.PROTECT, related_name="followups")
    round = models.PositiveSmallIntegerField(_("round"), default=1)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    assigned_to = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("assigned to")
    )
    method = models.CharField(_("method"), max_length=8, choices=FollowUpMethod.choices, blank=True)
    outcome = models.CharField(_("outcome"), max_length=12, choices=FollowUpOutcome.choices, blank=True)
    solved = models.BooleanField(_("problem solved"), null=True)
    satisfaction = models.ForeignKey(
        SatisfactionLevel,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("satisfaction"),
    )
    comments = models.TextField(_("comments"), blank=True)
    suggestions = models.TextField(_("suggestions"), blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    completed_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["complaint", "round"]
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        constraints = [models.UniqueConstraint(fields=["complaint", "round"], name="followup_round_unique")]
        indexes = [
            models.Index(fields=["created_at"], name="followup_open", condition=Q(outcome="")),
            # The satisfaction KPI's cohort: follow-ups completed in the period.
            models.Index(fields=["completed_at"], name="followup_completed_at"),
        ]

    def __str__(self) -> str:
        return f"{self.complaint_id} round {self.round} ({self.outcome or 'open'})"


class FollowUpAttempt(models.Model):
    followup = models.ForeignKey(FollowUp, on_delete=models.PROTECT, related_name="attempts")
    at = models.DateTimeField(_("time"))
    by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    method = models.CharField(_("method"), max_length=8, choices=FollowUpMethod.choices)
    result = models.CharField(_("result"), max_length=12, choices=AttemptResult.choices)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("follow-up attempt")
        verbose_name_plural = _("follow-up attempts")

    def __str__(self) -> str:
        return f"{self.followup_id} {self.result} @ {self.at:%Y-%m-%d %H:%M}"


class SurveyLink(models.Model):
    """A signed, expiring, single-use link to the self-service survey. Only a hash of the token is kept."""

    followup = models.ForeignKey(FollowUp, on_delete=models.PROTECT, related_name="survey_links")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(_("expires"))
    used_at = models.DateTimeField(_("used"), null=True, blank=True)
    sent_via = models.CharField(_("sent via"), max_length=8, blank=True)

    class Meta:
        verbose_name = _("survey link")
        verbose_name_plural = _("survey links")

    def __str__(self) -> str:
        return f"{self.followup_id} survey (expires {self.expires_at:%Y-%m-%d})"


class Anonymisation(models.Model):
    """A run of the retention job (or its dry run): what it changed, for the record."""

    at = models.DateTimeField(default=timezone.now)
    by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    dry_run = models.BooleanField(default=False)
    cutoff = models.DateTimeField(_("archived before"))
    complaints = models.PositiveIntegerField(default=0)
    customers = models.PositiveIntegerField(default=0)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at"]
        verbose_name = _("anonymisation run")
        verbose_name_plural = _("anonymisation runs")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d} {'dry run' if self.dry_run else ''} {self.complaints} complaints"
