"""The service order (售服单) and what belongs to it: its shipments, inspections, appointments,
visits, parts, remote sessions, attachments and append-only events; the warranty and return terms
per product and product line; the daily number sequence. Its clocks are `sla.Deadline` rows
(`deadlines`), the complaint's engine (serviceorders/clocks.py)."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from closeloop.complaints.models import Channel, Priority
from closeloop.core.events import AppendOnlyModel, TransactionId
from closeloop.directory.models import Customer, Department, Product, ProductLine
from closeloop.serviceorders.lifecycle import Kind, ServicePostponementStatus, ServiceStatus, WaitingFor
from closeloop.serviceorders.presentation import action_label, milestone_label
from closeloop.sla.milestones import Milestone


class WarrantyTerm(models.Model):
    """How long a product is under warranty, counted in whole months from the purchase date."""

    product = models.OneToOneField(
        Product, on_delete=models.CASCADE, related_name="warranty", verbose_name=_("product")
    )
    months = models.PositiveSmallIntegerField(_("warranty (months)"))

    class Meta:
        verbose_name = _("warranty term")
        verbose_name_plural = _("warranty terms")

    def __str__(self) -> str:
        return f"{self.product_id}: {self.months}"


class ReturnPolicy(models.Model):
    """The return / exchange (RMA) policy of a product line: within N days of purchase, in a condition."""

    line = models.OneToOneField(
        ProductLine, on_delete=models.CASCADE, related_name="return_policy", verbose_name=_("product line")
    )
    return_days = models.PositiveSmallIntegerField(_("return within (days after purchase)"), default=7)
    exchange_days = models.PositiveSmallIntegerField(_("exchange within (days after purchase)"), default=15)
    condition = models.CharField(
        _("condition"), max_length=200, blank=True, help_text=_("e.g. unused, in its original packaging")
    )

    class Meta:
        verbose_name = _("return policy")
        verbose_name_plural = _("return policies")

    def __str__(self) -> str:
        return f"{self.line_id}: {self.return_days}/{self.exchange_days}"


class ServiceSequence(models.Model):
    """Last service-order number handed out on a day; gap-free like the complaint's (core/numbering.py)."""

    day = models.DateField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("service order number sequence")

    def __str__(self) -> str:
        return f"{self.day}: {self.last}"


class FollowUpResult(models.TextChoices):
    SATISFIED = "satisfied", _("satisfied")
    UNSATISFIED = "unsatisfied", _("not satisfied")
    UNREACHABLE = "unreachable", _("unreachable")


