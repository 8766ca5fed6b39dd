"""Reads for the account page: open sessions, two-factor status, tokens, recent security events."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from closeloop.accounts.models import SecurityEvent, UserSession
from closeloop.accounts.twofactor import confirmed_totp_device, recovery_codes_left, two_factor_required
from closeloop.core.models import ApiToken
from closeloop.core.types import User


def sessions_open(*, user: User) -> QuerySet[UserSession]:
    """The user's sessions that can still be used: not ended, and within both lifetime limits."""
    now = timezone.now()
    return UserSession.objects.filter(
        user=user,
        ended_at__isnull=True,
        last_activity_at__gte=now - datetime.timedelta(minutes=settings.SESSION_IDLE_MINUTES),
        created_at__gte=now - datetime.timedelta(hours=settings.SESSION_MAX_HOURS),
    ).order_by("-last_activity_at")


@dataclass(frozen=True)
class TwoFactorStatus:
    required: bool
    enabled: bool
    recovery_codes_left: int


def two_factor_status(*, user: User) -> TwoFactorStatus:
    enabled = confirmed_totp_device(user) is not None
    return TwoFactorStatus(
        required=two_factor_required(user),
        enabled=enabled,
        recovery_codes_left=recovery_codes_left(user) if enabled else 0,
    )


def tokens_of(*, user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user).order_by("revoked_at", "-created_at")


def security_events_recent(*, user: User, limit: int = 10) -> QuerySet[SecurityEvent]:
    return SecurityEvent.objects.filter(user=user).order_by("-at")[:limit]
