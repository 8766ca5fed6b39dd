"""The effect of an improvement action, measured by the system (kpis.md, "Improvement actions").

For the complaints the action targets — all of its product line, model, complaint type (or a sub-type of it)
and root cause that are set; the root cause matched case-insensitively as a phrase inside the root cause of
any of the complaint's feedback forms — in two equal windows of `window_days` just before and just after the
action was done:

- complaints: targeted complaints received in the window (invalid and duplicate ones left out, as in every
  KPI cohort);
- complaint rate: those / all complaints received in the window, in percent with one decimal;
- satisfaction: follow-ups of targeted complaints completed in the window at a level that counts as
  satisfied / those completed with a rating.

While the after-window has not fully elapsed, both windows shrink to the time elapsed since completion, so
that they stay equal (the page says so). Two aggregate queries, whatever the number of complaints.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from closeloop.complaints.lifecycle import NOT_COUNTED_STATUSES
from closeloop.complaints.models import Complaint
from closeloop.core.rates import rate
from closeloop.followup.models import FollowUp
from closeloop.handling.models import FeedbackForm
from closeloop.improvement.models import ImprovementAction

_ZERO = datetime.timedelta(0)


@dataclass(frozen=True)
class Figures:
    """One window's counts; the rates are derived so that they always show with their counts."""

    complaints: int  # targeted complaints received
    all_complaints: int  # every complaint received (the rate's denominator)
    satisfied: int
    rated: int

    @property
    def complaint_rate(self) -> Decimal | None:
        return rate(self.complaints, self.all_complaints)

    @property
    def satisfaction(self) -> Decimal | None:
        return rate(self.satisfied, self.rated)

    def as_dict(self) -> dict[str, Any]:
        return {
            "complaints": self.complaints,
            "all_complaints": self.all_complaints,
            "complaint_rate": _number(self.complaint_rate),
            "satisfied": self.satisfied,
            "rated": self.rated,
            "satisfaction": _number(self.satisfaction),
        }


EMPTY = Figures(0, 0, 0, 0)


@dataclass(frozen=True)
class Evaluation:
    done_at: datetime.datetime
    window_days: int
    # Length of each window: `window_days`, or less while the after-window is still running.
    length: datetime.timedelta
    before: Figures
    after: Figures

    @property
    def shortened(self) -> bool:
        return self.length < datetime.timedelta(days=self.window_days)

    @property
    def before_window(self) -> tuple[datetime.datetime, datetime.datetime]:
        return self.done_at - self.length, self.done_at

    @property
    def after_window(self) -> tuple[datetime.datetime, datetime.datetime]:
        return self.done_at, self.done_at + self.length

    @property
    def complaints_change(self) -> int:
        return self.after.complaints - self.before.complaints

    @property
    def rate_change(self) -> Decimal | None:
        return _difference(self.after.complaint_rate, self.before.complaint_rate)

    @property
    def satisfaction_change(self) -> Decimal | None:
        return _difference(self.after.satisfaction, self.before.satisfaction)

    @property
    def complaints_better(self) -> bool | None:
        return _better(Decimal(self.complaints_change), lower_is_better=True)

    @property
    def rate_better(self) -> bool | None:
        return _better(self.rate_change, lower_is_better=True)

    @property
    def satisfaction_better(self) -> bool | None:
        return _better(self.satisfaction_change, lower_is_better=False)

    def as_dict(self) -> dict[str, Any]:
        before_start, before_end = self.before_window
        after_start, after_end = self.after_window
        return {
            "window_days": self.window_days,
            "length_seconds": int(self.length.total_seconds()),
            "shortened": self.shortened,
            "before_window": {"start": before_start.isoformat(), "end": before_end.isoformat()},
            "after_window": {"start": after_start.isoformat(), "end": after_end.isoformat()},
            "before": self.before.as_dict(),
            "after": self.after.as_dict(),
            "change": {
                "complaints": self.complaints_change,
                "complaint_rate": _number(self.rate_change),
                "satisfaction": _number(self.satisfaction_change),
            },
        }


def _number(value: Decimal | None) -> float | None:
    return float(value) if value is not None else None


def _difference(after: Decimal | None, before: Decimal | None) -> Decimal | None:
    if after is None or before is None:
        return None
    return after - before


