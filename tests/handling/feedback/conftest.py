"""Feedback-form fixtures: a complaint dispatched to quality and tech whose quality task replied, so
its feedback form is open (opened directly with `feedback_form_open`, as the reply service does)."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from closeloop.complaints.models import Complaint
from closeloop.core.services import api_token_create
from closeloop.handling.models import ContactLog, FeedbackForm, Solution, SolutionStatus, Task
from closeloop.handling.services.feedback import feedback_form_open


@pytest.fixture(autouse=True)
def _fast_passwords(settings: Any) -> None:
    """The `people` fixture creates nine users per test; the default hasher makes that seconds."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@dataclass
class Opened:
    complaint: Complaint
    tasks: dict[str, Task]
    form: FeedbackForm
    now: datetime.datetime


COMPLETE = {
    "result": "resolved",
    "demand_met": True,
    "measures": "上门更换驱动电源",
    "root_cause": "驱动电源批次不良",
    "improvement_suggestion": "加强来料检验",
}


@pytest.fixture
def opened(
    dispatched: Callable[..., tuple[Complaint, dict[str, Task]]], people: dict[str, User]
) -> Callable[..., Opened]:
    """A complaint with a feedback form open on its quality task; `contacts=True` adds contacts and
    `solution=True` an approved solution with compensation."""

    def make(*, contacts: bool = False, solution: bool = False, **overrides: Any) -> Opened:
        overrides.setdefault("phone", "13812345678")
        complaint, tasks = dispatched(**overrides)
        now = timezone.now()
        if contacts:
            ContactLog.objects.create(
                complaint=complaint,
                task=tasks["quality"],
                at=now - datetime.timedelta(hours=3),
                by=people["quality_handler"],
                channel="phone",
                summary="电话联系客户，确认故障现象",
            )
            ContactLog.objects.create(
                complaint=complaint,
                task=tasks["tech"],
                at=now - datetime.timedelta(hours=2),
                by=people["tech_handler"],
                channel="phone",
                summary="技术部另行联系客户",
            )
        if solution:
            Solution.objects.create(
                complaint=complaint,
                task=tasks["quality"],
                proposed_by=people["quality_handler"],
                proposed_at=now - datetime.timedelta(hours=1),
                measures=["replacement", "compensation"],
                description="更换吸顶灯并补偿",
                compensation_amount=Decimal("200"),
                compensation_form="voucher",
                status=SolutionStatus.APPROVED,
                required_levels=["cs_supervisor"],
                approved_levels=1,
            )
        form = feedback_form_open(task=tasks["quality"], now=now)
        return Opened(complaint=complaint, tasks=tasks, form=form, now=now)

    return make


class ApiClient(Client):
    def __init__(self, raw_key: str, **kwargs: Any) -> None:
        super().__init__(headers={"Authorization": f"Bearer {raw_key}"}, **kwargs)

    def put_json(self, path: str, data: Any) -> Any:
        return self.put(path, data=data, content_type="application/json")

    def post_json(self, path: str, data: Any = None) -> Any:
        return self.post(path, data=data if data is not None else {}, content_type="application/json")


@pytest.fixture
def api_for() -> Callable[[User], ApiClient]:
    def make(user: User) -> ApiClient:
        _token, raw_key = api_token_create(user=user, name=f"tests-{user.username}")
        return ApiClient(raw_key)

    return make
