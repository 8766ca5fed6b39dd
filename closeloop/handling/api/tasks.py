"""Department tasks over REST: dispatch, the task list (inbox), one task, and the handler's actions.

Thin endpoints over `handling.services.tasks` and `handling.selectors`; errors become responses in
`closeloop.api`. A task the user may not see is a 404, like an absent one."""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Status
from pydantic import AwareDatetime

from closeloop.complaints.api import ONE_ERRORS, ONE_WRITE_ERRORS, READ_ERRORS, Number
from closeloop.complaints.models import Via
from closeloop.complaints.schemas import MAX_OFFSET, RefOut, Text
from closeloop.complaints.selectors import complaint_get
from closeloop.core.api_since import UpdatedSince, updated_since
from closeloop.core.errors import DomainError
from closeloop.core.schema import Schema
from closeloop.core.types import User
from closeloop.directory.models import Department
from closeloop.handling import selectors
from closeloop.handling.models import ContactChannel, ContactLog, ContactOutcome, ProgressEntry, Task, TaskStatus
from closeloop.handling.services import tasks as services

router = Router(tags=["tasks"])


# --- shapes ----------------------------------------------------------------------------------------------


class ContactOut(Schema):
    id: int
    task: int | None
    at: datetime.datetime
    by: str
    channel: ContactChannel
    outcome: ContactOutcome
    summary: str
    updated_at: datetime.datetime = Field(description="a contact is never changed: the time it was logged")


class ProgressOut(Schema):
    id: int
    at: datetime.datetime
    by: str
    text: str


class TaskOut(Schema):
    id: int
    updated_at: datetime.datetime
    complaint: str = Field(description="the complaint's number")
    department: RefOut
    handler: str | None = Field(description="username; null = the department pool")
    status: TaskStatus
    status_label: str
    instruction: str
    dispatched_at: datetime.datetime
    dispatched_by: str | None
    verified_at: datetime.datetime | None
    info_request: str
    last_progress_at: datetime.datetime | None
    stale: bool = Field(description="no progress entry for 48 hours")
    reply: str
    replied_at: datetime.datetime | None
    ended_at: datetime.datetime | None
    end_reason: str
    next_due_at: datetime.datetime | None = Field(description="the task's nearest running deadline")
    next_warn_at: datetime.datetime | None
    actions: list[str] = Field(description="what the caller may do on the task now")


class TaskDetailOut(TaskOut):
    contacts: list[ContactOut]
    progress: list[ProgressOut]


class TaskPage(Schema):
    items: list[TaskOut]
    count: int


class TaskListFilters(Schema):
    scope: str = Field(
        "mine", pattern="^(mine|department|stale|all)$", description="mine | department | stale | all (all visible)"
    )
    status: TaskStatus | None = Field(None, description="default: the active ones")
    department: Text = Field("", max_length=40, description="department code")
    complaint: Text = Field("", max_length=20, description="complaint number")
    stale: bool | None = None
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)


class AssignmentIn(Schema):
    department: Text = Field(..., max_length=40, description="department code")
    handler: Text | None = Field(None, max_length=150, description="username; omit for the department pool")
    instruction: Text = Field("", max_length=5000)


class DispatchIn(Schema):
    assignments: list[AssignmentIn] = Field(..., max_length=20)


class TaskReasonIn(Schema):
    reason: Text = Field(..., max_length=5000)


class InfoIn(Schema):
    info: Text = Field(..., max_length=5000, description="the information the department asked for")


class VerifyIn(Schema):
    note: Text = Field("", max_length=5000)


class ContactIn(Schema):
    at: AwareDatetime | None = Field(None, description="when; defaults to now")
    channel: ContactChannel
    outcome: ContactOutcome = ContactOutcome.REACHED
    summary: Text = Field(..., max_length=5000)


class ProgressIn(Schema):
    text: Text = Field(..., max_length=5000)


class ReplyIn(Schema):
    reply: Text = Field(..., max_length=10000, description="the department's result for customer service")


class ReassignIn(Schema):
    handler: Text | None = Field(None, max_length=150, description="username; null = back to the department pool")
    note: Text = Field("", max_length=2000)


