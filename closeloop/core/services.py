"""Writes to cross-cutting records: API tokens for integrating systems."""

from __future__ import annotations

import datetime
import hashlib
import secrets
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from closeloop.core.errors import DomainError
from closeloop.core.models import ApiToken, Scope, all_scopes
from closeloop.core.types import User

PREFIX_LENGTH = 8


def api_token_hash(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


# A token's lifetime is given in days; ten years is "no expiry" spelt the long way.
MAX_EXPIRY_DAYS = 3650


def api_token_create(
    *, user: User, name: str, expires_days: int | None = None, scopes: Iterable[str] | None = None
) -> tuple[ApiToken, str]:
    """Create a token and return it with its raw key. The raw key is never stored: show it once.
    With `expires_days` the key stops working that many days from now; `scopes` (None: all) limit what
    it may be used for."""
    chosen = all_scopes() if scopes is None else [scope for scope in all_scopes() if scope in set(scopes)]
    if not chosen or (scopes is not None and set(scopes) - set(Scope.values)):
        raise DomainError(
            _("Choose one or more scopes of: %(scopes)s.") % {"scopes": ", ".join(Scope.values)}, field="scopes"
        )
    name = name.strip()
    if not name:
        raise DomainError(_("Give the token a name (e.g. the system that will use it)."), field="name")
    if not user.is_active:
        raise DomainError(_("The user is not active."), field="user")
    if expires_days is not None and not 1 <= expires_days <= MAX_EXPIRY_DAYS:
        raise DomainError(
            _("A token expires after 1 to %(max)d days, or never.") % {"max": MAX_EXPIRY_DAYS}, field="expires_days"
        )
    now = timezone.now()
    raw_key = secrets.token_urlsafe(32)  # 256 bits: collisions are not a practical concern
    while raw_key[0] == "-":  # its prefix is typed after `closeloop token revoke`, where it would read as an option
        raw_key = secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name[:80],
        key_hash=api_token_hash(raw_key),
        prefix=raw_key[:PREFIX_LENGTH],
        created_at=now,
        expires_at=now + datetime.timedelta(days=expires_days) if expires_days else None,
        scopes=chosen,
    )
    return token, raw_key


def api_tokens_revoke_all(*, user: User) -> int:
    """Revoke every active token of a user (their password changed or they were deactivated)."""
    return ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())


def api_token_revoke_own(*, user: User, token_id: int) -> ApiToken:
    """Revoke one of the user's own tokens (from their account page)."""
    with transaction.atomic():
        token = ApiToken.objects.select_for_update(no_key=True).filter(pk=token_id, user=user).first()
        if token is None:
            raise DomainError(_("No such token."), field="token")
        if token.revoked_at is None:
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
    return token


def api_token_revoke(*, prefix: str) -> ApiToken:
    """Revoke the active token whose key starts with `prefix`. Refuses an ambiguous prefix, so one
    typo cannot cut off several integrations at once."""
    prefix = prefix.strip()[:PREFIX_LENGTH]
    with transaction.atomic():
        tokens = list(
            ApiToken.objects.select_for_update(no_key=True).filter(prefix=prefix, revoked_at__isnull=True)[:2]
        )
        if not tokens:
            raise DomainError(_("No active token starts with “%(prefix)s”.") % {"prefix": prefix}, field="prefix")
        if len(tokens) > 1:
            raise DomainError(
                _("Several active tokens start with “%(prefix)s”; revoke the right one in the admin.")
                % {"prefix": prefix},
                field="prefix",
            )
        token = tokens[0]
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token