class ServiceOrder(models.Model):
    number = models.CharField(pgettext_lazy("service order", "number"), max_length=20, unique=True)
    kind = models.CharField(_("kind"), max_length=14, choices=Kind.choices)
    status = models.CharField(
        _("status"), max_length=16, choices=ServiceStatus.choices, default=ServiceStatus.REGISTERED
    )
    channel = models.CharField(_("channel"), max_length=12, choices=Channel.choices)
    priority = models.PositiveSmallIntegerField(_("priority"), choices=Priority.choices, default=Priority.NORMAL)
    received_at = models.DateTimeField(_("received at"))
    registered_at = models.DateTimeField(_("registered at"), default=timezone.now)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="service_orders", verbose_name=_("customer")
    )
    product = models.ForeignKey(
        Product,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="service_orders",
        verbose_name=_("product"),
    )
    product_text = models.CharField(_("product (as described)"), max_length=150, blank=True)
    batch_no = models.CharField(_("batch / lot number"), max_length=60, blank=True)
    serial_no = models.CharField(_("serial number"), max_length=60, blank=True)
    purchase_date = models.DateField(_("purchase date"), null=True, blank=True)
    order_no = models.CharField(_("order / invoice number"), max_length=60, blank=True)
    # Decided at registration from the product's warranty term (serviceorders/warranty.py); the rule as
    # the desk shows it is kept beside, so a later change of the term does not rewrite history.
    warranty_until = models.DateField(_("warranty until"), null=True, blank=True)
    in_warranty = models.BooleanField(_("in warranty"), null=True, blank=True)
    warranty_rule = models.CharField(_("warranty rule applied"), max_length=200, blank=True)
    # The RMA policy check at registration (return / exchange only): passed, and the rule as shown.
    policy_ok = models.BooleanField(_("within the return policy"), null=True, blank=True)
    policy_rule = models.CharField(_("return policy applied"), max_length=300, blank=True)
    description = models.TextField(_("fault description"))
    province = models.CharField(_("province"), max_length=30, blank=True)
    city = models.CharField(_("city"), max_length=30, blank=True)
    department = models.ForeignKey(
        Department,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="service_orders",
        verbose_name=_("responsible department"),
    )
    # The technician or service specialist the order is dispatched to.
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="service_orders",
        verbose_name=_("assignee"),
    )
    sla_policy = models.ForeignKey(
        "sla.Policy", null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("SLA policy")
    )
    next_due_at = models.DateTimeField(_("next deadline"), null=True, blank=True)
    # Waiting for the customer or for parts: every open clock paused since then, resumed extended by the
    # pause (serviceorders/services.py order_wait / order_resume; the complaint's waiting_since).
    waiting_for = models.CharField(_("waiting for"), max_length=10, choices=WaitingFor.choices, blank=True)
    waiting_since = models.DateTimeField(_("waiting since (clocks paused)"), null=True, blank=True)
    waiting_reason = models.CharField(_("what we wait for"), max_length=200, blank=True)
    # Created from a complaint (an exchange the complaint waits for), or the complaint it became.
    complaint = models.ForeignKey(
        "complaints.Complaint",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="service_orders",
        verbose_name=_("from complaint"),
    )
    complaint_waits = models.BooleanField(_("the complaint waits for it"), default=False)
    became_complaint = models.ForeignKey(
        "complaints.Complaint",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="from_service_orders",
        verbose_name=_("became complaint"),
    )
    # Repeat detection: an earlier order or complaint of the same customer about the same product.
    repeat_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="repeats", verbose_name=_("repeat of")
    )
    repeat_of_complaint = models.ForeignKey(
        "complaints.Complaint",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("repeat of complaint"),
    )
    # Technical support: the knowledge-base article the answer followed (chosen by search on the desk, by
    # id in the API); the note is what was said beside it, and holds the free text of orders answered
    # before the article was a link (migration 0003).
    article = models.ForeignKey(
        "knowledge.Article",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="service_orders",
        verbose_name=_("knowledge-base article used"),
    )
    article_note = models.CharField(_("note on the article"), max_length=200, blank=True)
    resolution = models.TextField(_("resolution"), blank=True)
    replied_at = models.DateTimeField(_("replied at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    status_reason = models.TextField(_("reason"), blank=True)
    followup_result = models.CharField(_("follow-up result"), max_length=12, choices=FollowUpResult.choices, blank=True)
    followup_note = models.TextField(_("follow-up note"), blank=True)
    labour_cost = models.DecimalField(_("labour cost"), max_digits=10, decimal_places=2, default=Decimal(0))
    updated_at = models.DateTimeField(_("updated at"), auto_now=True, db_index=True)  # the API's updated_since

    class Meta:
        verbose_name = _("service order")
        verbose_name_plural = _("service orders")
        indexes = [
            # The queue: by status (and kind), newest first.
            models.Index(fields=["status", "-received_at"], name="sorder_status_recv"),
            models.Index(fields=["kind", "-received_at"], name="sorder_kind_recv"),
            models.Index(fields=["-received_at"], name="sorder_recv"),
            models.Index(fields=["department", "-received_at"], name="sorder_dept_recv"),
            models.Index(fields=["assignee", "-received_at"], name="sorder_assignee_recv"),
            # Repeat detection and the customer's history.
            models.Index(fields=["customer", "-received_at"], name="sorder_customer_recv"),
            models.Index(fields=["next_due_at"], name="sorder_next_due"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def product_label(self) -> str:
        return str(self.product) if self.product_id else self.product_text


class Direction(models.TextChoices):
    TO_US = "to_us", _("from the customer to us")
    TO_CUSTOMER = "to_customer", _("from us to the customer")


class Shipment(models.Model):
    order = models.ForeignKey(ServiceOrder, on_delete=models.PROTECT, related_name="shipments")
    direction = models.CharField(_("direction"), max_length=12, choices=Direction.choices)
    # Ours: we pick it up; else the customer sends it.
    pickup = models.BooleanField(_("picked up by us"), default=False)
    carrier = models.CharField(_("carrier"), max_length=60)
    tracking_no = models.CharField(_("tracking number"), max_length=60)
    shipped_at = models.DateTimeField(_("shipped at"))
    received_at = models.DateTimeField(_("received at"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("shipment")
        verbose_name_plural = _("shipments")
        ordering = ["shipped_at", "id"]
        indexes = [models.Index(fields=["tracking_no"], name="shipment_tracking")]

    def __str__(self) -> str:
        return f"{self.carrier} {self.tracking_no}"


class InspectionResult(models.TextChoices):
    ACCEPTED = "accepted", _("accepted: as the customer said")
    DAMAGED_BY_USE = "damaged_by_use", _("damaged by use or transport")
    NO_FAULT = "no_fault", _("no fault found")


class Inspection(models.Model):
    order = models.ForeignKey(ServiceOrder, on_delete=models.PROTECT, related_name="inspections")
    result = models.CharField(_("result"), max_length=16, choices=InspectionResult.choices)
    note = models.TextField(_("note"), blank=True)
    at = models.DateTimeField(_("inspected at"))
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("inspection")
        verbose_name_plural = _("inspections")

    def __str__(self) -> str:
        return f"{self.order_id} {self.result}"


class Slot(models.TextChoices):
    # The technician's day in four visits; a slot is booked once (the constraint below).
    EARLY = "09-11", "09:00–11:00"
    LATE_MORNING = "11-13", "11:00–13:00"
    EARLY_AFTERNOON = "14-16", "14:00–16:00"
    LATE_AFTERNOON = "16-18", "16:00–18:00"


class Appointment(models.Model):
    order = models.ForeignKey(ServiceOrder, on_delete=models.PROTECT, related_name="appointments")
    technician = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="appointments", verbose_name=_("technician")
    )
    day = models.DateField(_("day"))
    slot = models.CharField(_("time slot"), max_length=5, choices=Slot.choices)
    # Cancelled when the order is re-booked or cancelled: the slot is free again.
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    booked_at = models.DateTimeField(_("booked at"), default=timezone.now)
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("appointment")
        verbose_name_plural = _("appointments")
        ordering = ["day", "slot"]
        constraints = [
            # No double booking, in the database: two desks booking the same slot at once, one wins.
            models.UniqueConstraint(
                fields=["technician", "day", "slot"],
                condition=Q(cancelled_at__isnull=True),
                name="appointment_one_per_technician_slot",
            )
        ]
        indexes = [
            # The technician's day.
            models.Index(fields=["technician", "day"], name="appointment_day", condition=Q(cancelled_at__isnull=True))
        ]

    def __str__(self) -> str:
        return f"{self.technician_id} {self.day} {self.slot}"


class Visit(models.Model):
    order = models.ForeignKey(ServiceOrder, on_delete=models.PROTECT, related_name="visits")
    appointment = models.OneToOneField(
        Appointment, null=True, blank=True, on_delete=models.PROTECT, related_name="visit"
    )
    technician = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    arrived_at = models.DateTimeField(_("arrived at"))
    diagnosis = models.TextField(_("diagnosis"))
    labour_minutes = models.PositiveIntegerField(_("labour (minutes)"), default=0)
    # The customer's signature: a checkbox ticked on the technician's phone, or a photo among the attachments.
    customer_signed = models.BooleanField(_("customer signed"), default=False)

    class Meta:
        verbose_name = _("visit")
        verbose_name_plural = _("visits")

    def __str__(self) -> str:
        return f"{self.order_id} @ {self.arrived_at:%Y-%m-%d %H:%M}"


class PartUsed(models.Model):
    order = models.ForeignKey(ServiceOrder, on_delete=models.PROTECT, related_name="parts")
    part_no = models.CharField(_("part number"), max_length=60, blank=True)
    name = models.CharField(_("part"), max_length=100)
    quantity = models.PositiveIntegerField(_("quantity"), default=1)
    unit_cost = models.DecimalField(_("unit cost"), max_digits=10, decimal_places=2, default=Decimal(0))

    class Meta:
        verbose_name = _("part used")
        verbose_name_plural = _("parts used")

    def __str__(self) -> str:
        return f"{self.quantity} × {self.name}"


class RemoteSession(models.Model):
    order = models.ForeignKey(ServiceOrder, on_delete=models.PROTECT, related_name="sessions")
    started_at = models.DateTimeField(_("started"))
    minutes = models.PositiveIntegerField(_("duration (minutes)"))
    tool = models.CharField(_("tool"), max_length=60, blank=True, help_text=_("phone, video call, remote desktop…"))
    notes = models.TextField(_("what was done"))
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("remote-assistance session")
        verbose_name_plural = _("remote-assistance sessions")

    def __str__(self) -> str:
        return f"{self.order_id} {self.started_at:%Y-%m-%d %H:%M}"


class ServiceAttachmentKind(models.TextChoices):
    FAULT = "fault", _("photo of the fault")
    INVOICE = "invoice", _("invoice / receipt")
    INSPECTION = "inspection", _("inspection photo")
    SIGNATURE = "signature", _("customer's signature")
    OTHER = "other", _("other")


def attachment_path(instance: ServiceAttachment, filename: str) -> str:
    return f"service/{timezone.now():%Y/%m}/{instance.order.number}/{filename}"


class ServiceAttachment(models.Model):
    order = models.ForeignKey(ServiceOrder, on_delete=models.PROTECT, related_name="attachments")
    inspection = models.ForeignKey(Inspection, null=True, blank=True, on_delete=models.PROTECT, related_name="photos")
    kind = models.CharField(
        _("kind"), max_length=12, choices=ServiceAttachmentKind.choices, default=ServiceAttachmentKind.FAULT
    )
    file = models.FileField(_("file"), upload_to=attachment_path, max_length=255)
    original_name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("content type"), max_length=100)
    size = models.PositiveIntegerField(_("size (bytes)"))
    uploaded_at = models.DateTimeField(_("uploaded at"), default=timezone.now)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("service order attachment")
        verbose_name_plural = _("service order attachments")

    def __str__(self) -> str:
        return self.original_name


class ServiceEvent(AppendOnlyModel):
    """One change to a service order: never updated, never deleted. Its timeline."""

    order = models.ForeignKey(ServiceOrder, on_delete=models.PROTECT, related_name="events")
    at = models.DateTimeField(_("time"), default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    via = models.CharField(_("via"), max_length=10)
    action = models.CharField(_("action"), max_length=40)
    after = models.JSONField(_("after"), default=dict, blank=True)
    note = models.TextField(_("note"), blank=True)
    # As the complaint's events: the writing transaction, for a change feed read in (txid, id) order.
    txid = models.BigIntegerField(editable=False, db_default=TransactionId())

    class Meta:
        verbose_name = _("service order event")
        verbose_name_plural = _("service order events")
        ordering = ["at", "id"]
        indexes = [
            models.Index(fields=["order", "at"], name="sevent_order_at"),
            # The change feed (closeloop/integrations/feed.py): the next page after a cursor.
            models.Index(fields=["txid", "id"], name="sevent_feed"),
        ]

    def __str__(self) -> str:
        return f"{self.order_id} {self.action} @ {self.at:%Y-%m-%d %H:%M}"

    @property
    def label(self) -> str:
        """The action in the reader's language (presentation.ACTION_LABELS)."""
        return action_label(self.action)

    @property
    def milestone_label(self) -> str:
        return milestone_label((self.after or {}).get("milestone"))


class ServicePostponement(models.Model):
    """A request (延期) to move one of the order's clocks, decided by a supervisor
    (lifecycle.POSTPONEMENT_LIFECYCLE). Approved, the deadline moves with `sla.services.deadline_postpone`,
    which keeps its first original due instant for the reports."""

    order = models.ForeignKey(ServiceOrder, on_delete=models.PROTECT, related_name="postponements")
    milestone = models.CharField(_("milestone"), max_length=20, choices=Milestone.choices)
    due_before = models.DateTimeField(_("due before"))
    requested_due = models.DateTimeField(_("new due instant asked for"))
    reason = models.TextField(_("reason"))
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=ServicePostponementStatus.choices,
        default=ServicePostponementStatus.REQUESTED,
    )
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decision_note = models.TextField(_("decision note"), blank=True)

    class Meta:
        verbose_name = _("service order postponement")
        verbose_name_plural = _("service order postponements")
        ordering = ["requested_at", "id"]
        constraints = [
            # One request waiting for a decision per order at a time.
            models.UniqueConstraint(
                fields=["order"],
                condition=Q(status="requested"),
                name="spostponement_one_pending_per_order",
            )
        ]

    def __str__(self) -> str:
        return f"{self.order_id} {self.milestone} → {self.requested_due:%Y-%m-%d %H:%M} ({self.status})"
