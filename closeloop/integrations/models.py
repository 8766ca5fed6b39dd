"""Webhooks: subscriptions to the change feed, and their deliveries with a log of every attempt.

The deliveries are an outbox like closeloop/notifications: a row per (subscription, event), written
by the fan-out in the same transaction that moves the subscription's cursor, claimed by one worker
(`pending → sending`), sent, and marked delivered, or back to pending with exponential backoff, or
failed after WEBHOOK_MAX_ATTEMPTS.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class WebhookSubscription(models.Model):
    name = models.CharField(_("name"), max_length=80)
    url = models.URLField(_("URL"), max_length=500)
    # Signs each delivery (HMAC-SHA256); shown to the administrator, who gives it to the receiver.
    secret = models.CharField(_("secret"), max_length=128)
    # Event kinds, e.g. ["complaint.registered", "complaint.resolve"]; empty: every kind.
    kinds = models.JSONField(_("event kinds"), default=list, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    # Deliveries carry what this person may see (their visibility and masking), and stop when they
    # are no longer an administrator.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("owned by"),
    )
    # The feed position up to which deliveries have been queued (integrations/feed.py's cursor).
    cursor = models.CharField(max_length=400, blank=True, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True, db_index=True)

    class Meta:
        verbose_name = _("webhook")
        verbose_name_plural = _("webhooks")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class DeliveryState(models.TextChoices):
    PENDING = "pending", _("pending")  # waiting for (another) attempt at next_attempt_at
    SENDING = "sending", _("sending")  # claimed by one worker; recovered if it stays here too long
    DELIVERED = "delivered", _("delivered")
    FAILED = "failed", _("failed")  # gave up after WEBHOOK_MAX_ATTEMPTS; can be redelivered


class WebhookDelivery(models.Model):
    # Sent as X-CloseLoop-Delivery, the same on every attempt and redelivery: receivers deduplicate by it.
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    subscription = models.ForeignKey(
        WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("webhook")
    )
    # The feed entry it carries: its source (integrations/feed.py SOURCES) and the id of the event row
    # there. Not a foreign key: the sources are several tables, each append-only (never deleted).
    source = models.CharField(_("event source"), max_length=30, default="complaint")
    event_id = models.BigIntegerField(_("event"))
    # The feed's cursor right after this entry, as the receiver would be given it.
    cursor = models.CharField(max_length=400, blank=True)
    kind = models.CharField(_("event kind"), max_length=60)
    state = models.CharField(_("state"), max_length=10, choices=DeliveryState.choices, default=DeliveryState.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(pgettext_lazy("time of delivery", "delivered"), null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(_("last HTTP status"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True, db_index=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-created_at", "-id"]
        constraints = [
            # The fan-out may run in several workers at once: an event is queued once per subscription.
            models.UniqueConstraint(fields=["subscription", "source", "event_id"], name="webhook_delivery_once_v2")
        ]
        indexes = [
            # The worker's two questions, as the outbox asks them.
            models.Index(fields=["next_attempt_at"], name="webhook_due", condition=Q(state="pending")),
            models.Index(fields=["claimed_at"], name="webhook_sending", condition=Q(state="sending")),
        ]

    def __str__(self) -> str:
        return f"{self.subscription_id} {self.kind} ({self.state})"


class WebhookAttempt(models.Model):
    """The delivery log: one row per attempt, with the receiver's answer (cut to
    WEBHOOK_RESPONSE_KEEP_CHARS) or the network error."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="log")
    at = models.DateTimeField(_("time"), default=timezone.now)
    status_code = models.PositiveSmallIntegerField(_("HTTP status"), null=True, blank=True)
    response = models.TextField(_("response"), blank=True)
    error = models.CharField(_("error"), max_length=500, blank=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), default=0)

    class Meta:
        verbose_name = _("webhook attempt")
        verbose_name_plural = _("webhook attempts")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.delivery_id} @ {self.at:%Y-%m-%d %H:%M:%S}: {self.status_code or self.error}"
