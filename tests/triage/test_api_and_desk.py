"""The suggestions through the API and on the registration form, the outcome of each offered suggestion,
retraining on demand and the administrators' page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User

from closeloop.complaints.models import Complaint
from closeloop.triage.models import SuggestionOutcome, TriageModel
from closeloop.triage.synthetic import Sample, history

pytestmark = pytest.mark.django_db


def test_the_api_suggests_with_the_words_behind_each_suggestion(agent: User, api_as: Callable[[User], Any]) -> None:
    answer = api_as(agent).post_json(
        "/api/v1/triage/suggest", {"description": "台灯突然冒烟了，物流也慢", "product_text": ""}
    )
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["hazard_words"] == ["冒烟"]
    assert body["priority"]["value"] == "1"
    assert body["model_version"] is None  # no history: rules
    assert body["type"]["words"]


def test_the_api_refuses_suggestions_to_a_handler(handler: User, api_as: Callable[[User], Any]) -> None:
    answer = api_as(handler).post_json("/api/v1/triage/suggest", {"description": "灯不亮"})
    assert answer.status_code == 403


def test_the_registration_form_records_accepted_and_overridden_suggestions(
    agent: User, client: Any, settings: Any
) -> None:
    client.force_login(agent)
    part = client.post("/desk/triage/suggest/", {"description": "安装师傅把墙打错了孔"}).content.decode()
    assert 'name="triage-offered-type" value="installation"' in part
    assert "data-triage-accept" in part
    response = client.post(
        "/desk/new/",
        {
            "channel": "hotline",
            "received_at": "2026-11-23T10:15",
            "phone": "13900001111",
            "customer_kind": "end_user",
            "customer_name": "李雷",
            "priority": "3",
            "type": "installation",  # accepted
            "department": "quality",  # overridden (suggested: tech)
            "description": "安装师傅把墙打错了孔",
            "attachment_kind": "photo",
            "triage-offered-type": "installation",
            "triage-offered-department": "tech",
            "triage-version": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    complaint = Complaint.objects.get()
    outcomes = {
        o.field: (o.suggested, o.chosen, o.accepted) for o in SuggestionOutcome.objects.filter(complaint=complaint)
    }
    assert outcomes == {"type": ("installation", "installation", True), "department": ("tech", "quality", False)}


def test_an_administrator_retrains_on_demand_and_sees_the_acceptance(
    admin_user: User,
    agent: User,
    client: Any,
    api_as: Callable[[User], Any],
    import_history: Callable[[list[Sample]], None],
    settings: Any,
) -> None:
    settings.TRIAGE_MIN_HISTORY = 100
    import_history(history(150, seed=41))
    assert api_as(agent).post_json("/api/v1/triage/retrain").status_code == 403
    answer = api_as(admin_user).post_json("/api/v1/triage/retrain")
    assert answer.status_code == 202, answer.content
    assert TriageModel.objects.count() == 1  # the worker ran it (immediate in tests)
    stats = api_as(admin_user).get("/api/v1/triage/stats").json()
    assert stats["models"][0]["version"] == 1
    assert set(stats["models"][0]["scores"]) >= {"type", "department"}
    client.force_login(admin_user)
    page = client.get("/desk/triage/admin/").content.decode()
    assert "v1" in page
    assert client.post("/desk/triage/admin/").status_code == 302
    assert TriageModel.objects.count() == 2
