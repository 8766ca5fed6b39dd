"""REST endpoints of the KPIs (kpis.md): the figures of a period with their counts, targets and links to
the complaints behind each numerator and denominator; the KPI tables by department and by handler; the
drill-down lists; and the targets.

Who may read them: the whole-company roles (management, CS supervisor, quality, auditor, admin) see the
whole company; a department manager sees their own departments only (the cuts are narrowed by
`kpis.scoped`, so a department outside the scope shows nothing); handlers and customer-service agents get
403 — they work complaints, the figures are for those who steer and audit the work. Changing a target
needs `insight.change_kpitarget` (management, admin).

The period is `month=YYYY-MM`, or `from` and `to` (local dates, both inclusive), or by default the current
month in the calendar's time zone. The cuts name things by their codes, as everywhere in the API:
department and product line and type codes, the product's model, the handler's username. A bad value is a
422 naming the query parameter. "Now" (what is already overdue) is the moment of the request.
"""

from __future__ import annotations

import datetime
import re
from decimal import Decimal
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from django.contrib.auth import get_user_model
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router
from ninja.errors import ValidationError as NinjaValidationError

from closeloop.complaints.api import _summary
from closeloop.complaints.models import Channel, Complaint
from closeloop.complaints.schemas import MAX_OFFSET, ComplaintPage, Text
from closeloop.complaints.selectors import complaints_visible_to
from closeloop.complaints.services import personal_data_access_record
from closeloop.core.api_responses import READ_ERRORS, WRITE_ERRORS, ErrorOut
from closeloop.core.api_since import UpdatedSince, updated_since
from closeloop.core.errors import PermissionDeniedError
from closeloop.core.schema import Schema
from closeloop.core.types import User
from closeloop.directory.models import ComplaintType, CustomerKind, Department, Product, ProductLine
from closeloop.directory.regions import province_standard
from closeloop.insight import kpis
from closeloop.insight.models import LOWER_IS_BETTER, Kpi, KpiTarget
from closeloop.insight.targets import kpi_targets_update
from closeloop.sla.milestones import Milestone

router = Router(tags=["kpis"])

# Dates outside these years are typos, and year 1 or 9999 would overflow the conversion to UTC.
FIRST_YEAR, LAST_YEAR = 2000, 2099
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


# --- request shapes --------------------------------------------------------------------------------


class KpiQuery(Schema):
    """The period and the cuts, shared by every KPI endpoint."""

    month: Text | None = Field(None, max_length=7, description="a calendar month, YYYY-MM (instead of from/to)")
    from_: datetime.date | None = Field(None, alias="from", description="first local date of the period")
    to: datetime.date | None = Field(None, description="last local date of the period (inclusive)")
    department: Text = Field("", max_length=40, description="department code (the responsible department)")
    handler: Text = Field("", max_length=150, description="the handler's username")
    product_line: Text = Field("", max_length=40, description="product line code")
    product: Text = Field("", max_length=60, description="product model")
    province: Text = Field("", max_length=30)
    channel: Channel | None = None
    type: Text = Field("", max_length=40, description="complaint type code; a parent type includes its children")
    priority: int | None = Field(None, ge=1, le=3, description="1 urgent, 2 important, 3 normal")
    customer_kind: CustomerKind | None = Field(None, description="complainant type")


class TableQuery(KpiQuery):
    group_by: Literal["department", "handler"] = "department"


class DrillQuery(KpiQuery):
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)


Percent = Annotated[Decimal, Field(ge=0, le=100, max_digits=4, decimal_places=1)]


class TargetsIn(Schema):
    targets: dict[Kpi, Percent] = Field(
        description='percent per KPI, e.g. {"timely_processing": 95.0}; KPIs not named keep their target'
    )


# --- response shapes -------------------------------------------------------------------------------


class PeriodOut(Schema):
    start: datetime.date
    end: datetime.date
    label: str


class LinksOut(Schema):
    numerator: str = Field(description="the complaints counted in the numerator")
    denominator: str = Field(description="the complaints counted in the denominator")


