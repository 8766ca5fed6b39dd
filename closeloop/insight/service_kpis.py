"""KPIs of service orders (售服单), cut by kind, beside the complaint's (kpis.py).

The base is the service orders received in the period (cancelled ones left out). One aggregate query
grouped by kind gives, per kind and in total:

- timely reply rate (售服单及时回复率): the orders' reply deadlines (`sla.Deadline`, milestone reply) met
  by their due instant (inclusive) over those met or already past their deadline — seed 004's "within
  two working days" read as for the complaint's tasks (kpis.py `_reply_counted`): an order not yet due is left out;
- timely processing rate: the same on the resolution clock;
- satisfaction rate: satisfied over followed up with an answer (satisfied or not satisfied);
- repeat rate: orders that repeat an earlier order or complaint, over all;
- cost: parts and labour (the cost of quality the monthly report reads).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, DecimalField, ExpressionWrapper, F, FilteredRelation, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from closeloop.core.rates import rate
from closeloop.insight.kpis import Period
from closeloop.serviceorders.lifecycle import Kind, ServiceStatus
from closeloop.serviceorders.models import FollowUpResult, PartUsed, ServiceOrder
from closeloop.sla.milestones import Milestone

SERVICE_KPIS = {
    "timely_reply": _("service orders' timely reply rate (售服单及时回复率)"),
    "timely_processing": _("service orders' timely processing rate"),
    "satisfaction": _("service orders' satisfaction rate"),
    "repeat": _("service orders' repeat rate"),
}


@dataclass
class KindFigures:
    kind: str
    label: str
    orders: int
    counts: dict[str, tuple[int, int]]
    parts_cost: Decimal
    labour_cost: Decimal

    def rate(self, kpi: str) -> Decimal | None:
        return rate(*self.counts[kpi])

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "label": self.label,
            "orders": self.orders,
            "kpis": {
                kpi: {
                    "label": str(SERVICE_KPIS[kpi]),
                    "numerator": num,
                    "denominator": den,
                    "rate": float(r) if (r := rate(num, den)) is not None else None,
                }
                for kpi, (num, den) in self.counts.items()
            },
            "parts_cost": str(self.parts_cost),
            "labour_cost": str(self.labour_cost),
        }


def _clock_counts(prefix: str, now: datetime.datetime) -> tuple[Q, Q]:
    met = Q(**{f"{prefix}__met_at__isnull": False, f"{prefix}__cancelled": False})
    on_time = met & Q(**{f"{prefix}__due_at__gte": F(f"{prefix}__met_at")})
    counted = met | Q(**{f"{prefix}__met_at__isnull": True, f"{prefix}__due_at__lt": now})
    return on_time, counted


def service_kpis(period: Period, *, now: datetime.datetime | None = None) -> list[KindFigures]:
    """Per kind (in the Kind order) and a last row "all", for orders received in the period."""
    now = now or timezone.now()
    start, end = period.bounds
    parts = (
        PartUsed.objects.filter(order=OuterRef("pk"))
        .values("order")
        .annotate(total=Sum(ExpressionWrapper(F("quantity") * F("unit_cost"), output_field=DecimalField())))
        .values("total")
    )
    base = (
        ServiceOrder.objects.filter(received_at__gte=start, received_at__lt=end)
        .exclude(status=ServiceStatus.CANCELLED)
        .annotate(
            rep=FilteredRelation("deadlines", condition=Q(deadlines__milestone=Milestone.REPLY)),
            res=FilteredRelation("deadlines", condition=Q(deadlines__milestone=Milestone.RESOLUTION)),
            parts_total=Coalesce(Subquery(parts), Decimal(0), output_field=DecimalField()),
        )
    )
    reply_on_time, reply_counted = _clock_counts("rep", now)
    res_on_time, res_counted = _clock_counts("res", now)
    answered = Q(followup_result__in=[FollowUpResult.SATISFIED, FollowUpResult.UNSATISFIED])
    rows = base.values("kind").annotate(
        orders=Count("pk", distinct=True),
        reply_num=Count("pk", distinct=True, filter=reply_on_time),
        reply_den=Count("pk", distinct=True, filter=reply_counted),
        res_num=Count("pk", distinct=True, filter=res_on_time),
        res_den=Count("pk", distinct=True, filter=res_counted),
        sat_num=Count("pk", distinct=True, filter=Q(followup_result=FollowUpResult.SATISFIED)),
        sat_den=Count("pk", distinct=True, filter=answered),
        rep_num=Count("pk", distinct=True, filter=Q(repeat_of__isnull=False) | Q(repeat_of_complaint__isnull=False)),
        parts_cost=Sum("parts_total"),
        labour_cost=Sum("labour_cost"),
    )
    by_kind = {row["kind"]: row for row in rows}
    figures = []
    total: dict[str, Any] = {}
    for kind in Kind:
        row = by_kind.get(kind.value, {})
        figures.append(_figures(kind.value, str(kind.label), row))
        for key, value in row.items():
            if key != "kind":
                total[key] = total.get(key, 0) + (value or 0)
    figures.append(_figures("all", str(_("all kinds")), total))
    return figures


def _figures(kind: str, label: str, row: dict[str, Any]) -> KindFigures:
    def pair(name: str, den: str | None = None) -> tuple[int, int]:
        return int(row.get(f"{name}_num") or 0), int(row.get(den or f"{name}_den") or 0)

    return KindFigures(
        kind=kind,
        label=label,
        orders=int(row.get("orders") or 0),
        counts={
            "timely_reply": pair("reply"),
            "timely_processing": pair("res"),
            "satisfaction": pair("sat"),
            "repeat": pair("rep", "orders"),
        },
        parts_cost=Decimal(row.get("parts_cost") or 0),
        labour_cost=Decimal(row.get("labour_cost") or 0),
    )
