"""The KPIs of kpis.md, computed by SQL aggregates.

Every KPI is a numerator over a denominator counted on one base record:

- complaints received in the period, leaving out invalid and duplicate ones (the cohort):
  timely processing, acknowledgement on time, communication, result reply, repeat and reopen rates;
- department tasks dispatched in the period: timely reply rate (及时回复率);
- follow-ups completed in the period with a rating: satisfaction rate;
- follow-up deadlines due in the period: follow-up on time.

`SPECS` holds, per KPI, the base queryset and the two conditions, and is the only place the formulas
are written: the figures (`kpi_figures`), the tables by department or handler (`kpi_table`) and the
drill-down lists behind each number (`kpi_complaints`) all read it. Each base is one aggregate query,
so a full set of KPIs costs four queries whatever the number of complaints.

Readings of kpis.md where it leaves room (docs/decisions.md has the list):

- A clock that is paused ("waiting for the customer", or a task waiting for information) is not running:
  an open clock paused *before* its deadline is "not yet due"; one paused *after* it is overdue; a clock
  met while paused counts as met at the moment the pause began. In SQL: overdue means
  `due_at < COALESCE(paused_at, now)` and on time means `COALESCE(paused_at, met_at) <= due_at`.
- "By the deadline" includes the deadline instant itself.
- A department task withdrawn or moved away before it replied was not the department's to answer: it
  counts nowhere (neither for the timely reply rate nor for the handler's complaints).
- The handler side of the communication rate is anyone who is a member of a department with a task on
  the complaint; the contact must have reached the complainant (a call nobody answered is no contact).
- The result reply rate's "final result" is in when at least one task replied and none is still open;
  a complaint reopened with a new task is not final until that task replies again.
- Follow-ups due in the period count once they have fallen due (or were done); a round ended
  "unreachable" after the configured attempts is done. The satisfaction rate counts the follow-ups
  completed in the period whatever month the complaint came in.
- Acknowledgement on time counts over the whole cohort, as written: a complaint not yet acknowledged
  counts as not on time even when its deadline has not passed. Complaints imported from a history
  (`imported_at`) are left out of it: they never had an acknowledgement clock.
- Cut by department, a complaint counts for its responsible department (`Complaint.department`, which a
  responsibility dispute moves) and a task for its own department; cut by handler, a complaint counts for
  every handler with a (not withdrawn) task on it.
"""

from __future__ import annotations

import calendar as pycalendar
import datetime
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields, replace
from decimal import Decimal
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import (
    Case,
    CharField,
    Count,
    DateTimeField,
    Exists,
    F,
    FilteredRelation,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Trim
from django.utils import timezone

from closeloop import authz
from closeloop.complaints.lifecycle import NOT_COUNTED_STATUSES
from closeloop.complaints.models import Complaint
from closeloop.core.rates import rate
from closeloop.directory.models import Membership
from closeloop.followup.models import FollowUp
from closeloop.handling.models import ContactLog, ContactOutcome, FeedbackForm, Task, TaskStatus
from closeloop.insight.models import LOWER_IS_BETTER, Kpi, KpiTarget
from closeloop.sla.milestones import Milestone
from closeloop.sla.models import Deadline

ACTIVE_TASKS = (TaskStatus.DISPATCHED, TaskStatus.NEEDS_INFO, TaskStatus.IN_PROGRESS, TaskStatus.CONTESTED)
# Tasks that were taken away from the department before it replied are not its responsibility.
WITHDRAWN_TASKS = (TaskStatus.CANCELLED, TaskStatus.MOVED)

T = TypeVar("T")


def local_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


# --- period and cuts -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """Local dates, both inclusive; the instants are the local midnights around them."""

    start: datetime.date
    end: datetime.date

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        last = pycalendar.monthrange(year, month)[1]
        return cls(datetime.date(year, month, 1), datetime.date(year, month, last))

    @classmethod
    def month_of(cls, day: datetime.date) -> Period:
        return cls.month(day.year, day.month)

    @property
    def is_month(self) -> bool:
        return self.start.day == 1 and self == Period.month_of(self.start)

    def previous(self) -> Period:
        """The month before (for a month), or the equally long period just before."""
        if self.is_month:
            return Period.month_of(self.start - datetime.timedelta(days=1))
        length = self.end - self.start
        end = self.start - datetime.timedelta(days=1)
        return Period(end - length, end)

    def previous_months(self, count: int) -> list[Period]:
        """This period and the `count` before it, oldest first."""
        periods = [self]
        for _ in range(count):
            periods.append(periods[-1].previous())
        return list(reversed(periods))

    @property
    def bounds(self) -> tuple[datetime.datetime, datetime.datetime]:
        zone = local_zone()
        start = datetime.datetime.combine(self.start, datetime.time.min, tzinfo=zone)
        end = datetime.datetime.combine(self.end + datetime.timedelta(days=1), datetime.time.min, tzinfo=zone)
        return start, end

    @property
    def label(self) -> str:
        if self.is_month:
            return f"{self.start:%Y-%m}"
        return f"{self.start:%Y-%m-%d}–{self.end:%Y-%m-%d}"

    def as_dict(self) -> dict[str, str]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat()}


