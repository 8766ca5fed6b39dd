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
    assert demo_service_orders() == 9
    assert set(ServiceOrder.objects.values_list("kind", flat=True)) == set(Kind.values)
    # The support and consultation answers link the knowledge-base article they followed.
    answered = ServiceOrder.objects.filter(kind__in=["support", "consultation"], status="resolved")
    assert answered.count() == 3
    assert all(o.article_id is not None for o in answered)
    consultation = answered.get(kind="consultation")
    assert consultation.article.title == "筒灯开孔尺寸与旧灯不符" and consultation.article_note
    assert (
        ServiceEvent.objects.filter(order=consultation, action="answer").get().after["article"]
        == consultation.article_id
    )
    assert ServiceEvent.objects.filter(action="inspect").count() == 0  # the return waits at the warehouse
    assert ServiceOrder.objects.filter(status="received").exists()
    assert demo_service_orders() == 0
