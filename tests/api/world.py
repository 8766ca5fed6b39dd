"""A database with real records of every kind the API serves, for the schemathesis run: the demo
(300 complaints with their whole history — tasks, contacts, solutions and their steps, feedback forms,
follow-ups, improvement actions, a defect alert), plus what the demo has none of (an attachment, leave,
a postponement, a dispute, a generated report, a report recipient, a defect incident), and an admin who
holds every role and manages every department, so that role checks let the requests through to the
services. `real_ids` gives, per path parameter, a few records of each status."""

from __future__ import annotations

import datetime
import importlib
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from io import StringIO
from typing import Any

import pytest
from django.apps import apps
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.db.models import Model, QuerySet
from django.test import override_settings
from django.utils import timezone

from closeloop.complaints.models import Complaint, Event
from closeloop.complaints.services import AttachmentUpload, complaint_attach
from closeloop.core.errors import DomainError
from closeloop.core.roles import Role
from closeloop.core.services import api_token_create
from closeloop.defects.models import DefectAlert, DefectIncident
from closeloop.defects.services.incidents import alert_open_incident
from closeloop.directory.models import Department, Membership, Product, ProductLine, RosterEntry
from closeloop.followup.models import FollowUp, SatisfactionLevel
from closeloop.handling.models import (
    ACTIVE_TASK_STATUSES,
    Dispute,
    ExecutionStep,
    FeedbackForm,
    Postponement,
    Solution,
    Task,
)
from closeloop.handling.services.disputes import dispute_raise
from closeloop.handling.services.postponements import postponement_request
from closeloop.handling.services.roster import absence_create
from closeloop.improvement.models import ImprovementAction
from closeloop.insight.kpis import Period
from closeloop.insight.models import Recipient, Report
from closeloop.insight.services.recipients import recipient_add
from closeloop.insight.services.reports import report_create, report_generate
from closeloop.integrations.models import WebhookDelivery, WebhookSubscription
from closeloop.integrations.services import webhook_create, webhooks_fan_out
from closeloop.knowledge.models import Article
from closeloop.macros.models import Macro
from closeloop.macros.services import macro_create
from closeloop.serviceorders.models import ServiceOrder
from closeloop.sla.models import Calendar, Policy

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)


@dataclass
class World:
    admin_key: str
    media_root: Any = None  # where the world's files (attachments, report files) are
    # (first path segment after /api/v1/, parameter name) → real values; ("", name) for any path.
    ids: dict[tuple[str, str], list[Any]] = field(default_factory=dict)
    # solution id → its execution steps, for /solutions/{solution_id}/steps/{step_id}/done.
    steps: list[tuple[int, int]] = field(default_factory=list)
    # operation label → a body naming real records, which the run sends with one field generated.
    bodies: dict[str, dict[str, Any]] = field(default_factory=dict)

    def values(self, path: str, name: str) -> list[Any]:
        resource = path.removeprefix("/api/v1/").split("/{")[0]
        return self.ids.get((resource, name)) or self.ids.get(("", name)) or []


def _per_status(queryset: QuerySet[Any], *, per: int = 2, status: str = "status", key: str = "pk") -> list[Any]:
    """A few records of each status, so that every state's code path is reached."""
    chosen: list[Any] = []
    for value in queryset.order_by().values_list(status, flat=True).distinct():
        chosen.extend(queryset.filter(**{status: value}).order_by("pk").values_list(key, flat=True)[:per])
    return chosen


def _first(queryset: Iterable[Model], count: int = 3) -> list[int]:
    return [row.pk for row in list(queryset)[:count]]


def _admin() -> User:
    admin = User.objects.create_user("st_admin", is_staff=True, is_superuser=True)
    admin.groups.add(*Group.objects.filter(name__in=[str(role) for role in Role]))
    for department in Department.objects.all():
        Membership.objects.create(user=admin, department=department, is_manager=True)
    return admin