@dataclass(frozen=True)
class Cuts:
    """Filters every KPI can be cut by. `departments` restricts to several departments (a manager's
    scope); `department` picks one."""

    department: int | None = None
    handler: int | None = None
    product_line: int | None = None
    product: int | None = None
    province: str = ""
    channel: str = ""
    type: int | None = None
    priority: int | None = None
    customer_kind: str = ""
    departments: tuple[int, ...] | None = None
    # A top-level root-cause category: complaints with a feedback form naming it or one of its sub-causes
    # (the complaints behind a bar of the Pareto); UNCATEGORISED_CAUSE: a free-text cause only.
    cause: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) not in (None, "")}


NO_CUTS = Cuts()
UNCATEGORISED_CAUSE = 0  # no category has id 0
CUT_NAMES = tuple(f.name for f in fields(Cuts) if f.name != "departments")


def _complaint_q(cuts: Cuts, prefix: str, *, department_field: str | None = None) -> Q:
    """The cuts that concern the complaint itself, for a base whose complaint is at `prefix`."""
    q = Q()
    department_field = department_field or f"{prefix}department_id"
    if cuts.department is not None:
        q &= Q(**{department_field: cuts.department})
    if cuts.departments is not None:
        q &= Q(**{f"{department_field}__in": cuts.departments})
    if cuts.product_line is not None:
        q &= Q(**{f"{prefix}product__line_id": cuts.product_line})
    if cuts.product is not None:
        q &= Q(**{f"{prefix}product_id": cuts.product})
    if cuts.province:
        q &= Q(**{f"{prefix}province": cuts.province})
    if cuts.channel:
        q &= Q(**{f"{prefix}channel": cuts.channel})
    if cuts.type is not None:
        # A parent type includes its children (and theirs): the type tree is at most three levels deep.
        q &= (
            Q(**{f"{prefix}type_id": cuts.type})
            | Q(**{f"{prefix}type__parent_id": cuts.type})
            | Q(**{f"{prefix}type__parent__parent_id": cuts.type})
        )
    if cuts.priority is not None:
        q &= Q(**{f"{prefix}priority": cuts.priority})
    if cuts.customer_kind:
        q &= Q(**{f"{prefix}customer__kind": cuts.customer_kind})
    if cuts.cause is not None:
        # As figures.cause_pareto counts them: a category, or a free-text cause (trimmed) without one.
        named = (
            Q(cause_category__isnull=True) & ~Q(cause_text="")
            if cuts.cause == UNCATEGORISED_CAUSE
            else Q(cause_category_id=cuts.cause) | Q(cause_category__parent_id=cuts.cause)
        )
        forms = FeedbackForm.objects.annotate(cause_text=Trim("root_cause")).filter(
            named, complaint=OuterRef(prefix.removesuffix("__") or "pk")
        )
        q &= Q(Exists(forms))
    return q


def _counted_task() -> Q:
    """A task that is the department's to answer: not withdrawn or moved away before it replied."""
    return ~Q(status__in=WITHDRAWN_TASKS, replied_at__isnull=True)


def _handled_by(handler: int, complaint_ref: str) -> Exists:
    return Exists(Task.objects.filter(_counted_task(), complaint=OuterRef(complaint_ref), handler_id=handler))


def _running_until(now: datetime.datetime, prefix: str = "") -> Coalesce:
    """The instant up to which a clock ran: when it was paused, else now."""
    return Coalesce(F(f"{prefix}paused_at"), Value(now, output_field=DateTimeField()))


