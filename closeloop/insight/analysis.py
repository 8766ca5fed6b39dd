"""The analysis of the monthly report beyond the plain figures: what a period is compared with, the league
tables of departments and handlers, the top issues (model × type), improvement actions with their measured
effect, and the cost of quality. Each function is a few grouped SQL aggregates; `exports.contents` puts
their results into the report's contents dict.

Readings where the issue leaves room (docs/decisions.md has them too):

- A calendar month is compared with the month before and the same month a year earlier. A month-to-date
  period (from the 1st to a day before the month's end) is compared with the same number of *working days*
  from the start of the previous month (and of the same month last year), on the default SLA policy's
  working calendar, and the report says so; any other period with the equally long period just before.
- Departments are ranked by the timely processing rate of the complaints they are responsible for (the
  KPI of seed 001), then by fewer SLA breaches; handlers by their timely reply rate (seed 004's 及时回复率),
  then by fewer breaches of their task deadlines. A row without a rate goes last. The arrow compares the
  ranking KPI with the comparison period (▲ better, ▼ worse, ＝ unchanged within 0.05 points).
- A department appears only when it was responsible for a complaint of the period or had a task dispatched
  in it.
- Cost of quality counts the solutions of the period's complaints that were granted (approved, being
  executed or executed): the compensation amounts, and how many solutions include a refund / a
  replacement. By month it follows the month the complaint was received.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.db.models import Count, DecimalField, F, OuterRef, Q, Subquery, Sum, TextField, Value
from django.db.models.functions import Cast, Coalesce
from django.urls import reverse

from closeloop.calendar.working import WorkingCalendar
from closeloop.directory.models import CauseCategory, ComplaintType, Department, Product
from closeloop.handling.models import FeedbackForm, Measure, Solution, SolutionStatus
from closeloop.improvement.evaluation import action_evaluate
from closeloop.improvement.models import ActionStatus, ImprovementAction
from closeloop.insight.kpis import NO_CUTS, Cuts, Figure, Kpi, Period, cohort, month_label

TOP_ISSUES = 10
ACTIONS_WITH_EFFECT = 15
UNCHANGED = 0.05  # percentage points within which a rate counts as unchanged
GRANTED = (SolutionStatus.APPROVED, SolutionStatus.EXECUTING, SolutionStatus.DONE)
DEPARTMENT_KPIS = (Kpi.TIMELY_PROCESSING, Kpi.TIMELY_REPLY, Kpi.COMMUNICATION, Kpi.RESULT_REPLY, Kpi.SATISFACTION)
HANDLER_KPIS = (Kpi.TIMELY_REPLY, Kpi.COMMUNICATION, Kpi.RESULT_REPLY, Kpi.SATISFACTION)


# --- what a period is compared with ----------------------------------------------------------------


def _year_before(day: datetime.date) -> datetime.date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def _working_days(calendar: WorkingCalendar, start: datetime.date, end: datetime.date) -> int:
    days, day = 0, start
    while day <= end:
        days += calendar.is_working_day(day)
        day += datetime.timedelta(days=1)
    return days


def _first_working_days(calendar: WorkingCalendar, month: Period, count: int) -> Period:
    """The start of `month` up to its `count`-th working day (the whole month if it has fewer)."""
    day, seen = month.start, 0
    while day <= month.end:
        seen += calendar.is_working_day(day)
        if seen >= count:
            return Period(month.start, day)
        day += datetime.timedelta(days=1)
    return month


@dataclass(frozen=True)
class Comparison:
    """The periods a report's figures are set against; `working_days` is set for a month-to-date period."""

    previous: Period
    year_ago: Period
    working_days: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "previous": {**self.previous.as_dict(), "label": self.previous.label},
            "year_ago": {**self.year_ago.as_dict(), "label": self.year_ago.label},
            "working_days": self.working_days,
        }


def default_calendar() -> WorkingCalendar:
    """The default SLA policy's working calendar (statutory holidays and make-up days included)."""
    from closeloop.sla.models import Policy
    from closeloop.sla.services import policy_calendar

    policy = Policy.objects.select_related("calendar").filter(is_default=True).first()
    return policy_calendar(policy) if policy is not None else WorkingCalendar()


def is_month_to_date(period: Period) -> bool:
    return period.start.day == 1 and not period.is_month and period.end < Period.month_of(period.start).end