class KpiOut(Schema):
    kpi: Kpi
    label: str
    numerator: int
    denominator: int
    rate: float | None = Field(description="percent with one decimal; null when the denominator is 0")
    target: float | None
    lower_is_better: bool = Field(description="true for the repeat and reopen rates: the target is a ceiling")
    meets_target: bool | None
    links: LinksOut


class TimeOut(Schema):
    milestone: str
    label: str
    count: int = Field(description="complaints whose clock was met (the cohort's)")
    median_hours: float | None = Field(description="working hours, nearest rank")
    p90_hours: float | None = Field(description="working hours, nearest rank")


class BacklogOut(Schema):
    milestone: str
    label: str
    open: int
    overdue: int


class BreachOut(Schema):
    department: str | None = Field(description="department code (null: no responsible department)")
    label: str
    breaches: int


class KpisOut(Schema):
    period: PeriodOut
    cuts: dict[str, str | int] = Field(description="the cuts applied, as given")
    kpis: list[KpiOut]
    response_times: list[TimeOut]
    backlog: list[BacklogOut] = Field(description="open clocks now, per milestone (not limited to the period)")
    breaches: list[BreachOut] = Field(description="deadlines breached in the period, per department owing them")


class RowOut(Schema):
    key: str | None = Field(description="department code or handler username")
    label: str
    kpis: list[KpiOut]


class TableOut(Schema):
    period: PeriodOut
    cuts: dict[str, str | int]
    group_by: str
    rows: list[RowOut]


class KpiTargetOut(Schema):
    kpi: Kpi
    label: str
    target: float | None
    lower_is_better: bool
    updated_at: datetime.datetime | None
    updated_by: str | None


# --- parsing ---------------------------------------------------------------------------------------


def _invalid(field: str, message: str) -> NinjaValidationError:
    return NinjaValidationError([{"loc": ["query", field], "msg": message, "type": "value_error"}])


def _check_year(day: datetime.date, field: str) -> None:
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise _invalid(
            field, _("Give a date between %(first)d and %(last)d.") % {"first": FIRST_YEAR, "last": LAST_YEAR}
        )


def period_from(query: KpiQuery) -> kpis.Period:
    """The period the query names; the current local month when it names none."""
    if query.month:
        if query.from_ is not None or query.to is not None:
            raise _invalid("month", _("Give either a month or from/to, not both."))
        match = _MONTH.match(query.month)
        if not match or not 1 <= int(match.group(2)) <= 12:
            raise _invalid("month", _("Give the month as YYYY-MM, e.g. 2026-10."))
        year, month = int(match.group(1)), int(match.group(2))
        _check_year(datetime.date(year, month, 1), "month")
        return kpis.Period.month(year, month)
    if query.from_ is None and query.to is None:
        return kpis.Period.month_of(timezone.localdate())
    if query.from_ is None:
        raise _invalid("from", _("Give the first date of the period too."))
    if query.to is None:
        raise _invalid("to", _("Give the last date of the period too."))
    _check_year(query.from_, "from")
    _check_year(query.to, "to")
    if query.to < query.from_:
        raise _invalid("to", _("The period ends before it starts."))
    return kpis.Period(query.from_, query.to)


