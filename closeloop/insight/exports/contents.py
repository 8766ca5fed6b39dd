"""What the analysis report (分析统计报告) says, as plain JSON-able data.

`report_contents` gathers every figure of the report for one period — each one a grouped SQL aggregate
from `insight.kpis` / `insight.figures` — together with the previous period for comparison, and writes the
short summary of what changed most. The PDF is drawn from this dict alone and `Report.figures` keeps it,
so the JSON API, the desk and the PDF show the same numbers, the ones the approvers saw.

`kpi_pivots` gives the KPIs grouped by department, type, product, region or city for the summary table's pivot
sheets, one grouped aggregate per KPI base.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Count, Expression, F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone, translation

from closeloop.calendar.working import WorkingCalendar
from closeloop.complaints.lifecycle import OPEN_STATUSES, Status
from closeloop.defects.selectors import incidents_during
from closeloop.directory.models import ComplaintType, Department, Product
from closeloop.improvement.selectors import actions_overview
from closeloop.insight import analysis
from closeloop.insight import figures as dist
from closeloop.insight.exports.labels import DIMENSION_NAMES, is_english, kpi_name, word
from closeloop.insight.kpis import (
    BASES,
    NO_CUTS,
    SPECS,
    Figure,
    Kpi,
    Period,
    breaches_by_department,
    breaches_by_handler,
    cohort,
    kpi_by_month,
    kpi_figures,
    kpi_table,
    local_zone,
    rate,
    response_times,
    targets,
)

CONTENTS_VERSION = 2
TREND_MONTHS = 12  # months before this one: the 12-month trend and the same month last year
TOP = 10  # rows of a distribution kept before "other"
LIST_LIMIT = 20  # rows of the repeat / overdue / suggestion lists
# The summary leaves out KPI moves on fewer than this many cases in either period: noise, not change.
SUMMARY_MIN_DENOMINATOR = 5
SUMMARY_CHANGES = 3


# --- small helpers ---------------------------------------------------------------------------------


def local_iso(value: datetime.datetime | None) -> str | None:
    """A stored instant as local time, to the minute (what a reader of the report expects)."""
    if value is None:
        return None
    return timezone.localtime(value, local_zone()).strftime("%Y-%m-%d %H:%M")


def _float(value: Decimal | float | None) -> float | None:
    return float(value) if value is not None else None


def _person(first: str | None, last: str | None, username: str | None) -> str:
    full = f"{first or ''} {last or ''}".strip()
    return full or (username or "")


def _slices(slices: Iterable[dist.Slice], language: str) -> list[dict[str, Any]]:
    """Slices as dicts, the catch-all keys labelled in the document's own words."""
    out = []
    for s in slices:
        label = s.label
        if s.key in (None, ""):
            label = word("not_given", language)
        elif s.key == "_other":
            label = word("other", language)
        out.append({"key": s.key, "label": label, "count": s.count})
    return out


def _figures_dict(figures: dict[Kpi, Figure]) -> dict[str, dict[str, Any]]:
    return {str(kpi): figure.as_dict() for kpi, figure in figures.items()}


# --- KPI pivots (summary table) ---------------------------------------------------------------------


PIVOT_DIMENSIONS = ("department", "type", "product", "region", "city")


def _pivot_expression(dimension: str, base: str) -> Expression | F:
    prefix = "" if base == "complaint" else "complaint__"
    if dimension == "department":
        # A department task counts for its own department (as in kpi_table); the rest for the
        # complaint's responsible department.
        return F("department_id") if base in ("complaint", "task") else F(f"{prefix}department_id")
    if dimension == "type":
        return Coalesce(f"{prefix}type__parent_id", f"{prefix}type_id")
    if dimension == "product":
        return F(f"{prefix}product_id")
    if dimension == "region":
        return F(f"{prefix}province")
    if dimension == "city":
        return F(f"{prefix}city")
    raise ValueError(dimension)


def _pivot_labels(dimension: str, keys: list[Any], language: str) -> dict[Any, str]:
    with translation.override(language):
        if dimension == "department":
            return {d.pk: d.label for d in Department.objects.filter(pk__in=[k for k in keys if k is not None])}
        if dimension == "type":
            return {t.pk: t.label for t in ComplaintType.objects.filter(pk__in=[k for k in keys if k is not None])}
        if dimension == "product":
            return {p.pk: str(p) for p in Product.objects.filter(pk__in=[k for k in keys if k is not None])}
    return {k: k for k in keys if k}


