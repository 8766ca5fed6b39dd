"""Fixtures of the repeat tests (here and in tests/followup/repeats): a fixed clock, one returning
customer, resolving through the lifecycle service."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import translation

from closeloop.complaints.models import Complaint
from closeloop.complaints.services import complaint_transition
from tests.conftest import aware

T0 = aware(2026, 9, 1, 10, 0)
PHONE = "13900000001"


@pytest.fixture(autouse=True)
def _english(settings: Any) -> Any:
    """Assertions read the English source strings (the zh-hans catalogue comes later)."""
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def resolve(agent: User) -> Callable[..., Complaint]:
    def do(complaint: Complaint, *, at: datetime.datetime) -> Complaint:
        return complaint_transition(
            complaint=complaint,
            action="resolve",
            actor=agent,
            via="desk",
            data={"resolution": "lamp replaced"},
            now=at,
        )

    return do


@pytest.fixture
def complaint_at(make_complaint: Callable[..., Complaint]) -> Callable[..., Complaint]:
    """A complaint of the returning customer (PHONE) received and registered at `at`."""

    def make(at: datetime.datetime, **overrides: Any) -> Complaint:
        overrides.setdefault("phone", PHONE)
        return make_complaint(now=at, received_at=at, **overrides)

    return make
