"""Absolute links for messages that leave CloseLoop (SMS, e-mail): they start with settings.SITE_URL.

A request's own host is never used: a worker has no request, and a forged Host header must not end up
in a message to a customer.
"""

from __future__ import annotations

from django.conf import settings


def absolute_url(path: str) -> str:
    """`path` (as `reverse()` returns it, starting with "/") under the address users reach CloseLoop at."""
    return settings.SITE_URL.rstrip("/") + "/" + path.lstrip("/")
