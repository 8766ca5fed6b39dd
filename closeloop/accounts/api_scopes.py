"""Which scope an API operation needs, and the per-token rate limit (issue 14).

GET (and HEAD) reads; registering a complaint (POST /complaints) is intake; the administration
endpoints (webhooks) need admin whatever the method; every other write needs write. The token's
scopes only narrow it: the user's roles are still checked by each service.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from closeloop import authz
from closeloop.core.errors import RateLimited
from closeloop.core.models import ApiToken, Scope
from closeloop.core.throttle import Window

API_PREFIX = "/api/v1/"
INTAKE_PATHS = frozenset({"complaints", "triage/suggest"})  # suggestions: read-only help for intake
ADMIN_PREFIXES = ("webhooks",)
WINDOW_SECONDS = 60


def required_scope(method: str, path: str) -> Scope:
    tail = path.removeprefix(API_PREFIX).strip("/")
    if tail.startswith(ADMIN_PREFIXES):
        return Scope.ADMIN
    if method in {"GET", "HEAD", "OPTIONS"}:
        return Scope.READ
    if method == "POST" and tail in INTAKE_PATHS:
        return Scope.INTAKE
    return Scope.WRITE


@dataclass(frozen=True)
class TokenUse:
    """The object of authz's `core.use_token_scope`: what the token holds and what the operation needs."""

    scopes: tuple[str, ...]
    scope: str


def token_scope_check(token: ApiToken, request: HttpRequest) -> None:
    needed = required_scope(request.method or "GET", request.path)
    # The question is about the token, not the roles: an actor without them costs no query (the
    # operation asks the roles itself).
    authz.require(
        authz.Actor(user=token.user, roles=frozenset()),
        "core.use_token_scope",
        TokenUse(tuple(token.scopes), needed.value),
        message=_("This token may not be used for this (it lacks the scope “%(scope)s”).") % {"scope": needed.value},
    )


@dataclass(frozen=True)
class RateState:
    limit: int
    remaining: int
    reset: int  # unix seconds when the window ends


def token_rate_check(token: ApiToken, request: HttpRequest, *, now: float | None = None) -> None:
    """Count this request against the token's window; 429 with Retry-After beyond the limit. The state
    is kept on the request for the X-RateLimit-* headers."""
    limit = settings.API_TOKEN_RATE_PER_MINUTE
    if limit <= 0:
        return
    now = time.time() if now is None else now
    hits, _reservation = Window("api_token", limit, WINDOW_SECONDS).hit(str(token.pk), now=now)
    reset = (int(now) // WINDOW_SECONDS + 1) * WINDOW_SECONDS
    request.rate_limit = RateState(limit, max(limit - hits, 0), reset)  # type: ignore[attr-defined]  # get_response is Django's callable
    if hits > limit:
        raise RateLimited(
            _("This token made more than %(limit)d requests this minute; wait and try again.") % {"limit": limit},
            retry_after=max(reset - int(now), 1),
            reason="api_token.rate_limited",  # the token's limit, whatever resource it asked for
        )


class RateLimitHeadersMiddleware:
    """X-RateLimit-Limit / -Remaining / -Reset on every answer to a token-authenticated request."""

    def __init__(self, get_response: object) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response: HttpResponse = self.get_response(request)  # type: ignore[operator]  # get_response is Django's callable
        state = getattr(request, "rate_limit", None)
        if isinstance(state, RateState):
            response["X-RateLimit-Limit"] = str(state.limit)
            response["X-RateLimit-Remaining"] = str(state.remaining)
            response["X-RateLimit-Reset"] = str(state.reset)
        return response