def comparison_for(period: Period, calendar: WorkingCalendar) -> Comparison:
    if period.is_month:
        last_year = Period.month(period.start.year - 1, period.start.month)
        return Comparison(period.previous(), last_year)
    if is_month_to_date(period):
        count = _working_days(calendar, period.start, period.end)
        before = Period.month_of(period.start - datetime.timedelta(days=1))
        last_year = Period.month(period.start.year - 1, period.start.month)
        return Comparison(
            _first_working_days(calendar, before, count), _first_working_days(calendar, last_year, count), count
        )
    return Comparison(period.previous(), Period(_year_before(period.start), _year_before(period.end)))


def change(current: float | int | None, before: float | int | None) -> dict[str, Any]:
    """A count's move: the difference and the percentage (None when there was nothing before)."""
    if current is None or before is None:
        return {"before": before, "change": None, "change_pct": None}
    pct = round((current - before) * 100 / before, 1) if before else None
    return {"before": before, "change": current - before, "change_pct": pct}


def arrow(current: float | None, before: float | None, *, lower_is_better: bool = False) -> str:
    """▲ better, ▼ worse, ＝ unchanged, "" when either side has no rate."""
    if current is None or before is None:
        return ""
    delta = current - before
    if abs(delta) < UNCHANGED:
        return "＝"
    better = delta < 0 if lower_is_better else delta > 0
    return "▲" if better else "▼"


# --- league tables ---------------------------------------------------------------------------------


def _rate(figure: Figure | None) -> float | None:
    return float(figure.rate) if figure is not None and figure.rate is not None else None


def _figure(figure: Figure | None) -> dict[str, Any] | None:
    return figure.as_dict() if figure is not None else None


def league(
    table: dict[Any, dict[Kpi, Figure]],
    before: dict[Any, dict[Kpi, Figure]],
    *,
    labels: dict[Any, str],
    breaches: dict[Any, int],
    rank_by: Kpi,
    kpis: tuple[Kpi, ...],
) -> list[dict[str, Any]]:
    """Rows ranked by `rank_by` (best first; no rate last), then fewer breaches, then more complaints.
    A row with nothing to count at all (no complaint, no task) is left out."""
    rows = []
    for key, figures in table.items():
        complaints = figures[Kpi.REPEAT].denominator if Kpi.REPEAT in figures else 0
        tasks = figures[Kpi.TIMELY_REPLY].denominator if Kpi.TIMELY_REPLY in figures else 0
        if key is None or (not complaints and not tasks):
            continue
        rate_now = _rate(figures.get(rank_by))
        rate_before = _rate((before.get(key) or {}).get(rank_by))
        rows.append(
            {
                "key": key,
                "label": labels.get(key) or "—",
                "complaints": complaints,
                "tasks": tasks,
                "kpis": {str(k): _figure(figures.get(k)) for k in kpis},
                "breaches": breaches.get(key, 0),
                "repeats": figures[Kpi.REPEAT].numerator if Kpi.REPEAT in figures else 0,
                "reopens": figures[Kpi.REOPEN].numerator if Kpi.REOPEN in figures else 0,
                "rank_kpi": str(rank_by),
                "rate": rate_now,
                "previous_rate": rate_before,
                "trend": arrow(rate_now, rate_before),
            }
        )
    rows.sort(key=lambda r: (r["rate"] is None, -(r["rate"] or 0), r["breaches"], -r["complaints"], r["label"]))
    for index, row in enumerate(rows, start=1):
        row["rank"] = index
    return rows


# --- top issues: model × type ----------------------------------------------------------------------


def _drilldown(period: Period, **cuts: Any) -> str:
    """The complaints of the period with these cuts (the KPI drill-down of all cohort complaints)."""
    query = {"start": period.start.isoformat(), "end": period.end.isoformat(), **cuts}
    return reverse("insight:kpi_complaints", args=[str(Kpi.REPEAT), "denominator"]) + "?" + urlencode(query)


