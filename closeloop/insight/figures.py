"""The distributions behind the dashboard and the analysis report, each one grouped aggregate over the
cohort of `kpis.cohort` (complaints received in the period, without invalid and duplicate ones).

Labels are resolved here (one small query per dimension at most), so that the dashboard, the PDF and the
JSON API show the same words.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet
from django.db.models.functions import Coalesce, Trim, TruncDate
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from closeloop.complaints.lifecycle import NOT_COUNTED_STATUSES
from closeloop.complaints.models import Channel, Complaint, Priority
from closeloop.directory.models import CauseCategory, ComplaintType, CustomerKind, Department, Product, ProductLine
from closeloop.followup.models import FollowUp, SatisfactionLevel
from closeloop.handling.models import FeedbackForm, Task
from closeloop.insight.kpis import (
    BASES,
    NO_CUTS,
    Cuts,
    Period,
    _complaint_q,
    cohort,
    local_zone,
    month_label,
)

DIMENSIONS = ("type", "product_line", "product", "province", "channel", "priority", "customer_kind", "department")


@dataclass
class Slice:
    key: Any
    label: str
    count: int

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "label": self.label, "count": self.count}


def _english() -> bool:
    return (get_language() or "").startswith("en")


def _names(model: Any, ids: list[Any]) -> dict[Any, str]:
    rows = model.objects.filter(pk__in=[i for i in ids if i is not None])
    return {row.pk: str(row) for row in rows}


_GROUP_FIELDS = {
    # The top-level type, so that the chart shows 质量 / 服务 / 物流 … rather than every leaf.
    "type": "type__parent_id",
    "product_line": "product__line_id",
    "product": "product_id",
    "province": "province",
    "city": "city",
    "channel": "channel",
    "priority": "priority",
    "customer_kind": "customer__kind",
    "department": "department_id",
}


def distribution(period: Period, dimension: str, cuts: Cuts = NO_CUTS, *, limit: int | None = None) -> list[Slice]:
    """Cohort complaints per value of one dimension, largest first; the rest summed as "other"."""
    if dimension not in _GROUP_FIELDS:
        raise ValueError(dimension)
    qs = cohort(period, cuts)
    if dimension == "type":
        qs = qs.annotate(key=Coalesce("type__parent_id", "type_id"))
    else:
        qs = qs.annotate(key=F(_GROUP_FIELDS[dimension]))
    rows = list(qs.values("key").order_by().annotate(count=Count("pk")).order_by("-count", "key"))
    keys = [row["key"] for row in rows]
    labels: dict[Any, str]
    if dimension == "type":
        labels = _names(ComplaintType, keys)
    elif dimension == "product_line":
        labels = _names(ProductLine, keys)
    elif dimension == "product":
        labels = _names(Product, keys)
    elif dimension == "department":
        labels = _names(Department, keys)
    elif dimension == "channel":
        labels = {c.value: str(c.label) for c in Channel}
    elif dimension == "priority":
        labels = {p.value: str(p.label) for p in Priority}
    elif dimension == "customer_kind":
        labels = {k.value: str(k.label) for k in CustomerKind}
    else:
        labels = {}
    unknown = _("not given")
    slices = [Slice(row["key"], labels.get(row["key"]) or row["key"] or unknown, row["count"]) for row in rows]
    if limit is not None and len(slices) > limit:
        rest = sum(s.count for s in slices[limit - 1 :])
        slices = [*slices[: limit - 1], Slice("_other", _("other"), rest)]
    return slices


def volume_by_day(period: Period, cuts: Cuts = NO_CUTS) -> list[tuple[datetime.date, int]]:
    """Cohort complaints per local day, every day of the period present (zero when none)."""
    rows = (
        cohort(period, cuts)
        .annotate(day=TruncDate("received_at", tzinfo=local_zone()))
        .values("day")
        .order_by("day")
        .annotate(count=Count("pk"))
    )
    counts = {row["day"]: row["count"] for row in rows}
    days = (period.end - period.start).days + 1
    return [
        (period.start + datetime.timedelta(days=i), counts.get(period.start + datetime.timedelta(days=i), 0))
        for i in range(days)
    ]


def volume_by_month(periods: list[Period], cuts: Cuts = NO_CUTS) -> list[tuple[str, int]]:
    """Cohort complaints per month over consecutive months (oldest first), in one query."""
    whole = Period(periods[0].start, periods[-1].end)
    rows = (
        cohort(whole, cuts)
        .annotate(month=month_label("received_at", periods))
        .values("month")
        .order_by("month")
        .annotate(count=Count("pk"))
    )
    counts = {row["month"]: row["count"] for row in rows}
    return [(p.label, counts.get(p.label, 0)) for p in periods]


def root_causes(period: Period, cuts: Cuts = NO_CUTS, *, limit: int = 10) -> list[Slice]:
    """Root causes of the cohort's feedback forms (as written, trimmed), most frequent first: the Pareto.
    Free text has a long tail: past `limit`, "other" holds everything after the first limit - 1 causes."""
    causes = (
        FeedbackForm.objects.filter(complaint__in=cohort(period, cuts))
        .annotate(cause=Trim("root_cause"))
        .exclude(cause="")
    )
    rows = causes.values("cause").order_by().annotate(count=Count("pk")).order_by("-count", "cause")
    slices = [Slice(row["cause"], row["cause"], row["count"]) for row in rows[: limit + 1]]
    total = causes.count()
    if len(slices) > limit:
        shown = slices[: limit - 1]
        slices = [*shown, Slice("_other", _("other"), total - sum(s.count for s in shown))]
    return slices


UNCATEGORISED = "_uncategorised"


def _cause_forms(period: Period, cuts: Cuts) -> QuerySet[FeedbackForm]:
    """The cohort's feedback forms that name a root cause: by category, or by free text only."""
    return (
        FeedbackForm.objects.filter(complaint__in=cohort(period, cuts))
        .annotate(cause_text=Trim("root_cause"))
        .filter(Q(cause_category__isnull=False) | ~Q(cause_text=""))
    )


