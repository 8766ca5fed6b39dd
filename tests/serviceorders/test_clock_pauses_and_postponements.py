"""A service order's clocks pause while it waits for the customer or for parts and resume extended by the
pause; a postponement (延期) asked for and approved by a CS supervisor moves a deadline, its original kept.
Through the services, the API and the desk page."""

from __future__ import annotations

import datetime
from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from closeloop.complaints.sweeps import sla_sweep
from closeloop.core.errors import PermissionDeniedError, TransitionNotAllowed, ValidationFailed
from closeloop.serviceorders.lifecycle import Kind, ServicePostponementStatus
from closeloop.serviceorders.models import ServiceEvent, ServiceOrder, ServicePostponement
from closeloop.serviceorders.services import (
    order_resume,
    order_transition,
    order_wait,
    postponement_decide,
    postponement_request,
)
from closeloop.sla.models import Deadline
from tests.api.conftest import ApiClient

from .conftest import NOW

pytestmark = pytest.mark.django_db
HOUR = datetime.timedelta(hours=1)


def clock(order: ServiceOrder, milestone: str) -> Deadline:
    return Deadline.objects.get(service_order=order, milestone=milestone, met_at__isnull=True)


def actions(order: ServiceOrder) -> list[str]:
    return list(ServiceEvent.objects.filter(order=order).order_by("at", "id").values_list("action", flat=True))


# --- waiting: pause and resume --------------------------------------------------------------------------------


def test_waiting_for_parts_pauses_every_clock_and_resuming_extends_them(
    register: Callable[..., ServiceOrder], agent: User
) -> None:
    order = register(kind=Kind.REPAIR)
    before = {d.milestone: d.due_at for d in Deadline.objects.filter(service_order=order)}
    assert set(before) == {"reply", "resolution"}
    start = NOW + 4 * HOUR  # Friday 14:00, inside the working day
    order = order_wait(order=order, waiting_for="parts", reason="驱动电源缺货", actor=agent, via="desk", now=start)
    assert order.waiting_for == "parts" and order.waiting_since == start
    assert order.status == "registered"  # not a status: the order stays where it was
    assert not Deadline.objects.filter(service_order=order, paused_at__isnull=True).exists()
    assert order.next_due_at is None  # nothing running: the queue sorts it last

    # While paused the sweep neither warns nor breaches, however late it gets.
    sla_sweep(now=max(before.values()) + 48 * HOUR)
    assert not Deadline.objects.filter(service_order=order, warned_at__isnull=False).exists()
    assert not Deadline.objects.filter(service_order=order, breached_at__isnull=False).exists()

    end = start + 2 * HOUR  # Friday 16:00: two working hours paused
    order = order_resume(order=order, actor=agent, via="desk", note="配件到了", now=end)
    assert order.waiting_for == "" and order.waiting_since is None
    for deadline in Deadline.objects.filter(service_order=order):
        assert deadline.paused_at is None
        assert deadline.paused_seconds == 7200
        assert deadline.due_at > before[deadline.milestone], deadline.milestone
    assert order.next_due_at == min(d.due_at for d in Deadline.objects.filter(service_order=order))
    assert actions(order)[-2:] == ["waiting_started", "waiting_ended"]
    ended = order.events.get(action="waiting_ended")
    assert ended.after["waiting_for"] == "parts"
    assert {c["milestone"] for c in ended.after["deadlines"]} == {"reply", "resolution"}


def test_a_step_taken_while_waiting_ends_the_wait(register: Callable[..., ServiceOrder], agent: User) -> None:
    order = register(kind=Kind.CONSULTATION)
    order_wait(order=order, waiting_for="customer", reason="等客户发照片", actor=agent, via="desk", now=NOW + HOUR)
    order = order_transition(
        order=order, action="answer", actor=agent, via="desk", now=NOW + 2 * HOUR, data={"resolution": "已答复"}
    )
    assert order.waiting_since is None
    assert actions(order)[-3:] == ["waiting_started", "waiting_ended", "answer"]
    assert not Deadline.objects.filter(service_order=order, paused_at__isnull=False).exists()
    # Over: its clocks no longer run, so it cannot wait any more.
    with pytest.raises(TransitionNotAllowed):
        order_wait(order=order, waiting_for="customer", reason="x", actor=agent, via="desk", now=NOW + 3 * HOUR)


