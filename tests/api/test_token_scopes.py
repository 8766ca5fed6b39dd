"""Scoped tokens: each operation needs a scope; a per-token rate limit with X-RateLimit-* and 429."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

from closeloop.accounts.api_scopes import required_scope
from closeloop.core.models import ApiToken
from closeloop.core.services import api_token_create
from tests.api.conftest import ApiClient, intake_payload

pytestmark = pytest.mark.django_db


def _client(user: User, scopes: list[str]) -> ApiClient:
    return ApiClient(api_token_create(user=user, name="scoped", scopes=scopes)[1])


@pytest.mark.parametrize(
    ("method", "path", "scope"),
    [
        ("GET", "/api/v1/complaints", "read"),
        ("POST", "/api/v1/complaints", "intake"),
        ("POST", "/api/v1/complaints/TS20261123-0001/acknowledge", "write"),
        ("GET", "/api/v1/webhooks", "admin"),
        ("POST", "/api/v1/webhooks/deliveries/3/redeliver", "admin"),
        ("POST", "/api/v1/notifications/read-all", "write"),
    ],
)
def test_each_operation_names_its_scope(method: str, path: str, scope: str) -> None:
    assert required_scope(method, path) == scope


def test_a_read_token_reads_but_may_not_register(agent: User) -> None:
    client = _client(agent, ["read"])

    assert client.get("/api/v1/complaints").status_code == 200
    refused = client.post_json("/api/v1/complaints", intake_payload())
    assert refused.status_code == 403
    assert "intake" in refused.json()["detail"]


def test_an_intake_token_registers_but_may_not_change(agent: User) -> None:
    client = _client(agent, ["intake"])

    number = client.post_json("/api/v1/complaints", intake_payload()).json()["number"]
    assert client.post_json(f"/api/v1/complaints/{number}/acknowledge").status_code == 403
    assert client.get(f"/api/v1/complaints/{number}").status_code == 403
    assert _client(agent, ["write", "read"]).post_json(f"/api/v1/complaints/{number}/acknowledge").status_code == 200


def test_the_admin_scope_does_not_make_an_agent_an_administrator(agent: User) -> None:
    assert _client(agent, ["read", "admin"]).get("/api/v1/webhooks").status_code == 403


def test_unknown_scopes_are_refused(agent: User) -> None:
    from closeloop.core.errors import DomainError

    with pytest.raises(DomainError):
        api_token_create(user=agent, name="x", scopes=["everything"])


def test_rate_limit_headers_and_429(agent: User, settings: Any) -> None:
    settings.API_TOKEN_RATE_PER_MINUTE = 3
    client = _client(agent, ["read"])

    answers = [client.get("/api/v1/lifecycle") for _ in range(4)]

    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert [a["X-RateLimit-Remaining"] for a in answers] == ["2", "1", "0", "0"]
    assert answers[0]["X-RateLimit-Limit"] == "3"
    assert int(answers[0]["X-RateLimit-Reset"]) % 60 == 0
    assert 1 <= int(answers[3]["Retry-After"]) <= 60
    # Another token of the same user has a window of its own.
    assert _client(agent, ["read"]).get("/api/v1/lifecycle").status_code == 200


def test_the_cli_gives_scopes(agent: User, capsys: Any) -> None:
    call_command("token", "create", "--user", "agent", "--name", "crm", "--scope", "read", "--scope", "intake")

    assert ApiToken.objects.get(name="crm").scopes == ["read", "intake"]
    assert "read,intake" in capsys.readouterr().err


def test_the_account_page_creates_a_scoped_token(agent: User, client: Any) -> None:
    client.force_login(agent)
    response = client.post("/desk/account/tokens/", {"name": "script", "scopes": ["read"]})

    assert response.status_code == 200, response.content[:500]
    assert ApiToken.objects.get(name="script").scopes == ["read"]
