"""Fixtures for follow-ups: a complaint resolved through the lifecycle (which creates the follow-up)."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from closeloop.complaints.models import Complaint
from closeloop.complaints.services import complaint_transition
from closeloop.followup.models import FollowUp


@pytest.fixture
def resolve(agent: User) -> Callable[..., FollowUp]:
    def do(complaint: Complaint, *, now: datetime.datetime | None = None, actor: User | None = None) -> FollowUp:
        complaint_transition(
            complaint=complaint,
            action="resolve",
            actor=actor or agent,
            via="desk",
            data={"resolution": "已上门更换驱动电源"},
            now=now or timezone.now(),
        )
        return FollowUp.objects.filter(complaint=complaint).order_by("-round").first()  # type: ignore[return-value]

    return do


@pytest.fixture
def resolved(make_complaint: Callable[..., Complaint], resolve: Callable[..., FollowUp]) -> Callable[..., FollowUp]:
    """A complaint registered and answered on the spot; returns its open follow-up."""

    def make(*, now: datetime.datetime | None = None, **overrides: Any) -> FollowUp:
        complaint = make_complaint(now=now, **overrides) if now else make_complaint(**overrides)
        return resolve(complaint, now=now)

    return make


class ApiClient(Client):
    def __init__(self, raw_key: str, **kwargs: Any) -> None:
        super().__init__(headers={"Authorization": f"Bearer {raw_key}"}, **kwargs)

    def post_json(self, path: str, data: Any = None) -> Any:
        return self.post(path, data=data if data is not None else {}, content_type="application/json")


@pytest.fixture
def api_for() -> Callable[[User], ApiClient]:
    from closeloop.core.services import api_token_create

    def make(user: User) -> ApiClient:
        _token, raw_key = api_token_create(user=user, name=f"tests-{user.username}")
        return ApiClient(raw_key)

    return make


@pytest.fixture(autouse=True)
def _english(settings: Any) -> Iterator[None]:
    """These tests read the English messages; 简体中文 is the default elsewhere."""
    from django.utils import translation

    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield
