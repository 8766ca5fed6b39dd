"""Attempt counters in Django's cache, shared by every web process: the portal's lookups and intake,
password-reset requests (accounts.lockout) and whole-contact searches by masked roles
(complaints.services.contact_search_admit).

Fixed windows aligned to the clock: simple, and at worst lets 2× the limit through around a window
boundary, which is enough to stop guessing and flooding. The cache is the database by default and
Redis when configured, so the counters hold across processes and restarts.

The database cache does not raise when it cannot write (it returns False, or nothing): a counter that
was not written would never block anyone, so a hit that did not stick raises OutageError (a 503) —
the portal does not guess numbers unthrottled while the database is read-only or locked.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

from closeloop.core.outage import Outage, OutageError


def client_ip(request: HttpRequest) -> str:
    """The client's address. Behind a reverse proxy set PORTAL_CLIENT_IP_HEADER (e.g.
    "HTTP_X_FORWARDED_FOR"); the last address in that list is the one our own proxy added, the
    earlier ones are whatever the client claimed."""
    value = request.META.get(settings.PORTAL_CLIENT_IP_HEADER) or request.META.get("REMOTE_ADDR") or "unknown"
    return str(value).split(",")[-1].strip() or "unknown"


@dataclass(frozen=True)
class Reservation:
    """One counted attempt, which can be given back (an attempt that turned out not to count)."""

    key: str

    def release(self) -> None:
        with contextlib.suppress(ValueError):  # the window has ended meanwhile: nothing left to give back
            cache.decr(self.key)


@dataclass(frozen=True)
class Window:
    """At most `limit` counted attempts per identity in each fixed window of `seconds`."""

    scope: str
    limit: int
    seconds: int

    def _key(self, identity: str, now: float) -> tuple[str, int]:
        window = max(int(self.seconds), 1)
        bucket = int(now // window)
        digest = hashlib.sha256(identity.encode()).hexdigest()[:32]
        expires_in = int((bucket + 1) * window - now) + 1
        return f"portal:throttle:{self.scope}:{digest}:{bucket}", expires_in

    def count(self, identity: str, *, now: float | None = None) -> int:
        """Attempts counted in this window so far."""
        key, _expires_in = self._key(identity, time.time() if now is None else now)
        return int(cache.get(key) or 0)

    def hit(self, identity: str, *, now: float | None = None) -> tuple[int, Reservation]:
        """Count one attempt; the number of attempts in this window, this one included."""
        key, expires_in = self._key(identity, time.time() if now is None else now)
        cache.add(key, 0, timeout=expires_in)
        try:
            hits = int(cache.incr(key))
        except ValueError:  # expired between add() and incr()
            cache.add(key, 1, timeout=expires_in)
            hits = 1
        # The database cache implements incr() as get + set with the DEFAULT timeout, which would cut
        # the window short; put the window's own expiry back. touch() is also the one call that says
        # whether the write happened at all.
        if not cache.touch(key, timeout=expires_in):
            raise OutageError(Outage.UNAVAILABLE, f"attempt counter {self.scope} could not be written")
        return hits, Reservation(key)

    def reserve(self, identity: str, *, now: float | None = None) -> Reservation | None:
        """Count one attempt if the window still has room; None (and nothing counted) when it is full."""
        hits, reservation = self.hit(identity, now=now)
        if hits > self.limit:
            reservation.release()
            return None
        return reservation


def throttle_hit(*, scope: str, identity: str, max_hits: int, window_seconds: int, now: float | None = None) -> bool:
    """Count one attempt by `identity` in `scope`; True when it is over `max_hits` in this window."""
    hits, _reservation = Window(scope, max_hits, window_seconds).hit(identity, now=now)
    return hits > max_hits
