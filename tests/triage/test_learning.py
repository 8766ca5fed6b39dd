"""Suggestions learned from a labelled history: on complaints the model never saw, the type and the
department are right far more often than chance; below the history threshold the rules answer."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from closeloop.core.errors import DomainError
from closeloop.triage.models import TriageModel
from closeloop.triage.services import triage_train
from closeloop.triage.suggest import triage_suggest
from closeloop.triage.synthetic import Sample, history, sample

pytestmark = pytest.mark.django_db


def test_held_out_accuracy_is_far_above_chance(import_history: Callable[[list[Sample]], None], settings: Any) -> None:
    settings.TRIAGE_MIN_HISTORY = 300
    import_history(history(600, seed=11))
    model = triage_train()
    assert model.version == 1
    assert model.samples == 540  # a tenth held out to score it

    held_out = history(150, seed=12)  # drawn apart: none of these was learned from
    hits = Counter()
    for s in held_out:
        got = triage_suggest(description=s.description, product_text=s.product_text)
        assert got.model_version == 1
        hits["type"] += got.type is not None and got.type.value == s.type_code
        hits["department"] += got.department is not None and got.department.value == s.department_code
    # Chance: the most frequent type is about 60 % of the history, the most frequent department about 35 %.
    majority_type = Counter(s.type_code for s in held_out).most_common(1)[0][1] / len(held_out)
    assert hits["type"] / len(held_out) >= max(0.85, majority_type + 0.2)
    assert hits["department"] / len(held_out) >= 0.7


def test_a_suggestion_names_the_words_that_drove_it(
    import_history: Callable[[list[Sample]], None], settings: Any
) -> None:
    settings.TRIAGE_MIN_HISTORY = 300
    import_history(history(400, seed=21))
    triage_train()
    got = triage_suggest(description="物流显示已签收，但是根本没收到台灯")
    assert got.type is not None and got.type.value == "logistics"
    assert got.type.source == "model"
    assert any("签收" in w or "物流" in w for w in got.type.words), got.type.words


def test_below_the_history_threshold_no_model_is_trained_and_the_rules_answer(
    import_history: Callable[[list[Sample]], None], settings: Any
) -> None:
    settings.TRIAGE_MIN_HISTORY = 300
    import_history(history(50, seed=31))
    with pytest.raises(DomainError) as refused:
        triage_train()
    assert refused.value.code == "triage.not_enough_history"
    assert not TriageModel.objects.exists()
    got = triage_suggest(description="安装师傅迟到了三个小时，打孔位置也错了")
    assert got.model_version is None
    assert got.type is not None and (got.type.value, got.type.source) == ("installation", "rules")
    assert "安装" in got.type.words
    # The type's department (the roster is empty): installation → technical support.
    assert got.department is not None and got.department.value == "tech"


def test_a_catalogue_model_named_in_the_text_is_suggested_with_certainty(product: Any) -> None:
    got = triage_suggest(description="客户说 xd100 的灯罩发黄")
    assert got.product is not None and (got.product.value, got.product.confidence) == ("XD-100", 1.0)
    line = triage_suggest(description="家里的吸顶灯一直闪")
    assert line.product is None
    assert line.product_line is not None and line.product_line.value == "ceiling"


def test_a_hazard_word_makes_the_suggested_priority_urgent_and_a_denied_one_does_not() -> None:
    smoke = triage_suggest(description="灯突然冒烟了，吓死人")
    assert smoke.hazard_words == ["冒烟"]
    assert smoke.priority is not None and smoke.priority.value == "1"
    denied = triage_suggest(description="灯不亮了，没有冒烟")
    assert denied.hazard_words == []
    assert denied.priority is not None and denied.priority.value != "1"


def test_samples_of_the_synthetic_history_are_labelled_consistently() -> None:
    rng = random.Random(5)
    s = sample(rng, topic="hazard_fire")
    assert (s.type_code, s.priority, s.hazard) == ("quality", 1, True)
