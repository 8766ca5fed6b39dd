"""The dashboard, the KPI page, the complaints behind each number and the targets page in the desk:
who may see them, what the filters do to the numbers, where the links lead, the refusals, and a fixed
number of queries whatever the size of the month."""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from closeloop.complaints.models import PersonalDataAccess
from closeloop.core.errors import PermissionDeniedError, ValidationFailed
from closeloop.handling.services.tasks import Assignment, complaint_dispatch
from closeloop.insight.kpis import Kpi, Period
from closeloop.insight.models import KpiTarget
from closeloop.insight.targets import kpi_targets_update
from closeloop.insight.views.dashboard_filters import previous_month
from tests.insight.dashboard_data import MONTH, SmallMonth, add_complaints, at, build_small_month

DASHBOARD = reverse("insight:dashboard")
KPIS = reverse("insight:kpis")
TARGETS = reverse("insight:targets")


def drill(kpi: str, side: str) -> str:
    return reverse("insight:kpi_complaints", args=[kpi, side])


@pytest.fixture(autouse=True)
def _english(settings: Any) -> None:
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def small(make_user: Callable[..., User]) -> SmallMonth:
    return build_small_month(make_user)


@pytest.fixture
def client_for() -> Callable[[User], Client]:
    def make(user: User) -> Client:
        client = Client(headers={"Accept-Language": "en"})
        client.force_login(user)
        return client

    return make


def numbers(response: Any, kpi: Kpi) -> tuple[int, int]:
    (row,) = [row for row in response.context["kpi_rows"] if row["kpi"] == kpi]
    return row["figure"].numerator, row["figure"].denominator


# --- who may see what ----------------------------------------------------------------------------


ALLOWED = ["gm", "supervisor", "quality", "auditor", "admin", "qm"]
REFUSED = ["agent", "h1", "h2"]
PAGES = [DASHBOARD, KPIS, drill("repeat", "numerator"), TARGETS]


@pytest.mark.django_db
@pytest.mark.parametrize("who", ALLOWED)
def test_management_roles_and_managers_open_every_page(
    small: SmallMonth, client_for: Callable[[User], Client], who: str
) -> None:
    client = client_for(small.people[who])
    for page in PAGES:
        response = client.get(page, {"month": MONTH})
        assert response.status_code == 200, page


@pytest.mark.django_db
@pytest.mark.parametrize("who", REFUSED)
def test_handlers_and_agents_are_refused(small: SmallMonth, client_for: Callable[[User], Client], who: str) -> None:
    client = client_for(small.people[who])
    for page in PAGES:
        assert client.get(page, {"month": MONTH}).status_code == 403, page
    assert client.post(TARGETS, {"repeat": "3.0"}).status_code == 403


@pytest.mark.django_db
def test_anonymous_is_sent_to_the_login(small: SmallMonth) -> None:
    response = Client().get(DASHBOARD)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.django_db
def test_unknown_kpi_or_side_is_404(small: SmallMonth, client_for: Callable[[User], Client]) -> None:
    client = client_for(small.people["gm"])
    assert client.get(drill("speed", "numerator")).status_code == 404
    assert client.get(drill("repeat", "both")).status_code == 404


# --- the figures and the cuts --------------------------------------------------------------------


@pytest.mark.django_db
def test_the_month_without_cuts(small: SmallMonth, client_for: Callable[[User], Client]) -> None:
    response = client_for(small.people["gm"]).get(KPIS, {"month": MONTH})
    assert response.context["period"] == Period.month(2026, 10)
    assert numbers(response, Kpi.REPEAT) == (1, 5)
    # q1, and l1 by its dispatch from registered (dashboard_data's docstring).
    assert numbers(response, Kpi.ACK_ON_TIME) == (2, 5)
    assert numbers(response, Kpi.COMMUNICATION) == (0, 2)
    html = response.content.decode()
    # Rate with one decimal, counts beside it, the target and whether it is met.
    row = re.search(r'<tr data-kpi="repeat">.*?</tr>', html, re.S)
    assert row is not None
    assert "20.0%" in row.group(0)
    assert "≤ 5.0%" in row.group(0)
    assert "✗ target missed" in row.group(0)


