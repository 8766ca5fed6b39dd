"""The dashboard's parts of the analysis report — the root-cause Pareto, the league tables and the top
issues (model × type) — link each figure to the complaints behind it, and the list behind a link counts
exactly the figure, masked as the queue masks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from closeloop.directory.models import CauseCategory
from closeloop.handling.models import Task
from closeloop.handling.services.feedback import feedback_form_open, feedback_form_save
from closeloop.handling.services.tasks import Assignment, complaint_dispatch
from tests.insight.dashboard_data import MONTH, SmallMonth, at, build_small_month

DASHBOARD = reverse("insight:dashboard")


@pytest.fixture(autouse=True)
def _english(settings: Any) -> None:
    settings.LANGUAGE_CODE = "en"


def _form(task: Task, handler: User, day: int, cause: str, category: str | None) -> None:
    form = feedback_form_open(task=task, now=at(10, day, 9))
    data: dict[str, Any] = {"root_cause": cause}
    if category:
        data["cause_category_id"] = CauseCategory.objects.get(code=category).pk
    feedback_form_save(form=form, data=data, actor=handler, now=at(10, day, 10))


@pytest.fixture
def month(make_user: Callable[..., User]) -> SmallMonth:
    """The small month (q1: 料/供应商质量问题), with l1's form naming 法/设计缺陷 and q2's a free-text cause
    only: three bars."""
    small = build_small_month(make_user)
    people, c = small.people, small.complaints
    _form(Task.objects.get(complaint=c["l1"]), people["h2"], 16, "灯罩卡扣设计缺陷", "method-design")
    (task,) = complaint_dispatch(
        complaint=c["q2"],
        assignments=[Assignment(small.departments["quality"], people["h1"])],
        actor=people["agent"],
        via="desk",
        now=at(10, 13, 12),
    )
    _form(task, people["h1"], 14, "包装抗压不足", None)
    return small


def _client(user: User) -> Client:
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(user)
    return client


def _listed(client: Client, url: str) -> set[str]:
    response = client.get(url.replace("&amp;", "&"))
    assert response.status_code == 200, url
    numbers = {complaint.number for complaint, _contact in response.context["rows"]}
    assert response.context["total"] == len(numbers)
    return numbers


@pytest.mark.django_db
def test_each_pareto_bar_lists_its_complaints(month: SmallMonth) -> None:
    client = _client(month.people["gm"])
    pareto = client.get(DASHBOARD, {"month": MONTH}).context["pareto"]
    rows = {row["label"]: row for row in pareto["rows"]}
    assert {label: row["count"] for label, row in rows.items()} == {"Material": 1, "Method": 1, "uncategorised": 1}
    c = month.complaints
    expected = {"Material": c["q1"], "Method": c["l1"], "uncategorised": c["q2"]}
    for label, row in rows.items():
        assert row["url"], label
        listed = _listed(client, row["url"])
        assert len(listed) == row["count"]
        assert listed == {expected[label].number}


@pytest.mark.django_db
def test_a_cause_cut_keeps_the_other_filters(month: SmallMonth) -> None:
    client = _client(month.people["gm"])
    pareto = client.get(DASHBOARD, {"month": MONTH, "department": "warehouse"}).context["pareto"]
    (row,) = pareto["rows"]
    assert row["label"] == "Method" and "department=warehouse" in row["url"] and "cause=method" in row["url"]
    assert _listed(client, row["url"]) == {month.complaints["l1"].number}


@pytest.mark.django_db
def test_league_table_counts_link_to_their_complaints(month: SmallMonth) -> None:
    client = _client(month.people["gm"])
    context = client.get(DASHBOARD, {"month": MONTH}).context
    departments = {row["label"]: row for row in context["league_departments"]}
    assert [row["rank"] for row in context["league_departments"]] == list(range(1, len(departments) + 1))
    warehouse = departments[month.departments["warehouse"].label]
    assert warehouse["complaints"] == 2 and warehouse["repeats"] == 1
    assert len(_listed(client, warehouse["complaints_url"])) == warehouse["complaints"]
    assert _listed(client, warehouse["repeats_url"]) == {month.complaints["l2"].number}
    checked = 0
    for row in context["league_departments"] + context["league_handlers"]:
        for cell in row["cells"]:
            if cell and cell.get("numerator_url"):
                figure = cell["figure"]
                # a task KPI counts tasks; its list shows each complaint once (one task each here)
                assert len(_listed(client, cell["denominator_url"])) == figure.denominator
                assert len(_listed(client, cell["numerator_url"])) == figure.numerator
                checked += 1
    assert checked >= 4


@pytest.mark.django_db
def test_top_issue_cells_and_totals_list_their_complaints(month: SmallMonth) -> None:
    client = _client(month.people["gm"])
    issues = client.get(DASHBOARD, {"month": MONTH}).context["top_issues"]
    rows = {row["model"]: row for row in issues["rows"]}
    assert rows["SF-1"]["total"] == 3 and rows["XD-100"]["total"] == 2
    cells = 0
    for row in issues["rows"]:
        assert len(_listed(client, row["url"])) == row["total"]
        for cell in row["cells"]:
            if cell["count"]:
                assert len(_listed(client, cell["url"])) == cell["count"]
                cells += 1
            else:
                assert cell["url"] == ""
    assert cells == 3  # SF-1 × quality, SF-1 × logistics, XD-100 × quality


@pytest.mark.django_db
def test_the_lists_behind_the_new_figures_are_masked_like_the_queue(month: SmallMonth) -> None:
    phone = month.complaints["q1"].customer.phone
    client = _client(month.people["gm"])
    pareto = client.get(DASHBOARD, {"month": MONTH}).context["pareto"]
    (material,) = [row for row in pareto["rows"] if row["label"] == "Material"]
    html = client.get(material["url"].replace("&amp;", "&")).content.decode()
    assert month.complaints["q1"].number in html
    assert phone not in html and f"{phone[:3]}****{phone[-4:]}" in html
