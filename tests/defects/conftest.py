"""Fixtures of the early-warning tests: quality users, a second product line, and `intake`, which
registers a complaint through the intake service AND runs the worker's spike check of it, as the
per-minute claim (defects/services/claims.py) would a moment later."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone, translation
from huey.contrib.djhuey import HUEY

from closeloop.complaints.models import Complaint
from closeloop.core.roles import Role
from closeloop.core.services import api_token_create
from closeloop.defects.tasks import spike_check_task
from closeloop.directory.models import Product, ProductLine
from tests.api.conftest import ApiClient


@pytest.fixture(autouse=True)
def _english(settings: Any) -> Iterator[None]:
    """Assertions read the English source strings (the zh-hans catalogue comes later)."""
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _huey_immediate() -> Iterator[None]:
    """The worker's tasks run inside the caller, as HUEY_IMMEDIATE=true does."""
    previous = HUEY.immediate
    HUEY.immediate = True
    yield
    HUEY.immediate = previous


@pytest.fixture
def quality(make_user: Callable[..., User]) -> User:
    user = make_user(Role.QUALITY, username="q_lead")
    user.email = "q.lead@example.com"
    user.save(update_fields=["email"])
    return user


@pytest.fixture
def quality2(make_user: Callable[..., User]) -> User:
    return make_user(Role.QUALITY, username="q_second")  # no e-mail address: in-app only


@pytest.fixture
def other_product(db: None) -> Product:
    line, _ = ProductLine.objects.get_or_create(code="desk", defaults={"name": "台灯", "name_en": "Desk lamps"})
    return Product.objects.get_or_create(
        model="TD-200", defaults={"line": line, "name": "护眼台灯", "name_en": "Eye-care desk lamp"}
    )[0]


@pytest.fixture
def intake(
    make_complaint: Callable[..., Complaint], product: Product, django_capture_on_commit_callbacks: Any
) -> Callable[..., Complaint]:
    """Register a complaint about XD-100 (unless `product_model` says otherwise), `days_ago` days
    before now, and run the after-commit work and the worker's spike check of it (`check=False`: as if
    registered before the worker's claim came by, e.g. imported)."""

    def make(*, days_ago: float = 0, check: bool = True, **overrides: Any) -> Complaint:
        overrides.setdefault("product_model", product.model)
        overrides.setdefault("received_at", timezone.now() - datetime.timedelta(days=days_ago, minutes=1))
        with django_capture_on_commit_callbacks(execute=True):
            complaint = make_complaint(**overrides)
        if check:
            spike_check_task.call_local(complaint.pk)  # as the claim runs it (no task id logged)
        return complaint

    return make


@pytest.fixture
def api_as() -> Callable[[User], ApiClient]:
    def make(user: User) -> ApiClient:
        _token, raw_key = api_token_create(user=user, name=f"tests-{user.username}")
        return ApiClient(raw_key)

    return make