CUTS = [
    # (query, repeat numerator/denominator, acknowledged on time numerator/denominator); l1 counts as
    # acknowledged on time: its dispatch from registered acknowledged it.
    ({"type": "logistics"}, (1, 2), (1, 2)),
    ({"department": "warehouse"}, (1, 2), (1, 2)),
    ({"department": "quality"}, (0, 3), (1, 3)),
    ({"province": "浙江"}, (0, 2), (1, 2)),
    ({"channel": "web"}, (0, 1), (0, 1)),
    ({"priority": "1"}, (0, 1), (0, 1)),
    ({"customer_kind": "dealer"}, (0, 1), (0, 1)),
    ({"product_line": "sofa"}, (1, 3), (1, 3)),
    ({"product": "xd-100"}, (0, 2), (1, 2)),
    ({"handler": "d_h1"}, (0, 1), (1, 1)),
    ({"type": "quality", "province": "江苏"}, (0, 1), (0, 1)),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("cut", "repeat", "ack"), CUTS)
def test_each_cut_changes_the_numbers(
    small: SmallMonth,
    client_for: Callable[[User], Client],
    cut: dict[str, str],
    repeat: tuple[int, int],
    ack: tuple[int, int],
) -> None:
    response = client_for(small.people["gm"]).get(KPIS, {"month": MONTH, **cut})
    assert not response.context["form"].errors
    assert numbers(response, Kpi.REPEAT) == repeat
    assert numbers(response, Kpi.ACK_ON_TIME) == ack


@pytest.mark.django_db
def test_a_date_range_instead_of_a_month(small: SmallMonth, client_for: Callable[[User], Client]) -> None:
    response = client_for(small.people["gm"]).get(KPIS, {"start": "2026-10-12", "end": "2026-10-13"})
    assert response.context["period"] == Period(datetime.date(2026, 10, 12), datetime.date(2026, 10, 13))
    assert numbers(response, Kpi.REPEAT) == (0, 2)
    assert "start=2026-10-12&end=2026-10-13" in response.context["query"]


@pytest.mark.django_db
def test_without_a_period_the_previous_full_month(small: SmallMonth, client_for: Callable[[User], Client]) -> None:
    response = client_for(small.people["gm"]).get(DASHBOARD)
    expected = previous_month(timezone.localdate())
    assert response.context["period"] == expected
    assert f"month={expected.start:%Y-%m}" in response.context["query"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"month": "2026-13"}, "month"),
        ({"month": "October"}, "month"),
        ({"start": "2026-10-12"}, "end"),
        ({"start": "2026-10-20", "end": "2026-10-01"}, "end"),
        ({"start": "0001-01-01", "end": "2026-10-01"}, "start"),
        ({"month": MONTH, "department": "nowhere"}, "department"),
        ({"month": MONTH, "product": "NO-SUCH"}, "product"),
        ({"month": MONTH, "priority": "9"}, "priority"),
    ],
)
def test_a_malformed_filter_is_shown_and_left_out(
    small: SmallMonth, client_for: Callable[[User], Client], query: dict[str, str], field: str
) -> None:
    response = client_for(small.people["gm"]).get(KPIS, query)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert 'class="errors" role="alert"' in response.content.decode()
    # The other filters still apply: without a valid period, the previous full month.
    period = response.context["period"]
    assert period in (Period.month(2026, 10), previous_month(timezone.localdate()))


# --- links ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_every_count_links_to_its_complaints_with_the_same_filters(
    small: SmallMonth, client_for: Callable[[User], Client]
) -> None:
    response = client_for(small.people["gm"]).get(DASHBOARD, {"month": MONTH, "type": "logistics"})
    html = response.content.decode()
    query = "month=2026-10&amp;type=logistics"
    for kpi in Kpi:
        assert f'href="{drill(kpi.value, "numerator")}?{query}"' in html
        assert f'href="{drill(kpi.value, "denominator")}?{query}"' in html
    # A department's row adds the department to the filters.
    assert f'href="{drill("repeat", "numerator")}?{query}&amp;department=warehouse"' in html
    # A handler's row adds the handler.
    assert f'href="{drill("repeat", "denominator")}?{query}&amp;handler=d_h2"' in html
    # The overdue and repeat lists open the complaints.
    assert f'href="{reverse("desk:detail", args=[small.complaints["l2"].number])}"' in html


