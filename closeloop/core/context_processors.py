from __future__ import annotations

from django.http import HttpRequest

from closeloop.core.roles import user_roles


def roles(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)
    return {"user_roles": user_roles(user)}
