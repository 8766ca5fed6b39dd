"""Demo improvement actions, made through the real services from the demo's users and records: one from a
feedback form's suggestion (planned), one against a root cause (in progress), one done a while ago and
judged effective by its owner and by quality (verified, with a measured effect), and one from a defect
incident or a report when the demo has one (with a due date). Idempotent: an action whose title exists is
not made again."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone

from closeloop.directory.models import CauseCategory, ComplaintType, Department, ProductLine
from closeloop.handling.models import FeedbackForm
from closeloop.improvement.models import ActionSource, ImprovementAction
from closeloop.improvement.services import (
    ActionInput,
    action_complete,
    action_create,
    action_judge,
    action_prefill,
    action_start,
    default_policy,
)
from closeloop.sla.services import policy_calendar

USERS = ("quality", "handler", "manager", "supervisor", "gm")


def _next_working_day(after: datetime.date) -> datetime.date:
    calendar = policy_calendar(default_policy())
    day = after
    while not calendar.is_working_day(day):
        day += datetime.timedelta(days=1)
    return day


def demo_improvement_actions(*, now: datetime.datetime | None = None) -> int:
    """Returns how many actions were created (0 on a second run, or without the demo users)."""
    now = now or timezone.now()
    users = {u.username: u for u in get_user_model().objects.filter(username__in=USERS)}
    departments = {d.code: d for d in Department.objects.filter(code__in=["quality", "tech", "cs"])}
    if len(users) < len(USERS) or len(departments) < 3:
        return 0
    types = {t.code: t for t in ComplaintType.objects.filter(code__in=["quality", "service", "installation"])}
    lines = {line.code: line for line in ProductLine.objects.filter(code__in=["ceiling", "downlight"])}
    # Each action names the root-cause category it removes, as the report's "actions targeting" reads it.
    causes = {
        c.code: c
        for c in CauseCategory.objects.filter(
            code__in=["material-incoming", "method-instructions", "man-communication", "method-design"]
        )
    }
    created = 0

    def ensure(title: str, make: Callable[[str], Any]) -> None:
        nonlocal created
        if not ImprovementAction.objects.filter(title=title).exists():
            make(title)
            created += 1

    def from_feedback_form(title: str) -> None:
        form = (
            FeedbackForm.objects.exclude(improvement_suggestion="").select_related("complaint").order_by("id").first()
        )
        values: dict[str, Any] = action_prefill(feedback_form=form) if form is not None else {}
        if form is None:
            values = {"source": ActionSource.ROOT_CAUSE, "root_cause": "驱动电源", "product_line": lines.get("ceiling")}
        values["cause_category"] = values.get("cause_category") or causes.get("material-incoming")
        values.pop("owner_department", None)
        values.pop("window_days", None)
        values.update(
            title=title,
            description="对每批驱动电源按 5% 抽检（通电老化 4 小时），不合格批次整批退货；供应商提交改善报告。",
            owner_department=departments["quality"],
            owner=users["handler"],
            target="20wd",
        )
        action_create(data=ActionInput(**values), actor=users["quality"], now=now)

    def against_root_cause(title: str) -> None:
        action = action_create(
            data=ActionInput(
                source=ActionSource.ROOT_CAUSE,
                title=title,
                description="安装说明书增加吊顶与水泥顶两种固定方式的示意图，并附膨胀螺丝规格；同步更新电商详情页。",
                root_cause="安装说明不清",
                cause_category=causes.get("method-instructions"),
                complaint_type=types.get("installation"),
                product_line=lines.get("ceiling"),
                owner_department=departments["tech"],
                owner=users["handler"],
                target="15wd",
            ),
            actor=users["supervisor"],
            now=now - datetime.timedelta(days=6),
        )
        action_start(action=action, actor=users["handler"], now=now - datetime.timedelta(days=5))

    def done_and_judged(title: str) -> None:
        action = action_create(
            data=ActionInput(
                source=ActionSource.OTHER,
                title=title,
                description="工作日 18:00–21:00 安排两名坐席值班，晚间来电不再转语音信箱。",
                complaint_type=types.get("service"),
                cause_category=causes.get("man-communication"),
                owner_department=departments["cs"],
                owner=users["supervisor"],
                target="20wd",
            ),
            actor=users["gm"],
            now=now - datetime.timedelta(days=75),
        )
        action = action_start(action=action, actor=users["supervisor"], now=now - datetime.timedelta(days=74))
        action = action_complete(
            action=action,
            actor=users["supervisor"],
            done_note="晚间值班表已执行，热线 18:00 后接通率由 40% 提升到 95%。",
            now=now - datetime.timedelta(days=45),
        )
        action = action_judge(
            action=action,
            actor=users["supervisor"],
            side="owner",
            effective=True,
            note="晚间无人接听的投诉基本消失。",
            now=now - datetime.timedelta(days=10),
        )
        action_judge(
            action=action,
            actor=users["quality"],
            side="quality",
            effective=True,
            note="服务类投诉率下降，回访满意度上升，同意验证通过。",
            now=now - datetime.timedelta(days=9),
        )

    def from_incident_or_report(title: str) -> None:
        from closeloop.defects.models import DefectIncident

        # Reports are insight's, which sits above improvement: read through the action's relation to them.
        Report = ImprovementAction.report.field.related_model
        incident = DefectIncident.objects.select_related("product__line").order_by("id").first()
        report = None if incident is not None else Report.objects.order_by("-period_start").first()  # type: ignore[union-attr]  # insight's Report, read through the relation (insight is a higher layer)
        if incident is not None:
            values: dict[str, Any] = action_prefill(incident=incident)
        elif report is not None:
            values = action_prefill(report=report)
            values["product_line"] = lines.get("downlight")
        else:
            values = {"source": ActionSource.OTHER, "product_line": lines.get("downlight")}
        values.pop("window_days", None)
        values.update(
            title=title,
            description="包装内附 1:1 开孔模板，产品标签与详情页标注开孔尺寸；经销商培训材料同步更新。",
            owner_department=departments["quality"],
            owner=users["manager"],
            cause_category=values.get("cause_category") or causes.get("method-design"),
            target="",
            due_date=_next_working_day(timezone.localdate(now) + datetime.timedelta(days=28)),
        )
        if not any(values.get(name) for name in ("product_line", "product", "complaint_type", "root_cause")):
            values["complaint_type"] = types.get("quality")
        action_create(data=ActionInput(**values), actor=users["quality"], now=now)

    ensure("加强驱动电源来料检验，每批抽检 5%", from_feedback_form)
    ensure("修订吸顶灯安装说明书，增加吊顶固定示意图", against_root_cause)
    ensure("客服热线增加晚间值班（18:00–21:00）", done_and_judged)
    ensure("筒灯包装附开孔模板，减少开孔尺寸不符投诉", from_incident_or_report)
    return created