@pytest.mark.django_db
def test_the_link_of_a_number_lists_exactly_its_complaints(
    small: SmallMonth, client_for: Callable[[User], Client]
) -> None:
    client = client_for(small.people["gm"])
    numerator = client.get(drill("repeat", "numerator"), {"month": MONTH})
    assert [c.number for c, _contact in numerator.context["rows"]] == [small.complaints["l2"].number]
    denominator = client.get(drill("repeat", "denominator"), {"month": MONTH})
    expected = {small.complaints[k].number for k in ("q1", "q2", "q3", "l1", "l2")}
    assert {c.number for c, _contact in denominator.context["rows"]} == expected
    assert denominator.context["total"] == 5
    cut = client.get(drill("ack_on_time", "denominator"), {"month": MONTH, "province": "浙江"})
    assert {c.number for c, _contact in cut.context["rows"]} == {
        small.complaints["q1"].number,
        small.complaints["q2"].number,
    }
    # The department row's link reproduces the row's numbers.
    dept = client.get(drill("repeat", "denominator"), {"month": MONTH, "department": "warehouse"})
    assert dept.context["total"] == 2


@pytest.mark.django_db
def test_the_drilldown_masks_like_the_queue_and_records_unmasked_views(
    small: SmallMonth, client_for: Callable[[User], Client]
) -> None:
    phone = small.complaints["l2"].customer.phone
    masked = client_for(small.people["gm"]).get(drill("repeat", "numerator"), {"month": MONTH}).content.decode()
    assert phone not in masked
    assert f"{phone[:3]}****{phone[-4:]}" in masked
    assert not PersonalDataAccess.objects.exists()
    shown = client_for(small.people["supervisor"]).get(drill("repeat", "numerator"), {"month": MONTH})
    assert phone in shown.content.decode()
    assert PersonalDataAccess.objects.filter(
        user=small.people["supervisor"], complaint=small.complaints["l2"], where="kpi"
    ).exists()


@pytest.mark.django_db
def test_the_drilldown_pages_keep_the_filters(
    small: SmallMonth, client_for: Callable[[User], Client], settings: Any
) -> None:
    settings.QUEUE_PAGE_SIZE = 2
    client = client_for(small.people["gm"])
    first = client.get(drill("repeat", "denominator"), {"month": MONTH, "type": "quality"})
    assert first.context["total"] == 3
    assert len(first.context["rows"]) == 2
    html = first.content.decode()
    assert "month=2026-10&amp;type=quality&amp;page=2" in html
    second = client.get(drill("repeat", "denominator"), {"month": MONTH, "type": "quality", "page": "2"})
    assert len(second.context["rows"]) == 1
    partial = client.get(drill("repeat", "denominator"), {"month": MONTH, "page": "2"}, headers={"HX-Request": "true"})
    assert partial.status_code == 200
    assert "<html" not in partial.content.decode()
    assert "<table" in partial.content.decode()


# --- a department manager's scope ----------------------------------------------------------------


@pytest.mark.django_db
def test_a_manager_sees_only_their_departments(small: SmallMonth, client_for: Callable[[User], Client]) -> None:
    client = client_for(small.people["qm"])
    response = client.get(DASHBOARD, {"month": MONTH})
    assert numbers(response, Kpi.REPEAT) == (0, 3)
    assert [row["label"] for row in response.context["department_rows"]] == ["Quality"]
    assert "Figures of your departments" in response.content.decode()
    # Another department is not a choice, and changes nothing.
    other = client.get(KPIS, {"month": MONTH, "department": "warehouse"})
    assert "department" in other.context["form"].errors
    assert numbers(other, Kpi.REPEAT) == (0, 3)
    # Nor do the lists behind the numbers reach beyond the scope.
    listed = client.get(drill("repeat", "denominator"), {"month": MONTH})
    assert {c.number for c, _contact in listed.context["rows"]} == {
        small.complaints[k].number for k in ("q1", "q2", "q3")
    }
    assert (
        small.complaints["l2"].number not in client.get(drill("repeat", "numerator"), {"month": MONTH}).content.decode()
    )


@pytest.mark.django_db
def test_a_manager_sees_other_departments_handlers_on_their_complaints(
    small: SmallMonth, client_for: Callable[[User], Client]
) -> None:
    """q2 (quality's) dispatched to h2 of the warehouse: h2 is in the quality manager's table by handler,
    named, and the link of that row works."""
    warehouse = small.departments["warehouse"]
    complaint_dispatch(
        complaint=small.complaints["q2"],
        assignments=[Assignment(warehouse, small.people["h2"])],
        actor=small.people["agent"],
        via="desk",
        now=at(10, 13, 12),
    )
    client = client_for(small.people["qm"])
    response = client.get(KPIS, {"month": MONTH})
    assert [row["label"] for row in response.context["handler_rows"]] == ["d_h1", "d_h2"]
    assert f"{drill('communication', 'denominator')}?month=2026-10&amp;handler=d_h2" in response.content.decode()
    listed = client.get(drill("communication", "denominator"), {"month": MONTH, "handler": "d_h2"})
    assert not listed.context["form"].errors
    assert [c.number for c, _contact in listed.context["rows"]] == [small.complaints["q2"].number]


