"""Who is logged in where (one row per login session), and the account's security events."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from closeloop.core.events import AppendOnlyModel


class SessionEnd(models.TextChoices):
    """Why a login session ended."""

    LOGOUT = "logout", _("logged out")
    IDLE = "idle", _("inactive for too long")
    EXPIRED = "expired", _("maximum session length reached")
    BY_USER = "by_user", _("ended by the user")
    BY_ADMIN = "by_admin", _("ended by an administrator")
    PASSWORD_CHANGED = "password_changed", _("password changed")
    DEACTIVATED = "deactivated", _("account deactivated")
    SECOND_FACTOR_CHANGED = "second_factor_changed", _("two-factor authentication changed")


class UserSession(models.Model):
    """A login session of a user, written at login and keyed by Django's session key.

    Django's own session table cannot be searched by user; this row can, so a user sees their
    sessions and every session of a user can be ended (deleting the key from the session store)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="login_sessions")
    # Follows the key when Django rotates it (a password change keeps the session under a new key).
    session_key = models.CharField(max_length=40, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_activity_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=24, choices=SessionEnd.choices, blank=True)
    ip_address = models.CharField(_("address"), max_length=45, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name = _("login session")
        verbose_name_plural = _("login sessions")
        indexes = [
            # The account page's list and "end every session of this user": the open rows of one user.
            models.Index(
                fields=["user", "-last_activity_at"],
                condition=models.Q(ended_at__isnull=True),
                name="accounts_session_open_by_user",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.created_at:%Y-%m-%d %H:%M}"


class SecurityEventKind(models.TextChoices):
    LOCKED_OUT = "locked_out", _("locked out after failed logins")
    UNLOCKED = "unlocked", _("unlocked by an administrator")
    PASSWORD_CHANGED = "password_changed", _("password changed")
    PASSWORD_RESET_REQUESTED = "password_reset_requested", _("password reset requested")
    DEACTIVATED = "deactivated", _("account deactivated")
    TWO_FACTOR_ENROLLED = "two_factor_enrolled", _("two-factor authentication set up")
    TWO_FACTOR_DISABLED = "two_factor_disabled", _("two-factor authentication turned off")
    TWO_FACTOR_RESET = "two_factor_reset", _("two-factor authentication reset by an administrator")
    RECOVERY_CODES_ISSUED = "recovery_codes_issued", _("new recovery codes issued")
    RECOVERY_CODE_USED = "recovery_code_used", _("recovery code used")
    SESSIONS_ENDED = "sessions_ended", _("sessions ended")
    TOKEN_CREATED = "token_created", _("API token created")
    TOKEN_REVOKED = "token_revoked", _("API token revoked")


class SecurityEvent(AppendOnlyModel):
    """Append-only record of what happened to an account's credentials and sessions. No addresses,
    no secrets: `detail` holds counts, reasons and ids."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="security_events"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(max_length=32, choices=SecurityEventKind.choices)
    at = models.DateTimeField(default=timezone.now)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("security event")
        verbose_name_plural = _("security events")
        indexes = [
            # The account page's "recent security events" of one user, newest first.
            models.Index(fields=["user", "-at"], name="accounts_event_by_user"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.at:%Y-%m-%d %H:%M}"