def _extras(admin: User) -> None:
    """One of each record the demo does not make, through the services."""
    now = timezone.now()
    complaint = Complaint.objects.filter(status="registered").order_by("pk").first()
    assert complaint is not None
    complaint_attach(
        complaint=complaint,
        upload=AttachmentUpload(name="photo.png", file=io.BytesIO(PNG), size=len(PNG)),
        actor=admin,
        via="api",
    )
    handler = Membership.objects.filter(is_manager=False).exclude(user=admin).first()
    assert handler is not None
    absence_create(
        user=handler.user,
        starts=timezone.localdate(),
        ends=timezone.localdate() + datetime.timedelta(days=3),
        actor=admin,
    )
    active = list(Task.objects.filter(status__in=ACTIVE_TASK_STATUSES).order_by("pk"))
    made: set[str] = set()
    for task in active:
        try:
            if "postponement" not in made:
                postponement_request(
                    task=task,
                    reason="等待配件到货",
                    proposed_due=now + datetime.timedelta(days=5),
                    actor=admin,
                    via="api",
                )
                made.add("postponement")
            elif "dispute" not in made:
                dispute_raise(task=task, reason="不属于本部门职责", actor=admin, via="api")
                made.add("dispute")
            else:
                break
        except DomainError:
            continue  # this task's state does not allow it: the next one may
    last_month = (timezone.localdate().replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
    report = report_create(period=Period.month(last_month.year, last_month.month), actor=admin, language="zh-hans")
    report_generate(report=report)
    recipient_add(actor=admin, email="quality-board@example.com")
    alert = DefectAlert.objects.order_by("pk").first()
    if alert is not None:
        alert_open_incident(alert=alert, title="驱动电源批次问题", actor=admin, via="api")
    # A CRM's webhook, subscribed from the start: its deliveries of the registrations are queued.
    hook = webhook_create(actor=admin, name="CRM", url="http://127.0.0.1:9/hook", kinds=["complaint.registered"])
    WebhookSubscription.objects.filter(pk=hook.pk).update(cursor="")
    webhooks_fan_out()
    if not WebhookDelivery.objects.exists():
        # PostgreSQL's feed shows only committed transactions, and the world is built inside the test's.
        event = Event.objects.order_by("pk").first()
        assert event is not None
        WebhookDelivery.objects.create(
            subscription=hook, source="complaint", event_id=event.pk, kind="complaint.registered"
        )
    macro_create(actor=admin, title="确认收到", text="{customer_name}您好，您的投诉 {complaint_number} 已收到。")


def _bodies(numbers: list[str]) -> dict[str, dict[str, Any]]:
    """A valid body per write operation, with real references (departments, people, numbers)."""
    today = timezone.localdate()
    handler = Membership.objects.filter(department__code="quality", is_manager=False).select_related("user").first()
    colleague = (
        Membership.objects.filter(department__code="quality").exclude(pk=handler.pk).select_related("user").first()
        if handler is not None
        else None
    )
    assert handler is not None and colleague is not None
    level = SatisfactionLevel.objects.order_by("order").values_list("code", flat=True).first()
    incident = DefectIncident.objects.values_list("number", flat=True).first()
    product = Product.objects.select_related("line").order_by("model").first()
    assert product is not None
    line, model = product.line.code, product.model
    registered = Complaint.objects.filter(status="registered").order_by("-pk").values_list("number", flat=True)
    later = (timezone.now() + datetime.timedelta(days=5)).isoformat()
    in_a_month = (today + datetime.timedelta(days=30)).isoformat()
    last_month = (today.replace(day=1) - datetime.timedelta(days=1)).strftime("%Y-%m")
    reason = {"reason": "客户要求"}
    p = "POST /api/v1"
    return {
        f"{p}/complaints": {
            "customer_name": "李娜", "phone": "13812345678", "type": "quality", "description": "灯罩有裂纹",
            "product_model": model, "department": "quality", "priority": 2,
        },
        f"{p}/complaints/{{number}}/resolve": {"resolution": "已更换"},
        f"{p}/complaints/{{number}}/messages": {"method": "sms", "template": "write_progress", "text": "您好"},
        f"{p}/complaints/{{number}}/invalidate": reason,
        f"{p}/complaints/{{number}}/mark-duplicate": {**reason, "duplicate_of": numbers[0]},
        f"{p}/complaints/{{number}}/transitions": {"action": "acknowledge", "resolution": "已更换", **reason},
        f"{p}/complaints/{{number}}/priority": {"priority": 1, **reason},
        f"{p}/complaints/{{number}}/wait": reason,
        f"{p}/complaints/{{number}}/dispatch": {
            "assignments": [{"department": "quality", "handler": handler.user.username}],
        },
        f"{p}/tasks/{{task_id}}/request-info": reason,
        f"{p}/tasks/{{task_id}}/info-provided": {"info": "补充了照片"},
        f"{p}/tasks/{{task_id}}/contacts": {"channel": "phone", "outcome": "reached", "summary": "已联系客户"},
        f"{p}/complaints/{{number}}/contacts": {"channel": "phone", "outcome": "reached", "summary": "已联系客户"},
        f"{p}/tasks/{{task_id}}/progress": {"text": "已寄出配件"},
        f"{p}/tasks/{{task_id}}/reply": {"reply": "已处理完毕"},
        f"{p}/tasks/{{task_id}}/reassign": {"handler": colleague.user.username, "note": "休假"},
        f"{p}/tasks/{{task_id}}/withdraw": reason,
        f"{p}/roster": {"department": "quality", "handler": handler.user.username, "complaint_type": "quality",
                        "product_line": line, "valid_from": today.isoformat()},
        "PATCH /api/v1/roster/{entry_id}": {"province": "广东", "valid_to": in_a_month},
        f"{p}/absences": {"user": handler.user.username, "starts": today.isoformat(),
                          "ends": (today + datetime.timedelta(days=2)).isoformat(), "cover": colleague.user.username},
        f"{p}/complaints/{{number}}/solutions": {
            "task": Task.objects.order_by("pk").values_list("pk", flat=True).first(), "measures": ["replacement"],
            "description": "更换新灯", "steps": [{"description": "寄出新灯", "owner": handler.user.username}],
        },
        f"{p}/solutions/{{solution_id}}/reject": reason,
        f"{p}/tasks/{{task_id}}/postponements": {"reason": "等待配件", "proposed_due": later},
        f"{p}/postponements/{{pk}}/opinion": {"agrees": True, "opinion": "同意"},
        f"{p}/postponements/{{pk}}/confirm": {"agrees": True, "note": "同意"},
        f"{p}/postponements/{{pk}}/decide": {"approve": True, "note": "同意"},
        f"{p}/tasks/{{task_id}}/disputes": {"reason": "不属于本部门", "suggested_department": "tech"},
        f"{p}/disputes/{{pk}}/decide": {"move_to": "tech", "note": "改派"},
        "PUT /api/v1/feedback-forms/{pk}": {
            "result": "resolved", "demand_met": True, "measures": "更换", "root_cause": "批次不良",
            "improvement_suggestion": "加强检验", "satisfaction_seen": "satisfied",
            "key_actions": [{"at": "2026-05-20 10:00", "text": "上门"}],
        },
        f"{p}/feedback-forms/{{pk}}/return": {"note": "补充签收单"},
        f"{p}/followups/{{pk}}/attempts": {"method": "phone", "result": "no_answer"},
        f"{p}/followups/{{pk}}/record": {"method": "phone", "solved": True, "level": level},
        f"{p}/followups/{{pk}}/survey-link": {"method": "sms"},
        f"{p}/complaints/{{number}}/reopen": reason,
        f"{p}/complaints/{{number}}/repeat-link": {"earlier": numbers[0], **reason},
        f"{p}/complaints/{{number}}/repeat-unlink": reason,
        f"{p}/complaints/{{number}}/merge": {"duplicate": registered[0], **reason},
        f"{p}/reports": {"month": last_month, "language": "en"},
        f"{p}/reports/{{pk}}/return": {"note": "数据有误"},
        f"{p}/report-recipients": {"email": "board@example.com"},
        f"{p}/improvement-actions": {
            "source": "other", "complaint": numbers[0], "title": "改进驱动电源", "description": "批次问题",
            "owner_department": "quality", "owner": handler.user.username, "product_line": line, "product": model,
            "complaint_type": "quality", "due_date": in_a_month,
        },
        f"{p}/improvement-actions/{{pk}}/complete": {"done_note": "已完成"},
        f"{p}/improvement-actions/{{pk}}/judge": {"side": "quality", "effective": True, "note": "有效"},
        f"{p}/defects/alerts/{{pk}}/dismiss": reason,
        f"{p}/defects/alerts/{{pk}}/incident": {"title": "批次问题", "batch_no": "B2026-11"},
        f"{p}/defects/alerts/{{pk}}/link": {"incident": incident},
        f"{p}/defects/incidents/{{pk}}/complaints": {"complaint": numbers[0]},
        f"{p}/defects/incidents/{{pk}}/complaints/remove": {"complaint": numbers[0], **reason},
        f"{p}/defects/incidents/{{pk}}/remedy": {"remedy": "召回", "measure": "replacement"},
        f"{p}/defects/incidents/{{pk}}/close": {"note": "已处理"},
        "PUT /api/v1/defects/rules/{code}": {"threshold": 5, "window_days": 10, "is_active": True},
    }  # fmt: skip


def world_build() -> World:
    call_command("demo", stdout=StringIO(), stderr=StringIO())
    admin = _admin()
    _extras(admin)
    world = World(admin_key=api_token_create(user=admin, name="schemathesis")[1])
    numbers = _per_status(Complaint.objects.all(), key="number")
    world.ids = {
        ("", "number"): numbers,
        ("", "task_id"): _per_status(Task.objects.all()),
        ("", "entry_id"): _first(RosterEntry.objects.order_by("pk")),
        ("", "solution_id"): _per_status(Solution.objects.all()),
        ("calendars", "code"): list(Calendar.objects.values_list("code", flat=True)),
        ("policies", "code"): list(Policy.objects.values_list("code", flat=True)),
        ("defects/rules", "code"): [
            "default",
            *ProductLine.objects.order_by("code").values_list("code", flat=True)[:3],
        ],
        ("postponements", "pk"): _per_status(Postponement.objects.all()),
        ("disputes", "pk"): _per_status(Dispute.objects.all()),
        ("feedback-forms", "pk"): _per_status(FeedbackForm.objects.all()),
        ("followups", "pk"): _per_status(FollowUp.objects.all(), status="outcome"),
        ("reports", "pk"): _first(Report.objects.order_by("pk")),
        ("report-recipients", "pk"): _first(Recipient.objects.order_by("pk")),
        ("improvement-actions", "pk"): _per_status(ImprovementAction.objects.all()),
        ("defects/alerts", "pk"): _per_status(DefectAlert.objects.all()),
        ("defects/incidents", "pk"): _per_status(DefectIncident.objects.all()),
        ("service-orders", "number"): _per_status(ServiceOrder.objects.all(), key="number"),
        ("webhooks", "webhook_id"): _first(WebhookSubscription.objects.order_by("pk")),
        ("knowledge/articles", "pk"): _first(Article.objects.order_by("pk")),
        ("macros", "pk"): _first(Macro.objects.order_by("pk")),
        ("webhooks/deliveries", "delivery_id"): _first(WebhookDelivery.objects.order_by("pk")),
    }
    world.steps = list(ExecutionStep.objects.order_by("pk").values_list("solution_id", "pk")[:6])
    world.bodies = _bodies(numbers)
    empty = [key for key, values in world.ids.items() if not values]
    assert not empty, f"the world has no records for {empty}"
    return world


@pytest.fixture(scope="module", name="world")
def world_fixture(
    django_db_setup: None, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    """The world, built once for a test module and committed; emptied afterwards as a transactional test
    leaves the database (the reference data put back), so that the next tests in the process start as usual.
    Each test still runs in its own transaction on top, so what one test writes is gone before the next."""
    from tests.conftest import DATA_MIGRATIONS

    media = tmp_path_factory.mktemp("world-media")
    fast = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    try:
        with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=media, PASSWORD_HASHERS=fast):
            # An earlier transactional test may have flushed the tables: the reference data first.
            for module in DATA_MIGRATIONS:
                importlib.import_module(module).forwards(apps, None)
            built = world_build()
        built.media_root = media
        yield built
    finally:
        with django_db_blocker.unblock():
            call_command("flush", interactive=False, verbosity=0)
            for module in DATA_MIGRATIONS:
                importlib.import_module(module).forwards(apps, None)
