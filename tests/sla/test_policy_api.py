"""SLA configuration over the API: staff read it, administrators change it (audited), nothing a
deadline points at is deleted; and seed 004's six-day week for dealers and stores out of the box."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import User

from closeloop.complaints.models import Complaint
from closeloop.sla.milestones import Milestone
from closeloop.sla.models import Deadline, Policy, PolicyChange, PolicyRule
from tests.api.conftest import ApiClient

SHANGHAI = ZoneInfo("Asia/Shanghai")
FRIDAY_10 = datetime.datetime(2026, 11, 20, 10, 0, tzinfo=SHANGHAI)


@pytest.fixture
def admin_api(make_user: Callable[..., User], api_client_for: Callable[[User], ApiClient]) -> ApiClient:
    return api_client_for(make_user("admin", username="sla-admin"))


def resolution_due(complaint: Complaint) -> datetime.datetime:
    deadline = Deadline.objects.get(complaint=complaint, milestone=Milestone.RESOLUTION, task__isnull=True)
    return deadline.due_at.astimezone(SHANGHAI)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kind", "due"),
    [
        # Seed 004: "sent on Friday 10:00, answered by Monday 10:00 at the latest" — Saturday counts.
        ("dealer", datetime.datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI)),
        ("store", datetime.datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI)),
        # An end user's complaint stays on the five-day week: Tuesday.
        ("end_user", datetime.datetime(2026, 11, 24, 10, 0, tzinfo=SHANGHAI)),
    ],
)
def test_seed_004_dealers_and_stores_on_the_six_day_week(
    make_complaint: Callable[..., Complaint], kind: str, due: datetime.datetime
) -> None:
    complaint = make_complaint(
        customer_kind=kind, priority=2, received_at=FRIDAY_10, now=FRIDAY_10 + datetime.timedelta(minutes=5)
    )
    assert complaint.sla_policy.code == ("default" if kind == "end_user" else "six-day")
    assert resolution_due(complaint) == due  # 重要: resolution within 2wd


@pytest.mark.django_db
def test_staff_read_policies_with_their_rules(agent_api: ApiClient) -> None:
    response = agent_api.get("/api/v1/policies/six-day")
    assert response.status_code == 200
    body = response.json()
    assert body["is_active"] is True
    assert {(r["customer_kind"], r["is_active"]) for r in body["rules"]} == {("dealer", True), ("store", True)}
    rules = agent_api.get("/api/v1/policy-rules").json()
    assert [r["customer_kind"] for r in rules] == ["dealer", "store"]


@pytest.mark.django_db
def test_only_administrators_change_policies(agent_api: ApiClient) -> None:
    assert (
        agent_api.patch(
            "/api/v1/policies/six-day", {"warning_fraction": 0.5}, content_type="application/json"
        ).status_code
        == 403
    )
    assert agent_api.delete("/api/v1/policies/six-day").status_code == 403
    assert (
        agent_api.post_json("/api/v1/policy-rules", {"policy": "six-day", "customer_kind": "deposit"}).status_code
        == 403
    )
    assert float(Policy.objects.get(code="six-day").warning_fraction) == pytest.approx(0.8)


@pytest.mark.django_db
def test_create_change_target_and_audit(admin_api: ApiClient) -> None:
    response = admin_api.post_json(
        "/api/v1/policies", {"code": "vip", "name": "大客户时效", "calendar": "six-day", "warning_fraction": 0.7}
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert len(body["targets"]) == Policy.objects.get(code="default").targets.count()  # copied from the default
    response = admin_api.put(
        "/api/v1/policies/vip/targets/resolution",
        {"urgent": "4wh", "important": "1wd", "normal": "2wd"},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert next(t for t in response.json()["targets"] if t["milestone"] == "resolution")["important"] == "1wd"
    bad = admin_api.put(
        "/api/v1/policies/vip/targets/resolution",
        {"urgent": "soon", "important": "1wd", "normal": "2wd"},
        content_type="application/json",
    )
    assert bad.status_code == 422
    rule = admin_api.post_json("/api/v1/policy-rules", {"policy": "vip", "customer_kind": "deposit", "order": 5})
    assert rule.status_code == 201
    changes = admin_api.get("/api/v1/policies/vip/changes").json()
    assert [c["action"] for c in changes] == ["created", "target_set", "rule_added"]
    assert changes[1]["before"]["important"] == "2wd" and changes[1]["after"]["important"] == "1wd"
    assert changes[0]["actor"] == "sla-admin"


@pytest.mark.django_db
def test_delete_deactivates_and_keeps_the_rows_deadlines_use(
    admin_api: ApiClient, make_complaint: Callable[..., Complaint]
) -> None:
    dealer = make_complaint(customer_kind="dealer")
    assert dealer.sla_policy.code == "six-day"
    response = admin_api.delete("/api/v1/policies/six-day")
    assert response.status_code == 200 and response.json()["is_active"] is False
    assert Policy.objects.filter(code="six-day").exists()
    assert Deadline.objects.filter(complaint=dealer, policy__code="six-day").exists()  # running clocks untouched
    # No rule selects an inactive policy: the next dealer gets the default.
    assert make_complaint(customer_kind="dealer").sla_policy.code == "default"
    assert PolicyChange.objects.filter(policy__code="six-day", action="deactivated").count() == 1
    # The default policy cannot be deactivated.
    refused = admin_api.delete("/api/v1/policies/default")
    assert refused.status_code == 422
    assert Policy.objects.get(code="default").is_active


@pytest.mark.django_db
def test_rules_are_deactivated_not_deleted(admin_api: ApiClient, make_complaint: Callable[..., Complaint]) -> None:
    rule = PolicyRule.objects.get(customer_kind="store")
    response = admin_api.delete(f"/api/v1/policy-rules/{rule.pk}")
    assert response.status_code == 200 and response.json()["is_active"] is False
    assert PolicyRule.objects.filter(pk=rule.pk).exists()
    assert make_complaint(customer_kind="store").sla_policy.code == "default"
    assert make_complaint(customer_kind="dealer").sla_policy.code == "six-day"


@pytest.mark.django_db
def test_making_another_policy_the_default(admin_api: ApiClient) -> None:
    response = admin_api.patch("/api/v1/policies/six-day", {"is_default": True}, content_type="application/json")
    assert response.status_code == 200
    assert list(Policy.objects.filter(is_default=True).values_list("code", flat=True)) == ["six-day"]
    assert PolicyChange.objects.filter(policy__code="default", action="changed").exists()
