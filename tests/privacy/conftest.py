"""Privacy fixtures: the roles that see personal data masked, and clients for the desk and the API."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.test import Client

from closeloop.core.masking import PERSONAL_DATA_PERMISSION
from closeloop.core.roles import ROLE_PERMISSIONS, Role
from closeloop.core.services import api_token_create
from tests.api.conftest import ApiClient

# Read from the role table, so that a role added later without the permission is attacked too.
MASKED_ROLES = [role for role, perms in ROLE_PERMISSIONS.items() if PERSONAL_DATA_PERMISSION not in perms]
UNMASKED_ROLES = [role for role in Role if role not in MASKED_ROLES]


@pytest.fixture(autouse=True)
def _english(settings: object) -> None:
    settings.LANGUAGE_CODE = "en"  # type: ignore[attr-defined]


@pytest.fixture
def desk_client_for() -> Callable[[User], Client]:
    def make(user: User) -> Client:
        client = Client(headers={"Accept-Language": "en"})
        client.force_login(user)
        return client

    return make


@pytest.fixture
def api_client_for() -> Callable[[User], ApiClient]:
    def make(user: User) -> ApiClient:
        _token, raw_key = api_token_create(user=user, name=f"tests-{user.username}")
        return ApiClient(raw_key)

    return make
