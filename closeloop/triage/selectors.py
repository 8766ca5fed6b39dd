"""Reads of triage: the month's safety hazards (the basis of a recall decision) and how often agents
accepted the suggestions."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from closeloop.triage.models import HazardFlag, SuggestionOutcome, TriageModel


def month_bounds(month: str) -> tuple[datetime.datetime, datetime.datetime]:
    """'2026-12' → [first instant, first instant of the next month), local time. ValueError when malformed."""
    year, number = (int(p) for p in month.split("-"))
    start = datetime.datetime(year, number, 1, tzinfo=ZoneInfo(settings.TIME_ZONE))
    end = datetime.datetime(year + number // 12, number % 12 + 1, 1, tzinfo=ZoneInfo(settings.TIME_ZONE))
    return start, end


def this_month(now: datetime.datetime | None = None) -> str:
    return f"{timezone.localdate(now or timezone.now()):%Y-%m}"


def hazards_of_month(*, month: str) -> QuerySet[HazardFlag]:
    """The month's flags, newest first, with their complaint and product (one query; the flagged_at index)."""
    start, end = month_bounds(month)
    return (
        HazardFlag.objects.filter(flagged_at__gte=start, flagged_at__lt=end)
        .select_related("complaint", "complaint__product", "complaint__product__line")
        .order_by("-flagged_at", "-pk")
    )


@dataclass(frozen=True)
class HazardByProduct:
    model: str
    label: str
    count: int


def hazards_by_product(*, month: str) -> list[HazardByProduct]:
    """How many flags per model in the month, most first (aggregated in SQL)."""
    start, end = month_bounds(month)
    rows = (
        HazardFlag.objects.filter(flagged_at__gte=start, flagged_at__lt=end)
        .values("complaint__product__model", "complaint__product__name", "complaint__product_text")
        .annotate(n=Count("id"))
        .order_by("-n", "complaint__product__model")
    )
    return [
        HazardByProduct(
            r["complaint__product__model"] or "", r["complaint__product__name"] or r["complaint__product_text"], r["n"]
        )
        for r in rows
    ]


@dataclass(frozen=True)
class AcceptanceRow:
    field: str
    offered: int
    accepted: int

    @property
    def rate(self) -> float:
        return self.accepted / self.offered if self.offered else 0.0


def acceptance(*, days: int = 30, now: datetime.datetime | None = None) -> list[AcceptanceRow]:
    """Per field, suggestions offered at registration in the last `days` and how many were accepted."""
    since = (now or timezone.now()) - datetime.timedelta(days=days)
    rows = (
        SuggestionOutcome.objects.filter(at__gte=since)
        .values("field")
        .annotate(offered=Count("id"), accepted=Count("id", filter=Q(accepted=True)))
        .order_by("field")
    )
    return [AcceptanceRow(r["field"], r["offered"], r["accepted"]) for r in rows]


def models_recent(limit: int = 10) -> list[TriageModel]:
    """The latest trained versions, without their pickles."""
    return list(TriageModel.objects.defer("blob").order_by("-version")[:limit])
