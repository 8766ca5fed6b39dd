"""`may` in every template: `{% if may.handling.view_task_inbox %}` asks `authz.allowed`; `menu`, the
sidebar built from the permissions."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from closeloop.authz.actors import Actor
from closeloop.authz.navigation import menu_for
from closeloop.authz.permissions import allowed


class _App:
    def __init__(self, actor: Actor, app: str) -> None:
        self.actor = actor
        self.app = app

    def __getitem__(self, verb: str) -> bool:
        return allowed(self.actor, f"{self.app}.{verb}")

    def __contains__(self, verb: str) -> bool:
        return self[verb]


class May:
    """Object-free permissions of the request's user, each asked when a template reads it."""

    def __init__(self, user: Any) -> None:
        self.actor = Actor.of(user)

    def __getitem__(self, app: str) -> _App:
        return _App(self.actor, app)


def may(request: HttpRequest) -> dict[str, object]:
    return {"may": May(getattr(request, "user", None))}


def menu(request: HttpRequest) -> dict[str, object]:
    """`menu`: the sidebar's groups and links for the request's user (closeloop/authz/navigation.py),
    built only if a template reads it."""
    user = getattr(request, "user", None)
    match = getattr(request, "resolver_match", None)
    view_name = match.view_name if match else ""
    query = request.META.get("QUERY_STRING", "")
    return {"menu": SimpleLazyObject(lambda: menu_for(user, view_name=view_name, query=query))}
