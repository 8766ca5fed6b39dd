"""A service order's kind selects its SLA policy (issue 16): a rule may name a service-order kind, and then
selects only for orders of that kind — never for a complaint. Through the service, the API and the admin's
rule editor."""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import User
from django.test import Client

from closeloop.complaints.models import Complaint
from closeloop.serviceorders.services import OrderData, order_register
from closeloop.sla.models import Policy, PolicyChange, PolicyRule
from closeloop.sla.services import policy_for
from tests.api.conftest import ApiClient

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
FRIDAY_10 = datetime.datetime(2026, 11, 20, 10, 0, tzinfo=SHANGHAI)
PHONE = "13700001111"


@pytest.fixture
def admin_api(make_user: Callable[..., User], api_client_for: Callable[[User], ApiClient]) -> ApiClient:
    return api_client_for(make_user("admin", username="sla-admin"))


def register(agent: User, kind: str, **extra: Any) -> Any:
    data = OrderData(
        kind=kind,
        channel="hotline",
        customer_name="王芳",
        phone=extra.pop("phone", PHONE),
        description="吸顶灯闪烁",
        received_at=FRIDAY_10,
        **extra,
    )
    return order_register(data=data, actor=agent, via="desk", now=FRIDAY_10)


def test_a_repair_and_a_consultation_of_the_same_customer_get_different_policies(agent: User) -> None:
    six_day = Policy.objects.get(code="six-day")
    PolicyRule.objects.create(policy=six_day, service_kind="consultation", order=0)
    repair = register(agent, "repair")
    consultation = register(agent, "consultation")
    assert repair.customer_id == consultation.customer_id
    assert repair.sla_policy.code == "default"
    assert consultation.sla_policy == six_day
    # The clocks follow the policy: the six-day week counts Saturday for the consultation's reply.
    assert {d.policy_id for d in consultation.deadlines.all()} == {six_day.pk}
    assert consultation.events.get(action="registered").after["sla_policy"] == "six-day"


def test_a_rule_by_kind_and_customer_kind_needs_both(agent: User) -> None:
    six_day = Policy.objects.get(code="six-day")
    PolicyRule.objects.create(policy=six_day, service_kind="repair", customer_kind="deposit", order=0)
    assert register(agent, "repair").sla_policy.code == "default"  # an end user
    assert register(agent, "repair", customer_kind="deposit", phone="13700002222").sla_policy == six_day
    assert register(agent, "return", customer_kind="deposit", phone="13700003333").sla_policy.code == "default"
    assert policy_for(customer_kind="deposit", product_line_id=None, service_kind="repair") == six_day
    assert policy_for(customer_kind="deposit", product_line_id=None, service_kind="return").code == "default"


def test_a_complaint_keeps_its_policy_whatever_the_kind_rules_say(make_complaint: Callable[..., Complaint]) -> None:
    six_day = Policy.objects.get(code="six-day")
    PolicyRule.objects.create(policy=six_day, service_kind="repair", customer_kind="end_user", order=0)
    PolicyRule.objects.create(policy=six_day, service_kind="consultation", order=0)
    end_user = make_complaint(customer_kind="end_user", received_at=FRIDAY_10, now=FRIDAY_10)
    dealer = make_complaint(customer_kind="dealer", received_at=FRIDAY_10, now=FRIDAY_10, phone="13900002222")
    assert end_user.sla_policy.code == "default"
    assert dealer.sla_policy == six_day  # seed 004's rule by complainant type still selects
    assert policy_for(customer_kind="end_user", product_line_id=None).code == "default"


def test_the_api_adds_changes_and_refuses_a_kind_by_field(admin_api: ApiClient, agent: User) -> None:
    response = admin_api.post_json("/api/v1/policy-rules", {"policy": "six-day", "service_kind": "teleport"})
    assert response.status_code == 422
    assert "service_kind" in str(response.json())
    assert not PolicyRule.objects.filter(service_kind="teleport").exists()
    response = admin_api.post_json("/api/v1/policy-rules", {"policy": "six-day", "service_kind": "consultation"})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["service_kind"] == "consultation" and body["customer_kind"] == ""
    change = PolicyChange.objects.get(action="rule_added")
    assert change.after["service_kind"] == "consultation"
    assert register(agent, "consultation").sla_policy.code == "six-day"
    # null = any kind; a rule with no condition left is refused on its field, nothing changed
    response = admin_api.patch(
        f"/api/v1/policy-rules/{body['id']}", {"service_kind": None}, content_type="application/json"
    )
    assert response.status_code == 422
    assert "customer_kind" in str(response.json())
    assert PolicyRule.objects.get(pk=body["id"]).service_kind == "consultation"
    response = admin_api.patch(
        f"/api/v1/policy-rules/{body['id']}", {"service_kind": "support"}, content_type="application/json"
    )
    assert response.status_code == 200 and response.json()["service_kind"] == "support"
    listed = admin_api.get("/api/v1/policy-rules").json()
    assert {r["service_kind"] for r in listed} >= {"support", ""}


def test_the_admin_rule_editor_saves_the_kind(admin_user: User, agent: User) -> None:
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(admin_user)
    policy = Policy.objects.get(code="six-day")
    url = f"/admin/sla/policy/{policy.pk}/change/"
    page = client.get(url)
    assert page.status_code == 200
    assert 'name="rules-0-service_kind"' in page.content.decode()
    data: dict[str, Any] = {}
    forms = [page.context["adminform"].form] + [
        form for inline in page.context["inline_admin_formsets"] for form in inline.formset.forms
    ]
    for form in forms:
        for name in form.fields:
            value = form[name].value()
            if value is None or value is False:
                continue
            if isinstance(value, dict | list):
                value = json.dumps(value, ensure_ascii=False)
            data[form.add_prefix(name)] = value.pk if hasattr(value, "pk") else value
    for inline in page.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        for name in management.fields:
            data[management.add_prefix(name)] = management[name].value()
    rule_index = next(
        i
        for i, form in enumerate(page.context["inline_admin_formsets"][1].formset.forms)
        if form.instance.customer_kind == "store"
    )
    data[f"rules-{rule_index}-service_kind"] = "installation"
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    rule = PolicyRule.objects.get(policy=policy, customer_kind="store")
    assert rule.service_kind == "installation"
