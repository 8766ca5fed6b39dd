"""Reads of improvement actions: who sees which, the filtered list, one action, a complaint's actions, and
the sources an action may be raised from (visible exactly when their complaint is)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from closeloop.complaints.models import Complaint
from closeloop.complaints.selectors import complaints_visible_to
from closeloop.core.types import AnyUser
from closeloop.directory.models import Membership
from closeloop.improvement.models import ActionEvent, ActionStatus, ImprovementAction
from closeloop.improvement.services import MANAGE_PERMISSION

VIEW_PERMISSION = "improvement.view_improvementaction"

# Joined on every list row and API item, so a page costs the same number of queries whatever its length.
LIST_RELATED = (
    "owner_department",
    "owner",
    "product_line",
    "product",
    "complaint_type",
    "complaint",
    "created_by",
    "owner_judged_by",
    "quality_judged_by",
)
DETAIL_RELATED = (
    *LIST_RELATED,
    "feedback_form__complaint",
    "followup__complaint",
    "incident",
    "report",
)


def can_view(user: AnyUser | None) -> bool:
    return bool(user is not None and user.is_authenticated and user.has_perm(VIEW_PERMISSION))


def actions_visible_to(user: AnyUser) -> QuerySet[ImprovementAction]:
    """Those who see every complaint, and those who raise actions, see every action; handlers and managers
    see the actions they own or their departments own; anyone without the view permission none."""
    qs = ImprovementAction.objects.all()
    if not can_view(user):
        return qs.none()
    if user.has_perm("complaints.view_all_complaints") or user.has_perm(MANAGE_PERMISSION):
        return qs
    departments = Membership.objects.filter(user=user).values("department_id")  # type: ignore[misc]  # can_view: signed in
    return qs.filter(Q(owner=user) | Q(owner_department_id__in=departments))


@dataclass(frozen=True)
class ActionFilters:
    status: str = ""
    department: int | None = None
    owner: int | None = None
    overdue: bool = False
    source: str = ""


def action_list(
    *, user: AnyUser, filters: ActionFilters = ActionFilters(), now: datetime.datetime | None = None
) -> QuerySet[ImprovementAction]:
    """Newest first, with the filters applied (each on an indexed column)."""
    qs = actions_visible_to(user).select_related(*LIST_RELATED)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.department is not None:
        qs = qs.filter(owner_department_id=filters.department)
    if filters.owner is not None:
        qs = qs.filter(owner_id=filters.owner)
    if filters.source:
        qs = qs.filter(source=filters.source)
    if filters.overdue:
        qs = qs.filter(done_at__isnull=True, due_at__lte=now or timezone.now())
    return qs.order_by("-created_at", "-id")


def action_get(*, user: AnyUser, pk: int) -> ImprovementAction:
    """One action the user may see; ImprovementAction.DoesNotExist (a 404) otherwise."""
    return actions_visible_to(user).select_related(*DETAIL_RELATED).get(pk=pk)


def action_events(action: ImprovementAction) -> QuerySet[ActionEvent]:
    return action.events.select_related("actor").order_by("at", "id")


def actions_for_complaint(*, user: AnyUser, complaint: Complaint) -> list[ImprovementAction]:
    """Actions raised from the complaint (its feedback forms, follow-ups, or its page) or from a defect
    incident that groups it."""
    linked = (
        Q(complaint=complaint)
        | Q(feedback_form__complaint=complaint)
        | Q(followup__complaint=complaint)
        | Q(incident__complaints=complaint)
    )
    ids = ImprovementAction.objects.filter(linked).values("pk")
    return list(
        actions_visible_to(user).filter(pk__in=ids).select_related("owner_department", "owner").order_by("-created_at")
    )


# --- sources -------------------------------------------------------------------------------------------------


def feedback_form_source(*, user: AnyUser, pk: int) -> Any:
    from closeloop.handling.models import FeedbackForm

    return (
        FeedbackForm.objects.filter(complaint__in=complaints_visible_to(user))
        .select_related("complaint__product__line", "complaint__type", "complaint__department", "task__department")
        .get(pk=pk)
    )


def followup_source(*, user: AnyUser, pk: int) -> Any:
    from closeloop.followup.models import FollowUp

    return (
        FollowUp.objects.filter(complaint__in=complaints_visible_to(user))
        .select_related("complaint__product__line", "complaint__type", "complaint__department")
        .get(pk=pk)
    )


def complaint_source(*, user: AnyUser, pk: int) -> Complaint:
    return complaints_visible_to(user).select_related("product__line", "type", "department").get(pk=pk)


def incident_source(*, user: AnyUser, pk: int) -> Any:
    """Defect incidents are quality's records; whoever may see them may raise an action from one."""
    from closeloop.defects.models import DefectIncident

    if not user.has_perm("defects.view_defectincident"):
        raise DefectIncident.DoesNotExist
    return DefectIncident.objects.select_related("product__line").get(pk=pk)


def report_source(*, user: AnyUser, pk: int) -> Any:
    # Reports are insight's, which sits above improvement: read through the action's relation to them.
    Report = ImprovementAction.report.field.related_model
    if not user.has_perm("insight.view_report"):
        raise Report.DoesNotExist  # type: ignore[union-attr]  # insight's Report, read through the relation (insight is a higher layer)
    return Report.objects.get(pk=pk)  # type: ignore[union-attr]  # insight's Report, read through the relation (insight is a higher layer)


SOURCE_LOOKUPS = {
    "feedback_form": feedback_form_source,
    "followup": followup_source,
    "incident": incident_source,
    "report": report_source,
    "complaint": complaint_source,
}


# --- for the monthly report ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ActionsOverview:
    """What the monthly report says of improvement actions (insight.exports.contents)."""

    status_labels: dict[str, str]  # every status, in the lifecycle's order, in the active language
    open_by_status: dict[str, int]  # the actions not verified yet, by status
    # The first open actions, soonest due first: number, title, status, due_at, done_at,
    # owner_department__name(_en), owner__username, owner__first_name, owner__last_name.
    open_rows: list[dict[str, Any]]
    created: int  # in the period
    done: int
    verified: int


def actions_overview(*, start: datetime.datetime, end: datetime.datetime, limit: int = 30) -> ActionsOverview:
    """The open actions and what was created, done and verified in [start, end). Every action, whoever
    reads the report (it goes to the distribution list as approved)."""
    open_qs = ImprovementAction.objects.exclude(status=ActionStatus.VERIFIED)
    by_status = {row["status"]: row["n"] for row in open_qs.values("status").order_by("status").annotate(n=Count("pk"))}
    rows = list(
        open_qs.order_by("due_at", "pk").values(
            "number",
            "title",
            "status",
            "due_at",
            "done_at",
            "owner_department__name",
            "owner_department__name_en",
            "owner__username",
            "owner__first_name",
            "owner__last_name",
        )[:limit]
    )
    return ActionsOverview(
        open_by_status=by_status,
        open_rows=rows,  # type: ignore[arg-type]  # values() rows, typed as TypedDicts, are plain dicts
        created=ImprovementAction.objects.filter(created_at__gte=start, created_at__lt=end).count(),
        done=ImprovementAction.objects.filter(done_at__gte=start, done_at__lt=end).count(),
        verified=ImprovementAction.objects.filter(verified_at__gte=start, verified_at__lt=end).count(),
        status_labels={value: str(label) for value, label in ActionStatus.choices},
    )