def kpi_pivots(
    period: Period,
    *,
    now: datetime.datetime,
    language: str,
    goal: dict[str, Decimal] | None = None,
    dimensions: tuple[str, ...] = PIVOT_DIMENSIONS,
) -> dict[str, list[dict[str, Any]]]:
    """Per dimension, per value: complaints (all / open / resolved) and every KPI's figure. One grouped
    aggregate per KPI base for all the dimensions together (four queries), grouped by every dimension at
    once and summed per dimension here — each counted row has one value of each dimension, so the sums are
    the counts a query per dimension would give, for a fifth of the scans — plus one query per label table."""
    unknown_dimension = set(dimensions) - set(PIVOT_DIMENSIONS)
    if unknown_dimension:
        raise ValueError(unknown_dimension)
    goal = targets() if goal is None else goal
    grouped: dict[str, list[Kpi]] = {}
    for kpi, spec in SPECS.items():
        grouped.setdefault(spec.base, []).append(kpi)
    tables: dict[str, dict[Any, dict[str, Any]]] = {dimension: {} for dimension in dimensions}
    for base_name, members in grouped.items():
        base = BASES[base_name]
        counts: dict[str, Any] = {}
        for kpi in members:
            spec = SPECS[kpi]
            counts[f"{kpi}__num"] = Count("pk", distinct=True, filter=spec.denominator(now) & spec.numerator(now))
            counts[f"{kpi}__den"] = Count("pk", distinct=True, filter=spec.denominator(now))
        if base_name == "complaint":
            counts["complaints"] = Count("pk", distinct=True)
            counts["open"] = Count("pk", distinct=True, filter=Q(status__in=OPEN_STATUSES))
            counts["resolved"] = Count("pk", distinct=True, filter=Q(resolved_at__isnull=False))
        keys = {f"group_{dimension}": _pivot_expression(dimension, base_name) for dimension in dimensions}
        qs = base.queryset(period, NO_CUTS, now).values(**keys).order_by()
        for row in qs.annotate(**counts):
            for dimension in dimensions:
                key = row[f"group_{dimension}"]
                entry = tables[dimension].setdefault(
                    key, {"key": key, "complaints": 0, "open": 0, "resolved": 0, "sums": {}}
                )
                for name in ("complaints", "open", "resolved"):
                    if name in row:
                        entry[name] += row[name]
                for kpi in members:
                    num, den = entry["sums"].get(kpi, (0, 0))
                    entry["sums"][kpi] = (num + row[f"{kpi}__num"], den + row[f"{kpi}__den"])
    result: dict[str, list[dict[str, Any]]] = {}
    for dimension, rows in tables.items():
        labels = _pivot_labels(dimension, list(rows), language)
        unknown = word("not_in_catalogue" if dimension == "product" else "not_given", language)
        entries = []
        for key, entry in rows.items():
            sums = entry.pop("sums")
            entry["kpis"] = {str(kpi): Figure(kpi, num, den, goal.get(kpi)) for kpi, (num, den) in sums.items()}
            entry["label"] = labels.get(key) or unknown
            entries.append(entry)
        entries.sort(key=lambda e: (-e["complaints"], e["label"]))
        result[dimension] = entries
    return result


def kpi_pivot(
    period: Period, dimension: str, *, now: datetime.datetime, language: str, goal: dict[str, Decimal] | None = None
) -> list[dict[str, Any]]:
    """One dimension's rows of `kpi_pivots`."""
    if dimension not in PIVOT_DIMENSIONS:
        raise ValueError(dimension)
    return kpi_pivots(period, now=now, language=language, goal=goal, dimensions=(dimension,))[dimension]


# --- the analysis report's contents -----------------------------------------------------------------


def _pct_change(current: int, previous: int) -> float | None:
    if not previous:
        return None
    return round((current - previous) * 100 / previous, 1)


def _department_labels(ids: Iterable[Any]) -> dict[Any, str]:
    return {d.pk: d.label for d in Department.objects.filter(pk__in=[i for i in ids if i is not None])}


def _user_labels(ids: Iterable[Any]) -> dict[Any, str]:
    users = get_user_model().objects.filter(pk__in=[i for i in ids if i is not None])
    return {
        u["pk"]: _person(u["first_name"], u["last_name"], u["username"])
        for u in users.values("pk", "first_name", "last_name", "username")
    }