def cuts_from(query: KpiQuery) -> tuple[kpis.Cuts, dict[str, str | int]]:
    """The cuts the query names (codes resolved to ids, one small query per named cut), and the cuts as
    given, for the response and the links."""
    given: dict[str, str | int] = {}
    values: dict[str, Any] = {}

    def lookup(name: str, model: Any, **lookup_kwargs: Any) -> None:
        pk = model.objects.filter(**lookup_kwargs).values_list("pk", flat=True).first()
        if pk is None:
            raise _invalid(name, _("Nothing is known by this code."))
        values[name] = pk

    if query.department:
        lookup("department", Department, code=query.department)
    if query.handler:
        lookup("handler", get_user_model(), username=query.handler)
    if query.product_line:
        lookup("product_line", ProductLine, code=query.product_line)
    if query.product:
        lookup("product", Product, model__iexact=query.product)
    if query.type:
        lookup("type", ComplaintType, code=query.type)
    for name in ("department", "handler", "product_line", "product", "type"):
        if getattr(query, name):
            given[name] = getattr(query, name)
    if query.province:
        values["province"] = given["province"] = province_standard(query.province)
    if query.channel is not None:
        values["channel"] = given["channel"] = query.channel.value
    if query.priority is not None:
        values["priority"] = given["priority"] = query.priority
    if query.customer_kind is not None:
        values["customer_kind"] = given["customer_kind"] = query.customer_kind.value
    return kpis.Cuts(**values), given


def _viewer(request: HttpRequest) -> User:
    user: User = request.auth  # type: ignore[attr-defined]  # the user, put there by the API's authentication
    if not kpis.can_view_kpis(user):
        raise PermissionDeniedError(
            _("KPIs are for management, customer-service supervisors, quality, auditors and department managers.")
        )
    return user


def _query_string(period: kpis.Period, given: dict[str, str | int]) -> str:
    params: dict[str, str | int] = (
        {"month": period.label} if period.is_month else {"from": period.start.isoformat(), "to": period.end.isoformat()}
    )
    return urlencode({**params, **given})


def _kpi_out(figure: kpis.Figure, query_string: str) -> dict[str, Any]:
    links = {
        side: f"{reverse('api:kpi_complaints', kwargs={'kpi': str(figure.kpi), 'side': side})}?{query_string}"
        for side in ("numerator", "denominator")
    }
    return {**figure.as_dict(), "links": links}


def _milestone_label(code: str) -> str:
    return str(Milestone(code).label) if code in Milestone.values else code


# --- endpoints -------------------------------------------------------------------------------------


@router.get("/kpis", response={200: KpisOut, **READ_ERRORS}, summary="Every KPI of a period, with its counts")
def kpi_overview(request: HttpRequest, query: Query[KpiQuery]) -> dict[str, Any]:
    """Every KPI of a period with its numerator and denominator, response times, backlog and breaches by
    department (insight.view_kpis; department managers see their departments'). A period that does not parse
    is a 422."""
    user = _viewer(request)
    period = period_from(query)
    cuts, given = cuts_from(query)
    cuts = kpis.scoped(cuts, user)
    now = timezone.now()
    query_string = _query_string(period, given)
    figures = kpis.kpi_figures(period, cuts, now=now)
    breaches = kpis.breaches_by_department(period, cuts)
    departments = {
        d.pk: d for d in Department.objects.filter(pk__in=[b["department"] for b in breaches if b["department"]])
    }
    return {
        "period": {**period.as_dict(), "label": period.label},
        "cuts": given,
        "kpis": [_kpi_out(figure, query_string) for figure in figures.values()],
        "response_times": [
            {**t.as_dict(), "label": _milestone_label(t.milestone)} for t in kpis.response_times(period, cuts)
        ],
        "backlog": [{**row, "label": _milestone_label(row["milestone"])} for row in kpis.backlog(cuts, now=now)],
        "breaches": [
            {
                "department": departments[b["department"]].code if b["department"] in departments else None,
                "label": departments[b["department"]].label if b["department"] in departments else _("not given"),
                "breaches": b["breaches"],
            }
            for b in breaches
        ],
    }


