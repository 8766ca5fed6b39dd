"""Writes to accounts: login sessions, the consequences of a credential change, two-factor devices,
recovery codes and a user's own API tokens. Each write records its security event."""

from __future__ import annotations

import datetime
from importlib import import_module

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from closeloop.accounts.api_auth import api_token_cache_clear
from closeloop.accounts.events import security_event_record
from closeloop.accounts.lockout import client_address
from closeloop.accounts.models import SecurityEventKind, SessionEnd, UserSession
from closeloop.accounts.twofactor import (
    RECOVERY_DEVICE_NAME,
    SECOND_FACTOR_OWED,
    TOTP_DEVICE_NAME,
    has_device,
    new_recovery_codes,
    two_factor_required,
)
from closeloop.core.errors import DomainError
from closeloop.core.models import ApiToken
from closeloop.core.services import api_token_create, api_token_revoke_own, api_tokens_revoke_all
from closeloop.core.types import User

# Session data: when the login happened and when the session was last seen (Unix seconds).
SESSION_STAMPS = "accounts_stamps"
# Refreshing "last seen" on every request would write the session on every request; a minute is
# precise enough for a 30-minute idle limit and for the sessions list.
ACTIVITY_RESOLUTION = datetime.timedelta(minutes=1)


def _session_store_delete(session_key: str) -> None:
    engine = import_module(settings.SESSION_ENGINE)
    engine.SessionStore(session_key=session_key).delete()


# --- Login sessions ---------------------------------------------------------------------------------


def session_record_login(*, request: HttpRequest, user: User) -> UserSession:
    """Called at every login (any path): the session row, the lifetime stamps, and whether the
    session still owes a second factor (the user has a device but this login did not use it)."""
    now = timezone.now()
    stamp = now.timestamp()
    request.session[SESSION_STAMPS] = [stamp, stamp]
    if getattr(user, "otp_device", None) is None and has_device(user):
        request.session[SECOND_FACTOR_OWED] = True
    else:
        request.session.pop(SECOND_FACTOR_OWED, None)
    if request.session.session_key is None:
        request.session.save()
    return UserSession.objects.create(
        user=user,
        session_key=request.session.session_key,  # type: ignore[misc]  # save() gave the session its key
        created_at=now,
        last_activity_at=now,
        ip_address=client_address(request)[:45],
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:300],
    )


def session_touch(*, request: HttpRequest, now: datetime.datetime) -> None:
    """Note activity on the current session (the middleware calls it at most once a minute)."""
    stamps = request.session[SESSION_STAMPS]
    request.session[SESSION_STAMPS] = [stamps[0], now.timestamp()]
    UserSession.objects.filter(session_key=request.session.session_key, ended_at__isnull=True).update(
        last_activity_at=now
    )


def session_key_rotated(*, old_key: str, new_key: str) -> None:
    """Django gave the current session a new key (e.g. after a password change): follow it."""
    UserSession.objects.filter(session_key=old_key, ended_at__isnull=True).update(session_key=new_key)


def session_closed(*, session_key: str, reason: SessionEnd) -> None:
    """The current session ended on its own (logout, idle, too old): mark its row."""
    UserSession.objects.filter(session_key=session_key, ended_at__isnull=True).update(
        ended_at=timezone.now(), end_reason=reason
    )


def _end(rows: QuerySet[UserSession], *, reason: SessionEnd) -> int:
    """Mark the rows ended and delete their keys from the session store. At once, not on commit:
    should the transaction roll back, a session ended for nothing is the safe way to be wrong."""
    keys = list(rows.values_list("session_key", flat=True))
    if not keys:
        return 0
    UserSession.objects.filter(session_key__in=keys, ended_at__isnull=True).update(
        ended_at=timezone.now(), end_reason=reason
    )
    for key in keys:
        _session_store_delete(key)
    return len(keys)


def session_end(*, user: User, session_id: int, actor: User) -> int:
    """End one open session of `user` (their own from the account page, or an administrator's)."""
    reason = SessionEnd.BY_USER if actor.pk == user.pk else SessionEnd.BY_ADMIN
    with transaction.atomic():
        count = _end(UserSession.objects.filter(user=user, pk=session_id, ended_at__isnull=True), reason=reason)
        if not count:
            raise DomainError(_("That session has already ended."), field="session")
        security_event_record(
            kind=SecurityEventKind.SESSIONS_ENDED, user=user, actor=actor, count=count, reason=reason.value
        )
    return count


def sessions_end_all(*, user: User, actor: User | None, reason: SessionEnd, keep_session_key: str | None = None) -> int:
    """End every open session of `user` except `keep_session_key` (the one asking, when it is theirs)."""
    with transaction.atomic():
        rows = UserSession.objects.filter(user=user, ended_at__isnull=True)
        if keep_session_key:
            rows = rows.exclude(session_key=keep_session_key)
        count = _end(rows, reason=reason)
        security_event_record(
            kind=SecurityEventKind.SESSIONS_ENDED, user=user, actor=actor, count=count, reason=reason.value
        )
    return count