def _overdue(now: datetime.datetime, prefix: str = "") -> Q:
    """Open and past its deadline; a clock paused before its deadline is not (yet) overdue."""
    return Q(**{f"{prefix}met_at__isnull": True, f"{prefix}due_at__lt": _running_until(now, prefix)})


def _met_on_time(prefix: str = "") -> Q:
    """Met by its deadline (inclusive); a clock met while paused counts as met when the pause began."""
    return Q(**{f"{prefix}met_at__isnull": False}) & Q(
        **{f"{prefix}due_at__gte": Coalesce(F(f"{prefix}paused_at"), F(f"{prefix}met_at"))}
    )


# --- the bases -----------------------------------------------------------------------------------


def cohort(period: Period, cuts: Cuts = NO_CUTS) -> QuerySet[Complaint]:
    """Complaints received in the period, without invalid and duplicate ones, cut."""
    start, end = period.bounds
    qs = Complaint.objects.filter(received_at__gte=start, received_at__lt=end).exclude(status__in=NOT_COUNTED_STATUSES)
    qs = qs.filter(_complaint_q(cuts, ""))
    if cuts.handler is not None:
        qs = qs.filter(_handled_by(cuts.handler, "pk"))
    return qs


def _task_condition(prefix: str) -> Q:
    """`_counted_task` through a relation (for a FilteredRelation's condition)."""
    return ~Q(**{f"{prefix}status__in": WITHDRAWN_TASKS, f"{prefix}replied_at__isnull": True})


def _complaint_base(period: Period, cuts: Cuts, now: datetime.datetime) -> QuerySet[Complaint]:
    own = Q(deadlines__task__isnull=True, deadlines__cancelled=False)
    return cohort(period, cuts).annotate(
        res=FilteredRelation("deadlines", condition=own & Q(deadlines__milestone=Milestone.RESOLUTION)),
        ack=FilteredRelation("deadlines", condition=own & Q(deadlines__milestone=Milestone.ACKNOWLEDGE)),
        # For the tables by handler: the complaint's tasks that are the departments' to answer.
        handled=FilteredRelation("tasks", condition=_task_condition("tasks__")),
        dispatched=Exists(Task.objects.filter(complaint=OuterRef("pk"))),
        # Reached by someone of a department that has a task on the complaint (the handler side).
        contacted=Exists(
            ContactLog.objects.filter(
                complaint=OuterRef("pk"),
                outcome=ContactOutcome.REACHED,
                by__memberships__department__tasks__complaint=OuterRef("pk"),
            )
        ),
        replied=Exists(Task.objects.filter(complaint=OuterRef("pk"), replied_at__isnull=False)),
        still_handled=Exists(Task.objects.filter(complaint=OuterRef("pk"), status__in=ACTIVE_TASKS)),
    )


def _task_base(period: Period, cuts: Cuts, now: datetime.datetime) -> QuerySet[Task]:
    start, end = period.bounds
    qs = (
        Task.objects.filter(dispatched_at__gte=start, dispatched_at__lt=end)
        .exclude(complaint__status__in=NOT_COUNTED_STATUSES)
        .filter(_counted_task())
        .filter(_complaint_q(cuts, "complaint__", department_field="department_id"))
    )
    if cuts.handler is not None:
        qs = qs.filter(handler_id=cuts.handler)
    return qs.annotate(
        rep=FilteredRelation("deadlines", condition=Q(deadlines__milestone=Milestone.REPLY)),
    )


def _followup_base(period: Period, cuts: Cuts, now: datetime.datetime) -> QuerySet[FollowUp]:
    start, end = period.bounds
    qs = (
        FollowUp.objects.filter(completed_at__gte=start, completed_at__lt=end, satisfaction__isnull=False)
        .exclude(complaint__status__in=NOT_COUNTED_STATUSES)
        .filter(_complaint_q(cuts, "complaint__"))
    )
    if cuts.handler is not None:
        qs = qs.filter(_handled_by(cuts.handler, "complaint_id"))
    return qs.annotate(handled=FilteredRelation("complaint__tasks", condition=_task_condition("complaint__tasks__")))


