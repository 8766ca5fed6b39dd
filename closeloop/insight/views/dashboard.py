"""Desk pages of the management loop's figures: the dashboard, the KPI page, the complaints behind each
KPI number, and the KPI targets.

Management, the CS supervisor, quality, auditors and admins see the whole company; department managers
see their departments' figures (`kpis.scoped`); anyone else gets 403. Every figure comes from the SQL
aggregates of `kpis` and `figures`, so a page costs the same number of queries however many complaints
the period holds. The filters live in the query string, and every link to the complaints behind a
number carries them on.
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Callable
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import get_script_prefix, get_urlconf, path, reverse
from django.utils import timezone, translation
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from closeloop import authz
from closeloop.complaints import selectors as complaint_selectors
from closeloop.complaints.lifecycle import Status
from closeloop.complaints.models import Priority
from closeloop.complaints.services import personal_data_access_record
from closeloop.core.errors import DomainError
from closeloop.core.forms_ui import add_domain_errors
from closeloop.core.masking import can_see_personal_data
from closeloop.core.types import AuthenticatedHttpRequest
from closeloop.directory.models import Department
from closeloop.insight import analysis, charts, figures
from closeloop.insight.kpis import (
    NO_CUTS,
    SPECS,
    Cuts,
    Figure,
    Kpi,
    Period,
    backlog,
    breaches_by_department,
    breaches_by_handler,
    cached_figures,
    cached_kpi_table,
    cached_response_times,
    department_scope,
    kpi_cache_warm,
    kpi_complaints,
    kpi_figures,
    scoped,
    targets,
)
from closeloop.insight.models import LOWER_IS_BETTER, KpiTarget
from closeloop.insight.targets import kpi_targets_update
from closeloop.insight.views.dashboard_filters import FigureFilterForm, person, previous_month
from closeloop.sla.milestones import Milestone

# Column headings of the KPI tables; the full name (with its Chinese term) is the cell's title.
SHORT_LABELS = {
    Kpi.TIMELY_PROCESSING: gettext_lazy("timely processing"),
    Kpi.TIMELY_REPLY: gettext_lazy("timely reply"),
    Kpi.COMMUNICATION: gettext_lazy("communication"),
    Kpi.RESULT_REPLY: gettext_lazy("result reply"),
    Kpi.SATISFACTION: gettext_lazy("satisfaction"),
    Kpi.REPEAT: gettext_lazy("repeat complaints"),
    Kpi.ACK_ON_TIME: gettext_lazy("acknowledged on time"),
    Kpi.FOLLOWUP_ON_TIME: gettext_lazy("follow-up on time"),
    Kpi.REOPEN: gettext_lazy("reopened"),
}

# What each KPI counts, in the words of kpis.md, shown under the KPI table.
DEFINITIONS = {
    Kpi.TIMELY_PROCESSING: gettext_lazy(
        "resolved by the resolution deadline / resolved, or unresolved and past that deadline"
    ),
    Kpi.TIMELY_REPLY: gettext_lazy(
        "department tasks replied to customer service by the reply deadline / tasks dispatched in the period, "
        "without open tasks not yet due"
    ),
    Kpi.COMMUNICATION: gettext_lazy(
        "dispatched complaints whose handlers reached the complainant / dispatched complaints"
    ),
    Kpi.RESULT_REPLY: gettext_lazy(
        "dispatched complaints whose result was reported back to customer service / dispatched complaints"
    ),
    Kpi.SATISFACTION: gettext_lazy("follow-ups rated satisfied / follow-ups in the period with a rating"),
    Kpi.REPEAT: gettext_lazy("complaints marked repeat / complaints received"),
    Kpi.ACK_ON_TIME: gettext_lazy("acknowledged by the acknowledgement deadline / complaints received"),
    Kpi.FOLLOWUP_ON_TIME: gettext_lazy("follow-ups done by their deadline / follow-ups due in the period"),
    Kpi.REOPEN: gettext_lazy("complaints reopened at least once / complaints resolved"),
}

SIDES = ("numerator", "denominator")

# What a KPI counts when it does not count complaints: its list shows each complaint once.
COUNTED = {
    "task": gettext_lazy("department tasks"),
    "followup": gettext_lazy("follow-ups"),
    "followup_deadline": gettext_lazy("follow-up deadlines"),
}
LIST_LIMIT = 20
TREND_MONTHS = 6
SLICES = 8


def check_access(user: Any) -> None:
    if not authz.allowed(user, "insight.view_kpis"):
        raise PermissionDenied


def _filter_data(request: HttpRequest) -> QueryDict:
    """The query string, with the previous full month when it names no period."""
    data = request.GET.copy()
    if not any(data.get(name) for name in FigureFilterForm.PERIOD_FIELDS):
        data["month"] = f"{previous_month(timezone.localdate()).start:%Y-%m}"
    return data


def _filters(request: HttpRequest) -> tuple[FigureFilterForm, Period, Cuts]:
    check_access(request.user)
    form = FigureFilterForm(_filter_data(request), scope=department_scope(request.user), today=timezone.localdate())
    form.is_valid()
    if form.is_range:
        # the dates win; the month box should not claim otherwise (data is _filter_data's own dict)
        form.data["month"] = ""  # type: ignore[index]
    return form, form.period(), scoped(form.cuts(), request.user)


# --- KPI tables -----------------------------------------------------------------------------------


@functools.lru_cache(maxsize=512)
def _reversed(name: str, args: tuple[str, ...], _prefix: str, _urlconf: str | None, _root: str) -> str:
    return reverse(name, args=list(args))


def _path(name: str, *args: str) -> str:
    """reverse(), remembered per URLconf and script prefix: a dashboard builds some 2,000 links to a few
    dozen paths, and reverse() was a fifth of building its context (issue 20)."""
    return _reversed(name, args, get_script_prefix(), get_urlconf(), settings.ROOT_URLCONF)


def _drill(kpi: Kpi, side: str, query: str) -> str:
    return f"{_path('insight:kpi_complaints', kpi.value, side)}?{query}"


def _cell(figure: Figure | None, query: str) -> dict[str, Any] | None:
    if figure is None:
        return None
    return {
        "figure": figure,
        "numerator_url": _drill(figure.kpi, "numerator", query),
        "denominator_url": _drill(figure.kpi, "denominator", query),
    }


def kpi_rows(figures_by_kpi: dict[Kpi, Figure], form: FigureFilterForm) -> list[dict[str, Any]]:
    query = form.query()
    return [
        {
            **(_cell(figure, query) or {}),
            "kpi": kpi,
            "label": Kpi(kpi).label,
            "definition": DEFINITIONS[kpi],
        }
        for kpi, figure in figures_by_kpi.items()
    ]


def grouped_rows(
    table: dict[Any, dict[Kpi, Figure]], names: dict[Any, tuple[str, str]], cut: str, form: FigureFilterForm
) -> list[dict[str, Any]]:
    """One row per department or handler: its name, and a cell per KPI linking to its complaints (the
    row's department or handler added to the filters). `names` maps a key to (label, query value)."""
    rows = []
    for key, by_kpi in table.items():
        label, value = names.get(key) or (_("(none)") if key is None else f"#{key}", "")
        query = form.query(**{cut: value}) if value else ""
        rows.append(
            {
                "label": label,
                "cells": [_cell(by_kpi.get(kpi), query) if value else _bare(by_kpi.get(kpi)) for kpi in Kpi],
            }
        )
    rows.sort(key=lambda row: (row["label"] == _("(none)"), row["label"]))
    return rows


def _bare(figure: Figure | None) -> dict[str, Any] | None:
    """A cell without links: the group has no value a filter can name (no responsible department)."""
    return {"figure": figure} if figure is not None else None


def kpi_heads(goal: dict[str, Decimal]) -> list[dict[str, Any]]:
    return [
        {
            "kpi": kpi,
            "short": SHORT_LABELS[kpi],
            "label": kpi.label,
            "target": goal.get(kpi),
            "lower_is_better": kpi in LOWER_IS_BETTER,
        }
        for kpi in Kpi
    ]


def totals(by_department: dict[Any, dict[Kpi, Figure]], goal: dict[str, Decimal]) -> dict[Kpi, Figure]:
    """The company's figures as the sum of the departments' rows. Each base row (complaint, task,
    follow-up, follow-up deadline) belongs to exactly one department group, the group of none
    included, so the sums are `kpi_figures` without running its aggregates a second time."""
    summed = {kpi: Figure(kpi, 0, 0, goal.get(kpi)) for kpi in Kpi}
    for by_kpi in by_department.values():
        for kpi, figure in by_kpi.items():
            summed[kpi].numerator += figure.numerator
            summed[kpi].denominator += figure.denominator
    return summed


def kpi_context(
    form: FigureFilterForm,
    period: Period,
    cuts: Cuts,
    now: datetime.datetime,
    *,
    tables: tuple[dict[Any, dict[Kpi, Figure]], dict[Any, dict[Kpi, Figure]]] | None = None,
    goal: dict[str, Decimal] | None = None,
) -> dict[str, Any]:
    """The KPI table and the tables by department and by handler (the KPI page and the dashboard);
    `tables` (by department, by handler) and `goal` when the caller has them already."""
    goal = targets() if goal is None else goal
    if tables is None:
        tables = cached_kpi_table(period, "department", cuts), cached_kpi_table(period, "handler", cuts)
    by_department, by_handler = tables
    # The filter's choices hold every department and handler these tables can show (in the scope).
    departments, people = form.departments_by_pk, form.handlers_by_pk
    return {
        "kpi_heads": kpi_heads(goal),
        "kpi_rows": kpi_rows(totals(by_department, goal), form),
        "department_rows": grouped_rows(
            by_department, {k: (d.label, d.code) for k, d in departments.items()}, "department", form
        ),
        "handler_rows": grouped_rows(
            by_handler, {k: (person(u), u.get_username()) for k, u in people.items()}, "handler", form
        ),
    }


def _page_context(form: FigureFilterForm, period: Period, request: HttpRequest) -> dict[str, Any]:
    return {
        "form": form,
        "period": period,
        "query": form.query(),
        "cut_summary": form.summary(),
        "month_links": form.month_links(),
        "scope_departments": [d.label for d in form.departments.values()] if form.scope is not None else None,
        "can_edit_targets": request.user.has_perm("insight.change_kpitarget"),
    }


# --- charts ---------------------------------------------------------------------------------------


def _share(count: int, total: int) -> Decimal | None:
    return (Decimal(count) * 100 / total).quantize(Decimal("0.1")) if total else None


def chart_block(
    key: str,
    title: str,
    slices: list[figures.Slice],
    *,
    column: str,
    kind: str = "bar",
    drawing: Any = None,
    collapse: bool = False,
) -> dict[str, Any]:
    """A chart as inline SVG, and its numbers as a table (the accessible form of the same figures)."""
    labels = [s.label for s in slices]
    counts = [s.count for s in slices]
    total = sum(counts)
    if drawing is None:
        if kind == "pie":
            drawing = charts.pie_chart(labels, counts)
        else:
            drawing = charts.bar_chart(labels, counts, horizontal=kind == "hbar")
    return {
        "key": key,
        "title": title,
        "svg": charts.to_svg(drawing, title=title) if total else "",
        "rows": [{"key": s.key, "label": s.label, "count": s.count, "share": _share(s.count, total)} for s in slices],
        "total": total,
        "column": column,
        # A long table (a row per day) is folded away under its chart.
        "collapse": collapse,
        "cumulative": False,
        # Long labels (root causes) read better in a table under the chart than beside it.
        "stacked": False,
    }


def pareto_block(causes: list[figures.Slice]) -> dict[str, Any]:
    block = chart_block(
        "root_causes",
        _("Root causes by category (Pareto)"),
        causes,
        column=_("root-cause category"),
        drawing=charts.pareto_chart([s.label for s in causes], [s.count for s in causes]),
    )
    block["cumulative"] = block["stacked"] = True
    running = 0
    for row in block["rows"]:
        running += row["count"]
        row["cumulative"] = _share(running, block["total"])
    return block


def volume_blocks(period: Period, cuts: Cuts) -> list[dict[str, Any]]:
    days = figures.volume_by_day(period, cuts)
    months = figures.volume_by_month(Period.month_of(period.end).previous_months(TREND_MONTHS - 1), cuts)
    day_title = _("Complaints per day")
    month_title = _("Complaints in the last %(count)d months") % {"count": TREND_MONTHS}
    day_slices = [figures.Slice(day, f"{day:%m-%d}", count) for day, count in days]
    month_slices = [figures.Slice(label, label, count) for label, count in months]
    day_drawing = charts.line_chart([s.label for s in day_slices], {str(day_title): [s.count for s in day_slices]})
    return [
        chart_block("per_day", day_title, day_slices, column=_("day"), drawing=day_drawing, collapse=True),
        chart_block("per_month", month_title, month_slices, column=_("month")),
    ]


def distribution_blocks(period: Period, cuts: Cuts) -> list[dict[str, Any]]:
    spec = [
        ("type", _("By complaint type"), _("complaint type"), "pie"),
        ("product_line", _("By product line"), _("product line"), "hbar"),
        ("province", _("By region"), _("province / region"), "hbar"),
        ("channel", _("By channel"), _("channel"), "pie"),
    ]
    return [
        chart_block(
            f"by_{dimension}",
            title,
            figures.distribution(period, dimension, cuts, limit=SLICES + 2 if kind == "hbar" else SLICES),
            column=column,
            kind=kind,
        )
        for dimension, title, column, kind in spec
    ]


def breaches_block(period: Period, cuts: Cuts, names: dict[int, Department]) -> dict[str, Any]:
    rows = sorted(breaches_by_department(period, cuts), key=lambda row: -row["breaches"])
    slices = [
        figures.Slice(
            row["department"],
            names[row["department"]].label if row["department"] in names else _("(none)"),
            row["breaches"],
        )
        for row in rows
    ]
    return chart_block("breaches", _("SLA breaches per department"), slices, column=_("department"), kind="hbar")


def _list_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for row in rows:
        row["status_label"] = Status(row["status"]).label
        row["priority_label"] = Priority(row["priority"]).label
    return rows


def figure_blocks(
    period: Period, cuts: Cuts, departments: dict[int, Department], now: datetime.datetime
) -> dict[str, Any]:
    """The dashboard's charts and their tables (everything but the KPI tables and the live lists)."""
    satisfaction = figures.satisfaction_distribution(period, cuts)
    return {
        "volume": volume_blocks(period, cuts),
        "distributions": distribution_blocks(period, cuts),
        "pareto": pareto_block(figures.cause_pareto(period, cuts)),
        "satisfaction": chart_block(
            "satisfaction", _("Satisfaction of the follow-ups"), satisfaction, column=_("satisfaction level")
        ),
        "backlog": [{**row, "label": Milestone(row["milestone"]).label} for row in backlog(cuts, now=now)],
        "breaches": breaches_block(period, cuts, departments),
    }


def figure_blocks_warm(*, periods: list[Period], now: datetime.datetime) -> None:
    """Compute the whole company's dashboard figures of these periods into the cache, in the default
    language (the worker's warm-up, with the KPI tables): the charts and every figure of `FIGURES`, so
    that the first viewer after an interval waits for none of them (at 1,000,000 complaints on PostgreSQL
    the top issues, cost of quality and breach counts left to the viewer cost about a second)."""
    departments = {d.pk: d for d in Department.objects.all()}
    with translation.override(settings.LANGUAGE_CODE):
        for period in periods:
            cached_figures(  # the default binds this iteration's period; mypy infers no type for such a lambda
                "dashboard",
                lambda p=period: figure_blocks(p, NO_CUTS, departments, now),  # type: ignore[misc]  # the default binds this iteration's period
                period,
                NO_CUTS,
                refresh=True,
            )
            for name in FIGURES:
                figure(name, period, NO_CUTS, refresh=True)


def dashboard_cache_warm(*, today: datetime.date, now: datetime.datetime) -> None:
    """The worker's warm-up of everything the whole company's dashboard caches (`kpi_cache_warm_task`):
    the KPI tables of this month and the two before (the dashboard opens on the previous month, whose
    league tables compare it with the month before), the charts and figures of this and the previous month."""
    month = Period.month_of(today)
    kpi_cache_warm(periods=[month, month.previous(), month.previous().previous()])
    figure_blocks_warm(periods=[month, month.previous()], now=now)


# The dashboard's other cached figures, each computed from the period and the viewer's cuts.
FIGURES: dict[str, Callable[[Period, Cuts], Any]] = {
    "top_issues": analysis.top_issues,
    "cost": lambda period, cuts: analysis.cost_of_quality(period, cost_months(period), cuts),
    "breaches_department": breaches_by_department,
    "breaches_handler": breaches_by_handler,
}


def figure(name: str, period: Period, cuts: Cuts, *, refresh: bool = False) -> Any:
    """`FIGURES[name]` of the period and cuts, as of at most KPI_CACHE_SECONDS ago (`cached_figures`)."""
    return cached_figures(name, lambda: FIGURES[name](period, cuts), period, cuts, refresh=refresh)


# --- the analysis report's parts: each figure links to the complaints behind it ---------------------
#
# The links open the KPI drill-down of the cohort (the repeat rate's denominator: every complaint received
# in the period) with the figure's own cuts added, so the list is the queue's (same columns, same masking)
# and its count is the figure's.


def _complaints_url(form: FigureFilterForm, **cuts: str) -> str:
    return _drill(Kpi.REPEAT, "denominator", form.query(**cuts))


def pareto_links(block: dict[str, Any], form: FigureFilterForm) -> dict[str, Any]:
    """The Pareto's rows with the link to their complaints (a bar counts feedback forms: a complaint with
    two forms of one category is listed once)."""
    codes: dict[Any, str] = {c.pk: code for code, c in form.causes.items()}
    codes[figures.UNCATEGORISED] = figures.UNCATEGORISED
    rows = [
        {**row, "url": _complaints_url(form, cause=codes[row["key"]]) if row["key"] in codes else ""}
        for row in block["rows"]
    ]
    return {**block, "rows": rows}


def league_rows(
    table: dict[Any, dict[Kpi, Figure]],
    before: dict[Any, dict[Kpi, Figure]],
    *,
    names: dict[Any, tuple[str, str]],
    cut: str,
    breaches: dict[Any, int],
    rank_by: Kpi,
    kpis: tuple[Kpi, ...],
    form: FigureFilterForm,
) -> list[dict[str, Any]]:
    """The report's league table (same ranking, `analysis.league`), each count linking to its complaints:
    complaints, the ranking and other KPIs' numerators, repeats and reopens."""
    rows = analysis.league(
        table,
        before,
        labels={k: label for k, (label, _v) in names.items()},
        breaches=breaches,
        rank_by=rank_by,
        kpis=kpis,
    )
    for row in rows:
        value = names.get(row["key"], ("", ""))[1]
        query = form.query(**{cut: value}) if value else ""
        figures_by_kpi = table[row["key"]]
        row["cells"] = [
            _cell(figures_by_kpi.get(kpi), query) if query else _bare(figures_by_kpi.get(kpi)) for kpi in kpis
        ]
        row["complaints_url"] = _drill(Kpi.REPEAT, "denominator", query) if query and row["complaints"] else ""
        row["repeats_url"] = _drill(Kpi.REPEAT, "numerator", query) if query and row["repeats"] else ""
        row["reopens_url"] = _drill(Kpi.REOPEN, "numerator", query) if query and row["reopens"] else ""
        row["breaches_url"] = f"{_path('insight:breach_complaints', cut)}?{query}" if query and row["breaches"] else ""
    return rows


def league_context(
    form: FigureFilterForm,
    period: Period,
    cuts: Cuts,
    *,
    tables: tuple[dict[Any, dict[Kpi, Figure]], dict[Any, dict[Kpi, Figure]]],
    goal: dict[str, Decimal],
) -> dict[str, Any]:
    """Departments ranked by timely processing, handlers by timely reply, against the previous period
    (`tables`: this period's by department and by handler, as the KPI tables show them)."""
    before = period.previous()
    departments, people = form.departments_by_pk, form.handlers_by_pk
    heads = kpi_heads(goal)
    # Cached as the KPI tables are: two grouped queries over the deadlines (~30 ms each at 100,000).
    department_breaches = figure("breaches_department", period, cuts)
    return {
        "league_departments": league_rows(
            tables[0],
            cached_kpi_table(before, "department", cuts),
            names={k: (d.label, d.code) for k, d in departments.items()},
            cut="department",
            breaches={row["department"]: row["breaches"] for row in department_breaches},
            rank_by=Kpi.TIMELY_PROCESSING,
            kpis=analysis.DEPARTMENT_KPIS,
            form=form,
        ),
        "league_handlers": league_rows(
            tables[1],
            cached_kpi_table(before, "handler", cuts),
            names={k: (person(u), u.get_username()) for k, u in people.items()},
            cut="handler",
            breaches=figure("breaches_handler", period, cuts),
            rank_by=Kpi.TIMELY_REPLY,
            kpis=analysis.HANDLER_KPIS,
            form=form,
        ),
        "league_department_heads": [h for h in heads if h["kpi"] in analysis.DEPARTMENT_KPIS],
        "league_handler_heads": [h for h in heads if h["kpi"] in analysis.HANDLER_KPIS],
    }


def top_issue_links(issues: dict[str, Any], form: FigureFilterForm) -> dict[str, Any]:
    """The model × type cross-tab, each cell and total linking to its complaints with the page's filters."""
    codes = {t["key"]: t["code"] for t in issues["types"]}
    rows = []
    for row in issues["rows"]:
        cells = [
            {
                **cell,
                "url": _complaints_url(form, product=row["model"], type=codes[cell["type"]]) if cell["count"] else "",
            }
            for cell in row["cells"]
        ]
        rows.append({**row, "cells": cells, "url": _complaints_url(form, product=row["model"])})
    return {**issues, "rows": rows}


# --- cost of quality: the report's figures (analysis.cost_of_quality) with the dashboard's cuts -----

COST_TREND_MONTHS = 12  # the period's last month and the 11 before, as the report's trend (contents.py)
COST_COLUMNS = (
    # (measure of the drill-down, the figure's key in a row, the column's heading)
    ("compensation", "compensation", gettext_lazy("compensation (¥)")),
    ("compensation", "compensations", gettext_lazy("with compensation")),
    ("refund", "refunds", gettext_lazy("refunds")),
    ("replacement", "replacements", gettext_lazy("replacements")),
    ("solution", "solutions", gettext_lazy("solutions")),
)


def cost_months(period: Period) -> list[Period]:
    return Period.month_of(period.end).previous_months(COST_TREND_MONTHS - 1)


def _cost_url(measure: str, params: dict[str, str]) -> str:
    return f"{_path('insight:cost_complaints', measure)}?{urlencode(params)}"


def _cost_cells(row: dict[str, Any], params: dict[str, str]) -> list[dict[str, Any]]:
    """A row's figures, each linking to its complaints (none for a zero)."""
    return [
        {
            "value": row[key],
            "amount": key == "compensation",
            "url": _cost_url(measure, params) if row[key] else "",
        }
        for measure, key, _label in COST_COLUMNS
    ]


def _month_params(form: FigureFilterForm, label: str) -> dict[str, str]:
    """The page's cuts with one month as the period (the trend's months lie outside a date range)."""
    params = {k: v for k, v in form.params().items() if k not in FigureFilterForm.PERIOD_FIELDS}
    return {"month": label, **params}


def cost_context(cost: dict[str, Any], form: FigureFilterForm) -> dict[str, Any]:
    """The cost tables (total, by month, department, model and cause) with a link behind every figure,
    and a chart of the compensation per month and per group."""
    base = form.params()

    def group_rows(group: str) -> list[dict[str, Any]]:
        return [
            {
                "label": row["label"],
                "cells": _cost_cells(
                    row, {**base, "by": group, "key": analysis.NO_KEY if row["key"] is None else str(row["key"])}
                ),
                "compensation": row["compensation"],
            }
            for row in cost[f"by_{group}"]
        ]

    def chart(key: str, title: str, rows: list[dict[str, Any]], *, horizontal: bool) -> str:
        values = [row["compensation"] for row in rows]
        if not any(values):
            return ""
        labels = [str(row["label"]) for row in rows]

        def draw() -> str:
            return charts.to_svg(charts.bar_chart(labels, values, horizontal=horizontal), title=title)

        # Drawing costs ~17 ms a chart (reportlab's SVG); the same figures give the same picture.
        return cached_figures("cost_chart", draw, key, title, labels, [str(v) for v in values], horizontal)

    months = [
        {"label": row["label"], "cells": _cost_cells(row, _month_params(form, row["label"])), **row}
        for row in cost["by_month"]
    ]
    groups = [
        ("department", _("Cost of quality by department"), _("department")),
        ("model", _("Cost of quality by model"), _("model")),
        ("cause", _("Cost of quality by root-cause category"), _("root-cause category")),
    ]
    tables = []
    for group, title, column in groups:
        rows = group_rows(group)
        tables.append(
            {
                "key": f"cost_by_{group}",
                "title": title,
                "column": column,
                "rows": rows,
                "svg": chart(group, str(title), rows[:SLICES], horizontal=True),
            }
        )
    trend_title = _("Cost of quality per month")
    return {
        "cost": {
            "columns": [label for _m, _k, label in COST_COLUMNS],
            "total": _cost_cells(cost["total"], base),
            "months": {
                "key": "cost_by_month",
                "title": trend_title,
                "column": _("month"),
                "rows": months,
                "svg": chart("month", str(trend_title), months, horizontal=False),
            },
            "tables": tables,
        }
    }


def dashboard_context(form: FigureFilterForm, period: Period, cuts: Cuts, now: datetime.datetime) -> dict[str, Any]:
    # Like the KPI tables, computed once per KPI_CACHE_SECONDS for each period, cuts (and so scope) and
    # language, and shared by every viewer of the same; the lists of overdue and repeat complaints stay live.
    blocks = cached_figures("dashboard", lambda: figure_blocks(period, cuts, form.departments_by_pk, now), period, cuts)
    issues = figure("top_issues", period, cuts)
    cost = figure("cost", period, cuts)
    tables = cached_kpi_table(period, "department", cuts), cached_kpi_table(period, "handler", cuts)
    goal = targets()
    return {
        **kpi_context(form, period, cuts, now, tables=tables, goal=goal),
        **blocks,
        "pareto": pareto_links(blocks["pareto"], form),
        **league_context(form, period, cuts, tables=tables, goal=goal),
        "top_issues": top_issue_links(issues, form),
        **cost_context(cost, form),
        "times": [{**t.as_dict(), "label": Milestone(t.milestone).label} for t in cached_response_times(period, cuts)],
        "overdue": _list_rows(figures.overdue_complaints(cuts, now=now, limit=LIST_LIMIT)),
        "repeats": _list_rows(figures.repeat_complaints(period, cuts, limit=LIST_LIMIT)),
        "list_limit": LIST_LIMIT,
        "now": now,
    }


# --- views ----------------------------------------------------------------------------------------


@login_required
@require_GET
def dashboard(request: AuthenticatedHttpRequest) -> HttpResponse:
    form, period, cuts = _filters(request)
    context = {**_page_context(form, period, request), **dashboard_context(form, period, cuts, timezone.now())}
    return render(request, "insight/dashboard_page.html", context)


@login_required
@require_GET
def kpi_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    form, period, cuts = _filters(request)
    context = {**_page_context(form, period, request), **kpi_context(form, period, cuts, timezone.now())}
    return render(request, "insight/kpi_page.html", context)


@login_required
@require_GET
def kpi_drilldown(request: AuthenticatedHttpRequest, kpi: str, side: str) -> HttpResponse:
    """The complaints behind one KPI's numerator or denominator, as the queue lists them (same columns,
    same masking), newest first."""
    if kpi not in Kpi.values or side not in SIDES:
        raise Http404(_("No such figure."))
    form, period, cuts = _filters(request)
    now = timezone.now()
    figure = kpi_figures(period, cuts, now=now, kpis=[Kpi(kpi)])[Kpi(kpi)]
    behind = kpi_complaints(Kpi(kpi), side, period, cuts, now=now)
    qs = complaint_selectors.complaint_queue(
        user=request.user, filters=complaint_selectors.QueueFilters(sort="-received_at")
    ).filter(pk__in=behind.values("pk"))
    paginator = Paginator(qs, settings.QUEUE_PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    complaints = list(page.object_list)
    rows = [(c, complaint_selectors.customer_contact(customer=c.customer, user=request.user)) for c in complaints]
    if can_see_personal_data(request.user):
        personal_data_access_record(user=request.user, complaints=complaints, where="kpi")
    context = {
        **_page_context(form, period, request),
        "kpi": Kpi(kpi),
        "side": side,
        "other_side": "denominator" if side == "numerator" else "numerator",
        "cell": _cell(figure, form.query()),
        "definition": DEFINITIONS[Kpi(kpi)],
        "counted": COUNTED.get(SPECS[Kpi(kpi)].base),
        "page": page,
        "rows": rows,
        "total": paginator.count,
    }
    partial = request.htmx and not request.htmx.boosted
    response = render(request, "desk/_queue_results.html" if partial else "insight/kpi_complaints.html", context)
    patch_vary_headers(response, ["HX-Request"])
    return response


# --- targets --------------------------------------------------------------------------------------


class TargetsForm(forms.Form):
    """One field per KPI: a percentage from 0 to 100 with at most one decimal."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for kpi in Kpi:
            self.fields[kpi.value] = forms.DecimalField(
                label=kpi.label,
                min_value=Decimal(0),
                max_value=Decimal(100),
                max_digits=4,
                decimal_places=1,
                help_text=_("at most (lower is better)") if kpi in LOWER_IS_BETTER else _("at least"),
                widget=forms.NumberInput(attrs={"step": "0.1", "min": "0", "max": "100", "inputmode": "decimal"}),
            )


def _targets_response(request: HttpRequest, form: TargetsForm | None, status: int = 200) -> HttpResponse:
    check_access(request.user)
    rows = {t.kpi: t for t in KpiTarget.objects.select_related("updated_by")}
    can_edit = request.user.has_perm("insight.change_kpitarget")
    if can_edit and form is None:
        form = TargetsForm(initial={kpi: target.target for kpi, target in rows.items()})
    context = {
        "rows": [
            {
                "kpi": kpi,
                "label": kpi.label,
                "definition": DEFINITIONS[kpi],
                "target": rows.get(kpi),
                "lower_is_better": kpi in LOWER_IS_BETTER,
                "field": form[kpi.value] if form is not None else None,
            }
            for kpi in Kpi
        ],
        "form": form,
        "can_edit": can_edit,
        "period": None,
        "query": "",
        "scope_departments": None,
    }
    return render(request, "insight/kpi_targets.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def targets_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _targets_response(request, None)
    check_access(request.user)
    if not request.user.has_perm("insight.change_kpitarget"):
        raise PermissionDenied
    form = TargetsForm(request.POST)
    if form.is_valid():
        try:
            changed = kpi_targets_update(targets=form.cleaned_data, actor=request.user)
        except DomainError as exc:
            add_domain_errors(form, exc)
        else:
            messages.success(
                request,
                _("Targets saved (%(count)d changed).") % {"count": len(changed)} if changed else _("Nothing changed."),
            )
            return redirect("insight:targets")
    return _targets_response(request, form, status=422)


urlpatterns = [
    path("dashboard/", dashboard, name="dashboard"),
    path("kpis/", kpi_page, name="kpis"),
    path("kpis/<str:kpi>/<str:side>/", kpi_drilldown, name="kpi_complaints"),
    path("targets/", targets_page, name="targets"),
]