# --- helpers ---------------------------------------------------------------------------------------------


def _user(request: HttpRequest) -> User:
    return request.auth  # type: ignore[attr-defined]  # the user, put there by the API's authentication


def _ref(department: Department) -> dict[str, Any]:
    return {"code": department.code, "name": department.name, "name_en": department.name_en, "label": department.label}


def _name(user: Any) -> str | None:
    return user.get_username() if user is not None else None


def _stale(task: Task) -> bool:
    if hasattr(task, "stale"):
        return bool(task.stale)
    return bool(
        task.status in (TaskStatus.DISPATCHED, TaskStatus.IN_PROGRESS)
        and task.last_progress_at is not None
        and task.last_progress_at <= timezone.now() - services.STALE_AFTER
    )


def _task(task: Task, actor: services.Actor) -> dict[str, Any]:
    return {
        "id": task.pk,
        "updated_at": task.updated_at,
        "complaint": task.complaint.number,
        "department": _ref(task.department),
        "handler": _name(task.handler),
        "status": task.status,
        "status_label": str(TaskStatus(task.status).label),
        "instruction": task.instruction,
        "dispatched_at": task.dispatched_at,
        "dispatched_by": _name(task.dispatched_by) if task.dispatched_by_id else None,
        "verified_at": task.verified_at,
        "info_request": task.info_request,
        "last_progress_at": task.last_progress_at,
        "stale": _stale(task),
        "reply": task.reply,
        "replied_at": task.replied_at,
        "ended_at": task.ended_at,
        "end_reason": task.end_reason,
        "next_due_at": task.next_due_at,
        "next_warn_at": task.next_warn_at,
        "actions": services.task_actions_for(actor=actor, task=task),
    }


def _contact(contact: ContactLog) -> dict[str, Any]:
    return {
        "id": contact.pk,
        "task": contact.task_id,
        "at": contact.at,
        "by": contact.by.get_username(),
        "channel": contact.channel,
        "outcome": contact.outcome,
        "summary": contact.summary,
        "updated_at": contact.at,
    }


def _progress(entry: ProgressEntry) -> dict[str, Any]:
    return {"id": entry.pk, "at": entry.at, "by": entry.by.get_username(), "text": entry.text}


def _task_detail(request: HttpRequest, task_id: int) -> dict[str, Any]:
    user = _user(request)
    task = selectors.task_get(user=user, task_id=task_id)
    actor = services.Actor.of(user)
    return {
        **_task(task, actor),
        "contacts": [_contact(c) for c in task.contacts.select_related("by").order_by("at", "id")],
        "progress": [_progress(p) for p in task.progress.select_related("by").order_by("at", "id")],
    }


def _department(code: str, field: str = "department") -> Department:
    try:
        return Department.objects.get(code=code.strip())
    except Department.DoesNotExist:
        raise DomainError(_("There is no department with this code."), field=field) from None


def _person(username: str | None, field: str = "handler") -> Any:
    if not username:
        return None
    try:
        return get_user_model().objects.get(username=username.strip(), is_active=True)
    except get_user_model().DoesNotExist:
        raise DomainError(_("There is no such user."), field=field) from None


# --- endpoints -------------------------------------------------------------------------------------------


@router.post(
    "/complaints/{number}/dispatch",
    response={201: list[TaskOut], **ONE_WRITE_ERRORS},
    summary="Dispatch (or redispatch) a complaint to departments, one task each",
    operation_id="complaints_dispatch",
)
def complaint_dispatch(request: HttpRequest, number: Number, payload: DispatchIn) -> Status:
    """Sends a complaint to one or more departments, one task each with its reply deadline (customer service and
    CS supervisors: handling.dispatch_complaint). A state that cannot be dispatched is a 422
    (`complaint.transition_not_allowed`); an unknown department or handler a 422 naming the field."""
    user = _user(request)
    complaint = complaint_get(user=user, number=number)
    assignments = [
        services.Assignment(
            department=_department(a.department, "departments"), handler=_person(a.handler), instruction=a.instruction
        )
        for a in payload.assignments
    ]
    tasks = services.complaint_dispatch(complaint=complaint, assignments=assignments, actor=user, via=Via.API)
    actor = services.Actor.of(user)
    rows = Task.objects.filter(pk__in=[t.pk for t in tasks]).select_related(
        "complaint", "department", "handler", "dispatched_by"
    )
    return Status(201, [_task(t, actor) for t in rows.order_by("id")])


