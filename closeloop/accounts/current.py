"""The session of the request being served, for the code paths that change a user without being
handed the request (a password saved by Django's admin or forms): "is this the user's own session?"."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass

from closeloop.core.types import User


@dataclass(frozen=True)
class CurrentSession:
    user: User
    user_id: int
    session_key: str


current_session: ContextVar[CurrentSession | None] = ContextVar("accounts_current_session", default=None)
