"""A service order's timeline speaks the reader's language: every transition of every kind, registration,
attachments and the sweep's deadline events have words, and the page and the API show them."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import translation

from closeloop.complaints.sweeps import sla_sweep
from closeloop.serviceorders.lifecycle import LIFECYCLES, POSTPONEMENT_LIFECYCLE, Kind
from closeloop.serviceorders.models import ServiceOrder
from closeloop.serviceorders.presentation import ACTION_LABELS, SERVICE_ACTIONS, action_label
from closeloop.serviceorders.services import order_transition
from closeloop.sla.models import Deadline
from tests.api.conftest import ApiClient

from .conftest import NOW

pytestmark = pytest.mark.django_db


def test_every_action_of_every_kind_has_words_in_both_languages() -> None:
    actions = {t.action for table in LIFECYCLES.values() for t in table.transitions}
    actions |= {*SERVICE_ACTIONS, "deadline_warned", "deadline_breached", "deadline_escalated"}
    # a postponement's decision is on the order's timeline as postponement_<approved|rejected>
    actions |= {f"postponement_{t.target}" for t in POSTPONEMENT_LIFECYCLE.transitions}
    assert {"waiting_started", "waiting_ended", "postponement_requested", "postponement_approved"} <= actions
    assert actions - ACTION_LABELS.keys() == set()
    for action in actions:
        with translation.override("en"):
            english = action_label(action)
        with translation.override("zh-hans"):
            chinese = action_label(action)
        assert english != action and chinese != english, action


def test_the_page_and_the_api_show_the_sweeps_event_in_words(
    register: Callable[..., ServiceOrder], agent: User, agent_api: ApiClient
) -> None:
    order = register(kind=Kind.REPAIR)
    order = order_transition(
        order=order, action="dispatch", actor=agent, via="desk", now=NOW, data={"department": "tech"}
    )
    reply = Deadline.objects.get(service_order=order, milestone="reply")
    sla_sweep(now=reply.warn_at)

    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(agent)
    page = client.get(f"/desk/service/{order.number}", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Deadline warning" in page and "Dispatched" in page
    assert "deadline_warned" not in page

    rows = agent_api.get(f"/api/v1/service-orders/{order.number}/timeline", HTTP_ACCEPT_LANGUAGE="zh-hans").json()
    labels = {row["action"]: row["label"] for row in rows}
    with translation.override("zh-hans"):
        assert labels["deadline_warned"] == action_label("deadline_warned") != "Deadline warning"
        assert labels["registered"] == action_label("registered")
