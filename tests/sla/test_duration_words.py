"""Deadline targets in words of the reader's language, not "2h / 24h / 1wh / 2wd"."""

from __future__ import annotations

import pytest
from django.utils import translation

from closeloop.sla.presentation import describe_duration


@pytest.mark.parametrize(
    ("text", "chinese", "english"),
    [
        ("2h", "2 小时", "2 hours"),
        ("24h", "24 小时", "24 hours"),
        ("30min", "30 分钟", "30 minutes"),
        ("1wh", "1 个工作小时", "1 working hour"),
        ("4wh", "4 个工作小时", "4 working hours"),
        ("90wmin", "90 个工作分钟", "90 working minutes"),
        ("2wd", "2 个工作日", "2 working days"),
        ("3d", "3 天", "3 days"),
        ("soon", "soon", "soon"),
    ],
)
def test_durations_in_words(text: str, chinese: str, english: str) -> None:
    with translation.override("zh-hans"):
        assert describe_duration(text) == chinese
    with translation.override("en"):
        assert describe_duration(text) == english
