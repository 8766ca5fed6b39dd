"""The learned hazard model, beside the lexicon: trained with the other fields from the closed history, it
catches a hazard described without any lexicon word but like the hazards it learned from — and only once
it learned from TRIAGE_MIN_HISTORY complaints. A denied hazard word still flags nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User

from closeloop.complaints.models import Complaint, Priority
from closeloop.notifications.models import Notification
from closeloop.triage import learn
from closeloop.triage.hazards import hazard_check
from closeloop.triage.models import HazardFlag
from closeloop.triage.services import triage_train
from closeloop.triage.suggest import triage_suggest
from closeloop.triage.synthetic import Sample, history
from closeloop.triage.text import DEFAULT_HAZARD_WORDS, hazard_words

pytestmark = pytest.mark.django_db

# Worded like the history's electric shocks ("漏电跳闸，手碰到有麻的感觉"), without a word of the lexicon.
SHOCK = "摸台灯的开关被电了一下，手碰到有麻的感觉"


@pytest.fixture
def trained(import_history: Callable[[list[Sample]], None], settings: Any) -> Any:
    settings.TRIAGE_MIN_HISTORY = 300
    import_history(history(800, seed=41))
    return triage_train()


def test_the_hazard_model_is_trained_with_the_others_and_scored(trained: Any) -> None:
    _version, learned = learn.current()
    assert learned is not None and learn.HAZARD in learned.classifiers
    # Held-out recall and precision at TRIAGE_HAZARD_MODEL_PERCENT, stored with the version.
    assert trained.scores["hazard_recall"] >= 0.8
    assert trained.scores["hazard_precision"] >= 0.8


def test_a_hazard_without_lexicon_words_is_caught_by_the_trained_model(
    trained: Any, make_complaint: Callable[..., Complaint], quality: User
) -> None:
    assert hazard_words(SHOCK, DEFAULT_HAZARD_WORDS) == []
    complaint = make_complaint(description=SHOCK, priority=Priority.NORMAL)  # the intake path reads the lexicon only
    assert not HazardFlag.objects.exists()

    flag = hazard_check(complaint_id=complaint.pk)  # the worker's catch-up: lexicon, then the model

    assert flag is not None and flag.source == "model"
    assert any("麻" in w or "电了" in w for w in flag.words), flag.words  # the words that drove it
    complaint.refresh_from_db()
    assert complaint.priority == Priority.URGENT
    assert Notification.objects.filter(kind="safety_hazard", recipient=quality, method="in_app").count() == 1
    offered = triage_suggest(description=SHOCK)
    assert (offered.hazard_source, offered.priority.value if offered.priority else None) == ("model", "1")


def test_a_denied_hazard_is_not_flagged_by_the_model_either(
    trained: Any, make_complaint: Callable[..., Complaint]
) -> None:
    calm = make_complaint(description="台灯不亮了，没有冒烟，也没有触电，开关按了没反应")
    assert hazard_check(complaint_id=calm.pk) is None
    assert triage_suggest(description="台灯不亮了，没有冒烟，也没有触电").hazard_source == ""


def test_below_the_history_threshold_the_model_flags_nothing(
    trained: Any, make_complaint: Callable[..., Complaint], settings: Any
) -> None:
    settings.TRIAGE_MIN_HISTORY = trained.samples + 1  # the model learned from fewer: rules and lexicon only
    learn.forget()
    complaint = make_complaint(description=SHOCK, priority=Priority.NORMAL)
    assert hazard_check(complaint_id=complaint.pk) is None
    assert triage_suggest(description=SHOCK).hazard_source == ""
    settings.TRIAGE_MIN_HISTORY = trained.samples
    learn.forget()
    assert hazard_check(complaint_id=complaint.pk) is not None
