"""The dashboard's cost of quality and the league tables' SLA breaches, on the fixture year of
test_report_analysis (built through the services): the figures equal the sums computed by hand and the
report's, every figure lists the complaints behind it, and the list's count and sum are the figure.

By hand (October 2026, granted solutions): C1 replacement + ¥300 (quality, M1, 料), C2 refund (quality,
M1, 料), C3 ¥100 (production, M1, 法):
- total: ¥400.00 in 2 compensations, 1 refund, 1 replacement, 3 solutions;
- by department: quality 300 / 1 / 1 / 1 / 2, production 100 / 1 / 0 / 0 / 1;
- by model: M1 400 / 2 / 1 / 1 / 3; by cause: 料 300 / 1 / 1 / 1 / 2, 法 100 / 1 / 0 / 0 / 1;
- by month: November 2025 to October 2026 (the report's 12), October as the total, every other month 0.

Columns: compensation, with compensation, refunds, replacements, granted solutions.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from closeloop.complaints.models import Complaint
from closeloop.complaints.sweeps import sla_sweep
from closeloop.core.roles import Role
from closeloop.insight.exports.contents import report_contents
from closeloop.sla.models import Deadline
from tests.conftest import aware
from tests.insight import test_report_analysis as fixture_year

pytestmark = pytest.mark.django_db

DASHBOARD = reverse("insight:dashboard")
MONTH = {"month": "2026-10"}
Year = fixture_year.Year
year = fixture_year.year  # the fixture, under its own name


@pytest.fixture(autouse=True)
def _english(settings: Any) -> None:
    settings.LANGUAGE_CODE = "en"
    settings.KPI_CACHE_SECONDS = 0


def _client(user: User) -> Client:
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(user)
    return client


def _values(cells: list[dict[str, Any]]) -> tuple[Any, ...]:
    return tuple(cell["value"] for cell in cells)


def _open(client: Client, url: str) -> Any:
    response = client.get(url.replace("&amp;", "&"))
    assert response.status_code == 200, url
    return response


def _numbers(response: Any) -> set[str]:
    numbers = {complaint.number for complaint, _contact in response.context["rows"]}
    assert response.context["total"] == len(numbers)
    return numbers


def _check_cells(client: Client, cells: list[dict[str, Any]]) -> int:
    """Every non-zero figure links to complaints whose solutions count / sum to the figure; a zero links
    nowhere. Returns how many links were followed."""
    followed = 0
    for index, cell in enumerate(cells):
        if not cell["value"]:
            assert cell["url"] == ""
            continue
        response = _open(client, cell["url"])
        figure, listed = response.context["figure"], response.context["listed"]
        assert listed == figure
        if index == 0:  # the compensation amount
            assert figure["compensation"] == cell["value"]
        else:
            assert figure["count"] == cell["value"]
        assert 1 <= len(_numbers(response)) <= figure["count"]
        followed += 1
    return followed


def test_cost_figures_equal_the_hand_computed_sums_and_the_report(year: Year, make_user: Callable[..., User]) -> None:
    gm = make_user(Role.MANAGEMENT, username="y_gm")
    cost = _open(_client(gm), f"{DASHBOARD}?month=2026-10").context["cost"]
    assert _values(cost["total"]) == (400.0, 2, 1, 1, 3)
    months = cost["months"]["rows"]
    assert [m["label"] for m in months] == [f"2025-{m}" for m in (11, 12)] + [f"2026-{m:02d}" for m in range(1, 11)]
    assert _values(months[-1]["cells"]) == (400.0, 2, 1, 1, 3)
    assert all(_values(m["cells"]) == (0.0, 0, 0, 0, 0) for m in months[:-1])
    tables = {t["key"]: [(r["label"], _values(r["cells"])) for r in t["rows"]] for t in cost["tables"]}
    assert tables == {
        "cost_by_department": [("Quality", (300.0, 1, 1, 1, 2)), ("Production", (100.0, 1, 0, 0, 1))],
        "cost_by_model": [("M1 One", (400.0, 2, 1, 1, 3))],
        "cost_by_cause": [("Material", (300.0, 1, 1, 1, 2)), ("Method", (100.0, 1, 0, 0, 1))],
    }
    # The report's figures, in its own words (Chinese), are the same numbers.
    report = report_contents(fixture_year.OCTOBER, now=fixture_year.AS_OF, language="en")["cost"]
    columns = ("compensation", "compensations", "refunds", "replacements", "solutions")
    assert _values(cost["total"]) == tuple(report["total"][c] for c in columns)
    assert [(m["label"], _values(m["cells"])) for m in months] == [
        (r["label"], tuple(r[c] for c in columns)) for r in report["by_month"]
    ]
    for part in ("department", "model", "cause"):
        assert [v for _label, v in tables[f"cost_by_{part}"]] == [
            tuple(r[c] for c in columns) for r in report[f"by_{part}"]
        ]
    # A chart per table that has an amount (SVG with presentation attributes, no inline style).
    svgs = [cost["months"]["svg"], *(t["svg"] for t in cost["tables"])]
    assert all(svg.startswith("<svg") and "style=" not in svg for svg in svgs)


def test_every_cost_figure_lists_the_complaints_behind_it(year: Year, make_user: Callable[..., User]) -> None:
    gm = make_user(Role.MANAGEMENT, username="y_gm")
    client = _client(gm)
    cost = _open(client, f"{DASHBOARD}?month=2026-10").context["cost"]
    followed = _check_cells(client, cost["total"])
    followed += _check_cells(client, cost["months"]["rows"][-1]["cells"])
    for table in cost["tables"]:
        for row in table["rows"]:
            followed += _check_cells(client, row["cells"])
    assert followed == 5 + 5 + (5 + 3) + 5 + (5 + 3)
    c = year.c
    by_measure = {cell["url"].split("/cost/")[1].split("/")[0]: cell for cell in cost["total"]}
    assert _numbers(_open(client, by_measure["refund"]["url"])) == {c["C2"].number}
    assert _numbers(_open(client, by_measure["compensation"]["url"])) == {c["C1"].number, c["C3"].number}
    assert _numbers(_open(client, by_measure["solution"]["url"])) == {c[k].number for k in ("C1", "C2", "C3")}
    (production,) = [r for r in cost["tables"][0]["rows"] if r["label"] == "Production"]
    assert _numbers(_open(client, production["cells"][0]["url"])) == {c["C3"].number}
    # A key that names nothing is not a figure.
    assert (
        client.get(
            reverse("insight:cost_complaints", args=["refund"]), {**MONTH, "by": "cause", "key": "x"}
        ).status_code
        == 404
    )
    assert client.get(reverse("insight:cost_complaints", args=["bonus"]), MONTH).status_code == 404


def test_cost_follows_the_cuts_and_the_managers_scope(year: Year, make_user: Callable[..., User]) -> None:
    gm = make_user(Role.MANAGEMENT, username="y_gm")
    cut = _open(_client(gm), f"{DASHBOARD}?month=2026-10&department=production").context["cost"]
    assert _values(cut["total"]) == (100.0, 1, 0, 0, 1)
    manager = make_user(Role.DEPT_MANAGER, departments=[year.quality], manager=True, username="y_qm")
    client = _client(manager)
    mine = _open(client, f"{DASHBOARD}?month=2026-10").context["cost"]
    assert _values(mine["total"]) == (300.0, 1, 1, 1, 2)
    # Asking for production's row by its key: the scope still applies, nothing of production shows.
    url = reverse("insight:cost_complaints", args=["compensation"])
    outside = client.get(url, {**MONTH, "by": "department", "key": str(year.production.pk)})
    assert outside.context["figure"] == {"count": 0, "compensation": 0.0} and outside.context["total"] == 0


def test_the_cost_list_is_masked_as_the_queue(year: Year, make_user: Callable[..., User]) -> None:
    gm = make_user(Role.MANAGEMENT, username="y_gm")
    client = _client(gm)
    cost = _open(client, f"{DASHBOARD}?month=2026-10").context["cost"]
    phone = year.c["C2"].customer.phone
    html = _open(client, cost["total"][2]["url"]).content.decode()
    assert year.c["C2"].number in html
    assert phone not in html and f"{phone[:3]}****{phone[-4:]}" in html


def _add_granted(year: Year, key: str, day: int) -> Complaint:
    complaint = year.register(key, aware(2026, 10, day, 9), year.m2, department_code="production")
    task = year.task(key, year.production, year.p1, aware(2026, 10, day, 9))
    year.solution(key, task, year.p1, aware(2026, 10, day, 10), ["replacement", "compensation"], "55.50")
    return complaint


def test_fixed_queries_for_the_cost_figures(
    year: Year, make_user: Callable[..., User], count_queries: Callable[[], Any]
) -> None:
    gm = make_user(Role.MANAGEMENT, username="y_gm")
    client = _client(gm)

    def counts() -> tuple[int, int, int]:
        with count_queries() as dashboard:
            cost = _open(client, f"{DASHBOARD}?month=2026-10").context["cost"]
        with count_queries() as total:
            _open(client, cost["total"][4]["url"])
        (m1,) = [r for r in cost["tables"][1]["rows"] if r["label"].startswith("M1")]
        with count_queries() as row:
            _open(client, m1["cells"][4]["url"])
        return dashboard.count, total.count, row.count

    before = counts()
    _add_granted(year, "C7", 21)
    _add_granted(year, "C8", 22)
    after = counts()
    assert after == before
    cost = _open(client, f"{DASHBOARD}?month=2026-10").context["cost"]
    assert _values(cost["total"]) == (511.0, 4, 1, 3, 5)
    # C7 and C8 name no root cause: their row has no category, and its figures still list them.
    (uncaused,) = [r for r in cost["tables"][2]["rows"] if r["label"] == "—"]
    assert _values(uncaused["cells"]) == (111.0, 2, 0, 2, 2) and "key=none" in uncaused["cells"][0]["url"]
    assert _check_cells(client, uncaused["cells"]) == 4
    assert _numbers(_open(client, uncaused["cells"][4]["url"])) == {year.c["C7"].number, year.c["C8"].number}


# --- the league tables' SLA breaches ---------------------------------------------------------------


def test_league_breaches_list_the_complaints_whose_deadlines_breached(
    year: Year, make_user: Callable[..., User]
) -> None:
    # C7: production's, dispatched to p1 on Tue 10-20, nobody acts; the sweep of 10-27 breaches its clocks.
    complaint = year.register("C7", aware(2026, 10, 20, 9), year.m2, department_code="production")
    year.task("C7", year.production, year.p1, aware(2026, 10, 20, 9))
    sla_sweep(now=aware(2026, 10, 27, 10))
    october = (aware(2026, 10, 1, 0), aware(2026, 11, 1, 0))
    owed = Deadline.objects.filter(complaint=complaint, breached_at__range=october)
    assert owed.filter(task__handler=year.p1).count() >= 1 and owed.filter(task__isnull=True).count() >= 1

    gm = make_user(Role.MANAGEMENT, username="y_gm")
    client = _client(gm)
    context = _open(client, f"{DASHBOARD}?month=2026-10").context
    checked = 0
    for group, rows in (("department", context["league_departments"]), ("handler", context["league_handlers"])):
        for row in rows:
            if not row["breaches"]:
                assert row["breaches_url"] == ""
                continue
            assert f"/breaches/{group}/" in row["breaches_url"]
            response = _open(client, row["breaches_url"])
            assert response.context["breaches"] == response.context["listed_breaches"] == row["breaches"]
            listed = _numbers(response)
            # By hand from the deadlines themselves: the row's breached clocks and their complaints.
            mine = Deadline.objects.filter(breached_at__gte=october[0], breached_at__lt=october[1])
            if group == "handler":
                mine = mine.filter(task__handler__username=row["label"])
            else:
                department = year.production if row["label"] == "Production" else year.quality
                mine = mine.filter(task__department=department) | mine.filter(
                    task__isnull=True, complaint__department=department
                )
            assert mine.count() == row["breaches"]
            assert listed == set(Complaint.objects.filter(deadlines__in=mine).values_list("number", flat=True))
            checked += 1
    production = next(r for r in context["league_departments"] if r["label"] == "Production")
    p1 = next(r for r in context["league_handlers"] if r["label"] == "y_p1")
    # C7's clocks are among them (the fixture's other open task clocks breach in the same sweep).
    assert production["breaches"] >= owed.count() and p1["breaches"] >= owed.filter(task__isnull=False).count()
    assert complaint.number in _numbers(_open(client, production["breaches_url"]))
    assert complaint.number in _numbers(_open(client, p1["breaches_url"]))
    assert checked >= 2
    # Masked as the queue masks.
    phone = complaint.customer.phone
    html = _open(client, production["breaches_url"]).content.decode()
    assert phone not in html and f"{phone[:3]}****{phone[-4:]}" in html
    # A breach list names a department or a handler.
    assert client.get(reverse("insight:breach_complaints", args=["department"]), MONTH).status_code == 404
    assert client.get(reverse("insight:breach_complaints", args=["region"]), MONTH).status_code == 404


def test_date_range_keeps_month_links_for_the_trend(year: Year, make_user: Callable[..., User]) -> None:
    gm = make_user(Role.MANAGEMENT, username="y_gm")
    client = _client(gm)
    cost = _open(client, f"{DASHBOARD}?start=2026-10-12&end=2026-10-13").context["cost"]
    assert _values(cost["total"]) == (300.0, 1, 1, 1, 2)  # C1 and C2
    october = cost["months"]["rows"][-1]
    assert "month=2026-10" in october["cells"][0]["url"] and "start=" not in october["cells"][0]["url"]
    assert _open(client, october["cells"][0]["url"]).context["figure"]["compensation"] == 400.0


def test_fixed_queries_for_the_breach_list(
    year: Year, make_user: Callable[..., User], count_queries: Callable[[], Any]
) -> None:
    gm = make_user(Role.MANAGEMENT, username="y_gm")
    client = _client(gm)
    url = reverse("insight:breach_complaints", args=["department"])

    def breach_page() -> tuple[int, int]:
        with count_queries() as counter:
            response = client.get(url, {**MONTH, "department": "production"})
        assert response.status_code == 200
        return counter.count, response.context["breaches"]

    year.register("C7", aware(2026, 10, 20, 9), year.m2, department_code="production")
    year.task("C7", year.production, year.p1, aware(2026, 10, 20, 9))
    sla_sweep(now=aware(2026, 10, 27, 10))
    queries, breaches = breach_page()
    year.register("C8", aware(2026, 10, 21, 9), year.m2, department_code="production")
    year.task("C8", year.production, year.p1, aware(2026, 10, 21, 9))
    sla_sweep(now=aware(2026, 10, 28, 10))
    more_queries, more_breaches = breach_page()
    assert more_breaches > breaches and more_queries == queries
