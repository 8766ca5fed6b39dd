"""Small display helpers for the desk templates."""

from __future__ import annotations

from typing import Any

from django import template

from closeloop.core.roles import ROLE_LABELS, Role
from closeloop.sla.presentation import describe_duration, time_left

register = template.Library()


@register.simple_tag
def role_labels(roles: frozenset[str]) -> str:
    """The user's roles in the active language, comma-separated, in the order of the Role enum."""
    return ", ".join(str(ROLE_LABELS[r]) for r in Role if r.value in roles)


@register.inclusion_tag("desk/_time_left.html")
def time_left_badge(
    due_at: Any, warn_at: Any, paused: bool = False, met_at: Any = None, cancelled: bool = False
) -> dict:
    """Green while time is left, amber from the warning point, red when breached (sla.presentation)."""
    if met_at is not None:
        return {"badge": None, "met_at": met_at, "cancelled": cancelled}
    return {"badge": time_left(due_at=due_at, warn_at=warn_at, paused=paused)}


@register.filter
def duration_words(text: str) -> str:
    """A deadline's target ("2wd") in words of the active language (sla.presentation)."""
    return describe_duration(text)