LIST_FIELDS = ("pk", "number", "received_at", "status", "next_due_at", "department__name", "department__name_en")


def _complaint_item(row: dict[str, Any], english: bool) -> dict[str, Any]:
    return {
        "id": row["pk"],
        "number": row["number"],
        "received_at": local_iso(row["received_at"]),
        "status": str(Status(row["status"]).label) if row["status"] in Status.values else row["status"],
        "department": (row.get("department__name_en") if english else None) or row.get("department__name") or "—",
        "next_due_at": local_iso(row.get("next_due_at")),
        "repeat_of": row.get("repeat_of__number"),
    }


def _improvement_actions(period: Period, now: datetime.datetime, english: bool) -> dict[str, Any]:
    """Open improvement actions and their status."""
    start, end = period.bounds
    overview = actions_overview(start=start, end=end)
    labels = overview.status_labels
    return {
        "available": True,
        "by_status": [
            {"status": s, "label": labels.get(s, s), "count": overview.open_by_status.get(s, 0)}
            for s in labels
            if s in overview.open_by_status
        ],
        "created": overview.created,
        "done": overview.done,
        "verified": overview.verified,
        "items": [
            {
                "number": row["number"],
                "title": row["title"],
                "status": row["status"],
                "status_label": labels.get(row["status"], row["status"]),
                "due_at": local_iso(row["due_at"]),
                "overdue": bool(row["due_at"] and row["done_at"] is None and row["due_at"] < now),
                "department": (row["owner_department__name_en"] if english else None)
                or row["owner_department__name"]
                or "",
                "owner": _person(row["owner__first_name"], row["owner__last_name"], row["owner__username"]),
            }
            for row in overview.open_rows
        ],
    }


def _defect_incidents(period: Period) -> dict[str, Any]:
    """Incidents open at any time during the period (opened before its end, not closed before its start)."""
    start, end = period.bounds
    overview = incidents_during(start=start, end=end)
    labels = overview.status_labels
    return {
        "available": True,
        "count": overview.total,
        "items": [
            {
                "number": row["number"],
                "title": row["title"],
                "status": row["status"],
                "status_label": labels.get(row["status"], row["status"]),
                "model": row["product__model"] or "",
                "batch": row["batch_no"] or "",
                "opened_at": local_iso(row["opened_at"]),
                "remedy_applied_at": local_iso(row["remedy_applied_at"]),
                "closed_at": local_iso(row["closed_at"]),
                "complaints": row["grouped"],
            }
            for row in overview.rows
        ],
    }


def _trend_of(by_month: dict[str, dict[Kpi, Figure]], months: list[Period]) -> dict[str, list[dict[str, Any]]]:
    return {
        str(kpi): [
            {
                "label": p.label,
                "rate": _float(by_month[p.label][kpi].rate),
                "numerator": by_month[p.label][kpi].numerator,
                "denominator": by_month[p.label][kpi].denominator,
            }
            for p in months
        ]
        for kpi in Kpi
    }


def _comparison_note(comparison: analysis.Comparison, language: str) -> str:
    """What the figures are set against, in a sentence the report prints (the caveat of a month to date)."""
    previous, year_ago = comparison.previous, comparison.year_ago
    if comparison.working_days is not None:
        if is_english(language):
            return (
                f"Month to date: compared with the same number of working days ({comparison.working_days}) from the "
                f"start of the previous month ({previous.start} – {previous.end}) and of the same month last year "
                f"({year_ago.start} – {year_ago.end}), not with whole months."
            )
        return (
            f"本报告为月初至今的累计数据：与上月同样的 {comparison.working_days} 个工作日（{previous.start} 至 "
            f"{previous.end}）及去年同月同样的工作日（{year_ago.start} 至 {year_ago.end}）比较，而非与整月比较。"
        )
    if is_english(language):
        return f"Compared with the previous period ({previous.label}) and the same period last year ({year_ago.label})."
    return f"环比对象为上期（{previous.label}），同比对象为去年同期（{year_ago.label}）。"


def _pareto(causes: list[dist.Slice], language: str) -> list[dict[str, Any]]:
    total = sum(s.count for s in causes)
    cumulative, pareto = 0, []
    for s in causes:
        cumulative += s.count
        label = word("uncategorised", language) if s.key == dist.UNCATEGORISED else s.label
        pareto.append(
            {"key": s.key, "label": label, "count": s.count, "cumulative_pct": round(cumulative * 100 / total, 1)}
        )
    return pareto


