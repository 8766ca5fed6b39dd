"""API fixtures: a token per role and a client that sends it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from closeloop.core.services import api_token_create


class ApiClient(Client):
    """A test client that authenticates with a bearer key and speaks JSON."""

    def __init__(self, raw_key: str | None = None, **kwargs: Any) -> None:
        headers = {"Authorization": f"Bearer {raw_key}"} if raw_key else {}
        super().__init__(headers=headers, **kwargs)

    def post_json(self, path: str, data: Any = None) -> Any:
        return self.post(path, data=data if data is not None else {}, content_type="application/json")


@pytest.fixture
def api_client_for() -> Callable[[User], ApiClient]:
    def make(user: User) -> ApiClient:
        _token, raw_key = api_token_create(user=user, name=f"tests-{user.username}")
        return ApiClient(raw_key)

    return make


@pytest.fixture
def agent_api(agent: User, api_client_for: Callable[[User], ApiClient]) -> ApiClient:
    return api_client_for(agent)


def intake_payload(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "customer_name": "李娜",
        "phone": "138 1234 5678",
        "type": "quality",
        "description": "灯罩有裂纹",
        "received_at": "2026-11-20T09:30:00+08:00",
        "priority": 2,
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}