def test_waiting_refuses_bad_input_by_field_a_second_wait_and_a_role_without_the_permission(
    register: Callable[..., ServiceOrder], agent: User, auditor: User
) -> None:
    order = register(kind=Kind.REPAIR)
    with pytest.raises(ValidationFailed) as exc:
        order_wait(order=order, waiting_for="weather", reason=" ", actor=agent, via="desk", now=NOW)
    assert set(exc.value.errors) == {"waiting_for", "reason"}
    with pytest.raises(PermissionDeniedError):
        order_wait(order=order, waiting_for="parts", reason="缺货", actor=auditor, via="desk", now=NOW)
    with pytest.raises(TransitionNotAllowed):
        order_resume(order=order, actor=agent, via="desk", now=NOW)
    order_wait(order=order, waiting_for="parts", reason="缺货", actor=agent, via="desk", now=NOW)
    with pytest.raises(TransitionNotAllowed):
        order_wait(order=order, waiting_for="customer", reason="再等", actor=agent, via="desk", now=NOW + HOUR)
    assert actions(order) == ["registered", "waiting_started"]


# --- postponements -------------------------------------------------------------------------------------------


def test_an_approved_postponement_moves_the_deadline_and_keeps_the_original(
    register: Callable[..., ServiceOrder], agent: User, supervisor: User
) -> None:
    order = register(kind=Kind.REPAIR)
    original = clock(order, "resolution").due_at
    asked = original + 72 * HOUR
    request = postponement_request(
        order=order, milestone="resolution", new_due=asked, reason="厂家配件两周到", actor=agent, via="desk", now=NOW
    )
    assert request.status == ServicePostponementStatus.REQUESTED and request.due_before == original
    with pytest.raises(PermissionDeniedError):  # the agent asked; a CS supervisor decides
        postponement_decide(postponement=request, action="approve", actor=agent, via="desk")
    with pytest.raises(TransitionNotAllowed):  # one request waits at a time
        postponement_request(
            order=order, milestone="reply", new_due=asked, reason="再延", actor=agent, via="desk", now=NOW
        )
    decided = postponement_decide(postponement=request, action="approve", actor=supervisor, via="desk", now=NOW + HOUR)
    assert decided.status == ServicePostponementStatus.APPROVED and decided.decided_by == supervisor
    moved = clock(order, "resolution")
    assert moved.due_at == asked and moved.original_due_at == original
    assert moved.breached_at is None and moved.warn_at <= asked
    assert actions(order)[-2:] == ["postponement_requested", "postponement_approved"]
    assert order.events.get(action="postponement_approved").after["original_due"] == original.isoformat()
    with pytest.raises(TransitionNotAllowed):  # decided once
        postponement_decide(postponement=decided, action="reject", actor=supervisor, via="desk", note="不")


def test_a_postponement_is_refused_by_field_and_a_rejection_needs_a_reason(
    register: Callable[..., ServiceOrder], agent: User, supervisor: User
) -> None:
    order = register(kind=Kind.REPAIR)
    due = clock(order, "resolution").due_at
    with pytest.raises(ValidationFailed) as exc:
        postponement_request(
            order=order, milestone="resolution", new_due=due - HOUR, reason="", actor=agent, via="desk", now=NOW
        )
    assert set(exc.value.errors) == {"new_due", "reason"}
    with pytest.raises(ValidationFailed) as exc:
        postponement_request(order=order, milestone="visit", new_due=due, reason="x", actor=agent, via="desk")
    assert set(exc.value.errors) == {"milestone"}
    assert not ServicePostponement.objects.exists()
    request = postponement_request(
        order=order, milestone="", new_due=due + HOUR, reason="客户出差", actor=agent, via="desk", now=NOW
    )
    assert request.milestone == "resolution"  # the order's deadline by default
    with pytest.raises(ValidationFailed) as exc:
        postponement_decide(postponement=request, action="reject", actor=supervisor, via="desk", note=" ")
    assert set(exc.value.errors) == {"note"}
    postponement_decide(postponement=request, action="reject", actor=supervisor, via="desk", note="不合理")
    assert clock(order, "resolution").due_at == due and clock(order, "resolution").original_due_at is None
    assert actions(order)[-1] == "postponement_rejected"


# --- the API ---------------------------------------------------------------------------------------------------


@pytest.fixture
def supervisor_api(supervisor: User, api_client_for: Callable[[User], ApiClient]) -> ApiClient:
    return api_client_for(supervisor)