def cause_pareto(period: Period, cuts: Cuts = NO_CUTS) -> list[Slice]:
    """Feedback forms of the cohort per root-cause category (人、机、料、法、环、测 …, a sub-cause counted
    for its category), most frequent first; forms with a free-text cause but no category last, as
    "uncategorised" (the mapping screen assigns them). One grouped query and one for the names."""
    rows = list(
        _cause_forms(period, cuts)
        .annotate(key=Coalesce("cause_category__parent_id", "cause_category_id"))
        .values("key")
        .order_by()
        .annotate(count=Count("pk"))
    )
    # Every top-level category's name (a handful): one query whatever the rows, so the count stays fixed.
    labels = {c.pk: c.label for c in CauseCategory.objects.filter(parent__isnull=True)}
    slices = sorted(
        (Slice(row["key"], labels.get(row["key"], "?"), row["count"]) for row in rows if row["key"] is not None),
        key=lambda s: (-s.count, s.label),
    )
    rest = sum(row["count"] for row in rows if row["key"] is None)
    if rest:
        slices.append(Slice(UNCATEGORISED, _("uncategorised"), rest))
    return slices


def cause_details(period: Period, cuts: Cuts = NO_CUTS) -> list[dict[str, Any]]:
    """Feedback forms of the cohort per sub-cause (or per category when no sub-cause was chosen), most
    frequent first, each with its category: the table under the Pareto."""
    rows = list(
        _cause_forms(period, cuts)
        .filter(cause_category__isnull=False)
        .values("cause_category_id")
        .order_by()
        .annotate(count=Count("pk"))
    )
    categories = {
        c.pk: c
        for c in CauseCategory.objects.filter(pk__in=[r["cause_category_id"] for r in rows]).select_related("parent")
    }
    result = []
    for row in rows:
        category = categories[row["cause_category_id"]]
        top = category.parent or category
        result.append(
            {
                "key": category.pk,
                "category": top.pk,
                "category_label": top.label,
                "label": category.path_label,
                "count": row["count"],
            }
        )
    result.sort(key=lambda r: (-r["count"], r["label"]))
    return result