# --- the dashboard's parts -----------------------------------------------------------------------


@pytest.mark.django_db
def test_the_dashboard_shows_its_charts_with_their_numbers(
    small: SmallMonth, client_for: Callable[[User], Client]
) -> None:
    response = client_for(small.people["gm"]).get(DASHBOARD, {"month": MONTH})
    html = response.content.decode()
    for heading in (
        "KPIs",
        "Complaints per day",
        "Complaints in the last 6 months",
        "By complaint type",
        "By product line",
        "By region",
        "By channel",
        "Root causes by category (Pareto)",
        "KPIs by department",
        "KPIs by handler",
        "Response times (working hours)",
        "Backlog now",
        "SLA breaches per department",
        "Overdue complaints",
        "Repeat complaints",
    ):
        assert f">{heading}</h2>" in html, heading
    by_region = {b["key"]: b for b in response.context["distributions"]}["by_province"]
    assert {row["label"]: row["count"] for row in by_region["rows"]} == {"浙江": 2, "广东": 2, "江苏": 1}
    assert by_region["svg"].startswith('<svg class="chart" role="img" aria-label="By region"')
    assert "浙江" in by_region["svg"]
    assert html.count('<svg class="chart"') >= 6
    pareto = response.context["pareto"]
    assert [(row["label"], row["count"], row["cumulative"]) for row in pareto["rows"]] == [
        ("Material", 1, Decimal("100.0"))  # 料: the category of the form's cause (驱动电源批次不良)
    ]
    per_month = {b["key"]: b for b in response.context["volume"]}["per_month"]
    assert [row["label"] for row in per_month["rows"]] == [
        "2026-05",
        "2026-06",
        "2026-07",
        "2026-08",
        "2026-09",
        "2026-10",
    ]
    assert [row["count"] for row in per_month["rows"]][-2:] == [1, 5]
    repeats = response.context["repeats"]
    assert [row["number"] for row in repeats] == [small.complaints["l2"].number]
    handlers = [row["label"] for row in response.context["handler_rows"]]
    assert handlers == ["d_h1", "d_h2"]


# --- targets -------------------------------------------------------------------------------------


def _all_targets(**changes: str) -> dict[str, str]:
    values = {kpi: str(target) for kpi, target in KpiTarget.objects.values_list("kpi", "target")}
    values.update(changes)
    return values


@pytest.mark.django_db
def test_targets_are_shown_to_readers_without_a_form(small: SmallMonth, client_for: Callable[[User], Client]) -> None:
    html = client_for(small.people["auditor"]).get(TARGETS).content.decode()
    assert "≤ 5.0%" in html
    assert "≥ 95.0%" in html
    assert 'name="repeat"' not in html
    assert client_for(small.people["auditor"]).post(TARGETS, _all_targets()).status_code == 403
    assert client_for(small.people["qm"]).post(TARGETS, _all_targets()).status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["gm", "admin"])
def test_management_and_admins_change_the_targets(
    small: SmallMonth, client_for: Callable[[User], Client], who: str
) -> None:
    client = client_for(small.people[who])
    assert 'name="repeat"' in client.get(TARGETS).content.decode()
    response = client.post(TARGETS, _all_targets(repeat="3.5", satisfaction="92"))
    assert response.status_code == 302
    saved = KpiTarget.objects.get(kpi="repeat")
    assert saved.target == Decimal("3.5")
    assert saved.updated_by == small.people[who]
    assert KpiTarget.objects.get(kpi="satisfaction").target == Decimal("92.0")
    kpis = client.get(KPIS, {"month": MONTH})
    (row,) = [row for row in kpis.context["kpi_rows"] if row["kpi"] == Kpi.REPEAT]
    assert row["figure"].target == Decimal("3.5")


