"""Safe retries: `Idempotency-Key` on every POST, and one complaint per (channel, external_ref)."""

from __future__ import annotations

import datetime
import json
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection

from closeloop.complaints.models import Complaint
from closeloop.core.idempotency import idempotency_keys_purge
from closeloop.core.models import IdempotencyKey
from closeloop.core.services import api_token_create
from tests.api.conftest import ApiClient, intake_payload

URL = "/api/v1/complaints"


def _post(client: ApiClient, body: dict[str, Any], key: str = "") -> Any:
    headers = {"Idempotency-Key": key} if key else {}
    return client.post(URL, data=body, content_type="application/json", headers=headers)


@pytest.mark.django_db
def test_a_retry_with_the_key_gets_the_first_answer_and_makes_nothing_new(agent_api: ApiClient) -> None:
    first = _post(agent_api, intake_payload(), key="retry-1")
    again = _post(agent_api, intake_payload(), key="retry-1")

    assert first.status_code == again.status_code == 201
    assert again.json()["number"] == first.json()["number"]
    assert again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert Complaint.objects.count() == 1


@pytest.mark.django_db
def test_the_same_key_with_another_body_is_refused(agent_api: ApiClient) -> None:
    _post(agent_api, intake_payload(), key="k")
    other = _post(agent_api, intake_payload(description="另一个问题"), key="k")

    assert other.status_code == 422
    assert other.json()["detail"][0] == {
        "loc": ["header", "Idempotency-Key"],
        "msg": other.json()["detail"][0]["msg"],
        "type": "idempotency_key_reused",
    }
    assert Complaint.objects.count() == 1


@pytest.mark.django_db
def test_keys_are_per_user(agent_api: ApiClient, api_client_for: Any, make_user: Any) -> None:
    other = api_client_for(make_user("agent"))
    _post(agent_api, intake_payload(), key="shared")
    response = _post(other, intake_payload(phone="139 0000 1111"), key="shared")

    assert response.status_code == 201
    assert Complaint.objects.count() == 2


@pytest.mark.django_db
def test_a_refusal_is_kept_but_an_unauthenticated_answer_is_not(agent_api: ApiClient) -> None:
    bad = intake_payload(type="no-such-type")
    assert _post(agent_api, bad, key="bad").status_code == 422
    replay = _post(agent_api, bad, key="bad")
    assert replay.status_code == 422
    assert replay["Idempotent-Replayed"] == "true"

    assert _post(ApiClient("wrong-key"), intake_payload(), key="anon").status_code == 401
    assert not IdempotencyKey.objects.filter(key="anon").exists()


@pytest.mark.django_db
def test_expired_keys_are_purged_and_the_request_then_runs_again(agent_api: ApiClient) -> None:
    first = _post(agent_api, intake_payload(external_ref=""), key="old")
    IdempotencyKey.objects.update(expires_at=datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC))

    assert idempotency_keys_purge() == 1
    assert idempotency_keys_purge() == 0
    second = _post(agent_api, intake_payload(external_ref=""), key="old")
    assert second.status_code == 201
    assert second.json()["number"] != first.json()["number"]


@pytest.mark.django_db
def test_a_repeat_external_ref_returns_the_complaint_with_200(agent_api: ApiClient) -> None:
    first = _post(agent_api, intake_payload(external_ref="CRM-77"))
    repeat = _post(agent_api, intake_payload(external_ref="CRM-77"))
    other_channel = _post(agent_api, intake_payload(external_ref="CRM-77", channel="hotline"))

    assert first.status_code == 201
    assert repeat.status_code == 200
    assert repeat.json()["number"] == first.json()["number"]
    assert other_channel.status_code == 201  # another source system's reference
    assert Complaint.objects.count() == 2


@pytest.mark.django_db
def test_external_ref_and_updated_since_filter_the_list(agent_api: ApiClient) -> None:
    number = _post(agent_api, intake_payload(external_ref="CRM-1")).json()["number"]
    _post(agent_api, intake_payload(external_ref="CRM-2", phone="139 0000 2222"))

    found = agent_api.get(URL, {"external_ref": "CRM-1"}).json()
    assert [c["number"] for c in found["items"]] == [number]
    assert found["items"][0]["updated_at"]

    later = agent_api.get(URL, {"updated_since": "2999-01-01T00:00:00Z"}).json()
    assert later["count"] == 0
    assert agent_api.get(URL, {"updated_since": "2000-01-01T00:00:00Z"}).json()["count"] == 2


def _live_concurrent_retries(live_server: Any, agent: User, *, total: int, threads: int) -> list[tuple[int, dict]]:
    _token, raw_key = api_token_create(user=agent, name="retries")
    body = json.dumps(intake_payload(external_ref="")).encode()
    start = threading.Barrier(threads)

    def send(index: int) -> tuple[int, dict]:
        if index < threads:
            start.wait()  # the first wave leaves together
        request = urllib.request.Request(  # noqa: S310 - our live server
            f"{live_server.url}{URL}",
            data=body,
            method="POST",
            headers={
                "Authorization": f"Bearer {raw_key}",
                "Content-Type": "application/json",
                "Idempotency-Key": "one-key-for-all",
            },
        )
        for attempt in range(10):
            try:
                with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - our live server
                    return response.status, json.loads(response.read())
            except urllib.error.HTTPError as exc:
                return exc.code, json.loads(exc.read())
            except (ConnectionError, urllib.error.URLError):
                # The test server's listen queue is shorter than 50: a refused connection is one more
                # retry of the same request, as a client would make.
                time.sleep(0.05 * (attempt + 1))
        raise AssertionError("the live server never answered")

    with ThreadPoolExecutor(max_workers=threads) as pool:
        return list(pool.map(send, range(total)))


def _assert_one_complaint(results: list[tuple[int, dict]]) -> None:
    statuses = {status for status, _body in results}
    assert statuses <= {201, 409}, results
    numbers = {body["number"] for status, body in results if status == 201}
    assert len(numbers) == 1
    assert Complaint.objects.count() == 1
    # A 409 said "still running"; by now the answer is stored and every retry gets it.
    assert all(body["detail"][0]["type"] == "idempotency_key_in_use" for status, body in results if status == 409)


@pytest.mark.django_db(transaction=True)
def test_50_concurrent_retries_of_one_key_make_one_complaint(live_server: Any, agent: User) -> None:
    name = str(connection.settings_dict["NAME"])
    if connection.vendor == "sqlite" and (name == ":memory:" or "mode=memory" in name):
        pytest.skip("in-memory SQLite test database")
    results = _live_concurrent_retries(live_server, agent, total=50, threads=50)
    _assert_one_complaint(results)
    number = next(body["number"] for status, body in results if status == 201)
    # After the storm, one more retry is a replay of the one answer.
    client = ApiClient(api_token_create(user=agent, name="after")[1])
    assert client.get(f"{URL}/{number}").status_code == 200