def account_credentials_changed(
    *,
    user: User,
    password_changed: bool,
    deactivated: bool,
    actor: User | None,
    keep_session_key: str | None,
) -> None:
    """A password changed or an account was deactivated, by whatever path (desk, admin, reset link,
    `closeloop changepassword`): end the user's sessions — except the current one when the user
    changed their own password — and revoke their API tokens."""
    reason = SessionEnd.DEACTIVATED if deactivated else SessionEnd.PASSWORD_CHANGED
    keep = None if deactivated else keep_session_key
    with transaction.atomic():
        rows = UserSession.objects.filter(user=user, ended_at__isnull=True)
        if keep:
            rows = rows.exclude(session_key=keep)
        sessions = _end(rows, reason=reason)
        tokens = api_tokens_revoke_all(user=user)
        api_token_cache_clear()  # revoked by an UPDATE, which sends no signal
        kind = SecurityEventKind.DEACTIVATED if deactivated else SecurityEventKind.PASSWORD_CHANGED
        security_event_record(kind=kind, user=user, actor=actor, sessions_ended=sessions, tokens_revoked=tokens)
        if deactivated and password_changed:
            security_event_record(kind=SecurityEventKind.PASSWORD_CHANGED, user=user, actor=actor)


# --- Two-factor authentication ------------------------------------------------------------------


def twofactor_enrolment_start(*, user: User) -> TOTPDevice:
    """The unconfirmed authenticator the user is setting up (the same one on a reload, so a scanned
    QR code stays valid)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, confirmed=False)
    return device


def twofactor_enrolment_confirm(
    *, user: User, device_id: int, code: str, keep_session_key: str | None
) -> tuple[TOTPDevice, list[str]]:
    """Confirm the new authenticator with a code from it. It replaces any earlier authenticator, new
    recovery codes replace the old ones, and the user's other sessions end (they were opened without
    this factor). Returns the device and the recovery codes to show once."""
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().filter(pk=device_id, user=user, confirmed=False).first()
        if device is None:
            raise DomainError(_("Start the set-up again: this authenticator is no longer waiting."), field="code")
        if not device.verify_token(code.replace(" ", "")):
            raise DomainError(
                _("That code is not right. Check the phone's clock and enter the code shown now."), field="code"
            )
        replaced = TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()[0]
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        codes = _recovery_codes_replace(user)
        security_event_record(kind=SecurityEventKind.TWO_FACTOR_ENROLLED, user=user, actor=user, replaced=replaced)
        sessions_end_all(
            user=user, actor=user, reason=SessionEnd.SECOND_FACTOR_CHANGED, keep_session_key=keep_session_key
        )
    return device, codes


def _recovery_codes_replace(user: User) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_DEVICE_NAME, confirmed=True)
    codes = new_recovery_codes()
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes


def recovery_codes_issue(*, user: User) -> list[str]:
    """New recovery codes (the old ones stop working), for a user with an authenticator."""
    with transaction.atomic():
        if not TOTPDevice.objects.filter(user=user, confirmed=True).exists():
            raise DomainError(_("Set up an authenticator app first."), field="code")
        codes = _recovery_codes_replace(user)
        security_event_record(kind=SecurityEventKind.RECOVERY_CODES_ISSUED, user=user, actor=user)
    return codes


def twofactor_disable(*, user: User, password: str) -> None:
    """Turn two-factor off for a user whose roles do not require it (the password confirms it)."""
    if two_factor_required(user):
        raise DomainError(_("Your role requires two-factor authentication."), field="password")
    if not user.check_password(password):
        raise DomainError(_("That is not your password."), field="password")
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
        security_event_record(kind=SecurityEventKind.TWO_FACTOR_DISABLED, user=user, actor=user)


def twofactor_reset(*, user: User, actor: User, keep_session_key: str | None = None) -> None:
    """An administrator removes a user's authenticator and recovery codes (a lost phone): the user's
    sessions end and, if their role requires it, they set up a new one at the next login."""
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
        security_event_record(kind=SecurityEventKind.TWO_FACTOR_RESET, user=user, actor=actor)
        sessions_end_all(
            user=user, actor=actor, reason=SessionEnd.SECOND_FACTOR_CHANGED, keep_session_key=keep_session_key
        )


# --- A user's own API tokens --------------------------------------------------------------------


def own_token_create(
    *, user: User, name: str, expires_days: int | None, scopes: list[str] | None = None
) -> tuple[ApiToken, str]:
    with transaction.atomic():
        token, raw_key = api_token_create(user=user, name=name, expires_days=expires_days, scopes=scopes)
        security_event_record(kind=SecurityEventKind.TOKEN_CREATED, user=user, actor=user, token=token.pk)
    return token, raw_key


def own_token_revoke(*, user: User, token_id: int) -> ApiToken:
    with transaction.atomic():
        token = api_token_revoke_own(user=user, token_id=token_id)
        security_event_record(kind=SecurityEventKind.TOKEN_REVOKED, user=user, actor=user, token=token.pk)
    return token


# --- Housekeeping -------------------------------------------------------------------------------

# Ended sessions (with their address and browser) are kept this long for the account's owner and
# the administrators to look back on, then deleted.
SESSION_RECORD_DAYS = 30


def sessions_purge() -> int:
    """Delete expired entries of Django's session store and session rows ended (or silent) longer
    than SESSION_RECORD_DAYS. Idempotent."""
    engine = import_module(settings.SESSION_ENGINE)
    engine.SessionStore.clear_expired()
    cutoff = timezone.now() - datetime.timedelta(days=SESSION_RECORD_DAYS)
    deleted, _by_model = UserSession.objects.filter(
        Q(ended_at__lt=cutoff) | Q(ended_at__isnull=True, last_activity_at__lt=cutoff)
    ).delete()
    return deleted
