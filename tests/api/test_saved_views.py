"""Saved views over the API: a user's own, shared ones by CS supervisors, nothing personal shared."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User

from closeloop.complaints.models import SavedView
from closeloop.core.roles import Role
from tests.api.conftest import ApiClient

pytestmark = pytest.mark.django_db


def test_an_agent_saves_lists_and_deletes_a_view(agent_api: ApiClient, agent: User) -> None:
    created = agent_api.post_json(
        "/api/v1/saved-views", {"name": "紧急未结", "query": "priority=1&page=3&unknown=x&status="}
    )
    assert created.status_code == 201
    assert created.json() == {
        "id": created.json()["id"],
        "name": "紧急未结",
        "query": "priority=1",
        "shared": False,
        "mine": True,
    }

    listed = agent_api.get("/api/v1/saved-views").json()
    assert [v["name"] for v in listed] == ["紧急未结"]

    assert agent_api.delete(f"/api/v1/saved-views/{created.json()['id']}").status_code == 204
    assert not SavedView.objects.exists()


def test_shared_views_are_for_supervisors_and_everyone_reads_them(
    api_client_for: Callable[[User], ApiClient], make_user: Callable[..., User], agent_api: ApiClient
) -> None:
    refused = agent_api.post_json("/api/v1/saved-views", {"name": "全部超时", "query": "due=overdue", "shared": True})
    assert refused.status_code == 403

    supervisor = api_client_for(make_user(Role.CS_SUPERVISOR))
    shared = supervisor.post_json("/api/v1/saved-views", {"name": "全部超时", "query": "due=overdue", "shared": True})
    assert shared.status_code == 201

    quality = api_client_for(make_user(Role.QUALITY))
    assert [(v["name"], v["mine"]) for v in quality.get("/api/v1/saved-views").json()] == [("全部超时", False)]
    # Only a supervisor deletes a shared view; someone else's view is not even found.
    assert agent_api.delete(f"/api/v1/saved-views/{shared.json()['id']}").status_code == 403
    other = supervisor.post_json("/api/v1/saved-views", {"name": "mine", "query": "priority=2"}).json()
    assert agent_api.delete(f"/api/v1/saved-views/{other['id']}").status_code == 404
    assert supervisor.delete(f"/api/v1/saved-views/{shared.json()['id']}").status_code == 204


@pytest.mark.parametrize("term", ["13812345678", "li@example.com", "1381234", "138 1234 5678"])
def test_a_shared_view_names_no_phone_or_email(
    api_client_for: Callable[[User], ApiClient], make_user: Callable[..., User], term: str
) -> None:
    supervisor = api_client_for(make_user(Role.CS_SUPERVISOR))
    answer = supervisor.post_json("/api/v1/saved-views", {"name": "x", "query": f"q={term}", "shared": True})
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["code"] == "saved_view.personal_data_in_shared_view"
    assert answer.json()["detail"][0]["loc"] == ["body", "query"]
    # A number's part is no phone.
    ok = supervisor.post_json("/api/v1/saved-views", {"name": "y", "query": "q=20261206-0006", "shared": True})
    assert ok.status_code == 201
