"""A live key's token, user and permissions are kept per process for API_TOKEN_CACHE_SECONDS
(accounts/api_auth.py): the second call reads none of them, a change in this process is seen at once,
another process's change within the TTL."""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest
from django.contrib.auth.models import Group, User

from closeloop.core.models import ApiToken
from closeloop.core.roles import Role
from closeloop.core.services import api_token_create, api_token_revoke
from tests.api.conftest import ApiClient, intake_payload

pytestmark = pytest.mark.django_db
URL = "/api/v1/complaints"


def _token_reads(queries: Any) -> int:
    return sum('FROM "core_apitoken"' in q["sql"] or "auth_permission" in q["sql"] for q in queries.captured_queries)


def test_the_second_call_reads_neither_token_nor_permissions(agent: User, count_queries: Any) -> None:
    _token, raw_key = api_token_create(user=agent, name="crm")
    client = ApiClient(raw_key)
    with count_queries() as first:
        assert client.get(URL).status_code == 200
    with count_queries() as second:
        assert client.get(URL).status_code == 200
    assert _token_reads(first) == 2 and _token_reads(second) == 0


def test_a_revocation_in_this_process_is_seen_at_once(agent: User) -> None:
    token, raw_key = api_token_create(user=agent, name="crm")
    client = ApiClient(raw_key)
    assert client.get(URL).status_code == 200
    api_token_revoke(prefix=token.prefix)
    assert client.get(URL).status_code == 401


def test_a_role_taken_away_is_seen_at_once(agent: User) -> None:
    _token, raw_key = api_token_create(user=agent, name="crm")
    client = ApiClient(raw_key)
    assert client.get(URL).status_code == 200
    assert client.post_json(URL, intake_payload(phone="13900000101")).status_code == 201
    agent.groups.remove(Group.objects.get(name=str(Role.AGENT)))
    assert client.post_json(URL, intake_payload(phone="13900000102")).status_code == 403


def test_another_processs_revocation_is_seen_within_the_ttl(agent: User, settings: Any) -> None:
    token, raw_key = api_token_create(user=agent, name="crm")
    client = ApiClient(raw_key)
    clock = [1000.0]
    with mock.patch("closeloop.accounts.api_auth.time.monotonic", side_effect=lambda: clock[0]):
        assert client.get(URL).status_code == 200
        ApiToken.objects.filter(pk=token.pk).update(revoked_at=token.created_at)  # no signal: as elsewhere
        clock[0] += settings.API_TOKEN_CACHE_SECONDS - 1
        assert client.get(URL).status_code == 200
        clock[0] += 1
        assert client.get(URL).status_code == 401


def test_no_cache_when_the_ttl_is_zero(agent: User, settings: Any, count_queries: Any) -> None:
    settings.API_TOKEN_CACHE_SECONDS = 0
    _token, raw_key = api_token_create(user=agent, name="crm")
    client = ApiClient(raw_key)
    client.get(URL)
    with count_queries() as again:
        assert client.get(URL).status_code == 200
    assert _token_reads(again) == 2
