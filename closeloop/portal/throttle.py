"""Per-client and per-key attempt counters in Django's cache, shared by every web process.

Fixed windows aligned to the clock: simple, and at worst lets 2× the limit through around a window
boundary, which is enough to stop guessing and flooding. The cache is the database by default and
Redis when configured, so the counters hold across processes and restarts.
"""

from __future__ import annotations

import hashlib
import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """The client's address. Behind a reverse proxy set PORTAL_CLIENT_IP_HEADER (e.g.
    "HTTP_X_FORWARDED_FOR"); the last address in that list is the one our own proxy added, the
    earlier ones are whatever the client claimed."""
    header = settings.PORTAL_CLIENT_IP_HEADER
    value = request.META.get(header) or request.META.get("REMOTE_ADDR") or "unknown"
    return str(value).split(",")[-1].strip() or "unknown"


def throttle_hit(*, scope: str, identity: str, max_hits: int, window_seconds: int, now: float | None = None) -> bool:
    """Count one attempt by `identity` in `scope`; True when it is over `max_hits` in this window."""
    now = time.time() if now is None else now
    window = max(int(window_seconds), 1)
    bucket = int(now // window)
    digest = hashlib.sha256(identity.encode()).hexdigest()[:32]
    key = f"portal:throttle:{scope}:{digest}:{bucket}"
    expires_in = int((bucket + 1) * window - now) + 1
    cache.add(key, 0, timeout=expires_in)
    try:
        hits = cache.incr(key)
    except ValueError:  # expired between add() and incr()
        cache.set(key, 1, timeout=expires_in)
        hits = 1
    # The database cache implements incr() as get + set with the DEFAULT timeout, which would cut
    # the window short; put the window's own expiry back.
    cache.touch(key, timeout=expires_in)
    return hits > max_hits
