from __future__ import annotations

from django.http import HttpRequest

from closeloop.core.roles import user_roles


def roles(request: HttpRequest) -> dict[str, object]:
    """The user's roles, for templates that show or hide what a role may do."""
    return {"user_roles": user_roles(getattr(request, "user", None))}
