"""Login throttling: django-axes counts failed logins per account and per client address, and a
fixed-window counter limits password-reset requests the same way.

Failures of the password step and of the second-factor step both count (the code step reports a
wrong code to axes as a failed login). A lockout lasts LOGIN_LOCKOUT_MINUTES after the last
failure; an administrator lifts it earlier (the user admin's "unlock" action, axes' admin, or
`closeloop axes_reset_username USERNAME`)."""

from __future__ import annotations

import datetime
from typing import Any

from axes.handlers.database import AxesDatabaseHandler
from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.db.models import Sum
from django.http import HttpRequest

from closeloop.core.throttle import client_ip, throttle_hit


def client_address(request: HttpRequest) -> str:
    """The same client address the portal's limits use (PORTAL_CLIENT_IP_HEADER behind a proxy)."""
    return client_ip(request)


def failure_limit(request: HttpRequest, credentials: dict[str, Any] | None) -> int:
    return settings.LOGIN_FAILURE_LIMIT


def lockout_duration(request: HttpRequest | None) -> datetime.timedelta:
    return datetime.timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES)


def username_for_lockout(request: HttpRequest, credentials: dict[str, Any] | None) -> str | None:
    """The typed username, trimmed and lower-cased, so "Admin " and "admin" share one counter
    (directory backends match names without regard to case)."""
    value = credentials.get("username") if credentials else getattr(request, "data", request.POST).get("username")
    return value.strip().lower() if isinstance(value, str) else None


class LockoutHandler(AxesDatabaseHandler):
    """axes' database handler with a limit of its own for the client address: an office behind one
    NAT address may need a higher one than a single account (LOGIN_FAILURE_LIMIT_PER_ADDRESS)."""

    def get_failures(self, request: HttpRequest, credentials: dict[str, Any] | None = None) -> int:
        by_account, by_address = (
            attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0
            for attempts in self.get_user_attempts(request, credentials)
        )
        if by_address >= settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS:
            return max(by_account, settings.LOGIN_FAILURE_LIMIT)
        return by_account


def is_locked_out(request: HttpRequest, username: str) -> bool:
    return not AxesProxyHandler.is_allowed(request, {"username": username})


def unlock(*, username: str) -> int:
    """Forget the failed logins of an account (from every address). Returns the rows removed."""
    return AxesProxyHandler.reset_attempts(username=username.strip().lower())


def password_reset_throttled(request: HttpRequest, email: str) -> bool:
    """Count one reset request against the client address and against the typed address; True when
    either is over LOGIN_FAILURE_LIMIT in LOGIN_LOCKOUT_MINUTES. Counted whether or not an account
    has that address, so the answer tells nothing about which addresses exist."""
    window = settings.LOGIN_LOCKOUT_MINUTES * 60
    by_client = throttle_hit(
        scope="password-reset-ip",
        identity=client_address(request),
        max_hits=settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS,
        window_seconds=window,
    )
    by_account = throttle_hit(
        scope="password-reset-account",
        identity=email.strip().lower(),
        max_hits=settings.LOGIN_FAILURE_LIMIT,
        window_seconds=window,
    )
    return by_client or by_account
