"""Service-order KPIs by kind in a fixture month, computed by hand (November 2026, read on 1 December)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from django.contrib.auth.models import User

from closeloop.insight.kpis import Period
from closeloop.insight.service_kpis import service_kpis
from closeloop.serviceorders.lifecycle import Kind
from closeloop.serviceorders.models import ServiceOrder
from closeloop.serviceorders.services import order_transition
from tests.conftest import aware

pytestmark = pytest.mark.django_db


def test_kpis_by_kind_in_a_month(
    register: Callable[..., ServiceOrder], agent: User, technician: User, product: object
) -> None:
    def step(order: ServiceOrder, action: str, at: tuple[int, ...], **data: object) -> ServiceOrder:
        return order_transition(order=order, action=action, actor=agent, via="desk", data=data, now=aware(*at))

    model = product.model  # type: ignore[attr-defined]
    # A: repair, Monday 2 Nov 10:00 (reply due Wed 4 Nov 10:00, resolution due Thu 5 Nov 10:00).
    a = register(kind=Kind.REPAIR, phone="13911110000", product_model=model, now=aware(2026, 11, 2, 10))
    a = step(a, "book", (2026, 11, 2, 11), technician=technician.username, day="2026-11-03", slot="14-16")
    a = step(
        a,
        "record_visit",
        (2026, 11, 3, 15),
        diagnosis="坏了",
        labour_cost="50",
        parts=[{"name": "电源", "quantity": 2, "unit_cost": "10.00"}],
    )  # reply on time
    a = step(a, "resolve", (2026, 11, 5, 9), resolution="修好")  # resolution on time
    step(a, "follow_up", (2026, 11, 6, 9), result="satisfied")
    # B: repair by the same customer about the same model, Monday 9 Nov 10:00 — a repeat of A. Reply due
    # Wed 11 Nov 10:00, met Thursday (late); resolution due Thu 12 Nov 10:00, never met (overdue).
    b = register(kind=Kind.REPAIR, phone="13911110000", product_model=model, now=aware(2026, 11, 9, 10))
    assert b.repeat_of == a
    b = step(b, "book", (2026, 11, 9, 11), technician=technician.username, day="2026-11-12", slot="09-11")
    step(b, "record_visit", (2026, 11, 12, 12), diagnosis="又坏了")
    # C: consultation Tuesday 10 Nov, answered on the spot; not satisfied (a complaint is opened).
    c = register(kind=Kind.CONSULTATION, now=aware(2026, 11, 10, 10))
    c = step(c, "answer", (2026, 11, 10, 11), resolution="答复")
    step(c, "follow_up", (2026, 11, 11, 9), result="unsatisfied", note="没解决")
    # D: exchange Monday 30 Nov: nothing due yet on 1 December.
    register(kind=Kind.EXCHANGE, now=aware(2026, 11, 30, 10))
    # Left out: a cancelled order, and one of October.
    e = register(kind=Kind.REPAIR, now=aware(2026, 11, 15, 10))
    step(e, "cancel", (2026, 11, 15, 11), reason="客户取消")
    register(kind=Kind.REPAIR, now=aware(2026, 10, 30, 10))

    figures = {f.kind: f for f in service_kpis(Period.month(2026, 11), now=aware(2026, 12, 1, 12))}
    repair, consultation, exchange, total = (
        figures["repair"],
        figures["consultation"],
        figures["exchange"],
        figures["all"],
    )
    assert repair.orders == 2
    assert repair.counts == {
        "timely_reply": (1, 2),
        "timely_processing": (1, 2),
        "satisfaction": (1, 1),
        "repeat": (1, 2),
    }
    assert (repair.parts_cost, repair.labour_cost) == (Decimal("20.00"), Decimal("50.00"))
    assert consultation.counts == {
        "timely_reply": (1, 1),
        "timely_processing": (1, 1),
        "satisfaction": (0, 1),
        "repeat": (0, 1),
    }
    assert exchange.counts == {
        "timely_reply": (0, 0),
        "timely_processing": (0, 0),
        "satisfaction": (0, 0),
        "repeat": (0, 1),
    }
    assert exchange.rate("timely_reply") is None
    assert figures["support"].orders == 0
    assert total.orders == 4
    assert total.counts == {
        "timely_reply": (2, 3),
        "timely_processing": (2, 3),
        "satisfaction": (1, 2),
        "repeat": (1, 4),
    }
    assert total.rate("timely_reply") == Decimal("66.7")


def test_the_page_and_the_api_show_the_figures(
    register: Callable[..., ServiceOrder], supervisor: User, agent: User, api_client_for: Callable[[User], object]
) -> None:
    from django.test import Client
    from django.utils import timezone

    register(kind=Kind.SUPPORT, now=timezone.now())
    client = Client()
    client.force_login(supervisor)
    page = client.get("/desk/insight/service-kpis/").content.decode()
    assert "售服单及时回复率" in page
    api = api_client_for(supervisor)
    body = api.get("/api/v1/kpis/service-orders").json()  # type: ignore[attr-defined]
    assert [row["kind"] for row in body][-1] == "all" and body[-1]["orders"] == 1
    assert api_client_for(agent).get("/api/v1/kpis/service-orders").status_code == 403  # type: ignore[attr-defined]
