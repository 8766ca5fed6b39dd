"""Early warning of product defects: the spike rule per product line, the alert raised once when
complaints about one model (and batch) reach the threshold in a sliding window, and the defect
incident (批次问题) quality opens to group them and apply one remedy to all."""

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


class SpikeRule(UpdatedAtModel):
    """Threshold and window; the row without a product line is the default (3 within 7 days)."""

    product_line = models.OneToOneField(
        "directory.ProductLine",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="spike_rule",
        verbose_name=_("product line"),
    )
    threshold = models.PositiveSmallIntegerField(_("complaints"), default=3)
    window_days = models.PositiveSmallIntegerField(_("within (days)"), default=7)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("early-warning rule")
        verbose_name_plural = _("early-warning rules")
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"], condition=Q(product_line__isnull=True), name="spike_one_default"
            )
        ]

    def __str__(self) -> str:
        return f"{self.product_line or '*'}: {self.threshold} / {self.window_days}d"


class AlertStatus(models.TextChoices):
    # Raised; quality has not acted yet. Further complaints about the same model/batch join it.
    OPEN = "open", pgettext_lazy("defect alert state", "open")
    # Quality opened (or linked) a defect incident for it.
    INCIDENT = "incident", _("incident opened")
    # Quality judged it a coincidence.
    DISMISSED = "dismissed", _("dismissed")


class DefectAlert(UpdatedAtModel):
    product = models.ForeignKey(
        "directory.Product", on_delete=models.PROTECT, related_name="+", verbose_name=_("model")
    )
    # Upper-cased as the complaints gave it. Empty: raised by a complaint without a batch, about the model
    # whatever the batch (see services/spikes.py).
    batch_no = models.CharField(_("batch / lot number"), max_length=60, blank=True)
    raised_at = models.DateTimeField(_("raised at"), default=timezone.now)
    threshold = models.PositiveSmallIntegerField(_("threshold"))
    window_days = models.PositiveSmallIntegerField(_("window (days)"))
    status = models.CharField(_("status"), max_length=10, choices=AlertStatus.choices, default=AlertStatus.OPEN)
    complaints = models.ManyToManyField(
        "complaints.Complaint", related_name="defect_alerts", verbose_name=_("complaints")
    )
    incident = models.ForeignKey(
        "defects.DefectIncident", null=True, blank=True, on_delete=models.PROTECT, related_name="alerts"
    )
    decided_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(_("note"), blank=True)

    class Meta:
        ordering = ["-raised_at"]
        verbose_name = _("defect alert")
        verbose_name_plural = _("defect alerts")
        indexes = [models.Index(fields=["status", "-raised_at"], name="defect_alert_status_raised")]
        constraints = [
            # One alert per spike: while one is open for a model/batch, new complaints join it.
            models.UniqueConstraint(
                fields=["product", "batch_no"], condition=Q(status="open"), name="defect_alert_one_open"
            )
        ]

    def __str__(self) -> str:
        return f"{self.product_id}/{self.batch_no or '*'} ({self.status})"


class IncidentStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("defect incident state", "open")
    # The remedy was applied to every grouped complaint.
    REMEDIED = "remedied", _("remedy applied")
    CLOSED = "closed", pgettext_lazy("defect incident state", "closed")


class DefectIncident(UpdatedAtModel):
    number = models.CharField(pgettext_lazy("defect incident", "number"), max_length=20, unique=True)
    title = models.CharField(_("title"), max_length=200)
    product = models.ForeignKey(
        "directory.Product", on_delete=models.PROTECT, related_name="+", verbose_name=_("model")
    )
    batch_no = models.CharField(_("batch / lot number"), max_length=60, blank=True)
    description = models.TextField(_("description"), blank=True)
    status = models.CharField(_("status"), max_length=10, choices=IncidentStatus.choices, default=IncidentStatus.OPEN)
    complaints = models.ManyToManyField(
        "complaints.Complaint", related_name="defect_incidents", verbose_name=_("complaints")
    )
    opened_at = models.DateTimeField(_("opened at"), default=timezone.now)
    opened_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+", verbose_name=_("opened by"))
    remedy = models.TextField(_("remedy for every complaint"), blank=True)
    remedy_measure = models.CharField(_("measure"), max_length=20, blank=True)
    remedy_applied_at = models.DateTimeField(_("remedy applied at"), null=True, blank=True)
    remedy_applied_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_note = models.TextField(_("closing note"), blank=True)

    class Meta:
        ordering = ["-opened_at"]
        verbose_name = _("defect incident")
        verbose_name_plural = _("defect incidents")
        indexes = [models.Index(fields=["status", "-opened_at"], name="defect_incident_status_opened")]
        permissions = [("manage_incident", _("Can open defect incidents and apply remedies"))]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    @property
    def remedy_measure_label(self) -> str:
        from closeloop.handling.models import Measure

        return str(Measure(self.remedy_measure).label) if self.remedy_measure in Measure.values else self.remedy_measure


class IncidentRemedy(models.Model):
    """The incident's remedy as recorded on one complaint: once per complaint, so that applying the
    remedy again (after more complaints joined) reaches only those still without it."""

    incident = models.ForeignKey(DefectIncident, on_delete=models.PROTECT, related_name="remedies")
    complaint = models.ForeignKey("complaints.Complaint", on_delete=models.PROTECT, related_name="defect_remedies")
    applied_at = models.DateTimeField(_("remedy applied at"))
    applied_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    remedy = models.TextField(_("remedy"))
    measure = models.CharField(_("measure"), max_length=20)

    class Meta:
        ordering = ["applied_at", "id"]
        verbose_name = _("remedy applied to a complaint")
        verbose_name_plural = _("remedies applied to complaints")
        constraints = [models.UniqueConstraint(fields=["incident", "complaint"], name="incident_remedy_once")]

    def __str__(self) -> str:
        return f"{self.incident_id} → {self.complaint_id}"


class IncidentEvent(AppendOnlyModel):
    """One change to an alert, an incident or an early-warning rule (both FKs empty). Append-only."""

    incident = models.ForeignKey(DefectIncident, null=True, blank=True, on_delete=models.PROTECT, related_name="events")
    alert = models.ForeignKey(DefectAlert, null=True, blank=True, on_delete=models.PROTECT, related_name="events")
    at = models.DateTimeField(_("time"), default=timezone.now)
    actor = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("action"), max_length=30)
    data = models.JSONField(default=dict, blank=True)
    note = models.TextField(_("note"), blank=True)
    # The writing transaction (core/events.py, TransactionId): the change feed reads in (txid, id) order.
    txid = models.BigIntegerField(editable=False, db_default=TransactionId())

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("defect event")
        # The change feed (closeloop/integrations/feed.py): the next page after a cursor.
        indexes = [models.Index(fields=["txid", "id"], name="incident_event_feed")]
        verbose_name_plural = _("defect events")

    def __str__(self) -> str:
        return f"{self.kind} @ {self.at:%Y-%m-%d %H:%M}"


class SpikeCursor(models.Model):
    """Where the per-minute claim of intakes to check stands (one row, pk 1): every complaint with a
    larger id is still to be checked. Intake itself writes nothing for the check — no second commit
    per complaint — the claim reads the new complaints in id order instead (defects/services/claims.py)."""

    last_complaint_id = models.BigIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("early-warning claim position")
        verbose_name_plural = _("early-warning claim position")

    def __str__(self) -> str:
        return f"> {self.last_complaint_id}"