def _better(change: Decimal | None, *, lower_is_better: bool) -> bool | None:
    if change is None or change == 0:
        return None
    return (change < 0) if lower_is_better else (change > 0)


# --- the targeted complaints ---------------------------------------------------------------------------------


def target_condition(action: ImprovementAction, prefix: str = "") -> Q:
    """The action's product line, model and type as a condition on the complaint at `prefix` (the root
    cause needs a subquery: see `_with_cause`). A type matches its sub-types too, as in the KPI cuts."""
    q = Q()
    if action.product_line_id is not None:
        q &= Q(**{f"{prefix}product__line_id": action.product_line_id})
    if action.product_id is not None:
        q &= Q(**{f"{prefix}product_id": action.product_id})
    if action.complaint_type_id is not None:
        q &= Q(**{f"{prefix}type_id": action.complaint_type_id}) | Q(
            **{f"{prefix}type__parent_id": action.complaint_type_id}
        )
    if action.root_cause or action.cause_category_id is not None:
        q &= Q(cause_matches=True)
    return q if q else Q(pk__isnull=False)


def _with_cause(qs: QuerySet[Any], action: ImprovementAction, complaint_ref: str) -> QuerySet[Any]:
    """A complaint matches the cause when one of its feedback forms names it: the phrase in the free text,
    and the category (or one of its sub-causes) when the action names one."""
    if not action.root_cause and action.cause_category_id is None:
        return qs
    forms = FeedbackForm.objects.filter(complaint_id=OuterRef(complaint_ref))
    if action.root_cause:
        forms = forms.filter(root_cause__icontains=action.root_cause)
    if action.cause_category_id is not None:
        forms = forms.filter(
            Q(cause_category_id=action.cause_category_id) | Q(cause_category__parent_id=action.cause_category_id)
        )
    return qs.annotate(cause_matches=Exists(forms))


def targeted_complaints(action: ImprovementAction) -> QuerySet[Complaint]:
    """Every complaint the action targets (any time), e.g. for a drill-down list."""
    qs = _with_cause(Complaint.objects.exclude(status__in=NOT_COUNTED_STATUSES), action, "pk")
    return qs.filter(target_condition(action))


# --- the measurement ------------------------------------------------------------------------------------------


def action_evaluate(action: ImprovementAction, *, now: datetime.datetime | None = None) -> Evaluation | None:
    """The before/after figures of a done (or verified) action; None before it is done."""
    if action.done_at is None:
        return None
    now = now or timezone.now()
    done = action.done_at
    length = min(datetime.timedelta(days=action.window_days), max(now - done, _ZERO))
    if length <= _ZERO:
        return Evaluation(done, action.window_days, _ZERO, EMPTY, EMPTY)
    start, end = done - length, done + length
    targeted = target_condition(action)

    complaints = _with_cause(
        Complaint.objects.filter(received_at__gte=start, received_at__lt=end).exclude(status__in=NOT_COUNTED_STATUSES),
        action,
        "pk",
    )
    before, after = Q(received_at__lt=done), Q(received_at__gte=done)
    counts = complaints.aggregate(
        before_all=Count("pk", filter=before),
        after_all=Count("pk", filter=after),
        before_hit=Count("pk", filter=before & targeted),
        after_hit=Count("pk", filter=after & targeted),
    )

    followups = _with_cause(
        FollowUp.objects.filter(completed_at__gte=start, completed_at__lt=end, satisfaction__isnull=False).exclude(
            complaint__status__in=NOT_COUNTED_STATUSES
        ),
        action,
        "complaint_id",
    ).filter(target_condition(action, "complaint__"))
    satisfied = Q(satisfaction__counts_as_satisfied=True)
    before, after = Q(completed_at__lt=done), Q(completed_at__gte=done)
    ratings = followups.aggregate(
        before_rated=Count("pk", filter=before),
        after_rated=Count("pk", filter=after),
        before_satisfied=Count("pk", filter=before & satisfied),
        after_satisfied=Count("pk", filter=after & satisfied),
    )
    return Evaluation(
        done,
        action.window_days,
        length,
        Figures(counts["before_hit"], counts["before_all"], ratings["before_satisfied"], ratings["before_rated"]),
        Figures(counts["after_hit"], counts["after_all"], ratings["after_satisfied"], ratings["after_rated"]),
    )
