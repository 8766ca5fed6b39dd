"""The demo actions: made through the services from the demo users and records, once."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User

from closeloop.complaints.models import Complaint
from closeloop.core.roles import Role
from closeloop.directory.models import Department
from closeloop.handling.models import FeedbackForm
from closeloop.improvement.demo import demo_improvement_actions
from closeloop.improvement.evaluation import action_evaluate
from closeloop.improvement.models import ActionSource, ActionStatus, ImprovementAction

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_users(make_user: Callable[..., User]) -> None:
    dept = {d.code: d for d in Department.objects.all()}
    make_user(Role.QUALITY, departments=[dept["quality"]], username="quality")
    make_user(Role.HANDLER, departments=[dept["quality"], dept["tech"]], username="handler")
    make_user(Role.DEPT_MANAGER, departments=[dept["quality"]], manager=True, username="manager")
    make_user(Role.CS_SUPERVISOR, departments=[dept["cs"]], manager=True, username="supervisor")
    make_user(Role.MANAGEMENT, departments=[dept["gm"]], username="gm")


def test_four_actions_once(demo_users: None, make_complaint: Callable[..., Complaint]) -> None:
    complaint = make_complaint()
    form = FeedbackForm.objects.create(
        complaint=complaint,
        handler=User.objects.get(username="handler"),
        root_cause="驱动电源批次质量问题",
        improvement_suggestion="加强来料检验",
    )
    assert demo_improvement_actions() == 4
    assert demo_improvement_actions() == 0
    actions = {a.title: a for a in ImprovementAction.objects.all()}
    assert len(actions) == 4
    from_form = actions["加强驱动电源来料检验，每批抽检 5%"]
    assert from_form.source == ActionSource.FEEDBACK_FORM and from_form.feedback_form == form
    assert actions["修订吸顶灯安装说明书，增加吊顶固定示意图"].status == ActionStatus.IN_PROGRESS
    verified = actions["客服热线增加晚间值班（18:00–21:00）"]
    assert verified.status == ActionStatus.VERIFIED
    assert verified.owner_effective is True and verified.quality_effective is True
    evaluation = action_evaluate(verified)
    assert evaluation is not None and not evaluation.shortened
    assert actions["筒灯包装附开孔模板，减少开孔尺寸不符投诉"].target.count("-") == 2  # a due date


def test_nothing_without_the_demo_users() -> None:
    assert demo_improvement_actions() == 0
