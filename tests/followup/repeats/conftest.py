"""Fixtures of the repeat/merge tests: those of tests/complaints/repeats (a fixed clock, one returning
customer, resolving through the lifecycle service) and an API client."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User

from closeloop.core.services import api_token_create
from tests.api.conftest import ApiClient
from tests.complaints.repeats.conftest import PHONE, T0, _english, complaint_at, resolve

__all__ = ["PHONE", "T0", "_english", "api_for", "complaint_at", "resolve"]


@pytest.fixture
def api_for() -> Callable[[User], ApiClient]:
    def make(user: User) -> ApiClient:
        _token, raw_key = api_token_create(user=user, name=f"tests-{user.username}")
        return ApiClient(raw_key)

    return make