def top_issues(period: Period, cuts: Cuts = NO_CUTS) -> dict[str, Any]:
    """The `TOP_ISSUES` models with most complaints, crossed with the top-level complaint type; every cell
    with the link to its complaints, every model with the improvement actions that target it (the model, or
    its product line). Two grouped queries, and one per label table."""
    rows = list(
        cohort(period, cuts)
        .filter(product__isnull=False)
        .values("product_id", type_key=Coalesce("type__parent_id", "type_id"))
        .order_by()
        .annotate(count=Count("pk"))
    )
    totals: dict[int, int] = {}
    for row in rows:
        totals[row["product_id"]] = totals.get(row["product_id"], 0) + row["count"]
    top = sorted(totals, key=lambda pk: (-totals[pk], pk))[:TOP_ISSUES]
    products = {p.pk: p for p in Product.objects.filter(pk__in=top).select_related("line")}
    type_totals: dict[int, int] = {}
    for row in rows:
        if row["product_id"] in top:
            type_totals[row["type_key"]] = type_totals.get(row["type_key"], 0) + row["count"]
    type_ids = sorted(type_totals, key=lambda pk: (-type_totals[pk], pk))
    types = {t.pk: t for t in ComplaintType.objects.filter(pk__in=type_ids)}
    cells = {(row["product_id"], row["type_key"]): row["count"] for row in rows}
    lines = {p.line_id for p in products.values()}
    actions = (
        ImprovementAction.objects.filter(Q(product_id__in=top) | Q(product__isnull=True, product_line_id__in=lines))
        .select_related("cause_category__parent")
        .order_by("-created_at", "-pk")
    )
    by_product: dict[int, list[dict[str, Any]]] = {pk: [] for pk in top}
    for action in actions[:200]:
        targets = (
            [action.product_id]
            if action.product_id
            else [pk for pk in top if products[pk].line_id == action.product_line_id]
        )
        for pk in targets:
            if pk in by_product and (
                action.complaint_type_id is None or type_totals.get(action.complaint_type_id) is not None
            ):
                by_product[pk].append(
                    {
                        "number": action.number,
                        "title": action.title,
                        "status": action.status,
                        "status_label": str(action.get_status_display()),
                        "url": reverse("improvement:detail", args=[action.pk]),
                    }
                )
    return {
        "types": [
            {"key": pk, "code": types[pk].code if pk in types else "", "label": types[pk].label if pk in types else "—"}
            for pk in type_ids
        ],
        "rows": [
            {
                "key": pk,
                "model": products[pk].model,
                "label": str(products[pk]),
                "total": totals[pk],
                "url": _drilldown(period, product=products[pk].model),
                "cells": [
                    {
                        "type": type_pk,
                        "count": cells.get((pk, type_pk), 0),
                        # the filter names a type by its code
                        "url": _drilldown(
                            period, product=products[pk].model, type=types[type_pk].code if type_pk in types else ""
                        ),
                    }
                    for type_pk in type_ids
                ],
                "actions": by_product[pk][:5],
            }
            for pk in top
        ],
    }


# --- improvement actions with their measured effect ------------------------------------------------


def actions_with_effect(period: Period) -> list[dict[str, Any]]:
    """Actions completed up to the end of the period (the latest `ACTIONS_WITH_EFFECT`) with the complaints
    and satisfaction in the equal windows before and after completion, as the action page shows them."""
    _start, end = period.bounds
    actions = (
        ImprovementAction.objects.filter(done_at__isnull=False, done_at__lt=end)
        .filter(status__in=(ActionStatus.DONE, ActionStatus.VERIFIED))
        .select_related("owner_department", "cause_category__parent", "product", "product_line", "complaint_type")
        .order_by("-done_at", "-pk")[:ACTIONS_WITH_EFFECT]
    )
    result = []
    for action in actions:
        evaluation = action_evaluate(action, now=end)
        if evaluation is None:
            continue
        target = " / ".join(
            part
            for part in (
                str(action.product) if action.product else (action.product_line.label if action.product_line else ""),
                action.complaint_type.label if action.complaint_type else "",
                action.cause_category.path_label if action.cause_category else "",
                action.root_cause,
            )
            if part
        )
        result.append(
            {
                "number": action.number,
                "title": action.title,
                "target": target,
                "status_label": str(action.get_status_display()),
                "department": action.owner_department.label,
                "done_at": f"{action.done_at:%Y-%m-%d}" if action.done_at else "",
                "window_days": evaluation.window_days,
                "shortened": evaluation.shortened,
                "before": evaluation.before.as_dict(),
                "after": evaluation.after.as_dict(),
                "complaints_change": evaluation.complaints_change,
                "url": reverse("improvement:detail", args=[action.pk]),
            }
        )
    return result


# --- cost of quality -------------------------------------------------------------------------------


def _granted(period: Period, cuts: Cuts = NO_CUTS) -> Any:
    return Solution.objects.filter(complaint__in=cohort(period, cuts), status__in=GRANTED).annotate(
        measures_text=Cast("measures", TextField())
    )


# What each cost figure counts, by the name its drill-down carries: the compensation amount and the
# number of solutions with one; solutions with a refund; with a replacement; all granted solutions.
COST_MEASURES = ("compensation", "refund", "replacement", "solution")
COST_GROUPS = ("department", "model", "cause")
NO_KEY = "none"  # the group of solutions without a department / model / cause


def _measure_q(measure: str) -> Q:
    if measure == "compensation":
        return Q(compensation_amount__gt=0)
    if measure == "refund":
        return Q(measures_text__contains=f'"{Measure.RETURN_REFUND.value}"')
    if measure == "replacement":
        return Q(measures_text__contains=f'"{Measure.REPLACEMENT.value}"')
    if measure == "solution":
        return Q()
    raise ValueError(measure)


