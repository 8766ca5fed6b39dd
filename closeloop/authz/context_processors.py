"""`may` in every template: `{% if may.handling.view_task_inbox %}` asks `authz.allowed`."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from closeloop.authz.actors import Actor
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
