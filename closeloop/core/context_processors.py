from __future__ import annotations

from django.http import HttpRequest

from closeloop.core.roles import user_roles


def roles(request: HttpRequest) -> dict[str, object]:
    """Roles for the templates, and the unread notification count (evaluated only if a template asks)."""
    from django.utils.functional import SimpleLazyObject

    from closeloop.notifications.selectors import unread_count

    user = getattr(request, "user", None)
    unread = SimpleLazyObject(lambda: unread_count(user=user)) if user and user.is_authenticated else 0
    return {"user_roles": user_roles(user), "unread_notifications": unread}
