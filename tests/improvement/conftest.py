"""Improvement-action fixtures: people of two departments (with a manager each), quality, and a maker that
creates actions through `action_create`."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from closeloop.core.roles import Role
from closeloop.core.services import api_token_create
from closeloop.directory.models import ComplaintType, Department, Product
from closeloop.improvement.models import ActionSource, ImprovementAction
from closeloop.improvement.services import ActionInput, action_create


@pytest.fixture
def quality_dept(db: None) -> Department:
    return Department.objects.get(code="quality")


@pytest.fixture
def tech_dept(db: None) -> Department:
    return Department.objects.get(code="tech")


@pytest.fixture
def quality_type(db: None) -> ComplaintType:
    return ComplaintType.objects.get(code="quality")


@pytest.fixture
def people(make_user: Callable[..., User], quality_dept: Department, tech_dept: Department) -> dict[str, User]:
    return {
        "agent": make_user(Role.AGENT, username="i_agent"),
        "supervisor": make_user(Role.CS_SUPERVISOR, username="i_supervisor"),
        "owner": make_user(Role.HANDLER, departments=[quality_dept], username="i_owner"),
        "colleague": make_user(Role.HANDLER, departments=[quality_dept], username="i_colleague"),
        "tech_handler": make_user(Role.HANDLER, departments=[tech_dept], username="i_tech"),
        "manager": make_user(Role.DEPT_MANAGER, departments=[quality_dept], manager=True, username="i_manager"),
        "tech_manager": make_user(Role.DEPT_MANAGER, departments=[tech_dept], manager=True, username="i_tm"),
        "quality": make_user(Role.QUALITY, username="i_quality"),
        "auditor": make_user(Role.AUDITOR, username="i_auditor"),
        "management": make_user(Role.MANAGEMENT, username="i_gm"),
    }


@pytest.fixture
def make_action(
    people: dict[str, User], quality_dept: Department, quality_type: ComplaintType
) -> Callable[..., ImprovementAction]:
    """An action through the service; keyword arguments override ActionInput fields, plus `actor` and `now`."""

    def make(**overrides: Any) -> ImprovementAction:
        actor = overrides.pop("actor", people["quality"])
        now = overrides.pop("now", None)
        fields: dict[str, Any] = {
            "source": ActionSource.OTHER,
            "title": "加强驱动电源来料检验",
            "description": "对每批驱动电源抽检 5%，不合格批次退货。",
            "owner_department": quality_dept,
            "owner": people["owner"],
            "target": "20wd",
            "complaint_type": quality_type,
        }
        fields.update(overrides)
        return action_create(data=ActionInput(**fields), actor=actor, now=now)

    return make


@pytest.fixture
def other_product(product: Product) -> Product:
    from closeloop.directory.models import ProductLine

    line, _ = ProductLine.objects.get_or_create(code="sofa", defaults={"name": "沙发", "name_en": "Sofas"})
    return Product.objects.get_or_create(model="SF-200", defaults={"line": line, "name": "布艺沙发"})[0]


class ApiClient(Client):
    def __init__(self, raw_key: str, **kwargs: Any) -> None:
        super().__init__(headers={"Authorization": f"Bearer {raw_key}"}, **kwargs)

    def post_json(self, path: str, data: Any = None) -> Any:
        return self.post(path, data=data if data is not None else {}, content_type="application/json")


@pytest.fixture
def api_for() -> Callable[[User], ApiClient]:
    def make(user: User) -> ApiClient:
        _token, raw_key = api_token_create(user=user, name=f"tests-{user.username}")
        return ApiClient(raw_key)

    return make


def days(n: float) -> datetime.timedelta:
    return datetime.timedelta(days=n)