def _followup_deadline_base(period: Period, cuts: Cuts, now: datetime.datetime) -> QuerySet[Deadline]:
    start, end = period.bounds
    qs = (
        Deadline.objects.filter(
            complaint__isnull=False,  # a service order's follow-up clock is its own KPI (service_kpis.py)
            milestone=Milestone.FOLLOWUP,
            task__isnull=True,
            cancelled=False,
            due_at__gte=start,
            due_at__lt=end,
        )
        .exclude(complaint__status__in=NOT_COUNTED_STATUSES)
        .filter(_complaint_q(cuts, "complaint__"))
    )
    if cuts.handler is not None:
        qs = qs.filter(_handled_by(cuts.handler, "complaint_id"))
    return qs.annotate(handled=FilteredRelation("complaint__tasks", condition=_task_condition("complaint__tasks__")))


@dataclass(frozen=True)
class Base:
    name: str
    queryset: Callable[[Period, Cuts, datetime.datetime], QuerySet[Any]]
    # Path from the base row to its complaint's primary key, for the drill-down lists.
    complaint_path: str
    # What to group by for the KPI tables.
    department_path: str
    handler_path: str
    # The instant that puts a row in a period (for the KPIs by month).
    period_field: str


BASES = {
    "complaint": Base("complaint", _complaint_base, "pk", "department_id", "handled__handler_id", "received_at"),
    "task": Base("task", _task_base, "complaint_id", "department_id", "handler_id", "dispatched_at"),
    "followup": Base(
        "followup", _followup_base, "complaint_id", "complaint__department_id", "handled__handler_id", "completed_at"
    ),
    "followup_deadline": Base(
        "followup_deadline",
        _followup_deadline_base,
        "complaint_id",
        "complaint__department_id",
        "handled__handler_id",
        "due_at",
    ),
}


@dataclass(frozen=True)
class Spec:
    kpi: Kpi
    base: str
    # Conditions on the base row; `now` decides what is "already past its deadline".
    numerator: Callable[[datetime.datetime], Q]
    denominator: Callable[[datetime.datetime], Q]


def _all(now: datetime.datetime) -> Q:
    return Q(pk__isnull=False)


def _resolution_counted(now: datetime.datetime) -> Q:
    # Resolved, or still unresolved and already past the resolution deadline (open ones not yet due, and
    # those paused before their deadline, are left out).
    return Q(res__met_at__isnull=False) | _overdue(now, "res__")


def _reply_counted(now: datetime.datetime) -> Q:
    # Replied, or not replied and already past the reply deadline; open tasks not yet due are left out.
    return Q(replied_at__isnull=False) | (Q(replied_at__isnull=True) & _overdue(now, "rep__"))


def _reply_on_time(now: datetime.datetime) -> Q:
    # The reply came by the task's reply deadline (as moved by pauses and approved postponements).
    return Q(replied_at__isnull=False) & Q(rep__due_at__gte=Coalesce(F("rep__paused_at"), F("replied_at")))


def _fallen_due(now: datetime.datetime) -> Q:
    # Follow-up clocks due in the period: done, or past their deadline by now.
    return Q(met_at__isnull=False) | _overdue(now)


SPECS: dict[Kpi, Spec] = {
    spec.kpi: spec
    for spec in (
        Spec(
            Kpi.TIMELY_PROCESSING,
            "complaint",
            lambda now: _met_on_time("res__"),
            _resolution_counted,
        ),
        Spec(
            Kpi.TIMELY_REPLY,
            "task",
            _reply_on_time,
            _reply_counted,
        ),
        Spec(
            Kpi.COMMUNICATION,
            "complaint",
            lambda now: Q(dispatched=True, contacted=True),
            lambda now: Q(dispatched=True),
        ),
        Spec(
            Kpi.RESULT_REPLY,
            "complaint",
            lambda now: Q(dispatched=True, replied=True, still_handled=False),
            lambda now: Q(dispatched=True),
        ),
        Spec(Kpi.SATISFACTION, "followup", lambda now: Q(satisfaction__counts_as_satisfied=True), _all),
        Spec(Kpi.REPEAT, "complaint", lambda now: Q(repeat_of__isnull=False), _all),
        Spec(
            Kpi.ACK_ON_TIME,
            "complaint",
            lambda now: _met_on_time("ack__"),
            # An imported complaint (closeloop/imports) never had a clock: it cannot have been on time or late.
            lambda now: Q(imported_at__isnull=True),
        ),
        Spec(
            Kpi.FOLLOWUP_ON_TIME,
            "followup_deadline",
            lambda now: _met_on_time(),
            _fallen_due,
        ),
        Spec(
            Kpi.REOPEN,
            "complaint",
            lambda now: Q(reopen_count__gt=0),
            lambda now: Q(resolved_at__isnull=False) | Q(reopen_count__gt=0),
        ),
    )
}


