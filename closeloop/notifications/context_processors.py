from __future__ import annotations

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from closeloop.notifications.selectors import unread_count


def unread(request: HttpRequest) -> dict[str, object]:
    """The unread notification count of the desk's header, counted only if a template asks for it."""
    user = getattr(request, "user", None)
    count = SimpleLazyObject(lambda: unread_count(user=user)) if user and user.is_authenticated else 0
    return {"unread_notifications": count}
