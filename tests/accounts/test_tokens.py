"""Given API tokens, when one expires, or its owner manages their own on the account page, then an
expired key is refused like a revoked one, a new key is shown once, and each token shows its use."""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from io import StringIO
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from closeloop.accounts.models import SecurityEvent, SecurityEventKind
from closeloop.core.models import ApiToken
from closeloop.core.roles import Role
from closeloop.core.services import api_token_create
from tests.api.conftest import ApiClient

pytestmark = pytest.mark.django_db

URL = "/api/v1/complaints"


def test_an_expired_token_is_401(make_user: Callable[..., User], monkeypatch: Any) -> None:
    token, raw_key = api_token_create(user=make_user(Role.AGENT), name="shop", expires_days=7)
    assert token.expires_at is not None
    assert ApiClient(raw_key).get(URL).status_code == 200
    later = timezone.now() + datetime.timedelta(days=7, seconds=1)
    monkeypatch.setattr(timezone, "now", lambda: later)
    response = ApiClient(raw_key).get(URL)
    assert response.status_code == 401 and response.json() == {"detail": "Unauthorized"}


def test_the_command_sets_an_expiry(make_user: Callable[..., User]) -> None:
    make_user(Role.AGENT, username="shop-user")
    out, err = StringIO(), StringIO()
    call_command(
        "token", "create", "--user", "shop-user", "--name", "shop", "--expires-days", "30", stdout=out, stderr=err
    )
    token = ApiToken.objects.get()
    assert token.expires_at is not None
    assert abs((token.expires_at - timezone.now()) - datetime.timedelta(days=30)) < datetime.timedelta(minutes=1)
    assert "expires" in err.getvalue()
    assert ApiClient(out.getvalue().strip()).get(URL).status_code == 200


def test_a_user_creates_lists_and_revokes_own_tokens(make_user: Callable[..., User], client: Client) -> None:
    user = make_user(Role.AGENT)
    client.force_login(user)

    created = client.post("/desk/account/tokens/", {"name": "my script", "expires_days": "30"})

    assert created.status_code == 200
    key = re.search(r'<code class="secret">([\w-]+)</code>', created.content.decode()).group(1)  # type: ignore[union-attr]
    assert ApiClient(key).get(URL).status_code == 200
    page = client.get("/desk/account/").content.decode()
    assert "my script" in page and key not in page  # listed, the key not again
    token = ApiToken.objects.get(user=user)
    assert token.last_used_at is not None
    assert token.last_used_at.astimezone(timezone.get_current_timezone()).strftime("%Y-%m-%d %H:%M") in page
    assert token.expires_at.astimezone(timezone.get_current_timezone()).strftime("%Y-%m-%d %H:%M") in page  # type: ignore[union-attr]

    assert client.post(f"/desk/account/tokens/{token.pk}/revoke/").status_code == 302
    assert ApiClient(key).get(URL).status_code == 401
    kinds = set(SecurityEvent.objects.filter(user=user).values_list("kind", flat=True))
    assert {SecurityEventKind.TOKEN_CREATED, SecurityEventKind.TOKEN_REVOKED} <= kinds


def test_bad_input_keeps_what_was_typed(make_user: Callable[..., User], client: Client) -> None:
    client.force_login(make_user(Role.AGENT))
    response = client.post("/desk/account/tokens/", {"name": "nightly export", "expires_days": "0"})
    assert response.status_code == 400
    page = response.content.decode()
    assert 'value="nightly export"' in page and 'class="error"' in page
    assert not ApiToken.objects.exists()


def test_nobody_revokes_someone_elses_token(make_user: Callable[..., User], client: Client) -> None:
    token, raw_key = api_token_create(user=make_user(Role.AGENT), name="theirs")
    client.force_login(make_user(Role.AGENT))
    client.post(f"/desk/account/tokens/{token.pk}/revoke/")
    assert ApiClient(raw_key).get(URL).status_code == 200
