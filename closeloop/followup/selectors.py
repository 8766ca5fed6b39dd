"""Reads of follow-ups (回访): the active satisfaction scale, the call list, one complaint's rounds."""

from __future__ import annotations

import datetime

from django.db.models import F, OuterRef, Prefetch, QuerySet, Subquery
from django.utils import timezone

from closeloop.complaints.models import Complaint
from closeloop.complaints.selectors import complaints_visible_to
from closeloop.core.types import AnyUser
from closeloop.followup.models import FollowUp, FollowUpAttempt, SatisfactionLevel, SatisfactionScale
from closeloop.sla.milestones import Milestone
from closeloop.sla.models import Deadline

DUE_FILTERS = ("today", "overdue", "all")


def active_scale() -> SatisfactionScale:
    """The scale customers answer on now. Changing it never rewrites past answers: each follow-up
    points at the level it was given."""
    scale = SatisfactionScale.objects.filter(is_active=True).prefetch_related("levels").order_by("id").first()
    if scale is None:  # misconfiguration: fall back to the first scale rather than refusing every answer
        scale = SatisfactionScale.objects.prefetch_related("levels").order_by("id").first()
    if scale is None:
        raise SatisfactionScale.DoesNotExist("no satisfaction scale is configured")
    return scale


def active_levels() -> list[SatisfactionLevel]:
    return list(active_scale().levels.all())


def _with_deadline(qs: QuerySet[FollowUp]) -> QuerySet[FollowUp]:
    """Annotate the complaint's open `followup` deadline (one per complaint at a time)."""
    open_deadline = Deadline.objects.filter(
        complaint_id=OuterRef("complaint_id"), task__isnull=True, milestone=Milestone.FOLLOWUP, met_at__isnull=True
    ).order_by("due_at")
    return qs.annotate(
        due_at=Subquery(open_deadline.values("due_at")[:1]),
        warn_at=Subquery(open_deadline.values("warn_at")[:1]),
        paused_at=Subquery(open_deadline.values("paused_at")[:1]),
    )


def followups_open(*, user: AnyUser, due: str = "all", now: datetime.datetime | None = None) -> QuerySet[FollowUp]:
    """Open follow-ups the user may see, overdue first then by deadline ("today's follow-ups").
    `due`: today (due by the end of today, overdue included), overdue, or all."""
    now = now or timezone.now()
    qs = FollowUp.objects.filter(outcome="", complaint__in=complaints_visible_to(user))
    qs = _with_deadline(qs).select_related("complaint__customer", "complaint__product", "assigned_to")
    qs = qs.prefetch_related(Prefetch("attempts", queryset=FollowUpAttempt.objects.select_related("by")))
    if due == "overdue":
        qs = qs.filter(due_at__lt=now)  # type: ignore[misc]  # due_at: annotated above
    elif due == "today":
        end_of_day = timezone.localtime(now).replace(hour=23, minute=59, second=59, microsecond=999999)
        qs = qs.filter(due_at__lte=end_of_day)  # type: ignore[misc]  # due_at: annotated above
    return qs.order_by(F("due_at").asc(nulls_last=True), "created_at", "id")


def followups_for_complaint(*, complaint: Complaint) -> list[FollowUp]:
    qs = _with_deadline(FollowUp.objects.filter(complaint=complaint))
    qs = qs.select_related("satisfaction__scale", "completed_by", "assigned_to").prefetch_related(
        Prefetch("attempts", queryset=FollowUpAttempt.objects.select_related("by"))
    )
    return list(qs.order_by("round", "id"))


def followup_get(*, user: AnyUser, pk: int) -> FollowUp:
    """One follow-up whose complaint the user may see; FollowUp.DoesNotExist (a 404) otherwise."""
    qs = _with_deadline(FollowUp.objects.filter(complaint__in=complaints_visible_to(user)))
    return qs.select_related("complaint__customer", "complaint__product", "satisfaction").get(pk=pk)


def followup_open_for(*, complaint: Complaint) -> FollowUp | None:
    return FollowUp.objects.filter(complaint=complaint, outcome="").order_by("-round", "-id").first()
