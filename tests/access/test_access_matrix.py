"""The access matrix: every endpoint of the REST API and every desk URL, for the roles that must not
act on (or even see) a complaint: anonymous, handler and manager of another department, auditor.

A complaint of the technical-support department is built with a record behind every kind of id in
the URLs (task, solution and step, postponement, dispute, feedback form, follow-up, attachment,
roster line). Then, for every operation:
- anonymous: 401 from the API, a login redirect from the desk;
- another department's handler and manager: 404 for everything about that complaint (never 403, so
  its existence is not revealed), its number absent from every list, nothing changed;
- the auditor (reads everything, changes nothing): reads succeed, every write is refused and
  nothing changed.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from closeloop.api import api
from closeloop.complaints.lifecycle import TRANSITIONS
from closeloop.complaints.models import Complaint, Event, SavedView
from closeloop.complaints.services import AttachmentUpload, complaint_attach, transition_apply
from closeloop.core.roles import Role
from closeloop.core.services import api_token_create
from closeloop.defects.models import DefectAlert, DefectIncident
from closeloop.directory.models import Department, Product, ProductLine, RosterEntry
from closeloop.followup.models import FollowUp
from closeloop.handling.models import (
    ContactLog,
    Dispute,
    ExecutionStep,
    FeedbackForm,
    Postponement,
    Solution,
    Task,
)
from closeloop.handling.services.feedback import feedback_form_open
from closeloop.handling.services.tasks import task_create
from closeloop.improvement.models import ImprovementAction
from closeloop.insight.models import Recipient, Report
from closeloop.integrations.models import WebhookDelivery, WebhookSubscription
from closeloop.knowledge.models import Article
from closeloop.macros.models import Macro
from closeloop.notifications.models import Method, Notification
from closeloop.serviceorders.services import OrderData, order_register
from closeloop.sla.models import PolicyRule

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
UNSAFE = {"post", "put", "patch", "delete"}


@pytest.fixture(autouse=True)
def _no_token_rate_limit(settings: Any) -> None:
    """The matrix sends hundreds of requests with one token: the per-token limit is tested on its own."""
    settings.API_TOKEN_RATE_PER_MINUTE = 0


@pytest.fixture
def world(make_complaint: Callable[..., Complaint], make_user: Callable[..., User]) -> dict[str, Any]:
    tech, quality = Department.objects.get(code="tech"), Department.objects.get(code="quality")
    agent = make_user(Role.AGENT, username="m_agent")
    tech_handler = make_user(Role.HANDLER, departments=[tech], username="m_tech")
    people = {
        "handler": make_user(Role.HANDLER, departments=[quality], username="m_qh"),
        "manager": make_user(Role.DEPT_MANAGER, departments=[quality], manager=True, username="m_qm"),
        "auditor": make_user(Role.AUDITOR, username="m_auditor"),
    }
    complaint = make_complaint(type_code="installation", actor=agent, phone="13955550000")
    now = timezone.now()
    with transaction.atomic():
        locked = Complaint.objects.select_for_update().get(pk=complaint.pk)
        task = task_create(complaint=locked, department=tech, handler=tech_handler, actor=agent, via="desk", now=now)
        transition_apply(
            locked=locked,
            transition=TRANSITIONS["dispatch"],
            actor=agent,
            via="desk",
            now=now,
            data={"departments": ["tech"]},
        )
    complaint.refresh_from_db()
    assert complaint.department == tech
    ContactLog.objects.create(
        complaint=complaint, task=task, at=now, by=tech_handler, channel="phone", summary="联系客户"
    )
    solution = Solution.objects.create(
        complaint=complaint,
        task=task,
        proposed_by=tech_handler,
        proposed_at=now,
        measures=["other"],
        description="上门检修",
        required_levels=["cs_supervisor"],
    )
    step = ExecutionStep.objects.create(solution=solution, description="上门")
    postponement = Postponement.objects.create(
        task=task,
        requested_by=tech_handler,
        requested_at=now,
        reason="等配件",
        proposed_due=now + timezone.timedelta(days=9),
    )
    dispute = Dispute.objects.create(task=task, raised_by=tech_handler, raised_at=now, reason="非本部门")
    form = feedback_form_open(task=task, now=now)
    followup = FollowUp.objects.create(complaint=complaint, round=1)
    attachment = complaint_attach(
        complaint=complaint,
        actor=agent,
        via="desk",
        upload=AttachmentUpload(name="p.png", file=io.BytesIO(PNG), size=len(PNG)),
    )
    roster = RosterEntry.objects.create(department=tech, handler=tech_handler, valid_from=now.date())
    # The management loop: a defect alert and incident holding the complaint, an improvement action
    # raised from it, a report and a recipient.
    line = ProductLine.objects.get_or_create(code="ceiling", defaults={"name": "吸顶灯"})[0]
    product = Product.objects.get_or_create(model="XD-100", defaults={"line": line, "name": "吸顶灯"})[0]
    alert = DefectAlert.objects.create(product=product, batch_no="L7", threshold=3, window_days=7)
    alert.complaints.add(complaint)
    incident = DefectIncident.objects.create(number="PC202611-001", title="L7", product=product, opened_by=agent)
    incident.complaints.add(complaint)
    action = ImprovementAction.objects.create(
        number="GJ202611-001",
        title="安装规范",
        description="培训",
        source="other",
        complaint=complaint,
        complaint_type=complaint.type,
        owner_department=tech,
        owner=tech_handler,
        due_at=now + timezone.timedelta(days=10),
        warn_at=now + timezone.timedelta(days=8),
    )
    report = Report.objects.create(
        kind="on_demand", period_start=now.date().replace(day=1), period_end=now.date(), created_by=agent
    )
    report.xlsx.save("summary.xlsx", ContentFile(b"PK\x03\x04 matrix"), save=False)
    report.pdf.save("analysis.pdf", ContentFile(b"%PDF-1.4 matrix"), save=False)
    report.generated_at = now
    report.save()
    recipient = Recipient.objects.create(email="gm@example.com")
    # Records of the integrations: the agent's own notice, an administrator's webhook and one delivery.
    notice = Notification.objects.create(
        recipient=agent, method=Method.IN_APP, kind="task_assigned", subject="matrix", body="matrix"
    )
    webhook = WebhookSubscription.objects.create(
        name="crm", url="https://crm.example.com/hook", secret="s" * 32, owner=make_user(Role.ADMIN, username="m_admin")
    )
    delivery = WebhookDelivery.objects.create(
        subscription=webhook,
        source="complaint",
        event_id=Event.objects.filter(complaint=complaint).values_list("pk", flat=True).first(),
        kind="complaint.created",
    )
    # The workspace and the service desk: a published article, a shared canned reply, a saved view,
    # a service order of the same customer.
    article = Article.objects.create(title="吸顶灯闪烁", symptoms="闪烁", steps=["断电"], is_published=True)
    macro = Macro.objects.create(title="matrix", text="您好 {customer_name}")
    view = SavedView.objects.create(name="matrix", owner=agent, query="status=registered")
    order = order_register(
        data=OrderData(
            kind="repair",
            channel="hotline",
            customer_name="王芳",
            phone="13700000001",
            description="吸顶灯闪烁",
            received_at=now,
        ),
        actor=agent,
        via="desk",
        now=now,
    )
    ids = {
        "number": complaint.number,
        "service-orders": order.number,
        "articles": article.pk,
        "macros": macro.pk,
        "view_id": view.pk,
        "views": view.pk,
        "notifications": notice.pk,
        "task_id": task.pk,
        "solution_id": solution.pk,
        "step_id": step.pk,
        "entry_id": roster.pk,
        "attachment_id": attachment.pk,
        "code": "default",
        "postponements": postponement.pk,
        "disputes": dispute.pk,
        "feedback-forms": form.pk,
        "feedback": form.pk,
        "followups": followup.pk,
        "alerts": alert.pk,
        "incidents": incident.pk,
        "improvement-actions": action.pk,
        "improvement": action.pk,
        "reports": report.pk,
        "report-recipients": recipient.pk,
        "kpi": "timely_processing",
        "side": "denominator",
        "measure": "compensation",
        "group": "department",
        "kind": "xlsx",
        "notification_id": notice.pk,
        "webhook_id": webhook.pk,
        "delivery_id": delivery.pk,
        "milestone": "acknowledge",
        "rule_id": PolicyRule.objects.order_by("pk").values_list("pk", flat=True).first(),
    }
    return {"complaint": complaint, "people": people, "ids": ids, "task": task}


def state(world: dict[str, Any]) -> tuple[Any, ...]:
    """Everything a refused request must leave as it was."""
    complaint = Complaint.objects.get(pk=world["complaint"].pk)
    return (
        complaint.status,
        complaint.priority,
        complaint.waiting_since,
        complaint.department_id,
        Event.objects.filter(complaint=complaint).count(),
        tuple(Task.objects.filter(complaint=complaint).order_by("pk").values_list("status", "handler_id")),
        ContactLog.objects.filter(complaint=complaint).count(),
        tuple(Solution.objects.filter(complaint=complaint).values_list("status", "approved_levels")),
        tuple(ExecutionStep.objects.filter(solution__complaint=complaint).values_list("done_at", flat=True)),
        tuple(Postponement.objects.filter(task__complaint=complaint).values_list("status", flat=True)),
        tuple(Dispute.objects.filter(task__complaint=complaint).values_list("status", flat=True)),
        tuple(FeedbackForm.objects.filter(complaint=complaint).values_list("status", "root_cause")),
        tuple(FollowUp.objects.filter(complaint=complaint).values_list("outcome", flat=True)),
        tuple(RosterEntry.objects.order_by("pk").values_list("valid_to", "handler_id")),
    )


# --- the REST API ------------------------------------------------------------------------------------------


def api_operations() -> list[tuple[str, str]]:
    schema = api.get_openapi_schema()
    return [(method, path) for path, ops in schema["paths"].items() for method in ops]


def fill_api_path(path: str, ids: dict[str, Any]) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "number" and "/service-orders/" in path:
            return str(ids["service-orders"])
        if name == "pk":  # the collection before it says which record
            collection = path[: match.start()].rstrip("/").rsplit("/", 1)[-1]
            return str(ids[collection])
        return str(ids[name])

    return re.sub(r"\{(\w+)\}", value, path)


# Records that are not one complaint's: a role without the permission is refused with 403, which
# reveals nothing about any complaint (the bodies are still checked for the number).
NOT_COMPLAINT_SCOPED = (
    "{code}",
    "{entry_id}",
    "{kpi}",
    "/reports/",
    "/report-recipients/",
    "/defects/",
    "/webhooks/",
    "/policies/",
    "/policy-rules/",
    "/knowledge/",
    "/macros/",
    "/saved-views/",
    "/service-orders/",
)
# Reads the auditor may not make (webhooks, the import template and triage figures are administrators';
# canned replies are the writing desk's): 403, like a write.
ADMIN_READS = ("/webhooks", "/imports/", "/triage/stats", "/macros")


def complaint_scoped(path: str) -> bool:
    return "{" in path and not any(s in path for s in NOT_COMPLAINT_SCOPED)


def api_client(user: User | None) -> Client:
    if user is None:
        return Client()
    return Client(HTTP_AUTHORIZATION=f"Bearer {api_token_create(user=user, name='matrix')[1]}")


# Reads with required query parameters.
QUERIES = {
    "/days": {"start": "2026-11-01", "end": "2026-11-03"},
    "/deadline": {"start": "2026-11-20T10:00+08:00", "duration": "2wd"},
    "/customers/lookup": {"phone": "13955550000"},
}


def call(client: Client, method: str, url: str) -> Any:
    if method in UNSAFE:
        return getattr(client, method)(url, data="{}", content_type="application/json")
    query = next((q for suffix, q in QUERIES.items() if url.endswith(suffix)), {})
    return client.get(url, query)


@pytest.mark.django_db
def test_api_refuses_anonymous_everywhere(world: dict[str, Any]) -> None:
    client = api_client(None)
    for method, path in api_operations():
        response = call(client, method, fill_api_path(path, world["ids"]))
        assert response.status_code == 401, (method, path, response.status_code)


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["handler", "manager"])
def test_api_other_department_sees_nothing_and_changes_nothing(world: dict[str, Any], who: str) -> None:
    client = api_client(world["people"][who])
    number = world["complaint"].number
    before = state(world)
    for method, path in api_operations():
        response = call(client, method, fill_api_path(path, world["ids"]))
        body = response.content.decode(errors="replace")
        assert number not in body and "13955550000" not in body, (method, path)
        assert not 200 <= response.status_code < 300 or not complaint_scoped(path), (method, path)
        if complaint_scoped(path):
            # 404 like a complaint that does not exist; a body invalid for the operation may be refused first.
            assert response.status_code in ({404} if method == "get" else {404, 422}), (method, path, body[:200])
        assert state(world) == before, (method, path)


@pytest.mark.django_db
def test_api_auditor_reads_everything_and_changes_nothing(world: dict[str, Any]) -> None:
    client = api_client(world["people"]["auditor"])
    before = state(world)
    for method, path in api_operations():
        response = call(client, method, fill_api_path(path, world["ids"]))
        if method == "get" and path.endswith(("/personal", "/prefill", "/customers/lookup")):
            # The unmasked export is for roles that may see personal data, the prefill of a new
            # improvement action for those who may create one, the screen pop for the call centre;
            # auditors only read.
            assert response.status_code == 403, (method, path, response.status_code)
        elif method == "get" and path.startswith(tuple(f"/api/v1{p}" for p in ADMIN_READS)):
            assert response.status_code == 403, (method, path, response.status_code)
        elif method == "get":
            assert response.status_code == 200, (method, path, response.status_code)
        elif path.startswith("/api/v1/notifications/"):
            # Marking one's own notices read is the auditor's to do too (the others' answer 404).
            assert response.status_code in (200, 404), (method, path, response.status_code)
        else:
            assert not 200 <= response.status_code < 300, (method, path)
        assert state(world) == before, (method, path)
    listed = client.get("/api/v1/complaints").json()
    assert world["complaint"].number in {c["number"] for c in listed["items"]}


# --- the desk ----------------------------------------------------------------------------------------------

DESK_NAMESPACES = {"desk", "handling", "followup", "sla", "notifications", "defects", "improvement", "insight"}
ACTION_VALUES = {
    "transition": "acknowledge",
    "sla_action": "priority",
    "task_action": "verify",
    "postponement_step": "opinion",
}


def desk_urls(ids: dict[str, Any]) -> list[tuple[str, str, bool]]:
    """(name, url, complaint-scoped) for every desk URL, its parameters filled from `ids`."""
    urls = []

    def walk(patterns: list[Any], prefix: str, namespace: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + str(pattern.pattern), pattern.namespace or namespace)
            elif isinstance(pattern, URLPattern) and namespace in DESK_NAMESPACES:
                route = prefix + str(pattern.pattern)
                names = re.findall(r"<(?:\w+:)?(\w+)>", route)

                def fill(match: re.Match[str], route: str = route, name: str = pattern.name or "") -> str:
                    param = match.group(1)
                    if param in ("action", "step"):
                        return ACTION_VALUES.get(name, "x")
                    if param == "pk":
                        collection = "feedback" if "feedback" in route else route.split("/")[2]
                        if collection.startswith("<"):
                            collection = route.split("/")[1]
                        return str(ids[collection])
                    return str(ids[param])

                url = "/" + re.sub(r"<(?:\w+:)?(\w+)>", fill, route)
                scoped = bool(set(names) - {"entry_id", "action", "step", "kpi", "side", "code"}) and not any(
                    part in route for part in ("insight/", "defects/")
                )
                urls.append((pattern.name or route, url, scoped))

    walk(get_resolver().url_patterns, "", "")
    assert len(urls) > 30
    return urls


@pytest.mark.django_db
def test_desk_sends_anonymous_to_the_login(world: dict[str, Any]) -> None:
    client = Client()
    for name, url, _scoped in desk_urls(world["ids"]):
        for method in ("get", "post"):
            response = getattr(client, method)(url)
            assert response.status_code in (302, 405), (name, method)
            if response.status_code == 302:
                assert response.url.startswith("/login/"), (name, method)


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["handler", "manager"])
def test_desk_other_department_gets_404_and_changes_nothing(world: dict[str, Any], who: str) -> None:
    client = Client()
    client.force_login(world["people"][who])
    number = world["complaint"].number
    before = state(world)
    for name, url, scoped in desk_urls(world["ids"]):
        for method in ("get", "post"):
            response = getattr(client, method)(url)
            if scoped:
                assert response.status_code in (404, 405), (name, method, url, response.status_code)
            else:
                assert number not in response.content.decode(errors="replace"), (name, method)
            assert state(world) == before, (name, method)


@pytest.mark.django_db
def test_desk_auditor_changes_nothing(world: dict[str, Any]) -> None:
    client = Client()
    client.force_login(world["people"]["auditor"])
    before = state(world)
    assert client.get(f"/desk/c/{world['complaint'].number}/").status_code == 200
    for name, url, _scoped in desk_urls(world["ids"]):
        client.post(url, {"reason": "x", "note": "x", "priority": "1", "agrees": "on", "approve": "on"})
        assert state(world) == before, name
