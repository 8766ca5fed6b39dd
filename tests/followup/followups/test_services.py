"""Follow-up services: born at resolve, attempts and "unreachable", the customer's answer, reopen."""

from __future__ import annotations

import datetime
from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.test import override_settings

from closeloop.complaints.lifecycle import Status
from closeloop.complaints.models import Complaint, Event
from closeloop.core.errors import PermissionDeniedError, TransitionNotAllowed, ValidationFailed
from closeloop.followup.models import AttemptResult, FollowUp, FollowUpOutcome, SatisfactionScale
from closeloop.followup.selectors import active_scale
from closeloop.followup.services.followups import followup_attempt, followup_record
from closeloop.sla.models import Deadline
from tests.conftest import aware

pytestmark = pytest.mark.django_db

MONDAY = aware(2026, 11, 23, 10, 0)


def _followup_deadline(complaint: Complaint) -> Deadline:
    return Deadline.objects.get(complaint=complaint, milestone="followup", task__isnull=True)


def test_resolve_creates_the_followup_with_its_two_working_day_deadline(resolved: Callable[..., FollowUp]) -> None:
    followup = resolved(now=MONDAY)
    assert followup.round == 1 and followup.outcome == "" and followup.assigned_to is None
    deadline = _followup_deadline(followup.complaint)
    assert deadline.met_at is None
    assert deadline.due_at == aware(2026, 11, 25, 10, 0)  # 2 working days
    assert Event.objects.filter(complaint=followup.complaint, action="followup_created").count() == 1


def test_unreachable_after_max_attempts_on_different_days(resolved: Callable[..., FollowUp], agent: User) -> None:
    followup = resolved(now=MONDAY)
    for day in range(3):
        assert followup.outcome == ""
        followup_attempt(
            followup=followup,
            method="phone",
            result=AttemptResult.NO_ANSWER,
            actor=agent,
            now=MONDAY + datetime.timedelta(days=day, hours=1),
        )
    followup.refresh_from_db()
    assert followup.outcome == FollowUpOutcome.UNREACHABLE and followup.completed_at is not None
    assert _followup_deadline(followup.complaint).met_at is not None
    assert Event.objects.filter(complaint=followup.complaint, action="followup_unreachable").exists()


def test_not_unreachable_after_max_attempts_on_the_same_day(resolved: Callable[..., FollowUp], agent: User) -> None:
    followup = resolved(now=MONDAY)
    for minutes in (0, 30, 60, 90):
        followup_attempt(
            followup=followup,
            method="phone",
            result=AttemptResult.BUSY,
            actor=agent,
            now=MONDAY + datetime.timedelta(hours=1, minutes=minutes),
        )
    followup.refresh_from_db()
    assert followup.outcome == "" and followup.attempts.count() == 4
    assert _followup_deadline(followup.complaint).met_at is None


@override_settings(FOLLOWUP_MAX_ATTEMPTS=2)
def test_the_number_of_attempts_is_configurable(resolved: Callable[..., FollowUp], agent: User) -> None:
    followup = resolved(now=MONDAY)
    for day in range(2):
        followup_attempt(
            followup=followup,
            method="phone",
            result="no_answer",
            actor=agent,
            now=MONDAY + datetime.timedelta(days=day),
        )
    followup.refresh_from_db()
    assert followup.outcome == FollowUpOutcome.UNREACHABLE


def test_attempt_refusals(resolved: Callable[..., FollowUp], agent: User, handler: User) -> None:
    followup = resolved()
    with pytest.raises(PermissionDeniedError):
        followup_attempt(followup=followup, method="phone", result="no_answer", actor=handler)
    with pytest.raises(ValidationFailed) as exc:
        followup_attempt(followup=followup, method="fax", result="reached", actor=agent)
    assert set(exc.value.errors) == {"method", "result"}
    assert followup.attempts.count() == 0


