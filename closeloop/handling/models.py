"""Cross-department handling: department tasks (转派), contacts with the customer (沟通记录), progress
entries, postponement requests (推迟回访申请), responsibility disputes, solutions (处理方案) with their
approvals and execution steps, and the responsible person's feedback form (责任人反馈表)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from closeloop.core.models import UpdatedAtModel

User = settings.AUTH_USER_MODEL


class TaskStatus(models.TextChoices):
    # Dispatched; the handler has 1 working hour to verify it (or to ask for what is missing).
    DISPATCHED = "dispatched", _("dispatched")
    # The handler asked customer service for missing information; the task's clocks are paused.
    NEEDS_INFO = "needs_info", _("waiting for information")
    # Verified and being analysed / handled by the department.
    IN_PROGRESS = "in_progress", _("in progress")
    # The department's result or solution is reported back to customer service.
    REPLIED = "replied", _("replied")
    # The department contests the dispatch; quality adjudicates.
    CONTESTED = "contested", _("contested")
    # Quality moved it to another department (see `moved_to`).
    MOVED = "moved", _("moved")
    # Withdrawn by customer service (redispatch) or because the complaint ended otherwise.
    CANCELLED = "cancelled", _("cancelled")


ACTIVE_TASK_STATUSES = (TaskStatus.DISPATCHED, TaskStatus.NEEDS_INFO, TaskStatus.IN_PROGRESS, TaskStatus.CONTESTED)


class Task(UpdatedAtModel):
    complaint = models.ForeignKey("complaints.Complaint", on_delete=models.PROTECT, related_name="tasks")
    department = models.ForeignKey(
        "directory.Department", on_delete=models.PROTECT, related_name="tasks", verbose_name=_("department")
    )
    handler = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="tasks", verbose_name=_("handler")
    )
    status = models.CharField(_("status"), max_length=12, choices=TaskStatus.choices, default=TaskStatus.DISPATCHED)
    instruction = models.TextField(_("instruction"), blank=True)
    dispatched_at = models.DateTimeField(_("dispatched at"))
    dispatched_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    info_request = models.TextField(_("information requested"), blank=True)
    last_progress_at = models.DateTimeField(_("last progress"), null=True, blank=True)
    reply = models.TextField(_("reply to customer service"), blank=True)
    replied_at = models.DateTimeField(_("replied at"), null=True, blank=True)
    moved_to = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="moved_from", verbose_name=_("moved to")
    )
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    end_reason = models.TextField(_("reason"), blank=True)
    # The task's nearest open deadline, mirrored by the SLA services: the inbox sorts by it.
    next_due_at = models.DateTimeField(_("next deadline"), null=True, blank=True)
    next_warn_at = models.DateTimeField(_("next warning point"), null=True, blank=True)

    class Meta:
        verbose_name = _("department task")
        verbose_name_plural = _("department tasks")
        indexes = [
            models.Index(fields=["handler", "status"], name="task_handler_status"),
            models.Index(fields=["department", "status"], name="task_department_status"),
            models.Index(fields=["complaint", "department"], name="task_complaint_department"),
            models.Index(fields=["next_due_at"], name="task_next_due"),
            # The timely-reply KPI's cohort: tasks dispatched in the period.
            models.Index(fields=["dispatched_at"], name="task_dispatched_at"),
        ]

    def __str__(self) -> str:
        return f"{self.complaint_id}→{self.department_id} ({self.status})"


class ContactChannel(models.TextChoices):
    PHONE = "phone", _("phone")
    SMS = "sms", _("SMS")
    EMAIL = "email", _("e-mail")
    VISIT = "visit", _("on-site visit")
    MESSAGING = "messaging", _("instant messaging")
    LETTER = "letter", _("letter")
    OTHER = "other", _("other")


class ContactOutcome(models.TextChoices):
    REACHED = "reached", _("reached")
    NO_ANSWER = "no_answer", _("no answer")
    WRONG_NUMBER = "wrong_number", _("wrong number")
    LEFT_MESSAGE = "left_message", _("message left")
    REFUSED = "refused", _("refused to talk")


class ContactLog(models.Model):
    """One contact with the complainant. Contacts by the handler side feed the communication rate."""

    complaint = models.ForeignKey("complaints.Complaint", on_delete=models.PROTECT, related_name="contacts")
    task = models.ForeignKey(Task, null=True, blank=True, on_delete=models.PROTECT, related_name="contacts")
    at = models.DateTimeField(_("time"))
    by = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="+", verbose_name=pgettext_lazy("who made the contact", "by")
    )
    channel = models.CharField(_("channel"), max_length=10, choices=ContactChannel.choices)
    outcome = models.CharField(
        _("outcome"), max_length=12, choices=ContactOutcome.choices, default=ContactOutcome.REACHED
    )
    summary = models.TextField(_("summary"))
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("contact")
        verbose_name_plural = _("contact log")
        indexes = [models.Index(fields=["complaint", "at"], name="contact_complaint_at")]

    def __str__(self) -> str:
        return f"{self.complaint_id} {self.channel} {self.at:%Y-%m-%d %H:%M}"


class ProgressEntry(models.Model):
    task = models.ForeignKey(Task, on_delete=models.PROTECT, related_name="progress")
    at = models.DateTimeField(_("time"))
    by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    text = models.TextField(_("progress"))

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("progress entry")
        verbose_name_plural = _("progress entries")

    def __str__(self) -> str:
        return f"{self.task_id} @ {self.at:%Y-%m-%d %H:%M}"


class PostponementStatus(models.TextChoices):
    PENDING_MANAGER = "pending_manager", _("waiting for the department manager's opinion")
    PENDING_CS = "pending_cs", _("waiting for customer service to confirm")
    PENDING_MANAGEMENT = "pending_management", _("waiting for management to decide")
    APPROVED = "approved", _("approved")
    REJECTED = "rejected", _("rejected")


class Postponement(UpdatedAtModel):
    """推迟回访申请: the handler asks for a later reply deadline; the department manager gives an
    opinion, customer service confirms, and management decides when the two disagree."""

    task = models.ForeignKey(Task, on_delete=models.PROTECT, related_name="postponements")
    requested_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(_("requested at"))
    reason = models.TextField(_("reason"))
    proposed_due = models.DateTimeField(_("proposed new deadline"))
    status = models.CharField(
        _("status"), max_length=20, choices=PostponementStatus.choices, default=PostponementStatus.PENDING_MANAGER
    )
    manager = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    manager_at = models.DateTimeField(null=True, blank=True)
    manager_agrees = models.BooleanField(null=True)
    manager_opinion = models.TextField(_("manager's opinion"), blank=True)
    cs_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    cs_at = models.DateTimeField(null=True, blank=True)
    cs_agrees = models.BooleanField(null=True)
    cs_note = models.TextField(_("customer service's note"), blank=True)
    management_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    management_at = models.DateTimeField(null=True, blank=True)
    management_agrees = models.BooleanField(null=True)
    management_note = models.TextField(_("management's decision"), blank=True)
    original_due = models.DateTimeField(_("original deadline"), null=True, blank=True)

    class Meta:
        ordering = ["-requested_at"]
        verbose_name = _("postponement request")
        verbose_name_plural = _("postponement requests")
        indexes = [
            models.Index(fields=["status"], name="postponement_open", condition=~Q(status__in=["approved", "rejected"]))
        ]

    def __str__(self) -> str:
        return f"{self.task_id} → {self.proposed_due:%Y-%m-%d} ({self.status})"


class DisputeStatus(models.TextChoices):
    PENDING = "pending", _("waiting for quality")
    MOVED = "moved", _("moved to another department")
    REJECTED = "rejected", _("dispatch upheld")


class Dispute(UpdatedAtModel):
    """A department contests a dispatch; quality names the responsible department."""

    task = models.ForeignKey(Task, on_delete=models.PROTECT, related_name="disputes")
    raised_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    raised_at = models.DateTimeField(_("raised at"))
    reason = models.TextField(_("reason"))
    suggested_department = models.ForeignKey(
        "directory.Department",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("suggested department"),
    )
    status = models.CharField(_("status"), max_length=10, choices=DisputeStatus.choices, default=DisputeStatus.PENDING)
    decided_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.TextField(_("decision"), blank=True)
    target_department = models.ForeignKey(
        "directory.Department",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("responsible department"),
    )
    new_task = models.ForeignKey(Task, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-raised_at"]
        verbose_name = _("responsibility dispute")
        verbose_name_plural = _("responsibility disputes")

    def __str__(self) -> str:
        return f"{self.task_id} ({self.status})"

    @property
    def time_lost(self):
        """From raising the dispute to quality's decision (or until now while pending)."""
        return (self.decided_at or timezone.now()) - self.raised_at