@pytest.mark.django_db
def test_a_refused_target_change_keeps_the_input_and_changes_nothing(
    small: SmallMonth, client_for: Callable[[User], Client]
) -> None:
    before = dict(KpiTarget.objects.values_list("kpi", "target"))
    response = client_for(small.people["gm"]).post(
        TARGETS, _all_targets(repeat="5.55", reopen="101", satisfaction="", communication="abc")
    )
    assert response.status_code == 422
    errors = response.context["form"].errors
    assert set(errors) == {"repeat", "reopen", "satisfaction", "communication"}
    html = response.content.decode()
    assert 'value="5.55"' in html
    assert 'value="101"' in html
    assert 'value="abc"' in html
    assert 'role="alert"' in html
    assert dict(KpiTarget.objects.values_list("kpi", "target")) == before


@pytest.mark.django_db
def test_the_targets_service_refuses_without_permission_or_with_bad_values(small: SmallMonth) -> None:
    with pytest.raises(PermissionDeniedError):
        kpi_targets_update(targets={"repeat": Decimal("4")}, actor=small.people["auditor"])
    with pytest.raises(ValidationFailed) as refused:
        kpi_targets_update(
            targets={"repeat": Decimal("4.25"), "reopen": Decimal("-1"), "nonsense": 3}, actor=small.people["gm"]
        )
    assert set(refused.value.errors) == {"repeat", "reopen", "nonsense"}
    assert KpiTarget.objects.get(kpi="repeat").target == Decimal("5.0")
    changed = kpi_targets_update(targets={"repeat": Decimal("4"), "reopen": Decimal("5.0")}, actor=small.people["gm"])
    assert [t.kpi for t in changed] == ["repeat"]


# --- queries -------------------------------------------------------------------------------------

# Session and user, roles, permissions, the filter choices (departments, handlers, product lines, types,
# root-cause categories), targets, the KPI aggregates by department and by handler (the totals add up the
# departments), names, the day and month volumes, four distributions with their labels, the Pareto,
# satisfaction, response times (count, median, 90th percentile per milestone), backlog, breaches, the two
# lists and the unread notifications of the menu; for the league tables the previous period's aggregates
# by department and by handler (8) and the breaches by department and by handler (2); the top issues
# (the model × type counts, products, types, improvement actions and their targets); the cost of quality
# (total, by month, by department, model and cause, and the names of the three: 8).
DASHBOARD_QUERIES = 67
KPI_PAGE_QUERIES = 21
DRILLDOWN_QUERIES = 14


def _count(client: Client, url: str, query: dict[str, str], count_queries: Callable[[], Any]) -> int:
    with count_queries() as counter:
        response = client.get(url, query)
    assert response.status_code == 200
    return int(counter.count)


@pytest.mark.django_db
def test_fixed_queries_whatever_the_size_of_the_month(
    make_user: Callable[..., User],
    client_for: Callable[[User], Client],
    count_queries: Callable[[], Any],
    settings: Any,
) -> None:
    settings.KPI_CACHE_SECONDS = 0  # every request computes: the count is the aggregates' own
    small = build_small_month(make_user, extra=0)
    gm = client_for(small.people["gm"])
    manager = client_for(small.people["qm"])
    query = {"month": MONTH}
    before = {
        "dashboard": _count(gm, DASHBOARD, query, count_queries),
        "kpis": _count(gm, KPIS, query, count_queries),
        "drilldown": _count(gm, drill("ack_on_time", "denominator"), query, count_queries),
        "cut": _count(gm, DASHBOARD, {**query, "type": "quality", "customer_kind": "end_user"}, count_queries),
        "manager": _count(manager, DASHBOARD, query, count_queries),
    }
    add_complaints(small, 30)
    after = {
        "dashboard": _count(gm, DASHBOARD, query, count_queries),
        "kpis": _count(gm, KPIS, query, count_queries),
        "drilldown": _count(gm, drill("ack_on_time", "denominator"), query, count_queries),
        "cut": _count(gm, DASHBOARD, {**query, "type": "quality", "customer_kind": "end_user"}, count_queries),
        "manager": _count(manager, DASHBOARD, query, count_queries),
    }
    assert after == before
    # Management logs in with a second factor: django-otp reads the session's device on each request.
    verified = 1
    assert before == {
        "dashboard": DASHBOARD_QUERIES + verified,
        "kpis": KPI_PAGE_QUERIES + verified,
        "drilldown": DRILLDOWN_QUERIES + verified,
        "cut": DASHBOARD_QUERIES + verified,
        # Two more: the manager's departments, for the choices and for the cuts.
        "manager": DASHBOARD_QUERIES + 2,
    }


