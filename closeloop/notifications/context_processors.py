from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from closeloop.notifications.selectors import unread_count


def unread(request: HttpRequest) -> dict[str, object]:
    """The unread notification count of the desk's header (notifications/_badge.html), counted only if a
    template asks for it, and how often the open page polls for changes."""
    user = getattr(request, "user", None)
    count = SimpleLazyObject(lambda: unread_count(user=user)) if user and user.is_authenticated else 0
    return {"unread_notifications": count, "poll_seconds": settings.LIVE_POLL_SECONDS}