def cost_solutions(period: Period, cuts: Cuts, measure: str, group: str = "", key: int | None = None) -> Any:
    """The granted solutions behind one cost figure: `measure` of the period (with the cuts), in one
    group (`cost_of_quality`'s department, model or cause row; key None: the row without one). The
    drill-down lists their complaints, and their count and sum are the figure."""
    solutions = _granted(period, cuts).filter(_measure_q(measure))
    if group == "department":
        return solutions.filter(complaint__department_id=key)
    if group == "model":
        return solutions.filter(complaint__product_id=key)
    if group == "cause":
        return solutions.annotate(cause_key=_complaint_cause()).filter(cause_key=key)
    if group:
        raise ValueError(group)
    return solutions


def cost_figure(solutions: Any) -> dict[str, Any]:
    """The count and the compensation sum of some granted solutions (one aggregate)."""
    row = solutions.aggregate(
        count=Count("pk"),
        compensation=Coalesce(
            Sum("compensation_amount"), Value(Decimal("0")), output_field=DecimalField(max_digits=14, decimal_places=2)
        ),
    )
    return {"count": row["count"], "compensation": float(row["compensation"] or 0)}


def _cost_aggregates() -> dict[str, Any]:
    return {
        "compensation": Coalesce(
            Sum("compensation_amount"), Value(Decimal("0")), output_field=DecimalField(max_digits=14, decimal_places=2)
        ),
        "compensations": Count("pk", filter=Q(compensation_amount__gt=0)),
        "refunds": Count("pk", filter=Q(measures_text__contains=f'"{Measure.RETURN_REFUND.value}"')),
        "replacements": Count("pk", filter=Q(measures_text__contains=f'"{Measure.REPLACEMENT.value}"')),
        "solutions": Count("pk"),
    }


def _cost_row(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "compensation": float(row["compensation"] or 0),
        "compensations": row["compensations"],
        "refunds": row["refunds"],
        "replacements": row["replacements"],
        "solutions": row["solutions"],
    }


def _complaint_cause() -> Subquery:
    """A solution's root-cause category: the top-level category of its complaint's first categorised
    feedback form (one cause per complaint, so that no amount is counted twice)."""
    forms = FeedbackForm.objects.filter(complaint_id=OuterRef("complaint_id"), cause_category__isnull=False)
    return Subquery(forms.order_by("pk").values(top=Coalesce("cause_category__parent_id", "cause_category_id"))[:1])


def cost_of_quality(period: Period, months: list[Period], cuts: Cuts = NO_CUTS) -> dict[str, Any]:
    """Compensation, refunds and replacements of the granted solutions: the period's total; by month over
    `months`; by department, model and root-cause category for the period (with the cuts: the
    dashboard's). Five grouped queries and three for the names."""
    total = _cost_row(_granted(period, cuts).aggregate(**_cost_aggregates()))
    whole = Period(months[0].start, months[-1].end)
    by_month_rows = (
        _granted(whole, cuts)
        .values(month=month_label("complaint__received_at", months))
        .order_by()
        .annotate(**_cost_aggregates())
    )
    by_month = {row["month"]: _cost_row(row) for row in by_month_rows}
    empty = _cost_row({"compensation": 0, "compensations": 0, "refunds": 0, "replacements": 0, "solutions": 0})

    def grouped(field: Any, labels: dict[Any, str]) -> list[dict[str, Any]]:
        rows = _granted(period, cuts).values(key=field).order_by().annotate(**_cost_aggregates())
        out = [{"key": row["key"], "label": labels.get(row["key"]) or "—", **_cost_row(row)} for row in rows]
        out.sort(key=lambda r: (-r["compensation"], -r["solutions"], r["label"]))
        return out

    department_ids = _granted(period, cuts).values_list("complaint__department_id", flat=True).distinct()
    departments = {d.pk: d.label for d in Department.objects.filter(pk__in=department_ids)}
    product_ids = _granted(period, cuts).values_list("complaint__product_id", flat=True).distinct()
    products = {p.pk: str(p) for p in Product.objects.filter(pk__in=product_ids)}
    causes = {c.pk: c.label for c in CauseCategory.objects.filter(parent__isnull=True)}
    return {
        "total": total,
        "by_month": [{"label": p.label, **by_month.get(p.label, empty)} for p in months],
        "by_department": grouped(F("complaint__department_id"), departments),
        "by_model": grouped(F("complaint__product_id"), products),
        "by_cause": grouped(_complaint_cause(), causes),
    }