# --- figures -------------------------------------------------------------------------------------


@dataclass
class Figure:
    kpi: Kpi
    numerator: int
    denominator: int
    target: Decimal | None = None

    @property
    def rate(self) -> Decimal | None:
        return rate(self.numerator, self.denominator)

    @property
    def lower_is_better(self) -> bool:
        return self.kpi in LOWER_IS_BETTER

    @property
    def meets_target(self) -> bool | None:
        if self.rate is None or self.target is None:
            return None
        return self.rate <= self.target if self.lower_is_better else self.rate >= self.target

    @property
    def label(self) -> str:
        return str(Kpi(self.kpi).label)

    def as_dict(self) -> dict[str, Any]:
        return {
            "kpi": str(self.kpi),
            "label": self.label,
            "numerator": self.numerator,
            "denominator": self.denominator,
            "rate": float(self.rate) if self.rate is not None else None,
            "target": float(self.target) if self.target is not None else None,
            "lower_is_better": self.lower_is_better,
            "meets_target": self.meets_target,
        }


def targets() -> dict[str, Decimal]:
    return dict(KpiTarget.objects.values_list("kpi", "target"))


def _counts(kpis: Iterable[Kpi], now: datetime.datetime) -> dict[str, Count]:
    counts: dict[str, Count] = {}
    for kpi in kpis:
        spec = SPECS[kpi]
        counts[f"{kpi}__num"] = Count("pk", distinct=True, filter=spec.denominator(now) & spec.numerator(now))
        counts[f"{kpi}__den"] = Count("pk", distinct=True, filter=spec.denominator(now))
    return counts


def _by_base(kpis: Iterable[Kpi]) -> dict[str, list[Kpi]]:
    grouped: dict[str, list[Kpi]] = {}
    for kpi in kpis:
        grouped.setdefault(SPECS[kpi].base, []).append(Kpi(kpi))
    return grouped


def kpi_figures(
    period: Period,
    cuts: Cuts = NO_CUTS,
    *,
    now: datetime.datetime | None = None,
    kpis: Iterable[Kpi] = tuple(Kpi),
    with_targets: dict[str, Decimal] | None = None,
) -> dict[Kpi, Figure]:
    """Every KPI for the period and cuts: one aggregate query per base (four for all KPIs)."""
    now = now or timezone.now()
    goal = targets() if with_targets is None else with_targets
    figures: dict[Kpi, Figure] = {}
    for base_name, members in _by_base(kpis).items():
        row = BASES[base_name].queryset(period, cuts, now).aggregate(**_counts(members, now))
        for kpi in members:
            figures[kpi] = Figure(kpi, row[f"{kpi}__num"], row[f"{kpi}__den"], goal.get(kpi))
    return {kpi: figures[kpi] for kpi in Kpi if kpi in figures}


def month_label(field: str, months: list[Period]) -> Case:
    """The label (`YYYY-MM`) of the month among `months` that the instant in `field` falls in ("" for none),
    compared with each month's bounds by the database. TruncMonth with a time zone calls a Python function
    for every row on SQLite: a year's trend at 100,000 complaints a month spent most of its time there."""
    return Case(
        *[When(**{f"{field}__gte": p.bounds[0], f"{field}__lt": p.bounds[1]}, then=Value(p.label)) for p in months],
        default=Value(""),
        output_field=CharField(),
    )