class Measure(models.TextChoices):
    ONSITE_REPAIR = "onsite_repair", _("on-site repair")
    REPLACEMENT = "replacement", _("replacement")
    RETURN_REFUND = "return_refund", _("return / refund")
    COMPENSATION = "compensation", _("compensation")
    TECH_GUIDANCE = "tech_guidance", _("technical guidance / remote assistance")
    PROCESS_IMPROVEMENT = "process_improvement", _("process improvement")
    OTHER = "other", _("other")


class CompensationForm(models.TextChoices):
    CASH = "cash", _("cash / bank transfer")
    VOUCHER = "voucher", _("voucher / coupon")
    GOODS = "goods", _("goods / accessories")
    SERVICE = "service", _("free service")
    OTHER = "other", _("other")


class SolutionStatus(models.TextChoices):
    PENDING = "pending", _("waiting for approval")
    APPROVED = "approved", _("approved")
    REJECTED = "rejected", _("rejected")
    EXECUTING = "executing", _("being executed")
    DONE = "done", _("executed")


class Solution(UpdatedAtModel):
    complaint = models.ForeignKey("complaints.Complaint", on_delete=models.PROTECT, related_name="solutions")
    task = models.ForeignKey(Task, null=True, blank=True, on_delete=models.PROTECT, related_name="solutions")
    proposed_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    proposed_at = models.DateTimeField(_("proposed at"))
    measures = models.JSONField(_("measures"), default=list)
    description = models.TextField(_("what will be done"))
    compensation_amount = models.DecimalField(
        _("compensation amount (CNY)"), max_digits=10, decimal_places=2, null=True, blank=True
    )
    compensation_form = models.CharField(
        _("compensation form"), max_length=10, choices=CompensationForm.choices, blank=True
    )
    custom_made = models.BooleanField(_("custom-made product"), default=False)
    status = models.CharField(
        _("status"), max_length=10, choices=SolutionStatus.choices, default=SolutionStatus.PENDING
    )
    # Roles whose approval is needed, in order: always the CS supervisor, then what the rules add.
    required_levels = models.JSONField(default=list)
    approved_levels = models.PositiveSmallIntegerField(default=0)
    decided_at = models.DateTimeField(null=True, blank=True)
    rejection_reason = models.TextField(_("rejection reason"), blank=True)

    class Meta:
        ordering = ["-proposed_at"]
        verbose_name = _("solution")
        verbose_name_plural = _("solutions")

    def __str__(self) -> str:
        return f"{self.complaint_id} solution ({self.status})"

    @property
    def next_role(self) -> str | None:
        if self.status != SolutionStatus.PENDING or self.approved_levels >= len(self.required_levels):
            return None
        return self.required_levels[self.approved_levels]