@router.get("/tasks", response={200: TaskPage, **READ_ERRORS}, summary="My tasks, my department's, or the stale ones")
def task_list(request: HttpRequest, filters: Query[TaskListFilters], since: Query[UpdatedSince]) -> dict[str, Any]:
    """The caller's task inbox: `mine`, the department's, the stale ones (handling.view_stale_tasks) or all the
    caller may see, with filters. Personal data is never in a task row."""
    user = _user(request)
    queryset = selectors.task_inbox(
        user=user,
        filters=selectors.TaskFilters(
            scope=filters.scope,
            status=filters.status.value if filters.status else "",
            department=filters.department,
            complaint=filters.complaint,
            stale=filters.stale,
        ),
    ).select_related("dispatched_by")
    queryset = updated_since(queryset, since)
    actor = services.Actor.of(user)
    page = list(queryset[filters.offset : filters.offset + filters.limit])
    return {"items": [_task(t, actor) for t in page], "count": queryset.count()}


@router.get("/tasks/{task_id}", response={200: TaskDetailOut, **ONE_ERRORS}, summary="One task")
def task_retrieve(request: HttpRequest, task_id: int) -> dict[str, Any]:
    """One task with its contacts, progress and available actions, if the caller may see its complaint. Otherwise
    a 404, as for a task that does not exist."""
    return _task_detail(request, task_id)


def _visible(request: HttpRequest, task_id: int) -> Task:
    return selectors.task_get(user=_user(request), task_id=task_id)


@router.post("/tasks/{task_id}/verify", response={200: TaskDetailOut, **ONE_WRITE_ERRORS})
def task_verify(request: HttpRequest, task_id: int, payload: VerifyIn | None = None) -> dict[str, Any]:
    """The task's handler or department confirms receipt and starts work (handling.work_task). A task not waiting
    for verification is a 422."""
    note = payload.note if payload else ""
    services.task_verify(task=_visible(request, task_id), actor=_user(request), via=Via.API, note=note)
    return _task_detail(request, task_id)


@router.post("/tasks/{task_id}/request-info", response={200: TaskDetailOut, **ONE_WRITE_ERRORS})
def task_request_info(request: HttpRequest, task_id: int, payload: TaskReasonIn) -> dict[str, Any]:
    """The handler asks customer service for missing information, with a reason (handling.work_task); the reply
    clock pauses. A 422 when the task's state does not allow it; an empty reason is a 422."""
    services.task_request_info(
        task=_visible(request, task_id), reason=payload.reason, actor=_user(request), via=Via.API
    )
    return _task_detail(request, task_id)


@router.post("/tasks/{task_id}/info-provided", response={200: TaskDetailOut, **ONE_WRITE_ERRORS})
def task_info_provided(request: HttpRequest, task_id: int, payload: InfoIn) -> dict[str, Any]:
    """Customer service gives the information a task asked for (handling.provide_task_info); the task's clock
    resumes. A 422 when no information was asked."""
    services.task_info_provided(task=_visible(request, task_id), info=payload.info, actor=_user(request), via=Via.API)
    return _task_detail(request, task_id)


@router.post("/tasks/{task_id}/contacts", response={201: ContactOut, **ONE_WRITE_ERRORS})
def task_contact_add(request: HttpRequest, task_id: int, payload: ContactIn) -> Status:
    """Logs a call, visit or message with the complainant on this task (handling.log_task_contact): channel,
    outcome and summary. A 422 on a closed task; a missing summary is a 422."""
    task = _visible(request, task_id)
    contact = services.contact_log_add(
        complaint=task.complaint,
        task=task,
        at=payload.at or timezone.now(),
        channel=payload.channel.value,
        outcome=payload.outcome.value,
        summary=payload.summary,
        actor=_user(request),
        via=Via.API,
    )
    return Status(201, _contact(contact))


