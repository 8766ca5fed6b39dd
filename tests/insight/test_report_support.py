"""Fixtures for the report tests (imported by each test_report*.py module): people of every role and a
small month built through the services, with hostile text in the places a spreadsheet would run it.

The month is September 2026 (Asia/Shanghai); the reports are generated "on 2026-10-10 at 10:00".

| complaint | received (local)  | type      | what happens                                                          |
|-----------|-------------------|-----------|-----------------------------------------------------------------------|
| A         | 09-03 09:00       | quality   | acknowledged, dispatched to quality (handler), verified, contacted,   |
|           |                   |           | solution replacement + 200.00 cash approved and executed, reply,      |
|           |                   |           | feedback form submitted (resolved), resolved, follow-up 非常满意       |
| B         | 09-10 14:00       | logistics | resolved on the spot, follow-up 满意                                   |
| C         | 09-30 23:59       | quality   | acknowledged, still open                                              |
| D         | 09-12 10:00       | quality   | invalid: left out of every figure                                     |
| E         | 08-20 10:00       | quality   | resolved (the previous month)                                         |

Hostile text: A's customer name and description start with "=", B's with "-" and "@", B's product text
with "+", C's description with a tab, a carriage return and a bell character.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from io import BytesIO
from typing import Any

import pytest
from django.contrib.auth.models import User
from pypdf import PdfReader

from closeloop.complaints.models import Complaint
from closeloop.complaints.services import complaint_transition
from closeloop.core.roles import Role
from closeloop.directory.models import Department, Product
from closeloop.followup.models import FollowUp
from closeloop.followup.services.followups import followup_record
from closeloop.handling.models import FeedbackForm
from closeloop.handling.services.feedback import feedback_form_submit
from closeloop.handling.services.solutions import solution_decide, solution_execute, solution_propose
from closeloop.handling.services.tasks import (
    Assignment,
    complaint_dispatch,
    contact_log_add,
    task_reply,
    task_verify,
)
from closeloop.insight.kpis import Period
from tests.conftest import aware

SEPTEMBER = Period.month(2026, 9)
GENERATED_AT = aware(2026, 10, 10, 10, 0)

HOSTILE_NAME_A = '=HYPERLINK("http://evil.example","点我")'
HOSTILE_DESCRIPTION_A = "=cmd|' /C calc'!A0 吸顶灯通电后不亮"
HOSTILE_NAME_B = "-2+3"
HOSTILE_DESCRIPTION_B = "@SUM(A1:A9) 物流破损"
HOSTILE_PRODUCT_B = "+SUM(1,2) 无型号台灯"
HOSTILE_DESCRIPTION_C = "\t=1+1\r\x07 隔夜投诉"


@dataclass
class Month:
    a: Complaint
    b: Complaint
    c: Complaint
    d: Complaint
    e: Complaint
    people: dict[str, User]

    @property
    def cohort(self) -> list[Complaint]:
        return [self.a, self.b, self.c]


@pytest.fixture
def report_people(make_user: Callable[..., User], db: None) -> dict[str, User]:
    quality = Department.objects.get(code="quality")
    handler = make_user(Role.HANDLER, departments=[quality], username="r_handler")
    handler.first_name, handler.last_name = "王", "工"
    handler.save()
    return {
        "agent": make_user(Role.AGENT, username="r_agent"),
        "supervisor": make_user(Role.CS_SUPERVISOR, username="r_supervisor"),
        "supervisor2": make_user(Role.CS_SUPERVISOR, username="r_supervisor2"),
        "handler": handler,
        "quality": make_user(Role.QUALITY, username="r_quality"),
        "auditor": make_user(Role.AUDITOR, username="r_auditor"),
        "management": make_user(Role.MANAGEMENT, username="r_gm"),
        "management2": make_user(Role.MANAGEMENT, username="r_gm2"),
    }


def _resolve(complaint: Complaint, agent: User, at: datetime.datetime, text: str) -> Complaint:
    return complaint_transition(
        complaint=complaint, action="resolve", actor=agent, via="desk", data={"resolution": text}, now=at
    )


def _rate(complaint: Complaint, agent: User, level: str, at: datetime.datetime, suggestions: str = "") -> None:
    followup = FollowUp.objects.filter(complaint=complaint).order_by("-round").first()
    assert followup is not None
    followup_record(
        followup=followup,
        method="phone",
        solved=True,
        level=level,
        suggestions=suggestions,
        actor=agent,
        via="desk",
        now=at,
    )


@pytest.fixture
def report_month(make_complaint: Callable[..., Complaint], report_people: dict[str, User], product: Product) -> Month:
    people = report_people
    agent, handler, supervisor = people["agent"], people["handler"], people["supervisor"]
    quality = Department.objects.get(code="quality")

    # A: the full loop.
    at = aware(2026, 9, 3, 9, 0)
    a = make_complaint(
        actor=agent,
        now=at,
        received_at=at,
        customer_name=HOSTILE_NAME_A,
        phone="13812345678",
        description=HOSTILE_DESCRIPTION_A,
        product_model=product.model,
        batch_no="2608-A01",
        province="广东",
        city="深圳",
        type_code="quality",
    )
    complaint_transition(
        complaint=a, action="acknowledge", actor=agent, via="desk", now=at + datetime.timedelta(minutes=20)
    )
    (task,) = complaint_dispatch(
        complaint=a,
        assignments=[Assignment(department=quality, handler=handler)],
        actor=agent,
        via="desk",
        now=at + datetime.timedelta(minutes=30),
    )
    task_verify(task=task, actor=handler, via="desk", now=at + datetime.timedelta(minutes=40))
    contact_log_add(
        complaint=a,
        task=task,
        at=at + datetime.timedelta(hours=1),
        channel="phone",
        outcome="reached",
        summary="电话联系客户，约定上门",
        actor=handler,
        via="desk",
        now=at + datetime.timedelta(hours=1),
    )
    solution = solution_propose(
        complaint=a,
        task=task,
        measures=["replacement", "compensation"],
        description="上门更换灯具并补偿",
        compensation_amount="200.00",
        compensation_form="cash",
        actor=handler,
        via="desk",
        now=at + datetime.timedelta(hours=2),
    )
    solution = solution_decide(
        solution=solution, approve=True, actor=supervisor, via="desk", now=at + datetime.timedelta(hours=3)
    )
    solution_execute(solution=solution, actor=handler, via="desk", now=at + datetime.timedelta(hours=4))
    task_reply(task=task, reply="已上门更换灯具", actor=handler, via="desk", now=at + datetime.timedelta(hours=5))
    form = FeedbackForm.objects.get(task=task)
    feedback_form_submit(
        form=form,
        actor=handler,
        now=at + datetime.timedelta(hours=6),
        data={
            "result": "resolved",
            "demand_met": True,
            "measures": "上门更换灯具",
            "root_cause": "驱动电源批次不良",
            "improvement_suggestion": "加强来料检验",
        },
    )
    _resolve(a, agent, at + datetime.timedelta(hours=7), "上门更换灯具，客户确认正常")
    _rate(a, agent, "very_satisfied", at + datetime.timedelta(days=1), suggestions="希望安装师傅提前电话")

    # B: answered on the spot.
    at = aware(2026, 9, 10, 14, 0)
    b = make_complaint(
        actor=agent,
        now=at,
        received_at=at,
        customer_name=HOSTILE_NAME_B,
        phone="13900001111",
        description=HOSTILE_DESCRIPTION_B,
        product_text=HOSTILE_PRODUCT_B,
        province="北京",
        city="北京",
        type_code="logistics",
    )
    _resolve(b, agent, at + datetime.timedelta(minutes=10), "补发配件")
    _rate(b, agent, "satisfied", at + datetime.timedelta(days=1))

    # C: received at the last minute of the month, still open.
    at = aware(2026, 9, 30, 23, 59)
    c = make_complaint(
        actor=agent,
        now=at,
        received_at=at,
        customer_name="李娜",
        phone="13700002222",
        description=HOSTILE_DESCRIPTION_C,
        product_model=product.model,
        province="广东",
        city="广州",
        type_code="quality",
    )
    complaint_transition(
        complaint=c, action="acknowledge", actor=agent, via="desk", now=at + datetime.timedelta(minutes=5)
    )

    # D: invalid.
    at = aware(2026, 9, 12, 10, 0)
    d = make_complaint(actor=agent, now=at, received_at=at, customer_name="广告", phone="13600003333")
    complaint_transition(complaint=d, action="invalidate", actor=agent, via="desk", data={"reason": "广告推销"}, now=at)

    # E: the month before.
    at = aware(2026, 8, 20, 10, 0)
    e = make_complaint(actor=agent, now=at, received_at=at, customer_name="赵敏", phone="13500004444")
    _resolve(e, agent, at + datetime.timedelta(hours=1), "电话指导")

    for complaint in (a, b, c, d, e):
        complaint.refresh_from_db()
    return Month(a, b, c, d, e, people)


def pdf_text(content: bytes) -> str:
    assert content.startswith(b"%PDF")
    reader = PdfReader(BytesIO(content))
    return "".join(page.extract_text() for page in reader.pages).replace("\n", "")


def read(field: Any) -> bytes:
    with field.open("rb") as handle:
        return handle.read()
