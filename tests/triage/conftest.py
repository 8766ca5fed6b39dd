"""Fixtures of the triage tests: a labelled history written through the history import (the way an
installation brings its past complaints in), English messages, the worker's tasks run at once."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import translation
from huey.contrib.djhuey import HUEY

from closeloop.core.roles import Role
from closeloop.core.services import api_token_create
from closeloop.imports.models import ImportSource
from closeloop.imports.services import complaints_import
from closeloop.triage import learn, suggest
from closeloop.triage.hazards import lexicon_forget
from closeloop.triage.synthetic import Sample
from tests.api.conftest import ApiClient


@pytest.fixture(autouse=True)
def _english(settings: Any) -> Iterator[None]:
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _fresh_caches() -> Iterator[None]:
    learn.forget()
    suggest.forget()
    lexicon_forget()
    yield
    learn.forget()
    suggest.forget()
    lexicon_forget()


@pytest.fixture(autouse=True)
def _huey_immediate() -> Iterator[None]:
    previous = HUEY.immediate
    HUEY.immediate = True
    yield
    HUEY.immediate = previous


def history_rows(samples: list[Sample]) -> list[tuple[int, dict[str, Any]]]:
    rows = []
    for line, s in enumerate(samples, start=2):
        rows.append(
            (
                line,
                {
                    "received_at": f"2025-{1 + line % 12:02d}-{1 + line % 27:02d} 09:30",
                    "resolved_at": f"2025-{1 + line % 12:02d}-{1 + line % 27:02d} 15:00",
                    "closed_at": f"2025-{1 + line % 12:02d}-{1 + line % 27:02d} 18:00",
                    "customer_name": f"客户{line}",
                    "customer_phone": f"138{line:08d}",
                    "type": s.type_code,
                    "priority": str(s.priority),
                    "department": s.department_code,
                    "status": "closed",
                    "description": s.description + (f" {s.product_text}" if s.product_text else ""),
                    "result": "已处理",
                },
            )
        )
    return rows


@pytest.fixture
def import_history(db: None) -> Callable[[list[Sample]], None]:
    def load(samples: list[Sample]) -> None:
        result = complaints_import(rows=history_rows(samples), actor=None, source=ImportSource.CLI)
        assert not result.errors, result.errors[:3]

    return load


@pytest.fixture
def quality(make_user: Callable[..., User]) -> User:
    return make_user(Role.QUALITY, username="q_lead")


@pytest.fixture
def management(make_user: Callable[..., User]) -> User:
    return make_user(Role.MANAGEMENT, username="boss")


@pytest.fixture
def admin_user(make_user: Callable[..., User]) -> User:
    return make_user(Role.ADMIN, username="triage_admin")


@pytest.fixture
def api_as() -> Callable[[User], ApiClient]:
    def make(user: User) -> ApiClient:
        _token, raw_key = api_token_create(user=user, name=f"tests-{user.username}")
        return ApiClient(raw_key)

    return make