def report_contents(
    period: Period,
    *,
    now: datetime.datetime | None = None,
    language: str,
    calendar: WorkingCalendar | None = None,
) -> dict[str, Any]:
    """Every figure of the analysis report for the period, set against the comparison periods."""
    now = now or timezone.now()
    english = is_english(language)
    comparison = analysis.comparison_for(period, calendar or analysis.default_calendar())
    previous, year_ago = comparison.previous, comparison.year_ago
    # Thirteen months up to the period's own: the 12-month trend, and the same month last year.
    months = Period.month_of(period.end).previous_months(TREND_MONTHS)
    with translation.override(language):
        goal = targets()
        by_month = kpi_by_month(months, now=now, with_targets=goal)
        month_volumes = dict(dist.volume_by_month(months))
        if period.is_month:
            kpis_now = by_month[period.label]
            kpis_before = by_month[previous.label]
            kpis_year_ago = by_month[year_ago.label]
            current_total = month_volumes[period.label]
            previous_total = month_volumes[previous.label]
            year_ago_total = month_volumes[year_ago.label]
        else:
            kpis_now = kpi_figures(period, now=now, with_targets=goal)
            kpis_before = kpi_figures(previous, now=now, with_targets=goal)
            kpis_year_ago = kpi_figures(year_ago, now=now, with_targets=goal)
            current_total, previous_total, year_ago_total = (cohort(p).count() for p in (period, previous, year_ago))
        trend_months = months[1:]
        distributions: dict[str, dict[str, Any]] = {}
        for dimension in ("type", "product_line", "product", "province", "city", "channel"):
            limit = TOP if dimension in ("product", "city") else None
            now_slices = dist.distribution(period, dimension, limit=limit)
            entry: dict[str, Any] = {"current": _slices(now_slices, language)}
            if dimension in DIMENSION_NAMES:
                entry["previous"] = _slices(dist.distribution(previous, dimension), language)
            distributions[dimension] = entry
        by_department = kpi_table(period, "department", now=now)
        by_handler = kpi_table(period, "handler", now=now)
        department_labels = _department_labels(by_department)
        handler_labels = _user_labels(by_handler)
        department_league = analysis.league(
            by_department,
            kpi_table(previous, "department", now=now),
            labels=department_labels,
            breaches={row["department"]: row["breaches"] for row in breaches_by_department(period)},
            rank_by=Kpi.TIMELY_PROCESSING,
            kpis=analysis.DEPARTMENT_KPIS,
        )
        handler_league = analysis.league(
            by_handler,
            kpi_table(previous, "handler", now=now),
            labels=handler_labels,
            breaches=breaches_by_handler(period),
            rank_by=Kpi.TIMELY_REPLY,
            kpis=analysis.HANDLER_KPIS,
        )
        department_rows = [
            {
                "key": row["key"],
                "label": row["label"],
                "complaints": row["complaints"],
                "figures": _figures_dict(by_department[row["key"]]),
            }
            for row in department_league
        ]
        handler_rows = [
            {"key": row["key"], "label": row["label"], "figures": _figures_dict(by_handler[row["key"]])}
            for row in handler_league
        ]

        pareto = _pareto(dist.cause_pareto(period), language)
        cause_details = dist.cause_details(period)

        repeat_rows = list(
            cohort(period)
            .filter(repeat_of__isnull=False)
            .order_by("-received_at", "-pk")
            .values(*LIST_FIELDS, "repeat_of__number")[:LIST_LIMIT]
        )
        overdue_qs = cohort(period).filter(next_due_at__lt=now)
        overdue_rows = list(overdue_qs.order_by("next_due_at", "pk").values(*LIST_FIELDS)[:LIST_LIMIT])
        suggestions = dist.suggestions(period, limit=LIST_LIMIT)
        satisfaction = _slices(dist.satisfaction_distribution(period), language)
        times = [t.as_dict() for t in response_times(period)]
        actions = _improvement_actions(period, now, english)
        incidents = _defect_incidents(period)
        top_issues = analysis.top_issues(period)
        action_effects = analysis.actions_with_effect(period)
        cost = analysis.cost_of_quality(period, trend_months)

    contents: dict[str, Any] = {
        "version": CONTENTS_VERSION,
        "language": language,
        "period": {**period.as_dict(), "label": period.label},
        "previous": {**previous.as_dict(), "label": previous.label},
        "year_ago": {**year_ago.as_dict(), "label": year_ago.label},
        "comparison": {**comparison.as_dict(), "note": _comparison_note(comparison, language)},
        "as_of": local_iso(now),
        "volume": {
            "current": current_total,
            "previous": previous_total,
            "change": current_total - previous_total,
            "change_pct": _pct_change(current_total, previous_total),
            "year_ago": year_ago_total,
            "yoy_change": current_total - year_ago_total,
            "yoy_change_pct": _pct_change(current_total, year_ago_total),
            "trend": [{"label": p.label, "count": month_volumes.get(p.label, 0)} for p in trend_months],
        },
        "distributions": distributions,
        "root_causes": pareto,
        "cause_details": cause_details,
        "kpis": {
            "current": _figures_dict(kpis_now),
            "previous": _figures_dict(kpis_before),
            "year_ago": _figures_dict(kpis_year_ago),
            "trend": _trend_of(by_month, trend_months),
        },
        "kpi_by_department": department_rows,
        "kpi_by_handler": handler_rows,
        "league": {"departments": department_league, "handlers": handler_league},
        "top_issues": top_issues,
        "action_effects": action_effects,
        "cost": cost,
        "response_times": times,
        "satisfaction": satisfaction,
        "repeat": {
            "count": kpis_now[Kpi.REPEAT].numerator if Kpi.REPEAT in kpis_now else len(repeat_rows),
            "items": [_complaint_item(row, english) for row in repeat_rows],
        },
        "overdue": {
            "count": overdue_qs.count(),
            "items": [_complaint_item(row, english) for row in overdue_rows],
        },
        "improvement_actions": actions,
        "suggestions": [
            {
                "source": s["source"],
                "complaint": s["complaint"],
                "text": s["text"],
                "at": local_iso(s["at"]),
            }
            for s in suggestions
        ],
        "defect_incidents": incidents,
        # Written by the CS supervisor when reviewing (prefilled with the summary); see report_review.
        "conclusions": {"text": "", "author": "", "at": None},
    }
    contents["summary"] = summary_of(contents, language=language)
    return contents


