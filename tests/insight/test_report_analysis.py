"""The analysis of the monthly report on a fixture of two years, built through the services: the
comparisons (previous month, same month last year, 12-month trend), the Pareto by root-cause category,
the league tables, the top issues, the cost of quality, an action's measured effect, and the PDF that
prints them in the four parts of seed 001.

October 2026 is reported "on 2026-11-10 10:00" (Asia/Shanghai). Every complaint is priority 一般 (3):
resolution due in 3 working days; a department task's reply in 2 working days.

| key   | received    | model | responsible | task: handler, reply | cause category        | solution    | resolved   |
|-------|-------------|-------|-------------|----------------------|-----------------------|-------------|------------|
| Y1–Y3 | 2025-10-13… | M1    | quality     | —                    | —                     | —           | same day   |
| P1    | 2026-09-07  | M1    | quality     | q1, late (09-14)     | —                     | —           | 09-21 late |
| P2    | 2026-09-08  | M2    | quality     | —                    | —                     | —           | same day   |
| C1    | 2026-10-12  | M1    | quality     | q1, same day         | material-supplier     | replace+300 | same day   |
| C2    | 2026-10-13  | M1    | quality     | q1, same day         | material-incoming     | refund      | same day   |
| C3    | 2026-10-14  | M1    | production  | p1, late (10-20)     | method-instructions   | 100 cash    | 10-26 late |
| C4    | 2026-10-15  | M2    | production  | p1, same day         | environment-transport | —           | same day   |
| C5    | 2026-10-16  | M2    | quality     | q1, same day         | (free text only)      | —           | same day   |
| C6    | 2026-10-19  | M1    | quality     | —                    | —                     | —           | same day   |

All received at 09:00 local time.
Every complaint is of type quality except C4 (logistics).

By hand:
- volume: 6 in October 2026, 2 in September (+4, +200.0 %), 3 in October 2025 (+3, +100.0 %);
- Pareto: 料 2 (40 %), 法 1 (60 %), 环 1 (80 %), uncategorised 1 (100 %) — 法 before 环 by name;
- departments by timely processing: quality 4/4 (100 %, September 1/2 → ▲), production 1/2 (50 %, no
  September → no arrow); technical support, with no complaint, is not listed;
- handlers by timely reply rate: q1 3/3 (100 %; September 0/1 → ▲), p1 1/2 (50 %);
- top issues: M1 4 (quality 4), M2 2 (quality 1, logistics 1); the action against M1 is listed with M1;
- cost: 400.00 in compensation (2), 1 refund, 1 replacement; by department quality 300.00 (1 refund,
  1 replacement), production 100.00; by cause 料 300.00, 法 100.00.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User

from closeloop.complaints.models import Complaint
from closeloop.complaints.services import complaint_transition
from closeloop.core.roles import Role
from closeloop.directory.models import CauseCategory, Department, Product, ProductLine
from closeloop.handling.models import FeedbackForm, Task
from closeloop.handling.services.feedback import feedback_form_save
from closeloop.handling.services.solutions import solution_decide, solution_execute, solution_propose
from closeloop.handling.services.tasks import Assignment, complaint_dispatch, task_reply, task_verify
from closeloop.improvement.services import ActionInput, action_complete, action_create, action_start
from closeloop.insight.analysis import comparison_for, default_calendar
from closeloop.insight.exports.contents import report_contents
from closeloop.insight.exports.pdf import analysis_report_pdf
from closeloop.insight.kpis import Period
from tests.conftest import aware
from tests.insight.test_report_support import pdf_text

pytestmark = pytest.mark.django_db

OCTOBER = Period.month(2026, 10)
AS_OF = aware(2026, 11, 10, 10, 0)


class Year:
    def __init__(self, make_complaint: Callable[..., Complaint], make_user: Callable[..., User]) -> None:
        self.make_complaint = make_complaint
        self.quality = Department.objects.get(code="quality")
        self.production = Department.objects.get(code="production")
        self.agent = make_user(Role.AGENT, username="y_agent")
        self.supervisor = make_user(Role.CS_SUPERVISOR, username="y_supervisor")
        self.q1 = make_user(Role.HANDLER, departments=[self.quality], username="y_q1")
        self.p1 = make_user(Role.HANDLER, departments=[self.production], username="y_p1")
        self.quality_engineer = make_user(Role.QUALITY, departments=[self.quality], username="y_quality")
        line = ProductLine.objects.create(code="y-line", name="吸顶灯", name_en="Ceiling")
        self.m1 = Product.objects.create(line=line, model="M1", name="吸顶灯一号", name_en="One")
        self.m2 = Product.objects.create(line=line, model="M2", name="吸顶灯二号", name_en="Two")
        self.c: dict[str, Complaint] = {}

    def register(self, key: str, at: datetime.datetime, model: Product, **fields: Any) -> Complaint:
        fields.setdefault("type_code", "quality")
        fields.setdefault("department_code", "quality")
        complaint = self.make_complaint(
            actor=self.agent, now=at, received_at=at, product_model=model.model, province="广东", **fields
        )
        complaint_transition(complaint=complaint, action="acknowledge", actor=self.agent, via="desk", now=at)
        self.c[key] = complaint
        return complaint

    def task(self, key: str, department: Department, handler: User, at: datetime.datetime) -> Task:
        (task,) = complaint_dispatch(
            complaint=self.c[key],
            assignments=[Assignment(department=department, handler=handler)],
            actor=self.agent,
            via="desk",
            now=at + datetime.timedelta(minutes=10),
        )
        task_verify(task=task, actor=handler, via="desk", now=at + datetime.timedelta(minutes=20))
        return task

    def reply(self, task: Task, handler: User, at: datetime.datetime) -> None:
        task_reply(task=task, reply="已处理", actor=handler, via="desk", now=at)

    def cause(self, task: Task, handler: User, at: datetime.datetime, text: str, code: str = "") -> None:
        data: dict[str, Any] = {"root_cause": text}
        if code:
            data["cause_category_id"] = CauseCategory.objects.get(code=code).pk
        feedback_form_save(form=FeedbackForm.objects.get(task=task), data=data, actor=handler, now=at)

    def solution(
        self, key: str, task: Task, handler: User, at: datetime.datetime, measures: list[str], amount: str = ""
    ) -> None:
        solution = solution_propose(
            complaint=self.c[key],
            task=task,
            measures=measures,
            description="处理方案",
            compensation_amount=amount or None,
            compensation_form="cash" if amount else "",
            actor=handler,
            via="desk",
            now=at,
        )
        solution = solution_decide(
            solution=solution, approve=True, actor=self.supervisor, via="desk", now=at + datetime.timedelta(minutes=5)
        )
        solution_execute(solution=solution, actor=handler, via="desk", now=at + datetime.timedelta(minutes=10))

    def resolve(self, key: str, at: datetime.datetime) -> None:
        complaint_transition(
            complaint=self.c[key], action="resolve", actor=self.agent, via="desk", data={"resolution": "已解决"}, now=at
        )


@pytest.fixture
def year(make_complaint: Callable[..., Complaint], make_user: Callable[..., User]) -> Year:
    y = Year(make_complaint, make_user)
    for index, day in enumerate((13, 14, 15), start=1):  # October 2025: the same month a year before
        y.register(f"Y{index}", aware(2025, 10, day, 9), y.m1)
        y.resolve(f"Y{index}", aware(2025, 10, day, 11))

    # September 2026.
    y.register("P1", aware(2026, 9, 7, 9), y.m1)
    task = y.task("P1", y.quality, y.q1, aware(2026, 9, 7, 9))
    y.reply(task, y.q1, aware(2026, 9, 14, 10))  # due 09-09 09:10: late
    y.resolve("P1", aware(2026, 9, 21, 10))  # due 09-10: late
    y.register("P2", aware(2026, 9, 8, 9), y.m2)
    y.resolve("P2", aware(2026, 9, 8, 11))

    # October 2026.
    y.register("C1", aware(2026, 10, 12, 9), y.m1)
    task = y.task("C1", y.quality, y.q1, aware(2026, 10, 12, 9))
    y.solution("C1", task, y.q1, aware(2026, 10, 12, 10), ["replacement", "compensation"], "300.00")
    y.reply(task, y.q1, aware(2026, 10, 12, 11))
    y.cause(task, y.q1, aware(2026, 10, 12, 12), "驱动电源供应商来料批次不良", "material-supplier")
    y.resolve("C1", aware(2026, 10, 12, 14))

    y.register("C2", aware(2026, 10, 13, 9), y.m1)
    task = y.task("C2", y.quality, y.q1, aware(2026, 10, 13, 9))
    y.solution("C2", task, y.q1, aware(2026, 10, 13, 10), ["return_refund"])
    y.reply(task, y.q1, aware(2026, 10, 13, 11))
    y.cause(task, y.q1, aware(2026, 10, 13, 12), "灯罩来料有划痕", "material-incoming")
    y.resolve("C2", aware(2026, 10, 13, 14))

    y.register("C3", aware(2026, 10, 14, 9), y.m1, department_code="production")
    task = y.task("C3", y.production, y.p1, aware(2026, 10, 14, 9))
    y.solution("C3", task, y.p1, aware(2026, 10, 14, 10), ["compensation"], "100.00")
    y.reply(task, y.p1, aware(2026, 10, 20, 10))  # due 10-16 09:10: late
    y.cause(task, y.p1, aware(2026, 10, 20, 12), "安装说明书未写明吊顶固定方式", "method-instructions")
    y.resolve("C3", aware(2026, 10, 26, 10))  # due 10-19: late

    y.register("C4", aware(2026, 10, 15, 9), y.m2, type_code="logistics", department_code="production")
    task = y.task("C4", y.production, y.p1, aware(2026, 10, 15, 9))
    y.reply(task, y.p1, aware(2026, 10, 15, 11))
    y.cause(task, y.p1, aware(2026, 10, 15, 12), "运输途中挤压", "environment-transport")
    y.resolve("C4", aware(2026, 10, 15, 14))

    y.register("C5", aware(2026, 10, 16, 9), y.m2)
    task = y.task("C5", y.quality, y.q1, aware(2026, 10, 16, 9))
    y.reply(task, y.q1, aware(2026, 10, 16, 11))
    y.cause(task, y.q1, aware(2026, 10, 16, 12), "驱动电源问题")  # no category chosen
    y.resolve("C5", aware(2026, 10, 16, 14))

    y.register("C6", aware(2026, 10, 19, 9), y.m1)
    y.resolve("C6", aware(2026, 10, 19, 11))
    return y


def test_comparisons_with_the_previous_month_and_the_same_month_last_year(year: Year) -> None:
    contents = report_contents(OCTOBER, now=AS_OF, language="zh-hans")
    volume = contents["volume"]
    assert (volume["current"], volume["previous"], volume["change"], volume["change_pct"]) == (6, 2, 4, 200.0)
    assert (volume["year_ago"], volume["yoy_change"], volume["yoy_change_pct"]) == (3, 3, 100.0)
    assert contents["previous"]["label"] == "2026-09" and contents["year_ago"]["label"] == "2025-10"
    # Twelve months, November 2025 – October 2026.
    trend = volume["trend"]
    assert [t["label"] for t in trend][:1] == ["2025-11"] and trend[-1] == {"label": "2026-10", "count": 6}
    assert [t["count"] for t in trend] == [0] * 10 + [2, 6]
    # Timely processing: 5 of the 6 resolved on time in October (C3 late); in September P2 only (P1 late);
    # in October 2025 all three.
    kpis = contents["kpis"]
    assert (kpis["current"]["timely_processing"]["numerator"], kpis["current"]["timely_processing"]["denominator"]) == (
        5,
        6,
    )
    assert (
        kpis["previous"]["timely_processing"]["numerator"],
        kpis["previous"]["timely_processing"]["denominator"],
    ) == (1, 2)
    assert (
        kpis["year_ago"]["timely_processing"]["numerator"],
        kpis["year_ago"]["timely_processing"]["denominator"],
    ) == (3, 3)
    assert [p["denominator"] for p in kpis["trend"]["timely_processing"]] == [0] * 10 + [2, 6]
    assert "较去年同期（3 件）增加 3 件，+100.0%。" in contents["summary"]["headline"]


def test_month_to_date_is_compared_with_the_same_working_days() -> None:
    calendar = default_calendar()
    # 1–9 October 2026: the National Day holiday (1–7), then Thursday 8 and Friday 9 — 2 working days
    # (Saturday 10 October is a make-up day, outside the period). September 2026's first 2 working days:
    # Tuesday 1 and Wednesday 2.
    comparison = comparison_for(Period(datetime.date(2026, 10, 1), datetime.date(2026, 10, 9)), calendar)
    assert comparison.working_days == 2
    assert comparison.previous == Period(datetime.date(2026, 9, 1), datetime.date(2026, 9, 2))
    # October 2025: 1–8 holiday, Thursday 9 and Friday 10 are its first working days.
    assert comparison.year_ago == Period(datetime.date(2025, 10, 1), datetime.date(2025, 10, 10))
    # A whole month is compared with whole months.
    month = comparison_for(OCTOBER, calendar)
    assert (month.previous, month.year_ago, month.working_days) == (Period.month(2026, 9), Period.month(2025, 10), None)


def test_pareto_by_category_with_the_cumulative_share(year: Year) -> None:
    contents = report_contents(OCTOBER, now=AS_OF, language="zh-hans")
    assert [(c["label"], c["count"], c["cumulative_pct"]) for c in contents["root_causes"]] == [
        ("料", 2, 40.0),
        ("法", 1, 60.0),
        ("环", 1, 80.0),
        ("未分类", 1, 100.0),
    ]
    assert {(d["category_label"], d["label"], d["count"]) for d in contents["cause_details"]} == {
        ("料", "料／供应商质量问题", 1),
        ("料", "料／来料不良", 1),
        ("法", "法／说明书不清", 1),
        ("环", "环／运输条件", 1),
    }


def test_league_tables_in_order_with_trends_and_without_idle_departments(year: Year) -> None:
    league = report_contents(OCTOBER, now=AS_OF, language="zh-hans")["league"]
    departments = league["departments"]
    assert [(d["rank"], d["label"], d["complaints"], d["trend"]) for d in departments] == [
        (1, "质量部", 4, "▲"),  # 4/4 on time; September 1/2
        (2, "生产部", 2, ""),  # 1/2 (C3 late); nothing in September
    ]
    assert departments[1]["kpis"]["timely_processing"]["rate"] == 50.0
    assert "技术支持部" not in {d["label"] for d in departments}
    handlers = league["handlers"]
    assert [
        (
            h["rank"],
            h["label"],
            h["kpis"]["timely_reply"]["numerator"],
            h["kpis"]["timely_reply"]["denominator"],
            h["trend"],
        )
        for h in handlers
    ] == [
        (1, "y_q1", 3, 3, "▲"),
        (2, "y_p1", 1, 2, ""),
    ]


def test_cost_of_quality_by_month_department_model_and_cause(year: Year) -> None:
    cost = report_contents(OCTOBER, now=AS_OF, language="zh-hans")["cost"]
    assert cost["total"] == {"compensation": 400.0, "compensations": 2, "refunds": 1, "replacements": 1, "solutions": 3}
    assert cost["by_month"][-1] == {"label": "2026-10", **cost["total"]}
    assert sum(m["compensation"] for m in cost["by_month"]) == 400.0
    assert [(r["label"], r["compensation"], r["refunds"], r["replacements"]) for r in cost["by_department"]] == [
        ("质量部", 300.0, 1, 1),
        ("生产部", 100.0, 0, 0),
    ]
    assert [(r["label"], r["compensation"]) for r in cost["by_model"]] == [("M1 吸顶灯一号", 400.0)]
    assert [(r["label"], r["compensation"], r["solutions"]) for r in cost["by_cause"]] == [
        ("料", 300.0, 2),
        ("法", 100.0, 1),
    ]


def test_top_issues_with_their_complaints_and_actions(year: Year) -> None:
    action = action_create(
        data=ActionInput(
            source="other",
            title="供应商来料全检",
            description="驱动电源来料100%检验",
            owner_department=year.quality,
            owner=year.q1,
            target="20wd",
            product=year.m1,
            cause_category=CauseCategory.objects.get(code="material"),
        ),
        actor=year.quality_engineer,
        now=aware(2026, 10, 20, 9),
    )
    issues = report_contents(OCTOBER, now=AS_OF, language="zh-hans")["top_issues"]
    assert [t["label"] for t in issues["types"]] == ["质量", "物流"]
    assert [(r["model"], r["total"], [c["count"] for c in r["cells"]]) for r in issues["rows"]] == [
        ("M1", 4, [4, 0]),
        ("M2", 2, [1, 1]),
    ]
    m1 = issues["rows"][0]
    assert [a["number"] for a in m1["actions"]] == [action.number] and issues["rows"][1]["actions"] == []
    assert m1["url"].startswith("/desk/insight/kpis/repeat/denominator/?") and "product=M1" in m1["url"]


def test_an_action_against_a_category_shows_its_measured_effect(year: Year) -> None:
    action = action_create(
        data=ActionInput(
            source="other",
            title="修订说明书",
            description="增加吊顶固定示意图",
            owner_department=year.production,
            owner=year.p1,
            target="20wd",
            cause_category=CauseCategory.objects.get(code="method"),
            window_days=7,
        ),
        actor=year.quality_engineer,
        now=aware(2026, 10, 9, 9),
    )
    action_start(action=action, actor=year.p1, now=aware(2026, 10, 9, 10))
    action_complete(action=action, actor=year.p1, done_note="已发布新版", now=aware(2026, 10, 21, 9))
    effects = report_contents(OCTOBER, now=AS_OF, language="zh-hans")["action_effects"]
    (effect,) = effects
    # C3 (法／说明书不清, a sub-cause of 法) was received 10-14, in the 7 days before completion; none after.
    assert (effect["number"], effect["before"]["complaints"], effect["after"]["complaints"]) == (action.number, 1, 0)


def test_the_pdf_has_the_four_parts_and_the_figures(year: Year) -> None:
    contents = report_contents(OCTOBER, now=AS_OF, language="zh-hans")
    text = pdf_text(analysis_report_pdf(contents))
    for heading in (
        "一、基本情况",
        "二、分析过程",
        "三、分析结果",
        "四、改进建议",
        "（一）分析与结论",
        "（二）部门与处理责任人排名",
        "（三）重点问题：型号 × 投诉类型（前十）",
        "（四）质量成本（补偿、退货、换货）",
        "（一）改进措施及其效果",
    ):
        assert heading in text, heading
    # Volume row: this month, previous, change, a year ago, change.
    assert "62+4 (+200.0%)3+3 (+100.0%)" in text
    assert "料240.0%40.0%" in text and "未分类120.0%100.0%" in text
    # compensation, compensations, refunds, replacements, solutions (the dashboard's columns)
    assert "400.002113" in text.replace(",", "")
    assert "1 质量部4 100.0% 4/4" in text and "2 生产部2 50.0% 1/2" in text


def test_the_excel_has_a_sheet_per_table_with_the_same_figures(year: Year) -> None:
    from io import BytesIO

    from openpyxl import load_workbook

    from closeloop.insight.services.reports import report_create, report_generate
    from tests.insight.test_report_support import read

    report = report_create(period=OCTOBER, actor=year.supervisor, language="zh-hans", now=AS_OF)
    report = report_generate(report=report, now=AS_OF)
    book = load_workbook(BytesIO(read(report.xlsx)), read_only=True)
    for name in ("环比同比", "近十二个月趋势", "原因分类帕累托", "部门排名", "责任人排名", "重点问题", "质量成本"):
        assert name in book.sheetnames, name
    comparison = list(book["环比同比"].iter_rows(values_only=True))
    assert comparison[1][:6] == ("投诉数", 6, 2, 3, 4, 3)
    pareto = list(book["原因分类帕累托"].iter_rows(values_only=True))
    assert pareto[1:5] == [("料", 2, 40), ("法", 1, 60), ("环", 1, 80), ("未分类", 1, 100)]
    league = list(book["部门排名"].iter_rows(values_only=True))
    assert [row[:3] for row in league[1:]] == [(1, "质量部", 4), (2, "生产部", 2)]
    cost = list(book["质量成本"].iter_rows(values_only=True))
    assert cost[0][2:] == ("补偿金额（元）", "补偿笔数", "退货退款", "换货", "方案数")
    assert cost[1] == ("合计", "合计", 400, 2, 1, 1, 3)  # the dashboard's total row
    assert ("按月", "2026-10", 400, 2, 1, 1, 3) in cost
    assert ("按责任部门", "质量部", 300, 1, 1, 1, 2) in cost
    assert ("按原因类别", "法", 100, 1, 0, 0, 1) in cost
