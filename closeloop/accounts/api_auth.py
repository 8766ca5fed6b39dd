"""API authentication: bearer tokens for integrating systems, the session for the browser.

Both put the acting *user* in `request.auth`, so endpoints never care which one was used.
"""

from __future__ import annotations

import copy
import datetime
import logging
import time
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest
from django.utils import timezone
from ninja.security import HttpBearer, SessionAuth

from closeloop.accounts.api_scopes import token_rate_check, token_scope_check
from closeloop.accounts.twofactor import session_needs_second_factor
from closeloop.core.models import ApiToken
from closeloop.core.outage import outage_of
from closeloop.core.services import api_token_hash
from closeloop.core.types import User

# Refreshing last_used_at on every call would turn each read into a write; a minute is precise enough
# to tell which integrations are alive.
LAST_USED_RESOLUTION = datetime.timedelta(minutes=1)

log = logging.getLogger(__name__)


# A live key's token row with its user (and the permissions the user's backend cached on it), per
# process for API_TOKEN_CACHE_SECONDS: reading them was two of the eleven statements of an API intake
# and a tenth of its time (issue 20). Any change to a token, a user, their groups or permissions in this
# process clears it (accounts/receivers.py); another process's change is seen within the TTL.
_live_tokens: dict[str, tuple[float, ApiToken]] = {}
_LIVE_TOKENS_MAX = 1000


def api_token_cache_clear() -> None:
    _live_tokens.clear()


def _token_for(key_hash: str) -> ApiToken | None:
    ttl = settings.API_TOKEN_CACHE_SECONDS
    clock = time.monotonic()
    cached = _live_tokens.get(key_hash)
    if cached is None or clock - cached[0] >= ttl:
        api_token = ApiToken.objects.select_related("user").filter(key_hash=key_hash, revoked_at__isnull=True).first()
        if api_token is None or ttl <= 0:
            _live_tokens.pop(key_hash, None)
            return api_token
        if len(_live_tokens) >= _LIVE_TOKENS_MAX:
            _live_tokens.clear()
        # Read now, on the kept user, so that every request's copy carries them (`_perm_cache`).
        api_token.user.get_all_permissions()
        cached = _live_tokens[key_hash] = (clock, api_token)
    # Each request its own copies: what a request sets on its user or token stays with it, while the
    # permission cache the backend put on the shared user (`_perm_cache`…) comes along.
    api_token = copy.copy(cached[1])
    api_token.user = copy.copy(cached[1].user)
    return api_token


def _used_at_recorded(key_hash: str, at: datetime.datetime) -> None:
    if (cached := _live_tokens.get(key_hash)) is not None:
        cached[1].last_used_at = at


class ApiTokenAuth(HttpBearer):
    """`Authorization: Bearer <key>` against ApiToken (only the key's SHA-256 is stored)."""

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        token = token.strip()
        if not token:
            return None
        key_hash = api_token_hash(token)
        api_token = _token_for(key_hash)
        if api_token is None:
            return None
        now = timezone.now()
        if not api_token.is_usable(now) or not api_token.user.is_active:
            return None
        # A known, live key: what it may do and how often is a 403 or a 429, not a 401.
        token_scope_check(api_token, request)
        token_rate_check(api_token, request)
        if api_token.last_used_at is None or now - api_token.last_used_at >= LAST_USED_RESOLUTION:
            # Conditional on the value read (None becomes IS NULL): of concurrent requests, one writes.
            try:
                ApiToken.objects.filter(pk=api_token.pk, last_used_at=api_token.last_used_at).update(last_used_at=now)
                _used_at_recorded(key_hash, now)
            except DatabaseError as exc:
                # A read must not fail because its bookkeeping could not be written (a read-only or
                # locked database): the next call a minute later records the use.
                if outage_of(exc) is None or connection.in_atomic_block:
                    raise
                log.warning("API token %s: last use not recorded (%s)", api_token.pk, outage_of(exc))
        request.user = api_token.user
        request.api_token = api_token  # type: ignore[attr-defined]  # a per-request attribute of our own
        return api_token.user


class BrowserSessionAuth(SessionAuth):
    """ninja's django_auth (the session cookie, CSRF-checked on unsafe methods), except that a request
    without any session cookie is simply unauthenticated: there is nothing for a forged cross-site
    request to ride on, and an integration that forgot its token should get a 401, not a CSRF 403."""

    def _get_key(self, request: HttpRequest) -> str | None:
        if self.param_name not in request.COOKIES:
            return None
        return super()._get_key(request)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        # A session that still owes its second factor is not logged in as far as the API goes.
        if session_needs_second_factor(request):
            return None
        return super().authenticate(request, key)


api_token_auth = ApiTokenAuth()
session_auth = BrowserSessionAuth()

# Token first (integrations), then the browser session.
API_AUTH = [api_token_auth, session_auth]