# --- the generated summary --------------------------------------------------------------------------


def _fmt_pct(value: float) -> str:
    return f"{value:+.1f}%"


def _volume_sentence(volume: dict[str, Any], language: str) -> str:
    return _previous_sentence(volume, language) + _year_ago_sentence(volume, language)


def _year_ago_sentence(volume: dict[str, Any], language: str) -> str:
    if "year_ago" not in volume:
        return ""
    before, change, pct = volume["year_ago"], volume["yoy_change"], volume["yoy_change_pct"]
    tail = f", {_fmt_pct(pct)}" if pct is not None else ""
    if is_english(language):
        if change == 0:
            return f" As many as in the same period last year ({before})."
        direction = "more" if change > 0 else "fewer"
        return f" Against the same period last year ({before}{tail}): {abs(change)} {direction}."
    if change == 0:
        return f"与去年同期（{before} 件）持平。"
    direction = "增加" if change > 0 else "减少"
    tail = f"，{_fmt_pct(pct)}" if pct is not None else ""
    return f"较去年同期（{before} 件）{direction} {abs(change)} 件{tail}。"


def _previous_sentence(volume: dict[str, Any], language: str) -> str:
    cur, prev, change, pct = volume["current"], volume["previous"], volume["change"], volume["change_pct"]
    if is_english(language):
        if change == 0:
            return f"{cur} valid complaints were received in the period, as many as in the previous period."
        direction = "more" if change > 0 else "fewer"
        tail = f", {_fmt_pct(pct)}" if pct is not None else ""
        return (
            f"{cur} valid complaints were received in the period, {abs(change)} {direction} than in the "
            f"previous period ({prev}{tail})."
        )
    if change == 0:
        return f"本期共受理有效投诉 {cur} 件，与上期持平。"
    direction = "增加" if change > 0 else "减少"
    tail = f"，{_fmt_pct(pct)}" if pct is not None else ""
    return f"本期共受理有效投诉 {cur} 件，较上期（{prev} 件）{direction} {abs(change)} 件{tail}。"