@pytest.mark.django_db
def test_kpi_tables_are_cached_for_the_interval_and_warmed_by_the_worker(
    make_user: Callable[..., User], client_for: Callable[[User], Client], count_queries: Callable[[], Any]
) -> None:
    from closeloop.insight.kpis import Period, cached_kpi_table, kpi_cache_warm, kpi_table

    def counts(table: dict[Any, dict[Kpi, Any]]) -> dict[Any, dict[str, tuple[int, int]]]:
        return {g: {str(k): (f.numerator, f.denominator) for k, f in row.items()} for g, row in table.items()}

    small = build_small_month(make_user, extra=0)
    gm = client_for(small.people["gm"])
    query = {"month": MONTH}
    first = _count(gm, DASHBOARD, query, count_queries)
    second = _count(gm, DASHBOARD, query, count_queries)
    # The two KPI tables and the response times come from the cache the second time.
    assert second < first
    year, month = (int(part) for part in MONTH.split("-"))
    period = Period.month(year, month)
    shown = counts(cached_kpi_table(period, "department"))
    add_complaints(small, 5)
    live = counts(kpi_table(period, "department"))
    assert live != shown
    # Within the interval the figures stay as computed; the worker's warm-up recomputes them.
    assert counts(cached_kpi_table(period, "department")) == shown
    assert kpi_cache_warm(periods=[period]) == 1
    assert counts(cached_kpi_table(period, "department")) == live


@pytest.mark.django_db
def test_dashboard_figures_are_cached_per_language_and_warmed_by_the_worker(
    make_user: Callable[..., User], count_queries: Callable[[], Any], settings: Any
) -> None:
    from django.utils import timezone

    from closeloop.insight.kpis import Period
    from closeloop.insight.views.dashboard import figure_blocks_warm

    settings.LANGUAGE_CODE = "zh-hans"  # the installation's language, which the worker warms
    small = build_small_month(make_user, extra=0)
    chinese = Client(headers={"Accept-Language": "zh-hans"})
    chinese.force_login(small.people["gm"])
    english = Client(headers={"Accept-Language": "en"})
    english.force_login(small.people["gm"])

    def month_total(client: Client) -> tuple[int, str]:
        response = client.get(DASHBOARD, {"month": MONTH})
        assert response.status_code == 200
        (block,) = [b for b in response.context["distributions"] if b["key"] == "by_channel"]
        return block["total"], block["title"]

    first, zh_title = month_total(chinese)
    with count_queries() as cached:
        assert month_total(chinese) == (first, zh_title)
    assert month_total(english)[1] != zh_title  # each language has its own labels
    add_complaints(small, 6)
    assert month_total(chinese)[0] == first  # within the interval the figures stay as computed
    with count_queries() as uncached_count:
        # the English cache entry is older than the new complaints too
        assert month_total(english)[0] == first
    figure_blocks_warm(periods=[Period.month(2026, 10)], now=timezone.now())
    assert month_total(chinese) == (first + 6, zh_title)  # the worker's warm-up (default language)
    assert cached.count < DASHBOARD_QUERIES - 10  # the charts' aggregates were not run again
    assert uncached_count.count == cached.count


@pytest.mark.django_db
def test_the_workers_warm_up_leaves_nothing_to_the_first_viewer(
    make_user: Callable[..., User],
    client_for: Callable[[User], Client],
    count_queries: Callable[[], Any],
    settings: Any,
) -> None:
    """What the worker warms (`dashboard_cache_warm`, which kpi_cache_warm_task runs) is all the dashboard
    caches: in the month after MONTH, the first viewer of MONTH's dashboard (the default, the previous
    month) after the warm-up runs no more statements than the next one (at 1,000,000 complaints the top
    issues, cost of quality, breach counts and the league's previous month cost about a second when left
    to the viewer)."""
    from closeloop.insight.views.dashboard import dashboard_cache_warm

    settings.LANGUAGE_CODE = "zh-hans"  # the installation's language, which the worker warms
    small = build_small_month(make_user, extra=0)
    gm = client_for(small.people["gm"])
    gm.defaults["HTTP_ACCEPT_LANGUAGE"] = "zh-hans"
    year, month = (int(part) for part in MONTH.split("-"))
    day_after_month = Period.month(year, month).end + datetime.timedelta(days=1)
    dashboard_cache_warm(today=day_after_month, now=timezone.now())
    first = _count(gm, DASHBOARD, {"month": MONTH}, count_queries)
    again = _count(gm, DASHBOARD, {"month": MONTH}, count_queries)
    assert first == again
    assert first < DASHBOARD_QUERIES - 20  # and that is the cached page, not two uncached ones