class SolutionApproval(models.Model):
    solution = models.ForeignKey(Solution, on_delete=models.PROTECT, related_name="approvals")
    level = models.PositiveSmallIntegerField()
    role = models.CharField(max_length=20)
    decided_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField()
    approved = models.BooleanField()
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["level", "decided_at"]
        verbose_name = _("solution approval")
        verbose_name_plural = _("solution approvals")

    def __str__(self) -> str:
        return f"{self.solution_id} L{self.level} {'✓' if self.approved else '✗'}"


class ApprovalRule(models.Model):
    """Demands beyond the standard: when a solution matches, it also needs these roles' approval."""

    name = models.CharField(_("name"), max_length=100)
    measure = models.CharField(_("measure"), max_length=20, choices=Measure.choices, blank=True)
    compensation_above = models.DecimalField(
        _("compensation above (CNY)"), max_digits=10, decimal_places=2, null=True, blank=True
    )
    custom_made_only = models.BooleanField(_("only for custom-made products"), default=False)
    levels = models.JSONField(
        _("additional approval levels"), default=list, help_text=_('Roles in order, e.g. ["management"]')
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("approval rule")
        verbose_name_plural = _("approval rules")

    def __str__(self) -> str:
        return self.name


class ExecutionStep(models.Model):
    """Who does what by when to execute an approved solution."""

    solution = models.ForeignKey(Solution, on_delete=models.PROTECT, related_name="steps")
    description = models.CharField(_("step"), max_length=300)
    owner = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("owner")
    )
    due_date = models.DateField(_("due"), null=True, blank=True)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    done_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    note = models.TextField(_("note"), blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("execution step")
        verbose_name_plural = _("execution steps")

    def __str__(self) -> str:
        return self.description


class FeedbackResult(models.TextChoices):
    RESOLVED = "resolved", _("resolved (已解决)")
    NEGOTIATING = "negotiating", _("still negotiating (协商中)")
    UNRESOLVABLE = "unresolvable", _("cannot be resolved (无法解决)")


class FeedbackStatus(models.TextChoices):
    DRAFT = "draft", _("to fill in")
    SUBMITTED = "submitted", _("waiting for review")
    RETURNED = "returned", _("returned for supplement")
    APPROVED = "approved", _("approved for archive")


class FeedbackForm(UpdatedAtModel):
    """责任人反馈表: one per handled department task, due 24 h after handling completes."""

    complaint = models.ForeignKey("complaints.Complaint", on_delete=models.PROTECT, related_name="feedback_forms")
    task = models.OneToOneField(Task, null=True, blank=True, on_delete=models.PROTECT, related_name="feedback_form")
    handler = models.ForeignKey(User, on_delete=models.PROTECT, related_name="feedback_forms")
    status = models.CharField(_("status"), max_length=10, choices=FeedbackStatus.choices, default=FeedbackStatus.DRAFT)
    result = models.CharField(_("result"), max_length=12, choices=FeedbackResult.choices, blank=True)
    result_reason = models.TextField(_("why not resolved"), blank=True)
    demand_met = models.BooleanField(_("initial demand met"), null=True)
    demand_reason = models.TextField(_("why the demand was not met"), blank=True)
    measures = models.TextField(_("measures taken"), blank=True)
    compensation = models.CharField(_("compensation"), max_length=200, blank=True)
    key_actions = models.JSONField(_("timeline of key actions"), default=list, blank=True)
    satisfaction_seen = models.CharField(_("customer satisfaction as the handler saw it"), max_length=20, blank=True)
    root_cause = models.TextField(_("root cause"), blank=True)
    # The category of the root cause (人、机、料、法、环、测 …): the Pareto counts this; the text is the detail.
    cause_category = models.ForeignKey(
        "directory.CauseCategory",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("root-cause category"),
    )
    improvement_suggestion = models.TextField(_("improvement suggestion"), blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    reviewed_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    review_note = models.TextField(_("what must be supplemented"), blank=True)
    revision = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("feedback form")
        verbose_name_plural = _("feedback forms")
        indexes = [models.Index(fields=["handler", "status"], name="feedback_handler_status")]

    def __str__(self) -> str:
        return f"{self.complaint_id} feedback ({self.status})"
