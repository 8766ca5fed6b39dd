"""The analysis report (分析统计报告): the PDF's extracted text holds the Chinese headings and the figures of
the fixture month; the generated summary names the largest changes; the figures are kept as JSON."""

# ruff: noqa: F811 - the fixtures imported from test_report_support are taken as parameters

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.contrib.auth.models import User

from closeloop.directory.models import Department, Product
from closeloop.insight.exports.contents import report_contents, summary_of
from closeloop.insight.exports.pdf import analysis_report_pdf
from closeloop.insight.kpis import Kpi, kpi_figures
from closeloop.insight.services.reports import report_create, report_generate
from tests.conftest import aware
from tests.insight.test_report_support import (  # noqa: F401 - the fixtures this module's tests take
    GENERATED_AT,
    SEPTEMBER,
    Month,
    pdf_text,
    read,
    report_month,
    report_people,
)

pytestmark = pytest.mark.django_db

HEADINGS_ZH = (
    "客户投诉分析统计报告",
    "统计期间：2026-09-01 – 2026-09-30",
    # The four parts of seed 001's analysis report.
    "一、基本情况",
    "（一）投诉量：环比、同比及近十二个月趋势",
    "（二）投诉分布",
    "按投诉类型",
    "按产品线",
    "按地区（省份）",
    "按投诉渠道",
    "二、分析过程",
    "（一）分析方法与统计口径",
    "（二）根本原因分类（人、机、料、法、环、测）帕累托分析",
    "（三）考核指标：环比、同比及趋势",
    "三、分析结果",
    "（一）分析与结论",
    "（二）部门与处理责任人排名",
    "按责任部门",
    "按处理责任人",
    "（三）重点问题：型号 × 投诉类型（前十）",
    "（四）质量成本（补偿、退货、换货）",
    "（五）客户满意度",
    "（六）重复投诉与逾期投诉",
    "（七）批次问题（缺陷事件）",
    "四、改进建议",
    "（一）改进措施及其效果",
    "（二）进行中的改进措施",
    "（三）收到的改进建议",
)


def test_pdf_in_chinese_with_the_headings_and_the_months_figures(report_month: Month) -> None:
    m = report_month
    report = report_create(period=SEPTEMBER, actor=m.people["supervisor"], language="zh-hans", now=GENERATED_AT)
    report = report_generate(report=report, now=GENERATED_AT)
    text = pdf_text(read(report.pdf))
    for heading in HEADINGS_ZH:
        assert heading in text, heading
    # Volume: A, B, C this month (D is invalid), E the month before.
    assert "本期共受理有效投诉 3 件，较上期（1 件）增加 2 件，+200.0%。" in text
    # The KPI table: name, target, rate, numerator, denominator (worked out by hand from the fixture).
    assert "沟通率≥ 95.0%100.0%11" in text  # A dispatched and contacted: 1/1
    assert "结果回复率≥ 95.0%100.0%11" in text  # A's department replied: 1/1
    assert "客户投诉重复率≤ 5.0%0.0%03" in text  # no repeat among 3
    assert "客户满意度≥ 90.0%100.0%22" in text  # 非常满意 and 满意: 2/2
    assert "及时确认率≥ 98.0%100.0%33" in text
    assert "重开率≤ 5.0%0.0%02" in text  # resolved A and B, none reopened
    # The same numbers the KPI engine gives.
    figures = kpi_figures(SEPTEMBER, now=GENERATED_AT)
    assert (figures[Kpi.COMMUNICATION].numerator, figures[Kpi.COMMUNICATION].denominator) == (1, 1)
    assert report.figures["kpis"]["current"]["communication"]["rate"] == 100.0
    # Distribution, Pareto, satisfaction, lists.
    # The form's free-text cause has no category yet: it is counted as uncategorised.
    for value in ("质量266.7%", "物流133.3%", "广东266.7%", "北京133.3%", "未分类1100.0%100.0%"):
        assert value in text, value
    assert "非常满意150.0%" in text and "满意150.0%" in text
    assert "当前逾期未完成的投诉：1" in text and m.c.number in text  # C, still open and overdue on 10-10
    assert "加强来料检验" in text and "希望安装师傅提前电话" in text  # suggestions: feedback form, follow-up
    assert "王 工" in text  # the handler row
    assert "质量部" in text


def test_pdf_in_english(report_month: Month) -> None:
    contents = report_contents(SEPTEMBER, now=GENERATED_AT, language="en")
    text = pdf_text(analysis_report_pdf(contents))
    for heading in (
        "Complaint analysis report",
        "1. Basic situation",
        "2. Analysis process",
        "3. Analysis results",
        "4. Recommendations",
        "Root causes by category (Pareto)",
        "League tables",
        "Cost of quality",
    ):
        assert heading in text
    assert "3 valid complaints were received in the period, 2 more than in the previous period (1, +200.0%)." in text
    assert "Communication rate≥ 95.0%100.0%11" in text