def _count_sentence(dimension: str, label: str, before: int, after: int, language: str) -> str:
    pct = _pct_change(after, before)
    if is_english(language):
        noun = {"type": "of type", "product_line": "about product line", "province": "from region"}[dimension]
        verb = "rose" if after > before else "fell"
        tail = f" ({_fmt_pct(pct)})" if pct is not None else ""
        return f"Complaints {noun} “{label}” {verb} from {before} to {after}{tail}."
    name = word(dimension, language, DIMENSION_NAMES)
    verb = "增至" if after > before else "降至"
    tail = f"（{_fmt_pct(pct)}）" if pct is not None else ""
    return f"{name}“{label}”的投诉由上期的 {before} 件{verb} {after} 件{tail}。"


def _kpi_sentence(kpi: str, before: float, after: float, language: str) -> str:
    delta = round(after - before, 1)
    name = kpi_name(kpi, language)
    if is_english(language):
        verb = "rose" if delta > 0 else "fell"
        return f"The {name.lower()} {verb} from {before:.1f}% to {after:.1f}% ({delta:+.1f} percentage points)."
    verb = "升至" if delta > 0 else "降至"
    return f"{name}由上期的 {before:.1f}% {verb} {after:.1f}%（{delta:+.1f} 个百分点）。"


def summary_of(contents: dict[str, Any], *, language: str) -> dict[str, Any]:
    """The headline on volume and the largest changes against the previous period, as sentences.

    Changes are made comparable as percentage points: a count's move as a share of the larger of the two
    periods' totals, a KPI's move as the difference of its rates (each on at least
    SUMMARY_MIN_DENOMINATOR cases in both periods)."""
    volume = contents["volume"]
    scale = max(volume["current"], volume["previous"], 1)
    candidates: list[tuple[float, str, dict[str, Any]]] = []
    for dimension in DIMENSION_NAMES:
        entry = contents["distributions"].get(dimension) or {}
        # "Not given" and "other" are no place or product anyone can act on.
        now_counts = {s["key"]: s for s in entry.get("current", []) if s["key"] not in ("_other", None, "")}
        before_counts = {s["key"]: s for s in entry.get("previous", []) if s["key"] not in ("_other", None, "")}
        for key in set(now_counts) | set(before_counts):
            after = now_counts.get(key, {}).get("count", 0)
            before = before_counts.get(key, {}).get("count", 0)
            if after == before:
                continue
            label = (now_counts.get(key) or before_counts.get(key) or {}).get("label") or str(key)
            score = abs(after - before) * 100 / scale
            candidates.append(
                (
                    score,
                    _count_sentence(dimension, label, before, after, language),
                    {"kind": dimension, "key": key, "label": label, "before": before, "after": after},
                )
            )
    for kpi, now_figure in contents["kpis"]["current"].items():
        before_figure = contents["kpis"]["previous"].get(kpi) or {}
        if now_figure["rate"] is None or before_figure.get("rate") is None:
            continue
        if min(now_figure["denominator"], before_figure["denominator"]) < SUMMARY_MIN_DENOMINATOR:
            continue
        delta = now_figure["rate"] - before_figure["rate"]
        if abs(delta) < 0.05:
            continue
        candidates.append(
            (
                abs(delta),
                _kpi_sentence(kpi, before_figure["rate"], now_figure["rate"], language),
                {"kind": "kpi", "key": kpi, "before": before_figure["rate"], "after": now_figure["rate"]},
            )
        )
    candidates.sort(key=lambda c: (-c[0], c[1]))
    top = candidates[:SUMMARY_CHANGES]
    return {
        "headline": _volume_sentence(volume, language),
        "changes": [sentence for _score, sentence, _data in top],
        "details": [{**data, "score": round(score, 2)} for score, _sentence, data in top],
    }


def rate_text(figure: dict[str, Any] | None) -> str:
    """`83.3% (5/6)`, or `— (0/0)` when there is nothing to count."""
    if not figure:
        return "—"
    value = figure.get("rate")
    shown = f"{value:.1f}%" if value is not None else "—"
    return f"{shown} ({figure['numerator']}/{figure['denominator']})"


__all__ = [
    "PIVOT_DIMENSIONS",
    "kpi_pivot",
    "kpi_pivots",
    "local_iso",
    "rate",
    "rate_text",
    "report_contents",
    "summary_of",
]
