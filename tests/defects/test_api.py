"""Early warning over REST: the same services as the desk; 403 for the wrong role, 404 out of scope,
422 on the field for bad input; lists with a fixed number of queries."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User

from closeloop.complaints.models import Complaint, Event
from closeloop.core.roles import Role
from closeloop.defects.models import AlertStatus, DefectAlert, DefectIncident, IncidentStatus, SpikeRule
from closeloop.directory.models import Department, Product

pytestmark = pytest.mark.django_db

Intake = Callable[..., Complaint]
Api = Callable[[User], Any]


def make_spike(intake: Intake, batch: str) -> DefectAlert:
    for days in (3, 2, 1):
        intake(days_ago=days, batch_no=batch)
    return DefectAlert.objects.get(batch_no=batch.upper())


def test_alert_to_incident_to_remedy_to_close(intake: Intake, quality: User, api_as: Api) -> None:
    alert = make_spike(intake, "L7")
    api = api_as(quality)

    listed = api.get("/api/v1/defects/alerts?status=open").json()
    assert [a["id"] for a in listed] == [alert.pk]
    body = api.get(f"/api/v1/defects/alerts/{alert.pk}").json()
    assert body["complaint_count"] == 3 and body["hidden_complaints"] == 0 and body["batch_no"] == "L7"
    assert body["product"] == {"model": "XD-100", "label": body["product"]["label"], "line": "ceiling"}
    assert body["events"][0]["kind"] == "raised" and len(body["events"][0]["complaints"]) == 3

    response = api.post_json(
        f"/api/v1/defects/alerts/{alert.pk}/incident", {"title": "L7 驱动电源过热", "description": "电容"}
    )
    assert response.status_code == 201, response.content
    incident = response.json()
    assert incident["number"].startswith("PC") and incident["status"] == "open" and incident["alerts"] == [alert.pk]
    assert len(incident["complaints"]) == 3 and incident["complaints"][0]["remedy_applied_at"] is None
    pk = incident["id"]

    response = api.post_json(f"/api/v1/defects/incidents/{pk}/remedy", {"remedy": "换新", "measure": "replacement"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert len(body["applied"]) == 3 and body["skipped"] == [] and body["incident"]["status"] == "remedied"
    assert all(c["remedy_applied_at"] for c in body["incident"]["complaints"])
    assert Event.objects.filter(action="defect_remedy_applied").count() == 3

    response = api.post_json(f"/api/v1/defects/incidents/{pk}/close", {"note": "召回完成"})
    assert response.status_code == 200 and response.json()["status"] == "closed"
    kinds = [e["kind"] for e in api.get(f"/api/v1/defects/incidents/{pk}").json()["events"]]
    assert kinds == ["opened", "remedy_applied", "closed"]


def test_dismiss_and_refusals(intake: Intake, quality: User, supervisor: User, api_as: Api) -> None:
    alert = make_spike(intake, "L7")
    url = f"/api/v1/defects/alerts/{alert.pk}/dismiss"
    # the supervisor may look (view permission) but not decide: 403 whatever the body
    assert api_as(supervisor).get(f"/api/v1/defects/alerts/{alert.pk}").status_code == 200
    assert api_as(supervisor).post_json(url, {"reason": ""}).status_code == 403
    api = api_as(quality)
    response = api.post_json(url, {"reason": " "})
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["body", "reason"]
    assert api.post_json(url, {}).status_code == 422
    response = api.post_json(url, {"reason": "巧合"})
    assert response.status_code == 200 and response.json()["status"] == "dismissed"
    response = api.post_json(url, {"reason": "again"})
    assert response.status_code == 422
    assert DefectAlert.objects.get().status == AlertStatus.DISMISSED
    assert api.get("/api/v1/defects/alerts/999999").status_code == 404


def test_add_remove_and_link(intake: Intake, quality: User, api_as: Api, other_product: Product) -> None:
    api = api_as(quality)
    incident = api.post_json(
        f"/api/v1/defects/alerts/{make_spike(intake, 'l7').pk}/incident", {"title": "L7", "batch_no": None}
    ).json()
    assert incident["batch_no"] == "L7"
    pk = incident["id"]
    same = intake(batch_no="L8", check=False)
    other = intake(product_model=other_product.model, check=False)
    url = f"/api/v1/defects/incidents/{pk}/complaints"
    response = api.post_json(url, {"complaint": other.number})
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["body", "complaint"]
    assert api.post_json(url, {"complaint": "TS19990101-0001"}).status_code == 422
    response = api.post_json(url, {"complaint": same.number.lower(), "note": "同型号"})
    assert response.status_code == 200 and same.number in [c["number"] for c in response.json()["complaints"]]
    response = api.post_json(f"{url}/remove", {"complaint": same.number, "reason": "不同故障"})
    assert response.status_code == 200 and response.json()["complaint_count"] == 3

    # a model alert (no batch given) linked to the open incident
    alert = make_spike(intake, "")
    response = api.post_json(f"/api/v1/defects/alerts/{alert.pk}/link", {"incident": "PC000000-000"})
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["body", "incident"]
    response = api.post_json(f"/api/v1/defects/alerts/{alert.pk}/link", {"incident": incident["number"]})
    assert response.status_code == 200 and alert.pk in response.json()["alerts"]
    assert DefectAlert.objects.get(pk=alert.pk).status == AlertStatus.INCIDENT


def test_who_sees_what(intake: Intake, quality: User, api_as: Api, make_user: Callable[..., User]) -> None:
    alert = make_spike(intake, "L7")
    handler = make_user(Role.HANDLER, departments=[Department.objects.get(code="quality")])
    assert api_as(handler).get("/api/v1/defects/alerts").status_code == 403
    assert api_as(handler).get(f"/api/v1/defects/alerts/{alert.pk}").status_code == 404
    assert api_as(handler).post_json(f"/api/v1/defects/alerts/{alert.pk}/dismiss", {"reason": "x"}).status_code == 404
    tech_manager = make_user(Role.DEPT_MANAGER, departments=[Department.objects.get(code="tech")], manager=True)
    assert api_as(tech_manager).get("/api/v1/defects/alerts").json() == []
    assert api_as(tech_manager).get(f"/api/v1/defects/alerts/{alert.pk}").status_code == 404
    auditor = make_user(Role.AUDITOR)
    assert len(api_as(auditor).get("/api/v1/defects/alerts").json()) == 1
    assert api_as(auditor).post_json(f"/api/v1/defects/alerts/{alert.pk}/incident", {"title": "x"}).status_code == 403
    assert DefectIncident.objects.count() == 0


def test_lists_run_a_fixed_number_of_queries(
    intake: Intake, quality: User, api_as: Api, count_queries: Callable[[], Any]
) -> None:
    api = api_as(quality)
    api.get("/api/v1/defects/rules")  # warm up: the token's first use is recorded
    make_spike(intake, "A1")
    api.post_json(f"/api/v1/defects/alerts/{make_spike(intake, 'B1').pk}/incident", {"title": "B1"})
    with count_queries() as alerts_1:
        assert len(api.get("/api/v1/defects/alerts").json()) == 2
    with count_queries() as incidents_1:
        assert len(api.get("/api/v1/defects/incidents").json()) == 1
    for batch in ("A2", "A3"):
        make_spike(intake, batch)
    for batch in ("B2", "B3"):
        api.post_json(f"/api/v1/defects/alerts/{make_spike(intake, batch).pk}/incident", {"title": batch})
    with count_queries() as alerts_2:
        rows = api.get("/api/v1/defects/alerts").json()
    with count_queries() as incidents_2:
        assert len(api.get("/api/v1/defects/incidents?status=open").json()) == 3
    assert len(rows) == 6 and [r["status"] for r in rows[:3]] == ["open"] * 3
    assert alerts_1.count == alerts_2.count and incidents_1.count == incidents_2.count


def test_rules(quality: User, auditor: User, api_as: Api, product: Product) -> None:
    api = api_as(quality)
    rules = api.get("/api/v1/defects/rules").json()
    assert rules[0].pop("updated_at")  # when the rule last changed (the lists' updated_since)
    assert rules[0] == {
        "product_line": "default",
        "product_line_label": "default",
        "own_rule": True,
        "threshold": 3,
        "window_days": 7,
        "is_active": True,
    }
    line = next(r for r in rules if r["product_line"] == product.line.code)
    assert line["own_rule"] is False and line["threshold"] == 3

    url = f"/api/v1/defects/rules/{product.line.code}"
    response = api.put(url, {"threshold": 2, "window_days": 3}, content_type="application/json")
    assert response.status_code == 200 and response.json()["own_rule"] and response.json()["threshold"] == 2
    assert api.put(url, {"threshold": 0}, content_type="application/json").status_code == 422
    assert api.put("/api/v1/defects/rules/no-such-line", {}, content_type="application/json").status_code == 404
    assert api_as(auditor).put(url, {"threshold": 9}, content_type="application/json").status_code == 403
    assert api_as(auditor).delete(url).status_code == 403
    assert SpikeRule.objects.get(product_line=product.line).threshold == 2

    response = api.delete(url)
    assert response.status_code == 200 and response.json()["own_rule"] is False
    assert api.delete("/api/v1/defects/rules/default").status_code == 422
    response = api.put("/api/v1/defects/rules/default", {"threshold": 4}, content_type="application/json")
    assert response.status_code == 200 and response.json()["threshold"] == 4


def test_remedy_through_the_api_names_skipped_complaints(intake: Intake, quality: User, api_as: Api) -> None:
    from closeloop.complaints.lifecycle import Status

    api = api_as(quality)
    incident = api.post_json(f"/api/v1/defects/alerts/{make_spike(intake, 'L7').pk}/incident", {"title": "L7"}).json()
    archived = incident["complaints"][0]["number"]
    Complaint.objects.filter(number=archived).update(status=Status.ARCHIVED)
    response = api.post_json(
        f"/api/v1/defects/incidents/{incident['id']}/remedy", {"remedy": "换新", "measure": "replacement"}
    )
    body = response.json()
    assert body["skipped"] == [{"number": archived, "reason": "archived complaints are read-only"}]
    assert len(body["applied"]) == 2
    bad = api.post_json(f"/api/v1/defects/incidents/{incident['id']}/remedy", {"remedy": "x", "measure": "teleport"})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"][-1] == "measure"
    assert DefectIncident.objects.get().status == IncidentStatus.REMEDIED