def test_the_api_pauses_resumes_and_postpones(agent_api: ApiClient, supervisor_api: ApiClient) -> None:
    number = agent_api.post_json(
        "/api/v1/service-orders",
        {
            "kind": "repair",
            "channel": "hotline",
            "customer_name": "李雷",
            "phone": "13812345678",
            "description": "不亮",
        },
    ).json()["number"]
    base = f"/api/v1/service-orders/{number}"
    response = agent_api.post_json(f"{base}/wait", {"waiting_for": "weather", "reason": "x"})
    assert response.status_code == 422
    response = agent_api.post_json(f"{base}/wait", {"waiting_for": "customer", "reason": "等客户寄发票"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["waiting_for"] == "customer" and body["waiting_since"]
    assert {d["state"] for d in body["deadlines"]} == {"paused"}
    assert agent_api.post_json(f"{base}/wait", {"waiting_for": "parts", "reason": "再等"}).status_code == 422
    body = agent_api.post_json(f"{base}/resume", {"note": "收到"}).json()
    assert body["waiting_for"] is None and "paused" not in {d["state"] for d in body["deadlines"]}

    resolution = next(d for d in body["deadlines"] if d["milestone"] == "resolution")
    due = datetime.datetime.fromisoformat(resolution["due_at"])
    asked = (due + datetime.timedelta(days=5)).isoformat()
    response = agent_api.post_json(f"{base}/postponements", {"new_due": due.isoformat(), "reason": "配件"})
    assert response.status_code == 422 and "new_due" in str(response.json())
    response = agent_api.post_json(f"{base}/postponements", {"new_due": asked, "reason": "配件"})
    assert response.status_code == 201, response.content
    request = response.json()["postponements"][0]
    assert request["status"] == "requested"
    decision = f"{base}/postponements/{request['id']}/decision"
    assert agent_api.post_json(decision, {"action": "approve"}).status_code == 403
    response = supervisor_api.post_json(decision, {"action": "approve"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["postponements"][0]["status"] == "approved"
    moved = next(d for d in body["deadlines"] if d["milestone"] == "resolution")
    assert datetime.datetime.fromisoformat(moved["due_at"]) == datetime.datetime.fromisoformat(asked)
    assert datetime.datetime.fromisoformat(moved["original_due_at"]) == due
    assert supervisor_api.post_json(f"{base}/postponements/999999/decision", {"action": "approve"}).status_code == 404


# --- the desk ----------------------------------------------------------------------------------------------------


def logged_in(user: User) -> Client:
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(user)
    return client


def test_the_desk_offers_each_clock_button_only_when_allowed(
    register: Callable[..., ServiceOrder], agent: User, supervisor: User, auditor: User
) -> None:
    order = register(kind=Kind.REPAIR)
    url = f"/desk/service/{order.number}"
    desk = logged_in(agent)
    page = desk.get(url).content.decode()
    assert 'value="wait"' in page and 'value="request_postponement"' in page and 'value="resume"' not in page
    assert 'value="wait"' not in logged_in(auditor).get(url).content.decode()

    refused = desk.post(f"{url}/clocks", {"action": "wait", "waiting_for": "parts", "reason": ""})
    assert refused.status_code == 422
    assert "Say what we are waiting for." in refused.content.decode()
    response = desk.post(f"{url}/clocks", {"action": "wait", "waiting_for": "parts", "reason": "缺货"})
    assert response.status_code == 302
    page = desk.get(url).content.decode()
    assert 'value="resume"' in page and 'value="wait"' not in page
    assert 'data-waiting="parts"' in page and "Waiting: clocks paused" in page

    assert desk.post(f"{url}/clocks", {"action": "resume"}).status_code == 302
    due = clock(order, "resolution")
    new_due = timezone.localtime(due.due_at + datetime.timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    response = desk.post(
        f"{url}/clocks",
        {"action": "request_postponement", "milestone": "resolution", "new_due": new_due, "reason": "配件"},
    )
    assert response.status_code == 302
    pending = ServicePostponement.objects.get(order=order)
    assert 'value="approve"' not in desk.get(url).content.decode()  # the agent may not decide
    boss = logged_in(supervisor)
    page = boss.get(url).content.decode()
    assert 'value="approve"' in page and 'value="reject"' in page
    response = boss.post(f"{url}/clocks", {"action": "approve", "postponement": pending.pk})
    assert response.status_code == 302
    pending.refresh_from_db()
    assert pending.status == ServicePostponementStatus.APPROVED
    page = boss.get(url).content.decode()
    assert 'value="approve"' not in page and "originally due" in page


def test_a_request_still_undecided_when_the_order_ends_lapses(
    register: Callable[..., ServiceOrder], agent: User, supervisor: User
) -> None:
    order = register(kind=Kind.CONSULTATION)
    due = clock(order, "resolution").due_at
    request = postponement_request(
        order=order, milestone="resolution", new_due=due + HOUR, reason="等厂家答复", actor=agent, via="desk", now=NOW
    )
    with pytest.raises(TransitionNotAllowed):  # the lapse is the system's, not a person's
        postponement_decide(postponement=request, action="lapse", actor=supervisor, via="desk")
    order_transition(order=order, action="answer", actor=agent, via="desk", data={"resolution": "已答复"})
    request.refresh_from_db()
    assert request.status == ServicePostponementStatus.LAPSED and request.decided_by is None
    assert actions(order)[-1] == "postponement_lapsed"
    with pytest.raises(TransitionNotAllowed):
        postponement_decide(postponement=request, action="approve", actor=supervisor, via="desk")
