"""The dashboard's charts (inline SVG from reportlab drawings) and the figures behind them that the
KPI tests do not cover: the Pareto's "other", the overdue list's handler cut, the satisfaction slices
adding up to the satisfaction rate's denominator, and every drill-down list matching its number."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from closeloop.followup.models import SatisfactionLevel
from closeloop.handling.services.feedback import feedback_form_open, feedback_form_save
from closeloop.handling.services.tasks import Assignment, complaint_dispatch
from closeloop.insight import charts, figures
from closeloop.insight.kpis import BASES, SPECS, Cuts, Kpi, Period, kpi_figures, kpi_table
from closeloop.insight.views.dashboard import totals
from tests.insight.dashboard_data import MONTH, at, build_small_month, register
from tests.insight.kpi_fixtures import make_month
from tests.insight.month import NOW

OCTOBER = Period.month(2026, 10)


@pytest.fixture
def month(make_user: Callable[..., User], settings: Any) -> Any:
    """The KPI tests' fixture month (tests/insight/month.py), with follow-ups, tasks and every story."""
    return make_month(make_user, settings)


# --- charts --------------------------------------------------------------------------------------


def test_each_svg_has_its_own_clip_path_and_is_named_by_its_title() -> None:
    first = charts.to_svg(charts.bar_chart(["质量", "服务"], [3, 1]), title="按类型")
    second = charts.to_svg(charts.pie_chart(["质量", "服务"], [3, 1]), title="按渠道 <&>")
    ids = [re.search(r'<clipPath id="([^"]+)"', svg).group(1) for svg in (first, second)]  # type: ignore[union-attr]
    assert ids[0] != ids[1]
    assert f"url(#{ids[0]})" in first
    assert f"url(#{ids[1]})" in second
    assert 'id="group"' not in first
    assert first.startswith('<svg class="chart" role="img" aria-label="按类型"')
    assert "<title>按类型</title>" in first
    assert "<title>按渠道 &lt;&amp;&gt;</title>" in second
    assert "<title>...</title>" not in first and "<desc>" not in first
    assert ">质量</text>" in first and "服务" in second
    # The browser's CJK fonts, never reportlab's PDF-only font name.
    assert "STSong" not in first
    assert "Noto Sans CJK SC" in first


def test_labels_typed_by_people_are_escaped() -> None:
    """Root causes are free text: the SVG goes into the page unescaped by the template."""
    svg = charts.to_svg(charts.pareto_chart(["<script>alert(1)</script>", 'a&b"c'], [2, 1]), title="<b>")
    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg
    assert "<b>" not in svg
    pie = charts.to_svg(charts.pie_chart(["<img src=x onerror=alert(1)>"], [2]))
    assert "<img" not in pie


def test_an_untitled_chart_is_hidden_from_screen_readers() -> None:
    svg = charts.to_svg(charts.bar_chart(["a"], [1]))
    assert svg.startswith('<svg class="chart" aria-hidden="true"')
    assert "<title>" not in svg


def test_horizontal_bars_put_the_first_slice_on_top() -> None:
    drawing = charts.bar_chart(["浙江", "广东", "江苏"], [5, 3, 1], horizontal=True)
    chart = drawing.contents[-1]
    # reportlab draws the first category at the bottom.
    assert chart.categoryAxis.categoryNames == ["江苏", "广东", "浙江"]
    assert chart.data == [[1.0, 3.0, 5.0]]


def test_wide_labels_are_turned_and_narrow_ones_are_not() -> None:
    narrow = charts.bar_chart(["质量", "服务", "物流"], [3, 2, 1]).contents[-1]
    assert narrow.categoryAxis.labels.angle == 0
    wide = charts.bar_chart(["安装说明不清楚导致误操作"] * 8, [1] * 8).contents[-1]
    assert wide.categoryAxis.labels.angle == 30
    assert wide.y > narrow.y


def test_the_pareto_line_climbs_to_one_hundred_percent() -> None:
    drawing = charts.pareto_chart(["灯珠虚焊", "电源", "包装"], [6, 3, 1])
    chart = next(item for item in drawing.contents if hasattr(item, "categoryAxis"))
    line = next(item for item in drawing.contents if type(item).__name__ == "PolyLine")
    # Horizontal bars, largest on top: the cumulative share moves right, row by row downwards, and ends at
    # the right edge of the plot (100 %).
    xs, ys = line.points[::2], line.points[1::2]
    assert xs == sorted(xs) and ys == sorted(ys, reverse=True)
    assert xs[-1] == pytest.approx(chart.x + chart.width)
    svg = charts.to_svg(drawing, title="帕累托")
    assert "100%" in svg and "灯珠虚焊" in svg