def kpi_by_month(
    months: list[Period],
    cuts: Cuts = NO_CUTS,
    *,
    now: datetime.datetime | None = None,
    with_targets: dict[str, Decimal] | None = None,
) -> dict[str, dict[Kpi, Figure]]:
    """Every KPI for each of consecutive calendar months (oldest first), keyed by the month's label: one
    aggregate grouped by month per base (four queries for a year's trend, as for one month)."""
    now = now or timezone.now()
    goal = targets() if with_targets is None else with_targets
    whole = Period(months[0].start, months[-1].end)
    table: dict[str, dict[Kpi, Figure]] = {p.label: {} for p in months}
    for base_name, members in _by_base(tuple(Kpi)).items():
        base = BASES[base_name]
        rows = (
            base.queryset(whole, cuts, now)
            .values(month=month_label(base.period_field, months))
            .order_by()
            .annotate(**_counts(members, now))
        )
        for row in rows:
            label = row["month"]
            if label in table:
                for kpi in members:
                    table[label][kpi] = Figure(kpi, row[f"{kpi}__num"], row[f"{kpi}__den"], goal.get(kpi))
    return {
        label: {kpi: figures.get(kpi) or Figure(kpi, 0, 0, goal.get(kpi)) for kpi in Kpi}
        for label, figures in table.items()
    }


GROUPINGS = ("department", "handler")


def kpi_table(
    period: Period,
    group_by: str,
    cuts: Cuts = NO_CUTS,
    *,
    now: datetime.datetime | None = None,
    kpis: Iterable[Kpi] = tuple(Kpi),
) -> dict[int | None, dict[Kpi, Figure]]:
    """The KPIs per department (the complaint's responsible department; a task's own department)
    or per handler (of the complaint's tasks that were theirs to answer: a complaint counts for each of
    its handlers). One grouped aggregate per base. Every row has every KPI asked for (0/0 where the
    group has nothing to count), in the order of `Kpi`."""
    if group_by not in GROUPINGS:
        raise ValueError(group_by)
    now = now or timezone.now()
    goal = targets()
    kpis = [Kpi(kpi) for kpi in kpis]
    table: dict[int | None, dict[Kpi, Figure]] = {}
    for base_name, members in _by_base(kpis).items():
        base = BASES[base_name]
        path = base.department_path if group_by == "department" else base.handler_path
        rows = base.queryset(period, cuts, now).values(group=F(path)).order_by().annotate(**_counts(members, now))
        for row in rows:
            if group_by == "handler" and row["group"] is None:
                continue
            for kpi in members:
                table.setdefault(row["group"], {})[kpi] = Figure(
                    kpi, row[f"{kpi}__num"], row[f"{kpi}__den"], goal.get(kpi)
                )
    return {
        group: {kpi: figures.get(kpi) or Figure(kpi, 0, 0, goal.get(kpi)) for kpi in Kpi if kpi in kpis}
        for group, figures in table.items()
    }


def kpi_complaints(
    kpi: Kpi, side: str, period: Period, cuts: Cuts = NO_CUTS, *, now: datetime.datetime | None = None
) -> QuerySet[Complaint]:
    """The complaints behind a KPI's numerator or denominator (a task or follow-up counts through its
    complaint)."""
    now = now or timezone.now()
    spec = SPECS[Kpi(kpi)]
    base = BASES[spec.base]
    condition = spec.denominator(now)
    if side == "numerator":
        condition &= spec.numerator(now)
    elif side != "denominator":
        raise ValueError(side)
    ids = base.queryset(period, cuts, now).filter(condition).values(base.complaint_path)
    return Complaint.objects.filter(pk__in=ids)


# --- times, backlog, breaches --------------------------------------------------------------------


def _nearest_rank(qs: QuerySet[Any], column: str, count: int, fraction: float) -> int | None:
    if not count:
        return None
    index = max(1, math.ceil(fraction * count)) - 1
    return qs.order_by(column).values_list(column, flat=True)[index]


@dataclass
class TimeFigure:
    milestone: str
    count: int
    median_hours: float | None
    p90_hours: float | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "milestone": self.milestone,
            "count": self.count,
            "median_hours": self.median_hours,
            "p90_hours": self.p90_hours,
        }


def response_times(period: Period, cuts: Cuts = NO_CUTS) -> list[TimeFigure]:
    """First-response and resolution time of the cohort, in working hours: median and 90th percentile
    (nearest rank), taken by the database from the working time stored when each clock was met."""
    result = []
    for milestone in (Milestone.FIRST_RESPONSE, Milestone.RESOLUTION):
        qs = Deadline.objects.filter(
            complaint__in=cohort(period, cuts),
            task__isnull=True,
            milestone=milestone,
            worked_seconds__isnull=False,
        )
        count = qs.count()
        median = _nearest_rank(qs, "worked_seconds", count, 0.5)
        p90 = _nearest_rank(qs, "worked_seconds", count, 0.9)
        result.append(
            TimeFigure(
                str(milestone),
                count,
                round(median / 3600, 1) if median is not None else None,
                round(p90 / 3600, 1) if p90 is not None else None,
            )
        )
    return result


