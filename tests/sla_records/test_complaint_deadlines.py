"""Deadlines set by the complaint services: started at intake, met, cancelled, paused, re-prioritised."""

from __future__ import annotations

import datetime

import pytest

from closeloop.complaints.services import (
    complaint_change_priority,
    complaint_resume,
    complaint_transition,
    complaint_wait_for_customer,
)
from closeloop.core.errors import DomainError, PermissionDeniedError, TransitionNotAllowed
from closeloop.sla.models import Deadline, Policy, PolicyRule
from tests.conftest import aware

pytestmark = pytest.mark.django_db

FRI_17 = aware(2026, 11, 20, 17, 0)


def due(complaint, milestone: str) -> datetime.datetime:
    return Deadline.objects.get(complaint=complaint, milestone=milestone, met_at__isnull=True).due_at


def test_intake_starts_acknowledge_first_response_and_resolution_from_received_at(make_complaint):
    complaint = make_complaint(priority=1, received_at=FRI_17, now=FRI_17 + datetime.timedelta(minutes=5))

    assert due(complaint, "acknowledge") == aware(2026, 11, 20, 17, 30)
    assert due(complaint, "first_response") == aware(2026, 11, 20, 19, 0)
    # 1wd from Friday 17:00 is Monday 17:00 (the weekend does not count).
    assert due(complaint, "resolution") == aware(2026, 11, 23, 17, 0)
    complaint.refresh_from_db()
    assert complaint.next_due_at == aware(2026, 11, 20, 17, 30)
    assert complaint.sla_policy.code == "default"


def test_policy_rule_by_complainant_type_picks_the_six_day_policy(make_complaint):
    PolicyRule.objects.create(policy=Policy.objects.get(code="six-day"), customer_kind="dealer", order=1)

    complaint = make_complaint(customer_kind="dealer", received_at=FRI_17, now=FRI_17)

    assert complaint.sla_policy.code == "six-day"
    # 3wd on the six-day calendar: Saturday 21st counts, Sunday 22nd does not.
    assert due(complaint, "resolution") == aware(2026, 11, 24, 17, 0)


def test_acknowledge_meets_only_its_milestone_and_resolve_meets_the_rest(make_complaint, agent):
    complaint = make_complaint(received_at=FRI_17, now=FRI_17)
    complaint_transition(complaint=complaint, action="acknowledge", actor=agent, via="desk", now=FRI_17)

    met = dict(Deadline.objects.filter(complaint=complaint).values_list("milestone", "met_at"))
    assert met["acknowledge"] == FRI_17 and met["resolution"] is None

    complaint_transition(
        complaint=complaint, action="resolve", actor=agent, via="desk", data={"resolution": "已更换"}, now=FRI_17
    )
    # Only the follow-up (回访) clock runs after resolution.
    assert list(
        Deadline.objects.filter(complaint=complaint, met_at__isnull=True).values_list("milestone", flat=True)
    ) == ["followup"]


def test_invalid_complaint_cancels_its_clocks(make_complaint, agent):
    complaint = make_complaint()
    complaint_transition(complaint=complaint, action="invalidate", actor=agent, via="desk", data={"reason": "广告"})

    assert set(Deadline.objects.filter(complaint=complaint).values_list("cancelled", flat=True)) == {True}


def test_priority_change_recomputes_open_deadlines_and_says_so(make_complaint, agent):
    complaint = make_complaint(priority=3, received_at=FRI_17, now=FRI_17)
    assert due(complaint, "resolution") == aware(2026, 11, 25, 17, 0)  # 一般: 3wd

    complaint_change_priority(complaint=complaint, priority=1, reason="客户情绪激动", actor=agent, via="desk")

    assert due(complaint, "resolution") == aware(2026, 11, 23, 17, 0)  # 紧急: 1wd
    assert due(complaint, "acknowledge") == aware(2026, 11, 20, 17, 30)
    event = complaint.events.get(action="priority_changed")
    assert event.before == {"priority": 3}
    changed = {c["milestone"]: c for c in event.after["deadlines"]}
    assert changed["resolution"]["duration"] == "1wd"


def test_priority_change_needs_a_reason_and_a_desk_role(make_complaint, handler):
    complaint = make_complaint()
    with pytest.raises(DomainError) as exc:
        complaint_change_priority(complaint=complaint, priority=1, reason=" ", actor=handler, via="desk")
    assert exc.value.field == "reason"
    with pytest.raises(PermissionDeniedError):
        complaint_change_priority(complaint=complaint, priority=1, reason="x", actor=handler, via="desk")


def test_waiting_for_the_customer_pauses_and_resume_extends_by_working_time(make_complaint, agent):
    # Received Monday 10:00, 一般: resolution 3wd → Thursday 10:00; acknowledge 24h → Tuesday 10:00.
    monday = aware(2026, 11, 23, 10, 0)
    complaint = make_complaint(priority=3, received_at=monday, now=monday)

    complaint_wait_for_customer(
        complaint=complaint, reason="等客户提供照片", actor=agent, via="desk", now=aware(2026, 11, 23, 11, 0)
    )
    complaint.refresh_from_db()
    assert complaint.next_due_at is None and complaint.waiting_since is not None

    # Paused 11:00 → 15:00: 3 working hours (12–13 is lunch), 4 calendar hours.
    complaint_resume(complaint=complaint, actor=agent, via="desk", now=aware(2026, 11, 23, 15, 0))

    # Thursday 10:00 + 3 working hours: 10–12, then 13–14.
    assert due(complaint, "resolution") == aware(2026, 11, 26, 14, 0)
    assert due(complaint, "acknowledge") == aware(2026, 11, 24, 14, 0)  # calendar target: + 4 h
    assert [e.action for e in complaint.events.order_by("at", "id")][-2:] == ["waiting_started", "waiting_ended"]


def test_resume_when_not_waiting_is_refused(make_complaint, agent):
    complaint = make_complaint()
    with pytest.raises(TransitionNotAllowed):
        complaint_resume(complaint=complaint, actor=agent, via="desk")
