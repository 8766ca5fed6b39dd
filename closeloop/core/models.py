"""Cross-cutting records: API tokens for integrating systems."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Scope(models.TextChoices):
    """What a token may be used for, checked per operation (closeloop/accounts/api_auth.py); the
    user's roles still decide what they may do. A scope narrows a token, never widens a user."""

    READ = "read", _("read (every GET)")
    INTAKE = "intake", _("intake (register complaints)")
    WRITE = "write", _("write (every other change)")
    ADMIN = "admin", _("admin (webhooks and other administration)")


def all_scopes() -> list[str]:
    return [scope.value for scope in Scope]


class ApiToken(models.Model):
    """A token for an integrating system. Only a SHA-256 of the key is stored."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=80)
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # After this instant the key is refused like a revoked one; empty: it does not expire.
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    # Scope values; tokens made before scopes existed have them all (what the user's roles allow).
    scopes = models.JSONField(_("scopes"), default=all_scopes)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def is_usable(self, now: datetime.datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


class IdempotencyKey(models.Model):
    """One `Idempotency-Key` of one user: claimed (status empty) before the request runs, then holding
    the answer that a retry with the same key and body gets back instead of a second effect."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=255)
    # SHA-256 of the method, the path and the body: the same key with another request is refused.
    request_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    # The purge task deletes rows past this instant (IDEMPOTENCY_TTL_HOURS after the claim).
    expires_at = models.DateTimeField()
    # Empty while the first request runs.
    status = models.PositiveSmallIntegerField(null=True, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    body = models.BinaryField(default=b"")

    class Meta:
        verbose_name = _("idempotency key")
        verbose_name_plural = _("idempotency keys")
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_unique")]
        # The purge's question: which rows have expired.
        indexes = [models.Index(fields=["expires_at"], name="idempotency_expires")]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.key}"