@router.post("/tasks/{task_id}/progress", response={201: ProgressOut, **ONE_WRITE_ERRORS})
def task_progress_add(request: HttpRequest, task_id: int, payload: ProgressIn) -> Status:
    """Adds a progress note to the task's record (handling.work_task). A 422 on a task that is no longer active."""
    entry = services.progress_add(task=_visible(request, task_id), text=payload.text, actor=_user(request), via=Via.API)
    return Status(201, _progress(entry))


@router.post("/tasks/{task_id}/reply", response={200: TaskDetailOut, **ONE_WRITE_ERRORS})
def task_reply(request: HttpRequest, task_id: int, payload: ReplyIn) -> dict[str, Any]:
    """The department's reply: cause and measures; the task is done and the complaint moves on when every task
    has replied (handling.work_task). A 422 when the task cannot reply now; missing fields are a 422 naming
    them."""
    services.task_reply(task=_visible(request, task_id), reply=payload.reply, actor=_user(request), via=Via.API)
    return _task_detail(request, task_id)


@router.post("/tasks/{task_id}/reassign", response={200: TaskDetailOut, **ONE_WRITE_ERRORS})
def task_reassign(request: HttpRequest, task_id: int, payload: ReassignIn) -> dict[str, Any]:
    """Gives the task to another member of its department (the department's manager, handling.reassign_task).
    Someone outside the department is a 422 on `handler`; a finished task a 422."""
    services.task_reassign(
        task=_visible(request, task_id),
        handler=_person(payload.handler),
        actor=_user(request),
        via=Via.API,
        note=payload.note,
    )
    return _task_detail(request, task_id)


@router.post("/tasks/{task_id}/withdraw", response={200: TaskDetailOut, **ONE_WRITE_ERRORS})
def task_withdraw(request: HttpRequest, task_id: int, payload: TaskReasonIn) -> dict[str, Any]:
    """Withdraws a task sent to the wrong department, with a reason (customer service, handling.withdraw_task). A
    task already replied to is a 422."""
    services.task_withdraw(task=_visible(request, task_id), reason=payload.reason, actor=_user(request), via=Via.API)
    return _task_detail(request, task_id)


@router.get("/complaints/{number}/tasks", response={200: list[TaskOut], **ONE_ERRORS}, summary="A complaint's tasks")
def complaint_task_list(request: HttpRequest, number: Number, since: Query[UpdatedSince]) -> list[dict[str, Any]]:
    """Every task of a complaint the caller may see, with its state and deadline. An unknown or invisible
    complaint is a 404."""
    user = _user(request)
    complaint = complaint_get(user=user, number=number)
    actor = services.Actor.of(user)
    tasks = updated_since(selectors.complaint_tasks(complaint=complaint), since).select_related("complaint")
    return [_task(t, actor) for t in tasks]


@router.get("/complaints/{number}/contacts", response={200: list[ContactOut], **ONE_ERRORS}, summary="The contact log")
def complaint_contact_list(request: HttpRequest, number: Number, since: Query[UpdatedSince]) -> list[dict[str, Any]]:
    """The contact log of a complaint (calls, visits, messages with the complainant), oldest first. An unknown or
    invisible complaint is a 404."""
    complaint = complaint_get(user=_user(request), number=number)
    contacts = updated_since(selectors.complaint_contacts(complaint=complaint), since, field="at")
    return [_contact(c) for c in contacts]


@router.post(
    "/complaints/{number}/contacts",
    response={201: ContactOut, **ONE_WRITE_ERRORS},
    summary="Log a contact with the complainant (customer service, or a department with a task on it)",
)
def complaint_contact_add(request: HttpRequest, number: Number, payload: ContactIn) -> Status:
    """Logs a contact with the complainant outside a task (customer service, or a department with a task on it:
    handling.log_contact). An archived complaint is a 422; a missing summary a 422."""
    user = _user(request)
    complaint = complaint_get(user=user, number=number)
    contact = services.contact_log_add(
        complaint=complaint,
        at=payload.at or timezone.now(),
        channel=payload.channel.value,
        outcome=payload.outcome.value,
        summary=payload.summary,
        actor=user,
        via=Via.API,
    )
    return Status(201, _contact(contact))