def satisfaction_distribution(period: Period, cuts: Cuts = NO_CUTS) -> list[Slice]:
    """Follow-ups completed in the period per satisfaction level (every level of the levels used, and of
    the active scale). The follow-ups are those the satisfaction rate counts, so the slices add up to
    its denominator."""
    qs = BASES["followup"].queryset(period, cuts, timezone.now())
    rows = {
        row["satisfaction_id"]: row["count"]
        for row in qs.values("satisfaction_id").order_by().annotate(count=Count("pk"))
    }
    english = _english()
    levels = SatisfactionLevel.objects.filter(Q(pk__in=list(rows)) | Q(scale__is_active=True)).order_by(
        "scale_id", "order"
    )
    return [Slice(level.code, level.label_en if english else level.label_zh, rows.get(level.pk, 0)) for level in levels]


def suggestions(period: Period, cuts: Cuts = NO_CUTS, *, limit: int = 20) -> list[dict[str, Any]]:
    """Improvement suggestions received in the period: from feedback forms and from follow-ups."""
    start, end = period.bounds
    scope = cohort(Period(datetime.date(1970, 1, 1), period.end), cuts)
    forms = (
        FeedbackForm.objects.filter(submitted_at__gte=start, submitted_at__lt=end, complaint__in=scope)
        .exclude(improvement_suggestion="")
        .order_by("-submitted_at")
        .values("complaint_id", "complaint__number", "improvement_suggestion", "submitted_at")[:limit]
    )
    calls = (
        FollowUp.objects.filter(completed_at__gte=start, completed_at__lt=end, complaint__in=scope)
        .exclude(suggestions="")
        .order_by("-completed_at")
        .values("complaint_id", "complaint__number", "suggestions", "completed_at")[:limit]
    )
    result: list[dict[str, Any]] = [
        {
            "source": "feedback_form",
            "complaint": f["complaint__number"],
            "complaint_id": f["complaint_id"],
            "text": f["improvement_suggestion"],
            "at": f["submitted_at"],
        }
        for f in forms
    ] + [
        {
            "source": "followup",
            "complaint": c["complaint__number"],
            "complaint_id": c["complaint_id"],
            "text": c["suggestions"],
            "at": c["completed_at"],
        }
        for c in calls
    ]
    result.sort(key=lambda row: row["at"], reverse=True)
    return result[:limit]


LIST_FIELDS = (
    "pk",
    "number",
    "received_at",
    "status",
    "priority",
    "department_id",
    "next_due_at",
    "next_warn_at",
    "repeat_of_id",
    "department__name",
    "department__name_en",
)


def _labelled(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Add the department's name in the active language (a page of rows, not the cohort)."""
    english = _english()
    for row in rows:
        row["department_label"] = (english and row["department__name_en"]) or row["department__name"] or ""
    return rows


def overdue_complaints(
    cuts: Cuts = NO_CUTS, *, now: datetime.datetime | None = None, limit: int = 20
) -> list[dict[str, Any]]:
    """Open complaints whose nearest deadline has passed, most overdue first (the queue's index)."""
    now = now or timezone.now()
    qs = Complaint.objects.filter(next_due_at__lt=now).exclude(status__in=NOT_COUNTED_STATUSES)
    qs = qs.filter(_complaint_q(cuts, ""))
    if cuts.handler is not None:
        qs = qs.filter(Exists(Task.objects.filter(complaint=OuterRef("pk"), handler_id=cuts.handler)))
    return _labelled(list(qs.order_by("next_due_at").values(*LIST_FIELDS)[:limit]))


def repeat_complaints(period: Period, cuts: Cuts = NO_CUTS, *, limit: int = 20) -> list[dict[str, Any]]:
    """Cohort complaints marked repeat, newest first."""
    return _labelled(
        list(
            cohort(period, cuts)
            .filter(repeat_of__isnull=False)
            .order_by("-received_at")
            .values(*LIST_FIELDS, "repeat_of__number")[:limit]
        )
    )
