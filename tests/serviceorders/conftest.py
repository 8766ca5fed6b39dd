"""Service-order fixtures: a registration helper at a fixed instant, a technician and a warehouse clerk."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User

from closeloop.core.roles import Role
from closeloop.directory.models import Department
from closeloop.serviceorders.models import ServiceOrder
from closeloop.serviceorders.services import OrderData, order_register
from tests.api.conftest import agent_api, api_client_for  # noqa: F401 - fixtures shared with the API tests
from tests.conftest import aware

# Friday 20 November 2026, 10:00 in Shanghai.
NOW = aware(2026, 11, 20, 10, 0)
_phones = itertools.count(20000000)


@pytest.fixture
def technician(make_user: Callable[..., User]) -> User:
    return make_user(Role.HANDLER, departments=[Department.objects.get(code="tech")], username="tech1")


@pytest.fixture
def warehouse(make_user: Callable[..., User]) -> User:
    return make_user(Role.HANDLER, departments=[Department.objects.get(code="warehouse")], username="wh1")


@pytest.fixture
def register(db: None, agent: User) -> Callable[..., ServiceOrder]:
    """Register through the service; keyword arguments override OrderData's fields."""

    def make(**overrides: Any) -> ServiceOrder:
        actor = overrides.pop("actor", agent)
        now = overrides.pop("now", NOW)
        fields: dict[str, Any] = {
            "kind": "repair",
            "channel": "hotline",
            "customer_name": "王芳",
            "phone": f"137{next(_phones):08d}",
            "description": "吸顶灯闪烁",
            "received_at": now,
        }
        fields.update(overrides)
        return order_register(data=OrderData(**fields), actor=actor, via="desk", now=now)

    return make
