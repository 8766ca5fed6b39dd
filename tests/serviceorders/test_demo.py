"""The demo has a service order of every kind, moved along by the real services; a second run adds none."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User

from closeloop.core.roles import Role
from closeloop.directory.models import Department
from closeloop.serviceorders.demo import demo_service_orders
from closeloop.serviceorders.lifecycle import Kind
from closeloop.serviceorders.models import ServiceEvent, ServiceOrder

pytestmark = pytest.mark.django_db


def test_every_kind_is_in_the_demo_once(make_user: Callable[..., User], product: object) -> None:
    make_user(Role.AGENT, username="agent")
    make_user(Role.HANDLER, departments=[Department.objects.get(code="tech")], username="handler")
    assert demo_service_orders() == 8
    assert set(ServiceOrder.objects.values_list("kind", flat=True)) == set(Kind.values)
    assert ServiceEvent.objects.filter(action="inspect").count() == 0  # the return waits at the warehouse
    assert ServiceOrder.objects.filter(status="received").exists()
    assert demo_service_orders() == 0