def _deadline_scope(qs: QuerySet[Deadline], cuts: Cuts) -> QuerySet[Deadline]:
    """Cut deadlines: by department, the one that owes the clock (a task's own department, or the
    complaint's responsible department for its own clocks); by handler, the handler's task clocks and the
    own clocks of the complaints they handle."""
    qs = qs.annotate(owing=Coalesce("task__department_id", "complaint__department_id")).filter(
        _complaint_q(cuts, "complaint__", department_field="owing")
    )
    if cuts.handler is not None:
        qs = qs.filter(Q(task__handler_id=cuts.handler) | Q(task__isnull=True, complaint__in=_handled_complaints(cuts)))
    return qs


def _handled_complaints(cuts: Cuts) -> QuerySet[Task, Any]:
    return Task.objects.filter(_counted_task(), handler_id=cuts.handler).values("complaint_id")


def backlog(cuts: Cuts = NO_CUTS, *, now: datetime.datetime | None = None) -> list[dict[str, Any]]:
    """Open clocks per milestone now, and how many of them are overdue (a clock paused before its
    deadline is not; one paused after it is). One grouped query."""
    now = now or timezone.now()
    # Complaints' clocks only: a service order's have no complaint (and their own figures).
    qs = Deadline.objects.filter(complaint__isnull=False, met_at__isnull=True, cancelled=False).exclude(
        complaint__status__in=NOT_COUNTED_STATUSES
    )
    rows = (
        _deadline_scope(qs, cuts)
        .values("milestone")
        .order_by("milestone")
        .annotate(open=Count("pk"), overdue=Count("pk", filter=_overdue(now)))
    )
    return list(rows)


def breached_deadlines(period: Period, cuts: Cuts = NO_CUTS, *, of_handlers: bool = False) -> QuerySet[Deadline]:
    """Complaints' deadlines breached (the SLA sweep's breach) in the period, cut as `_deadline_scope`
    cuts them (annotated with `owing`, the department that owed the clock); `of_handlers`: only the
    clocks of tasks with a handler. The breach counts and the complaints behind them read this one
    queryset (the `deadline_breached_at` index finds the period's rows)."""
    start, end = period.bounds
    qs = Deadline.objects.filter(complaint__isnull=False, breached_at__gte=start, breached_at__lt=end).exclude(
        complaint__status__in=NOT_COUNTED_STATUSES
    )
    if of_handlers:
        qs = qs.filter(task__handler__isnull=False)
    return _deadline_scope(qs, cuts)


def breaches_by_department(period: Period, cuts: Cuts = NO_CUTS) -> list[dict[str, Any]]:
    """Deadlines breached in the period, by the department that owed them (a task's department, or the
    complaint's responsible department for its own clocks). One grouped query."""
    # `owing` is the annotation _deadline_scope adds, which the type of its result does not carry
    rows = breached_deadlines(period, cuts).values("owing").order_by("owing").annotate(breaches=Count("pk"))  # type: ignore[misc]
    return [{"department": row["owing"], "breaches": row["breaches"]} for row in rows]


def breaches_by_handler(period: Period, cuts: Cuts = NO_CUTS) -> dict[int, int]:
    """Task deadlines breached in the period, by the task's handler. One grouped query."""
    rows = (
        breached_deadlines(period, cuts, of_handlers=True)
        .values("task__handler_id")
        .order_by()
        .annotate(breaches=Count("pk"))
    )
    return {row["task__handler_id"]: row["breaches"] for row in rows}


# --- scope ---------------------------------------------------------------------------------------


def department_scope(user: Any) -> tuple[int, ...] | None:
    """None: the user sees the whole company; otherwise the departments whose figures they may see
    (a department manager's or a handler's own departments; possibly none)."""
    if authz.allowed(user, "insight.view_whole_company"):
        return None
    return tuple(Membership.objects.filter(user=user).values_list("department_id", flat=True).order_by("department_id"))