@router.get("/kpis/table", response={200: TableOut, **READ_ERRORS}, summary="The KPI table by department or by handler")
def kpi_table(request: HttpRequest, query: Query[TableQuery]) -> dict[str, Any]:
    """The KPI table by department or by handler for a period (insight.view_kpis), each figure with the link to
    the complaints behind it."""
    user = _viewer(request)
    period = period_from(query)
    cuts, given = cuts_from(query)
    table = kpis.kpi_table(period, query.group_by, kpis.scoped(cuts, user))
    keys = [k for k in table if k is not None]
    names: dict[int | None, tuple[str | None, Any]]
    if query.group_by == "department":
        names = {d.pk: (d.code, d.label) for d in Department.objects.filter(pk__in=keys)}
    else:
        names = {
            u.pk: (u.get_username(), u.get_full_name() or u.get_username())
            for u in get_user_model().objects.filter(pk__in=keys)
        }
    rows = []
    for key, figures in table.items():
        code, label = names.get(key, (None, _("not given")))
        row_given = {**given, query.group_by: code} if code else given
        query_string = _query_string(period, row_given)
        rows.append({"key": code, "label": label, "kpis": [_kpi_out(f, query_string) for f in figures.values()]})
    rows.sort(key=lambda row: (row["key"] is None, row["label"]))
    return {
        "period": {**period.as_dict(), "label": period.label},
        "cuts": given,
        "group_by": query.group_by,
        "rows": rows,
    }


@router.get(
    "/kpis/{kpi}/{side}/complaints",
    response={200: ComplaintPage, **READ_ERRORS},
    summary="The complaints behind a KPI's numerator or denominator",
    url_name="kpi_complaints",
)
def kpi_complaints(
    request: HttpRequest,
    kpi: Kpi,
    side: Literal["numerator", "denominator"],
    query: Query[DrillQuery],
    since: Query[UpdatedSince],
) -> dict[str, Any]:
    """Paginated, oldest first; personal data masked as in the complaint list (and each unmasked page
    logged). A fixed number of queries whatever the size of the period."""
    user = _viewer(request)
    period = period_from(query)
    cuts, _given = cuts_from(query)
    behind = kpis.kpi_complaints(kpi, side, period, kpis.scoped(cuts, user))
    queryset = (
        updated_since(complaints_visible_to(user), since)
        .filter(pk__in=behind.values("pk"))
        .select_related("customer", "product", "type", "department")
        .order_by("received_at", "id")
    )
    page: list[Complaint] = list(queryset[query.offset : query.offset + query.limit])
    count = queryset.count()
    personal_data_access_record(user=user, complaints=page, where="api_kpi")
    return {"items": [_summary(c, user) for c in page], "count": count}


def _targets_out() -> list[dict[str, Any]]:
    rows = {t.kpi: t for t in KpiTarget.objects.select_related("updated_by")}
    out = []
    for kpi in Kpi:
        row = rows.get(kpi)
        out.append(
            {
                "kpi": kpi,
                "label": str(kpi.label),
                "target": float(row.target) if row is not None else None,
                "lower_is_better": kpi in LOWER_IS_BETTER,
                "updated_at": row.updated_at if row is not None else None,
                "updated_by": row.updated_by.get_username() if row is not None and row.updated_by else None,
            }
        )
    return out


@router.get("/kpi-targets", response={200: list[KpiTargetOut], **READ_ERRORS}, summary="The target of every KPI")
def kpi_target_list(request: HttpRequest, since: Query[UpdatedSince]) -> list[dict[str, Any]]:
    """A KPI without a target set has no `updated_at`: it is left out when `updated_since` is given."""
    _viewer(request)
    targets = _targets_out()
    if since.updated_since is None:
        return targets
    return [t for t in targets if t["updated_at"] is not None and t["updated_at"] >= since.updated_since]


@router.put(
    "/kpi-targets",
    response={200: list[KpiTargetOut], **WRITE_ERRORS, 403: ErrorOut},
    summary="Set the targets of some KPIs (needs insight.change_kpitarget)",
)
def kpi_target_update(request: HttpRequest, payload: TargetsIn) -> list[dict[str, Any]]:
    """Sets the targets of some KPIs (needs insight.change_kpitarget, 403 otherwise). A target outside 0–100 is a
    422 naming the KPI."""
    actor = request.auth  # type: ignore[attr-defined]  # the user, put there by the API's authentication
    kpi_targets_update(targets={str(k): v for k, v in payload.targets.items()}, actor=actor)
    return _targets_out()
