"""Reads of department tasks and the roster: who may see which task, the handler inbox, the stale
tasks the CS supervisor watches, a complaint's tasks with their contacts and progress.

Lists join or prefetch what they show, so a page costs a fixed number of queries."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import BooleanField, Case, F, Prefetch, Q, QuerySet, Value, When
from django.utils import timezone

from closeloop.complaints.models import Complaint
from closeloop.complaints.selectors import complaints_visible_to
from closeloop.core.types import AnyUser
from closeloop.directory.models import Absence, Membership, RosterChange, RosterEntry
from closeloop.handling.models import ACTIVE_TASK_STATUSES, ContactLog, ProgressEntry, Task, TaskStatus
from closeloop.handling.services.roster import roster_active_on
from closeloop.handling.services.tasks import STALE_AFTER

INBOX_SCOPES = ("mine", "department", "stale")


def tasks_visible_to(user: AnyUser) -> QuerySet[Task]:
    """A task is visible to whoever may see its complaint."""
    return Task.objects.filter(complaint__in=complaints_visible_to(user))


def task_get(*, user: AnyUser, task_id: int) -> Task:
    """One task the user may see; Task.DoesNotExist (a 404) otherwise."""
    return tasks_visible_to(user).select_related("complaint", "department", "handler", "dispatched_by").get(pk=task_id)


def _with_stale(qs: QuerySet[Task], now: datetime.datetime) -> QuerySet[Task]:
    limit = now - STALE_AFTER
    return qs.annotate(
        stale=Case(
            When(
                Q(status__in=[TaskStatus.DISPATCHED, TaskStatus.IN_PROGRESS]) & Q(last_progress_at__lte=limit),
                then=Value(True),
            ),
            default=Value(False),
            output_field=BooleanField(),
        )
    )


@dataclass(frozen=True)
class TaskFilters:
    scope: str = "mine"  # mine | department | stale | all (all visible)
    status: str = ""  # a TaskStatus; empty = the active ones
    department: str = ""  # department code
    complaint: str = ""  # complaint number
    stale: bool | None = None


def task_inbox(*, user: AnyUser, filters: TaskFilters, now: datetime.datetime | None = None) -> QuerySet[Task]:
    """The handler inbox and the task list of the API: active tasks by time left (nearest deadline
    first, tasks without a running clock last), each with `stale` (no progress for 48 h)."""
    now = now or timezone.now()
    qs = tasks_visible_to(user)
    if filters.scope == "mine":
        qs = qs.filter(handler_id=getattr(user, "pk", None))
    elif filters.scope == "department":
        # the anonymous visitor's pk is None: no memberships
        departments = Membership.objects.filter(user_id=getattr(user, "pk", None)).values("department_id")  # type: ignore[misc]
        qs = qs.filter(department_id__in=departments)
    elif filters.scope == "stale":
        qs = qs.filter(
            status__in=[TaskStatus.DISPATCHED, TaskStatus.IN_PROGRESS], last_progress_at__lte=now - STALE_AFTER
        )
    qs = qs.filter(status=filters.status) if filters.status else qs.filter(status__in=ACTIVE_TASK_STATUSES)
    if filters.department:
        qs = qs.filter(department__code=filters.department)
    if filters.complaint:
        qs = qs.filter(complaint__number=filters.complaint.strip())
    qs = _with_stale(qs, now)
    if filters.stale is not None:
        qs = qs.filter(stale=filters.stale)  # type: ignore[misc]  # stale: annotated above
    return qs.select_related("complaint", "complaint__type", "complaint__product", "department", "handler").order_by(
        F("next_due_at").asc(nulls_last=True), "dispatched_at", "id"
    )


def complaint_tasks(*, complaint: Complaint, now: datetime.datetime | None = None) -> QuerySet[Task]:
    """A complaint's tasks, oldest first, with their contacts and progress entries."""
    now = now or timezone.now()
    return (
        _with_stale(complaint.tasks.all(), now)
        .select_related("department", "handler", "dispatched_by")
        .prefetch_related(
            Prefetch("contacts", queryset=ContactLog.objects.select_related("by").order_by("at", "id")),
            Prefetch("progress", queryset=ProgressEntry.objects.select_related("by").order_by("at", "id")),
        )
        .order_by("dispatched_at", "id")
    )


def complaint_tasks_listed(*, complaint: Complaint) -> list[Task]:
    """`complaint_tasks` read once per complaint instance: the tasks, postponement and dispute panels of
    one complaint page share the list instead of each reading the tasks again."""
    listed: list[Task] | None = complaint.__dict__.get("_tasks_listed")
    if listed is None:
        listed = list(complaint_tasks(complaint=complaint))
        complaint.__dict__["_tasks_listed"] = listed
    return listed


def complaint_contacts(*, complaint: Complaint) -> QuerySet[ContactLog]:
    return complaint.contacts.select_related("by", "task__department").order_by("at", "id")


# --- roster --------------------------------------------------------------------------------------------


def roster_entries(
    *, department_code: str = "", on: datetime.date | None = None, include_ended: bool = True
) -> QuerySet[RosterEntry]:
    qs = RosterEntry.objects.select_related("department", "handler", "complaint_type", "product_line")
    if department_code:
        qs = qs.filter(department__code=department_code)
    if on is not None:
        qs = qs.filter(roster_active_on(on))
    elif not include_ended:
        today = timezone.localdate()
        qs = qs.filter(Q(valid_to__isnull=True) | Q(valid_to__gte=today))
    return qs.order_by("department__code", "-valid_from", "id")


def roster_changes(
    *, department_code: str = "", limit: int = 50, since: datetime.datetime | None = None
) -> QuerySet[RosterChange]:
    qs = RosterChange.objects.select_related("actor", "entry__department")
    if since is not None:
        qs = qs.filter(at__gte=since)
    if department_code:
        qs = qs.filter(entry__department__code=department_code)
    return qs.order_by("-at", "-id")[:limit]


def absences_current(*, on: datetime.date | None = None) -> QuerySet[Absence]:
    on = on or timezone.localdate()
    return Absence.objects.filter(ends__gte=on).select_related("user", "cover").order_by("starts", "id")