def can_view_kpis(user: Any) -> bool:
    """Handlers and agents work complaints; the figures are for those who steer (and audit) the work."""
    return authz.allowed(user, "insight.view_kpis")


def scoped(cuts: Cuts, user: Any) -> Cuts:
    """The cuts narrowed to what the user may see."""
    scope = department_scope(user)
    if scope is None:
        return cuts
    if cuts.department is not None and cuts.department not in scope:
        return replace(cuts, departments=())
    return replace(cuts, departments=scope)


__all__ = [
    "BASES",
    "CUT_NAMES",
    "SPECS",
    "UNCATEGORISED_CAUSE",
    "Cuts",
    "Figure",
    "Kpi",
    "Period",
    "TimeFigure",
    "backlog",
    "breaches_by_department",
    "breaches_by_handler",
    "can_view_kpis",
    "cohort",
    "department_scope",
    "kpi_by_month",
    "kpi_complaints",
    "kpi_figures",
    "kpi_table",
    "month_label",
    "rate",
    "response_times",
    "scoped",
    "targets",
]


# --- cached figures for the dashboard --------------------------------------------------------------


def _cache_key(name: str, *parts: Any) -> str:
    import hashlib

    raw = repr((name, parts))
    return "kpi:" + hashlib.sha256(raw.encode()).hexdigest()[:32]


def _cached(key: str, compute: Callable[[], T], *, refresh: bool = False) -> T:
    """`compute()` as of at most `KPI_CACHE_SECONDS` ago under `key` (always fresh when the interval is
    0). `refresh`: compute now and keep it for two intervals (the worker's warm-up)."""
    from django.core.cache import cache

    ttl = settings.KPI_CACHE_SECONDS
    if ttl <= 0:
        return compute()
    value = None if refresh else cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, ttl * 2 if refresh else ttl)
    return value


def cached_kpi_table(period: Period, group_by: str, cuts: Cuts = NO_CUTS) -> dict[int | None, dict[Kpi, Figure]]:
    """`kpi_table` as of at most `KPI_CACHE_SECONDS` ago: the dashboard's aggregates take seconds at
    100,000 complaints a month, so they are computed once per interval (the worker warms the current and
    the previous month every few minutes) and shared by every viewer with the same period and cuts."""
    computed = False

    def compute() -> dict[int | None, dict[Kpi, Figure]]:
        nonlocal computed
        computed = True
        return kpi_table(period, group_by, cuts)  # with today's targets

    table = _cached(_cache_key("table", period, group_by, cuts), compute)
    if not computed:  # from the cache: targets change at once, not after the interval
        goal = targets()
        for by_kpi in table.values():
            for kpi, figure in by_kpi.items():
                figure.target = goal.get(kpi)
    return table


def cached_response_times(period: Period, cuts: Cuts = NO_CUTS) -> list[TimeFigure]:
    return _cached(_cache_key("times", period, cuts), lambda: response_times(period, cuts))


def cached_figures(name: str, compute: Callable[[], T], *parts: Any, refresh: bool = False) -> T:
    """`compute()` as of at most `KPI_CACHE_SECONDS` ago, for the dashboard's other figures (volumes,
    distributions, backlog, charts): keyed by `parts` (the period and the viewer's cuts, which carry
    their scope) and the language, since the figures carry translated labels."""
    from django.utils import translation

    return _cached(_cache_key(name, *parts, translation.get_language()), compute, refresh=refresh)


def kpi_cache_warm(*, periods: Iterable[Period] | None = None) -> int:
    """Compute the whole company's tables for the current and the previous month into the cache."""
    if settings.KPI_CACHE_SECONDS <= 0:
        return 0
    today = timezone.localdate()
    periods = list(periods or (Period.month_of(today), Period.month_of(today).previous()))
    for period in periods:
        for group_by in GROUPINGS:
            key = _cache_key("table", period, group_by, NO_CUTS)
            # the defaults bind this iteration's values; mypy infers no type for such a lambda
            _cached(key, lambda p=period, g=group_by: kpi_table(p, g), refresh=True)  # type: ignore[misc]
        _cached(_cache_key("times", period, NO_CUTS), lambda p=period: response_times(p), refresh=True)  # type: ignore[misc]  # the default binds this iteration's period
    return len(periods)
