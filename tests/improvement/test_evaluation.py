"""The effect evaluation, computed by hand for a small fixture: complaint counts, complaint rates and
satisfaction in equal windows before and after completion, with the edges of the windows, the left-out
statuses, sub-types, the root-cause phrase, and windows that shrink while the after-window runs."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import User

from closeloop.complaints.models import Complaint
from closeloop.directory.models import ComplaintType, Product
from closeloop.followup.models import FollowUp, SatisfactionLevel
from closeloop.handling.models import FeedbackForm
from closeloop.improvement.evaluation import action_evaluate
from closeloop.improvement.models import ImprovementAction
from closeloop.improvement.services import action_complete, action_start
from tests.conftest import aware

pytestmark = pytest.mark.django_db

DONE = aware(2026, 11, 10, 12, 0)
MINUTE = datetime.timedelta(minutes=1)


@pytest.fixture
def receive(make_complaint: Callable[..., Complaint]) -> Callable[..., Complaint]:
    def make(at: datetime.datetime, *, model: str = "", type_code: str = "quality", invalid: bool = False) -> Complaint:
        complaint = make_complaint(received_at=at, now=at + MINUTE, product_model=model, type_code=type_code)
        if invalid:  # a read-side fixture: the status is what the evaluation looks at
            Complaint.objects.filter(pk=complaint.pk).update(status="invalid")
        return complaint

    return make


@pytest.fixture
def rate_followup() -> Callable[..., FollowUp]:
    levels = {level.code: level for level in SatisfactionLevel.objects.filter(scale__code="four-level")}

    def make(complaint: Complaint, at: datetime.datetime, level: str | None, round: int = 1) -> FollowUp:
        return FollowUp.objects.create(
            complaint=complaint,
            round=round,
            completed_at=at,
            outcome="satisfied" if level else "unreachable",
            satisfaction=levels[level] if level else None,
        )

    return make


@pytest.fixture
def done_action(
    make_action: Callable[..., ImprovementAction], people: dict[str, User]
) -> Callable[..., ImprovementAction]:
    def make(**overrides: Any) -> ImprovementAction:
        action = make_action(now=DONE - datetime.timedelta(days=20), **overrides)
        action = action_start(action=action, actor=people["owner"], now=DONE - datetime.timedelta(days=19))
        return action_complete(action=action, actor=people["owner"], done_note="已完成", now=DONE)

    return make


def test_before_and_after_counted_by_hand(
    receive: Callable[..., Complaint],
    rate_followup: Callable[..., FollowUp],
    done_action: Callable[..., ImprovementAction],
    product: Product,
    other_product: Product,
    quality_type: ComplaintType,
    count_queries: Any,
) -> None:
    ComplaintType.objects.create(code="quality-light", name="光源质量", parent=quality_type)
    day = datetime.timedelta(days=1)
    # Before-window [31 Oct 12:00, 10 Nov 12:00): 4 targeted of 7 counted.
    b1 = receive(aware(2026, 11, 1, 10), model="XD-100")
    b2 = receive(aware(2026, 11, 5, 9), model="XD-100")
    b3 = receive(DONE - MINUTE, model="XD-100")  # the last minute before completion
    receive(aware(2026, 11, 6, 9), model="XD-100", type_code="quality-light")  # a sub-type counts
    b5 = receive(aware(2026, 11, 2, 9), model="SF-200")  # another model
    receive(aware(2026, 11, 3, 9), model="XD-100", type_code="service")  # another type
    receive(aware(2026, 11, 4, 9))  # no model
    b7 = receive(aware(2026, 11, 7, 9), model="XD-100", invalid=True)  # left out of both counts
    o1 = receive(DONE - 10 * day - MINUTE, model="XD-100")  # just before the before-window
    # After-window [10 Nov 12:00, 20 Nov 12:00): 1 targeted of 4 counted.
    a1 = receive(DONE, model="XD-100")  # at completion: after
    receive(aware(2026, 11, 12, 9), model="SF-200")
    receive(aware(2026, 11, 15, 9), model="XD-100", type_code="service")
    receive(aware(2026, 11, 19, 9), type_code="service")
    receive(DONE + 10 * day, model="XD-100")  # the after-window's end is not in it

    # Follow-ups count by their completion time, not by the complaint's.
    rate_followup(b1, aware(2026, 11, 3, 15), "very_satisfied")  # before: satisfied
    rate_followup(b2, aware(2026, 11, 8, 15), "unsatisfied")  # before: rated, not satisfied
    rate_followup(b2, aware(2026, 11, 9, 15), None, round=2)  # not rated
    rate_followup(b5, aware(2026, 11, 4, 15), "satisfied")  # not targeted
    rate_followup(b7, aware(2026, 11, 6, 15), "satisfied")  # invalid complaint
    rate_followup(b3, aware(2026, 11, 12, 15), "satisfied")  # after: satisfied
    rate_followup(a1, aware(2026, 11, 14, 15), "neutral")  # after: rated, not satisfied
    rate_followup(b1, aware(2026, 11, 16, 15), "satisfied", round=2)  # after: satisfied
    rate_followup(o1, aware(2026, 11, 18, 15), "very_satisfied")  # after: satisfied

    action = done_action(product=product, complaint_type=quality_type, window_days=10)
    with count_queries() as counted:
        evaluation = action_evaluate(action, now=DONE + 10 * day)
    assert counted.count == 2
    assert evaluation is not None and not evaluation.shortened
    assert evaluation.before_window == (DONE - 10 * day, DONE)
    assert evaluation.after_window == (DONE, DONE + 10 * day)

    before, after = evaluation.before, evaluation.after
    assert (before.complaints, before.all_complaints) == (4, 7)
    assert before.complaint_rate == Decimal("57.1")  # 4/7 = 57.14…
    assert (after.complaints, after.all_complaints) == (1, 4)
    assert after.complaint_rate == Decimal("25.0")
    assert (before.satisfied, before.rated, before.satisfaction) == (1, 2, Decimal("50.0"))
    assert (after.satisfied, after.rated, after.satisfaction) == (3, 4, Decimal("75.0"))
    assert evaluation.complaints_change == -3 and evaluation.complaints_better is True
    assert evaluation.rate_change == Decimal("-32.1") and evaluation.rate_better is True
    assert evaluation.satisfaction_change == Decimal("25.0") and evaluation.satisfaction_better is True
    assert evaluation.as_dict()["change"] == {"complaints": -3, "complaint_rate": -32.1, "satisfaction": 25.0}


def test_the_root_cause_is_a_phrase_matched_ignoring_case_once_per_complaint(
    receive: Callable[..., Complaint], done_action: Callable[..., ImprovementAction], people: dict[str, User]
) -> None:
    def cause(complaint: Complaint, text: str) -> None:
        FeedbackForm.objects.create(complaint=complaint, handler=people["owner"], root_cause=text)

    c1, c2, c3 = (receive(aware(2026, 11, d, 9)) for d in (2, 3, 4))
    cause(c1, "Faulty led driver batch")
    cause(c2, "安装不当")
    cause(c3, "LED DRIVER overheating")
    cause(c3, "led driver again")  # two matching forms: still one complaint
    c4 = receive(aware(2026, 11, 11, 9))
    cause(c4, "驱动电源批次不良")

    evaluation = action_evaluate(
        done_action(complaint_type=None, root_cause="LED Driver"), now=DONE + datetime.timedelta(days=30)
    )
    assert evaluation is not None
    assert (evaluation.before.complaints, evaluation.before.all_complaints) == (2, 3)
    assert evaluation.before.complaint_rate == Decimal("66.7")
    assert (evaluation.after.complaints, evaluation.after.all_complaints) == (0, 1)

    chinese = action_evaluate(
        done_action(complaint_type=None, root_cause="驱动电源"), now=DONE + datetime.timedelta(30)
    )
    assert chinese is not None and (chinese.after.complaints, chinese.after.all_complaints) == (1, 1)


def test_windows_shrink_to_the_elapsed_time_while_the_after_window_runs(
    receive: Callable[..., Complaint], done_action: Callable[..., ImprovementAction]
) -> None:
    day = datetime.timedelta(days=1)
    receive(DONE - 5 * day, model="XD-100")  # in a 10-day window, not in a 3-day one
    receive(DONE - 2 * day, model="XD-100")
    receive(DONE + day, model="XD-100")
    action = done_action(window_days=10)
    evaluation = action_evaluate(action, now=DONE + 3 * day)
    assert evaluation is not None and evaluation.shortened
    assert evaluation.length == 3 * day
    assert evaluation.before_window == (DONE - 3 * day, DONE)
    assert (evaluation.before.complaints, evaluation.after.complaints) == (1, 1)
    assert evaluation.before.satisfaction is None  # nothing rated: no rate, not 0 %


def test_nothing_is_measured_before_the_action_is_done(make_action: Callable[..., ImprovementAction]) -> None:
    assert action_evaluate(make_action()) is None