def test_improvement_actions_and_defect_incidents_are_listed(
    report_month: Month, report_people: dict[str, User], product: Product
) -> None:
    from closeloop.defects.models import DefectIncident
    from closeloop.improvement.models import ImprovementAction

    quality = Department.objects.get(code="quality")
    ImprovementAction.objects.create(
        number="GJ-2026-0001",
        title="来料检验增加驱动电源老化测试",
        description="每批抽检",
        source="root_cause",
        owner_department=quality,
        owner=report_people["handler"],
        status="in_progress",
        due_at=aware(2026, 10, 1, 18, 0),
        warn_at=aware(2026, 9, 28, 18, 0),
    )
    incident = DefectIncident.objects.create(
        number="PC-2026-0001",
        title="XD-100 驱动电源批次不良",
        product=product,
        batch_no="2608-A01",
        opened_at=aware(2026, 9, 5, 10, 0),
        opened_by=report_people["quality"],
    )
    incident.complaints.add(report_month.a)
    contents = report_contents(SEPTEMBER, now=GENERATED_AT, language="zh-hans")
    actions = contents["improvement_actions"]
    assert actions["available"] and actions["created"] == 0
    (item,) = actions["items"]
    assert item["number"] == "GJ-2026-0001" and item["overdue"] is True  # due 10-01, not done on 10-10
    (row,) = contents["defect_incidents"]["items"]
    assert (row["number"], row["model"], row["batch"], row["complaints"]) == ("PC-2026-0001", "XD-100", "2608-A01", 1)
    text = pdf_text(analysis_report_pdf(contents))
    for value in ("GJ-2026-0001", "来料检验增加驱动电源老化测试", "已逾期", "PC-2026-0001", "XD-100 2608-A01"):
        assert value in text, value


@pytest.mark.parametrize("reader", ["actions_overview", "incidents_during"])
def test_a_broken_read_of_actions_or_incidents_fails_the_report(
    reader: str, report_month: Month, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A renamed field in improvement or defects fails the generation (and its tests) instead of
    turning an approved report's section into "not available"."""
    from django.core.exceptions import FieldError

    from closeloop.insight.exports import contents

    def renamed(**kwargs: Any) -> Any:
        raise FieldError("Cannot resolve keyword 'due_at' into field")

    monkeypatch.setattr(contents, reader, renamed)
    with pytest.raises(FieldError):
        report_contents(SEPTEMBER, now=GENERATED_AT, language="zh-hans")


def _contents(**overrides: Any) -> dict[str, Any]:
    """Synthetic contents for the summary: volume 100 → 130, quality +25, logistics −5, a KPI −10 points."""

    def figure(num: int, den: int) -> dict[str, Any]:
        return {"numerator": num, "denominator": den, "rate": round(num * 100 / den, 1) if den else None}

    contents: dict[str, Any] = {
        "volume": {"current": 130, "previous": 100, "change": 30, "change_pct": 30.0},
        "distributions": {
            "type": {
                "current": [
                    {"key": 1, "label": "质量", "count": 85},
                    {"key": 3, "label": "物流", "count": 15},
                    {"key": None, "label": "未填写", "count": 30},
                ],
                "previous": [{"key": 1, "label": "质量", "count": 60}, {"key": 3, "label": "物流", "count": 20}],
            },
            "product_line": {"current": [], "previous": []},
            "province": {
                "current": [{"key": "广东", "label": "广东", "count": 40}],
                "previous": [{"key": "广东", "label": "广东", "count": 38}],
            },
        },
        "kpis": {
            "current": {"timely_processing": figure(80, 100), "communication": figure(3, 4)},
            "previous": {"timely_processing": figure(90, 100), "communication": figure(1, 4)},
        },
    }
    contents.update(overrides)
    return contents


def test_summary_names_the_three_largest_changes_in_chinese() -> None:
    summary = summary_of(_contents(), language="zh-hans")
    assert summary["headline"] == "本期共受理有效投诉 130 件，较上期（100 件）增加 30 件，+30.0%。"
    assert summary["changes"] == [
        "投诉类型“质量”的投诉由上期的 60 件增至 85 件（+41.7%）。",  # 25 of 130: 19.2 points
        "投诉处理及时率由上期的 90.0% 降至 80.0%（-10.0 个百分点）。",
        "投诉类型“物流”的投诉由上期的 20 件降至 15 件（-25.0%）。",  # 5 of 130: 3.8 points
    ]
    # Not given is no type anyone can act on; a KPI on 4 cases is noise; 广东 moved least.
    kinds = [(d["kind"], d["key"]) for d in summary["details"]]
    assert ("type", None) not in kinds and ("kpi", "communication") not in kinds


def test_summary_in_english_and_when_nothing_changed() -> None:
    summary = summary_of(_contents(), language="en")
    assert summary["headline"] == (
        "130 valid complaints were received in the period, 30 more than in the previous period (100, +30.0%)."
    )
    assert summary["changes"][0] == "Complaints of type “质量” rose from 60 to 85 (+41.7%)."
    assert summary["changes"][1] == "The timely processing rate fell from 90.0% to 80.0% (-10.0 percentage points)."
    same = summary_of(
        _contents(
            volume={"current": 5, "previous": 5, "change": 0, "change_pct": 0.0},
            distributions={},
            kpis={"current": {}, "previous": {}},
        ),
        language="zh-hans",
    )
    assert same == {"headline": "本期共受理有效投诉 5 件，与上期持平。", "changes": [], "details": []}


def test_contents_are_json_and_kept_on_the_report(report_month: Month) -> None:
    import json

    report = report_create(period=SEPTEMBER, actor=report_month.people["supervisor"], now=GENERATED_AT)
    report = report_generate(report=report, now=GENERATED_AT)
    report.refresh_from_db()
    figures = report.figures
    json.dumps(figures)  # plain JSON all the way down
    assert figures["period"] == {"start": "2026-09-01", "end": "2026-09-30", "label": "2026-09"}
    assert figures["previous"]["label"] == "2026-08"
    assert [t["count"] for t in figures["volume"]["trend"]] == [0] * 10 + [1, 3]  # October 2025 – September 2026
    assert figures["summary_table"] == {"rows": 3, "masked": True}
    assert figures["as_of"] == "2026-10-10 10:00"
    assert {row["label"] for row in figures["kpi_by_department"]} == {"质量部", "仓储物流部"}
    assert datetime.date.fromisoformat(figures["period"]["end"]) == SEPTEMBER.end
