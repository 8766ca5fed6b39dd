"""What the fixtures of the KPI tests build; each test module declares its own fixtures over these (no
conftest shared with the other insight tests)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth.models import User

from closeloop.core.roles import Role
from closeloop.directory.models import Department
from tests.insight.month import Month, build_month


def make_month(make_user: Callable[..., Any], settings: Any) -> Month:
    settings.FOLLOWUP_MAX_ATTEMPTS = 3
    settings.REPEAT_WINDOW_DAYS = 90
    return build_month(make_user)


def make_staff(make_user: Callable[..., User]) -> dict[str, User]:
    """An agent, a quality handler and a production handler (for tests/insight/scenarios.py)."""
    quality = Department.objects.get(code="quality")
    production = Department.objects.get(code="production")
    return {
        "agent": make_user(Role.AGENT, username="k_agent"),
        "h1": make_user(Role.HANDLER, departments=[quality], username="k_h1"),
        "hp": make_user(Role.HANDLER, departments=[production], username="k_hp"),
    }
