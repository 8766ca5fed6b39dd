"""`GET /kpis/service-orders`: the service orders' KPIs by kind for a month (closeloop/insight/service_kpis.py)."""

from __future__ import annotations

import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router

from closeloop import authz
from closeloop.core.api_responses import READ_ERRORS
from closeloop.core.schema import Schema
from closeloop.insight.kpis import Period
from closeloop.insight.service_kpis import service_kpis

router = Router(tags=["kpis"])


class ServiceKpiOut(Schema):
    label: str
    numerator: int
    denominator: int
    rate: float | None = Field(description="percent with one decimal; null when nothing is counted")


class ServiceKindFiguresOut(Schema):
    kind: str = Field(description='a kind of service order, or "all"')
    label: str
    orders: int
    kpis: dict[str, ServiceKpiOut] = Field(description="timely_reply, timely_processing, satisfaction, repeat")
    parts_cost: str
    labour_cost: str


class ServiceKpiQuery(Schema):
    month: str = Field("", pattern=r"^(\d{4}-\d{2})?$", description="YYYY-MM; default the current month")


@router.get(
    "/kpis/service-orders",
    response={200: list[ServiceKindFiguresOut], **READ_ERRORS},
    summary="Service orders' KPIs by kind",
    description="Timely reply (售服单及时回复率), timely processing, satisfaction and repeat rates and costs of the "
    "service orders received in the month, per kind and for all kinds.",
)
def kpis_service_orders(request: HttpRequest, query: Query[ServiceKpiQuery]) -> list[dict[str, Any]]:
    authz.require(request.auth, "insight.view_kpis")  # type: ignore[attr-defined]  # the API's user
    if query.month:
        year, month = (int(p) for p in query.month.split("-"))
        period = Period.month(year, min(max(month, 1), 12))
    else:
        period = Period.month_of(datetime.date.today())
    return [f.as_dict() for f in service_kpis(period)]
