"""Which complaints this browser may see, kept in its session.

After intake the receipt, and after a successful lookup the status page, are reachable by their
number only from the same browser and only for a while: the URL alone reveals nothing, so guessing
numbers gets nowhere.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.http import HttpRequest

RECEIPT = "receipt"
STATUS = "status"
_SESSION_KEY = "portal_grants"
_MAX_KEPT = 20


def _ttl() -> int:
    return settings.PORTAL_GRANT_SECONDS


def grant_add(request: HttpRequest, *, kind: str, number: str, now: float | None = None) -> None:
    now = time.time() if now is None else now
    grants: dict[str, float] = {
        key: at for key, at in request.session.get(_SESSION_KEY, {}).items() if now - at < _ttl()
    }
    grants[f"{kind}:{number}"] = now
    # A new session key on every grant: a session id planted in the browser beforehand is useless.
    request.session.cycle_key()
    # Keep the newest few only; the session is not a store.
    request.session[_SESSION_KEY] = dict(sorted(grants.items(), key=lambda item: item[1])[-_MAX_KEPT:])


def grant_has(request: HttpRequest, *, kind: str, number: str, now: float | None = None) -> bool:
    now = time.time() if now is None else now
    at = request.session.get(_SESSION_KEY, {}).get(f"{kind}:{number}")
    return at is not None and now - float(at) < _ttl()
