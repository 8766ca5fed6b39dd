"""Given a request to the API, when it carries no, a wrong or a revoked key, then it is refused;
a valid key or a browser session (with its CSRF token) is accepted."""

from __future__ import annotations

import datetime
import io
from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.middleware.csrf import get_token
from django.test import Client
from django.utils import timezone

from closeloop.accounts.api_auth import api_token_cache_clear
from closeloop.core.models import ApiToken
from closeloop.core.services import api_token_create, api_token_hash, api_token_revoke
from tests.api.conftest import ApiClient, intake_payload

pytestmark = pytest.mark.django_db

URL = "/api/v1/complaints"


def test_no_token_is_401(agent: User) -> None:
    response = Client().get(URL)
    assert response.status_code == 401
    assert response.json() == {"detail": "Unauthorized"}


@pytest.mark.parametrize("header", ["Bearer wrong-key", "Bearer ", "Token abc", "Basic YWdlbnQ6eA=="])
def test_bad_token_is_401(agent: User, header: str) -> None:
    api_token_create(user=agent, name="shop")
    assert Client(headers={"Authorization": header}).get(URL).status_code == 401


def test_revoked_token_is_401(agent: User) -> None:
    token, raw_key = api_token_create(user=agent, name="shop")
    client = ApiClient(raw_key)
    assert client.get(URL).status_code == 200

    api_token_revoke(prefix=token.prefix)

    assert client.get(URL).status_code == 401


def test_token_of_inactive_user_is_401(agent: User) -> None:
    _token, raw_key = api_token_create(user=agent, name="shop")
    agent.is_active = False
    agent.save()
    assert ApiClient(raw_key).get(URL).status_code == 401


def test_only_the_hash_of_the_key_is_stored(agent: User) -> None:
    token, raw_key = api_token_create(user=agent, name="shop")
    token.refresh_from_db()
    assert token.key_hash == api_token_hash(raw_key) != raw_key
    assert token.prefix == raw_key[:8]
    assert len(raw_key) >= 40


def test_last_used_at_is_written_at_most_once_a_minute(agent: User) -> None:
    token, raw_key = api_token_create(user=agent, name="shop")
    client = ApiClient(raw_key)
    client.get(URL)
    token.refresh_from_db()
    first = token.last_used_at
    assert first is not None

    client.get(URL)
    token.refresh_from_db()
    assert token.last_used_at == first  # within the minute: no write

    two_minutes_ago = timezone.now() - datetime.timedelta(minutes=2)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=two_minutes_ago)
    api_token_cache_clear()  # two minutes on, the process's copy of the token (seconds) is long expired
    client.get(URL)
    token.refresh_from_db()
    assert token.last_used_at > two_minutes_ago


def test_session_works_for_reads(agent: User) -> None:
    client = Client()
    client.force_login(agent)
    assert client.get(URL).status_code == 200


def test_session_writes_need_the_csrf_token(agent: User) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(agent)

    refused = client.post(URL, intake_payload(), content_type="application/json")
    assert refused.status_code == 403

    # The browser gets the token from the cookie and sends it back in the header.
    csrf_token = get_token(client.get("/api/v1/docs").wsgi_request)
    client.cookies["csrftoken"] = csrf_token
    accepted = client.post(URL, intake_payload(), content_type="application/json", headers={"X-CSRFToken": csrf_token})
    assert accepted.status_code == 201, accepted.content


def test_token_requests_need_no_csrf_token(agent_api: ApiClient) -> None:
    agent_api.handler.enforce_csrf_checks = True
    assert agent_api.post_json(URL, intake_payload()).status_code == 201


def test_command_creates_and_revokes(agent: User) -> None:
    out, err = io.StringIO(), io.StringIO()
    call_command("token", "create", "--user", agent.username, "--name", "crm", stdout=out, stderr=err)
    raw_key = out.getvalue().strip()
    token = ApiToken.objects.get(key_hash=api_token_hash(raw_key))
    assert token.name == "crm"
    assert token.user == agent
    assert ApiClient(raw_key).get(URL).status_code == 200

    call_command("token", "revoke", raw_key[:8], stdout=io.StringIO())

    token.refresh_from_db()
    assert token.revoked_at is not None
    assert ApiClient(raw_key).get(URL).status_code == 401


def test_command_refuses_unknown_user_and_prefix(db: None) -> None:
    with pytest.raises(CommandError):
        call_command("token", "create", "--user", "nobody", "--name", "crm", stdout=io.StringIO())
    with pytest.raises(CommandError):
        call_command("token", "revoke", "zzzzzzzz", stdout=io.StringIO())


def test_api_client_for_fixture(api_client_for: Callable[[User], ApiClient], auditor: User) -> None:
    assert api_client_for(auditor).get(URL).status_code == 200


def test_anonymous_write_is_401_not_a_csrf_403(db: None) -> None:
    response = Client(enforce_csrf_checks=True).post(URL, intake_payload(), content_type="application/json")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_no_key_starts_like_a_command_option(agent: User, monkeypatch: pytest.MonkeyPatch) -> None:
    # `closeloop token revoke <prefix>`: a prefix starting with "-" would be read as an option (1 key in 64).
    drawn = iter(["-" + "a" * 42, "b" * 43])
    monkeypatch.setattr("closeloop.core.services.secrets.token_urlsafe", lambda n: next(drawn))
    token, raw_key = api_token_create(user=agent, name="dash")
    assert raw_key == "b" * 43 and token.prefix == "bbbbbbbb"
