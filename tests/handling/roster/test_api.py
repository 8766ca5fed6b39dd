"""The roster API: read for every desk role, edits by the department's manager, proposals."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User

from closeloop.complaints.models import Complaint
from closeloop.core.services import api_token_create
from closeloop.directory.models import RosterChange
from tests.api.conftest import ApiClient

pytestmark = pytest.mark.django_db


@pytest.fixture
def api() -> Callable[[User], ApiClient]:
    def make(user: User) -> ApiClient:
        return ApiClient(api_token_create(user=user, name=f"t-{user.username}")[1])

    return make


def test_manager_edits_the_roster_and_everyone_reads_it(
    api: Callable[[User], ApiClient], people: dict[str, User], make_complaint: Callable[..., Complaint]
) -> None:
    manager = api(people["tech_manager"])
    created = manager.post_json(
        "/api/v1/roster",
        {"department": "tech", "handler": "p_th", "complaint_type": "quality", "valid_from": "2026-01-01"},
    )
    assert created.status_code == 201, created.json()
    entry_id = created.json()["id"]
    patched = manager.patch(f"/api/v1/roster/{entry_id}", {"province": "广东"}, content_type="application/json")
    assert patched.status_code == 200 and patched.json()["province"] == "广东"
    assert patched.json()["handler"] == "p_th"  # untouched fields stay

    listed = api(people["auditor"]).get("/api/v1/roster?department=tech").json()
    assert [e["id"] for e in listed["items"]] == [entry_id]
    changes = api(people["agent"]).get("/api/v1/roster-changes").json()
    assert [c["action"] for c in changes] == ["updated", "created"]

    complaint = make_complaint(actor=people["agent"], province="广东")
    proposal = api(people["agent"]).get(f"/api/v1/complaints/{complaint.number}/roster-proposal?on=2026-11-23")
    assert [(p["department"]["code"], p["handler"]) for p in proposal.json()] == [("tech", "p_th")]

    ended = manager.post_json(f"/api/v1/roster/{entry_id}/end", {"on": "2026-06-30"})
    assert ended.json()["valid_to"] == "2026-06-30"


def test_roster_refusals(api: Callable[[User], ApiClient], people: dict[str, User]) -> None:
    body = {"department": "tech", "valid_from": "2026-01-01"}
    assert api(people["quality_manager"]).post_json("/api/v1/roster", body).status_code == 403
    assert api(people["tech_handler"]).post_json("/api/v1/roster", body).status_code == 403
    bad = api(people["tech_manager"]).post_json("/api/v1/roster", {**body, "handler": "p_qh"})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "handler"]
    assert (
        api(people["tech_manager"])
        .patch("/api/v1/roster/999999", {"note": "x"}, content_type="application/json")
        .status_code
        == 404
    )
    assert not RosterChange.objects.exists()


def test_absences(api: Callable[[User], ApiClient], people: dict[str, User]) -> None:
    body = {"user": "p_th", "starts": "2026-11-23", "ends": "2026-11-24"}
    assert api(people["quality_manager"]).post_json("/api/v1/absences", body).status_code == 403
    created = api(people["tech_manager"]).post_json("/api/v1/absences", body)
    assert created.status_code == 201 and created.json()["cover"] is None


def test_a_nul_character_in_a_filter_is_a_422_not_a_database_error(
    api: Callable[[User], ApiClient], people: dict[str, User]
) -> None:
    response = api(people["agent"]).get("/api/v1/roster-changes", {"department": "qual\x00ity"})
    assert response.status_code == 422