def test_an_empty_chart_still_draws() -> None:
    for drawing in (
        charts.bar_chart([], []),
        charts.pie_chart([], []),
        charts.line_chart([], {}),
        charts.pareto_chart([], []),
    ):
        assert charts.to_svg(drawing).startswith("<svg")


# --- figures -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_root_causes_sum_the_long_tail_as_other(make_user: Callable[..., User]) -> None:
    small = build_small_month(make_user)
    agent, quality, h1 = small.people["agent"], small.departments["quality"], small.people["h1"]
    causes = ["灯珠虚焊", "灯珠虚焊", "灯珠虚焊", "驱动电源批次不良", "包装破损", "说明书不清"]
    for index, cause in enumerate(causes):
        complaint = register(agent, at(10, 2 + index))
        (task,) = complaint_dispatch(
            complaint=complaint,
            assignments=[Assignment(quality, h1)],
            actor=agent,
            via="desk",
            now=at(10, 2 + index, 11),
        )
        form = feedback_form_open(task=task, now=at(10, 2 + index, 12))
        feedback_form_save(form=form, data={"root_cause": f"  {cause} "}, actor=h1, now=at(10, 2 + index, 13))
    slices = figures.root_causes(OCTOBER, limit=3)
    # 驱动电源批次不良 twice (q1's form too); then the rest: 包装破损, 说明书不清.
    assert [(s.key, s.count) for s in slices] == [("灯珠虚焊", 3), ("驱动电源批次不良", 2), ("_other", 2)]
    assert sum(s.count for s in figures.root_causes(OCTOBER, limit=10)) == 7


@pytest.mark.django_db
def test_the_overdue_list_follows_the_handler_cut(make_user: Callable[..., User]) -> None:
    small = build_small_month(make_user)
    later = at(12, 31)
    everyone = {row["number"] for row in figures.overdue_complaints(now=later, limit=100)}
    assert {small.complaints[k].number for k in ("q1", "q2", "l1", "l2")} <= everyone
    handled = figures.overdue_complaints(Cuts(handler=small.people["h1"].pk), now=later, limit=100)
    assert [row["number"] for row in handled] == [small.complaints["q1"].number]
    assert handled[0]["department_label"] == "质量部"


@pytest.mark.django_db
def test_the_satisfaction_slices_add_up_to_the_rates_denominator(month: Any) -> None:
    for cuts in (Cuts(), Cuts(department=month.departments["quality"].pk), Cuts(product_line=month.lines["CL"].pk)):
        slices = figures.satisfaction_distribution(OCTOBER, cuts)
        figure = kpi_figures(OCTOBER, cuts, kpis=[Kpi.SATISFACTION])[Kpi.SATISFACTION]
        assert sum(s.count for s in slices) == figure.denominator
        satisfied = set(SatisfactionLevel.objects.filter(counts_as_satisfied=True).values_list("code", flat=True))
        assert sum(s.count for s in slices if s.key in satisfied) == figure.numerator


@pytest.mark.django_db
def test_the_company_figures_are_the_sum_of_the_departments(month: Any) -> None:
    """The KPI page adds up the department rows instead of aggregating twice: every base row is in one
    department group (complaints dispatched to two departments included)."""
    for cuts in (Cuts(), Cuts(product_line=month.lines["CL"].pk), Cuts(handler=month.people["h1"].pk)):
        by_department = kpi_table(OCTOBER, "department", cuts, now=NOW)
        direct = kpi_figures(OCTOBER, cuts, now=NOW)
        summed = totals(by_department, {})
        assert {k: (f.numerator, f.denominator) for k, f in summed.items()} == {
            k: (f.numerator, f.denominator) for k, f in direct.items()
        }


@pytest.mark.django_db
def test_every_drilldown_lists_the_complaints_of_its_number(month: Any, settings: Any) -> None:
    """On the KPI tests' fixture month: a complaint-based KPI's list holds exactly as many complaints as
    its number; a task- or follow-up-based one lists each complaint once, however many of its tasks count."""
    settings.LANGUAGE_CODE = "en"
    settings.QUEUE_PAGE_SIZE = 100
    client = Client()
    client.force_login(month.people["supervisor"])
    for kpi in Kpi:
        for side in ("numerator", "denominator"):
            response = client.get(reverse("insight:kpi_complaints", args=[kpi.value, side]), {"month": MONTH})
            figure = response.context["cell"]["figure"]
            number = figure.numerator if side == "numerator" else figure.denominator
            if BASES[SPECS[kpi].base].name == "complaint":
                assert response.context["total"] == number, (kpi, side)
            else:
                assert response.context["total"] <= number, (kpi, side)
                assert bool(response.context["total"]) == bool(number), (kpi, side)