def test_satisfied_record(resolved: Callable[..., FollowUp], agent: User) -> None:
    followup = resolved(now=MONDAY)
    followup_attempt(followup=followup, method="phone", result="no_answer", actor=agent, now=MONDAY)
    later = MONDAY + datetime.timedelta(hours=3)
    followup_record(
        followup=followup,
        method="phone",
        solved=True,
        level="very_satisfied",
        comments="师傅很专业",
        suggestions="希望更快上门",
        actor=agent,
        via="desk",
        now=later,
    )
    followup.refresh_from_db()
    assert followup.outcome == FollowUpOutcome.SATISFIED
    assert followup.satisfaction is not None and followup.satisfaction.code == "very_satisfied"
    assert followup.solved is True and followup.suggestions == "希望更快上门" and followup.completed_by == agent
    assert [a.result for a in followup.attempts.all()] == ["no_answer", "reached"]
    assert _followup_deadline(followup.complaint).met_at == later
    event = Event.objects.get(complaint=followup.complaint, action="followup_recorded")
    assert event.after["outcome"] == "satisfied" and event.after["level"] == "very_satisfied"
    assert event.after["solved"] is True and event.note == "师傅很专业"
    followup.complaint.refresh_from_db()
    assert followup.complaint.status == Status.RESOLVED
    with pytest.raises(TransitionNotAllowed):  # a finished round takes no more answers
        followup_record(followup=followup, method="phone", solved=True, level="satisfied", actor=agent, via="desk")


def test_neutral_but_solved_counts_as_a_satisfied_outcome(resolved: Callable[..., FollowUp], agent: User) -> None:
    followup = resolved()
    followup_record(followup=followup, method="phone", solved=True, level="neutral", actor=agent, via="desk")
    followup.refresh_from_db()
    assert followup.outcome == FollowUpOutcome.SATISFIED


def test_unsatisfied_reopens_with_the_customers_reason(
    resolved: Callable[..., FollowUp], agent: User, supervisor: User
) -> None:
    followup = resolved()
    followup_record(
        followup=followup,
        method="phone",
        solved=True,
        level="unsatisfied",
        comments="灯还是闪",
        actor=agent,
        via="desk",
    )
    followup.refresh_from_db()
    complaint = Complaint.objects.get(pk=followup.complaint_id)
    assert followup.outcome == FollowUpOutcome.UNSATISFIED
    assert complaint.status == Status.REOPENED and complaint.reopen_count == 1
    reopen = Event.objects.get(complaint=complaint, action="reopen")
    assert reopen.note == "灯还是闪"
    assert Event.objects.filter(complaint=complaint, action="escalated").exists()
    assert Deadline.objects.filter(complaint=complaint, milestone="second_result", met_at__isnull=True).exists()


def test_not_solved_reopens_even_when_satisfied(resolved: Callable[..., FollowUp], agent: User) -> None:
    followup = resolved()
    followup_record(followup=followup, method="phone", solved=False, level="satisfied", actor=agent, via="desk")
    complaint = Complaint.objects.get(pk=followup.complaint_id)
    assert complaint.status == Status.REOPENED
    assert "not solved" in Event.objects.get(complaint=complaint, action="reopen").note


def test_re_resolution_creates_the_next_round(
    resolved: Callable[..., FollowUp], resolve: Callable[..., FollowUp], agent: User
) -> None:
    first = resolved()
    followup_record(followup=first, method="phone", solved=False, level="unsatisfied", actor=agent, via="desk")
    second = resolve(Complaint.objects.get(pk=first.complaint_id))
    assert second.pk != first.pk and second.round == 2 and second.outcome == ""
    assert Deadline.objects.filter(complaint=second.complaint, milestone="followup", met_at__isnull=True).count() == 1


def test_record_validation_keeps_nothing(resolved: Callable[..., FollowUp], agent: User) -> None:
    followup = resolved()
    with pytest.raises(ValidationFailed) as exc:
        followup_record(
            followup=followup, method="phone", solved=None, level="mostly_satisfied", actor=agent, via="desk"
        )
    assert set(exc.value.errors) == {"solved", "level"}  # mostly_satisfied is not on the active scale
    followup.refresh_from_db()
    assert followup.outcome == "" and followup.attempts.count() == 0


def test_three_level_scale_alternative(resolved: Callable[..., FollowUp], agent: User) -> None:
    old = resolved()
    followup_record(followup=old, method="phone", solved=True, level="very_satisfied", actor=agent, via="desk")
    SatisfactionScale.objects.update(is_active=False)
    SatisfactionScale.objects.filter(code="three-level").update(is_active=True)
    assert [lv.label_zh for lv in active_scale().levels.all()] == ["满意", "基本满意", "不满意"]

    followup = resolved()
    with pytest.raises(ValidationFailed):
        followup_record(followup=followup, method="phone", solved=True, level="very_satisfied", actor=agent, via="desk")
    followup_record(followup=followup, method="phone", solved=True, level="mostly_satisfied", actor=agent, via="desk")
    followup.refresh_from_db()
    assert followup.outcome == FollowUpOutcome.SATISFIED and followup.satisfaction.scale.code == "three-level"
    old.refresh_from_db()  # past answers keep their level
    assert old.satisfaction.code == "very_satisfied" and old.satisfaction.scale.code == "four-level"
