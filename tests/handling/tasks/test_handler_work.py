"""The handler's work on a task: verify, ask for information (the clock pauses), contacts, progress
(the 48 h clock rolls), reply (the feedback form opens). Every refusal changes nothing."""

from __future__ import annotations

import datetime
from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.db import transaction

from closeloop.complaints.lifecycle import TRANSITIONS, Status
from closeloop.complaints.models import Complaint
from closeloop.complaints.services import transition_apply
from closeloop.core.errors import DomainError, PermissionDeniedError, TransitionNotAllowed, ValidationFailed
from closeloop.directory.models import Department
from closeloop.handling.models import ContactLog, FeedbackForm, ProgressEntry, Task, TaskStatus
from closeloop.handling.services.tasks import (
    contact_log_add,
    progress_add,
    task_create,
    task_info_provided,
    task_reply,
    task_request_info,
    task_verify,
)
from closeloop.notifications.models import Notification
from closeloop.sla.models import Deadline
from tests.conftest import aware

pytestmark = pytest.mark.django_db

# Monday 2026-11-23 10:00 Asia/Shanghai: an ordinary working day.
T0 = aware(2026, 11, 23, 10, 0)


@pytest.fixture
def at_t0(
    make_complaint: Callable[..., Complaint], people: dict[str, User], tech_dept: Department
) -> tuple[Complaint, Task]:
    """A normal-priority complaint dispatched to tech's handler at T0."""
    complaint = make_complaint(actor=people["agent"], now=T0)
    with transaction.atomic():
        locked = Complaint.objects.select_for_update().get(pk=complaint.pk)
        task = task_create(
            complaint=locked,
            department=tech_dept,
            handler=people["tech_handler"],
            actor=people["agent"],
            via="desk",
            now=T0,
        )
        transition_apply(
            locked=locked,
            transition=TRANSITIONS["dispatch"],
            actor=people["agent"],
            via="desk",
            now=T0,
            data={"departments": ["tech"]},
        )
    complaint.refresh_from_db()
    return complaint, task


def open_due(task: Task, milestone: str) -> datetime.datetime:
    return Deadline.objects.get(task=task, milestone=milestone, met_at__isnull=True).due_at


# --- verify ------------------------------------------------------------------------------------------


def test_first_verify_meets_the_deadline_and_starts_handling(
    dispatched: Callable[..., tuple[Complaint, dict[str, Task]]], people: dict[str, User]
) -> None:
    complaint, tasks = dispatched()

    task = task_verify(task=tasks["tech"], actor=people["tech_handler"], via="desk")

    assert task.status == TaskStatus.IN_PROGRESS and task.verified_at is not None
    assert Deadline.objects.get(task=task, milestone="verify").met_at is not None
    complaint.refresh_from_db()
    assert complaint.status == Status.IN_PROGRESS
    assert list(complaint.events.values_list("action", flat=True))[-2:] == ["task_verified", "start_handling"]

    # The second department's verification does not move the complaint again.
    task_verify(task=tasks["quality"], actor=people["quality_handler"], via="desk")
    assert complaint.events.filter(action="start_handling").count() == 1


def test_department_member_verifies_an_unassigned_task_and_manager_any(
    dispatched: Callable[..., tuple[Complaint, dict[str, Task]]],
    people: dict[str, User],
    make_user: Callable[..., User],
    tech_dept: Department,
) -> None:
    _complaint, tasks = dispatched()
    Task.objects.filter(pk=tasks["tech"].pk).update(handler=None)
    colleague = make_user("handler", departments=[tech_dept])
    task = task_verify(task=tasks["tech"], actor=colleague, via="desk")
    assert task.status == TaskStatus.IN_PROGRESS
    assert task.handler == colleague  # whoever takes a pool task becomes its handler, the clocks follow
    assert set(Deadline.objects.filter(task=task, met_at__isnull=True).values_list("assignee", flat=True)) == {
        colleague.pk
    }
    assert task_verify(task=tasks["quality"], actor=people["quality_manager"], via="desk").verified_at


@pytest.mark.parametrize("role", ["quality_handler", "agent", "auditor", "quality_manager"])
def test_verify_refused_for_people_outside_the_task(
    role: str, dispatched: Callable[..., tuple[Complaint, dict[str, Task]]], people: dict[str, User]
) -> None:
    """Another department's handler, customer service, the auditor; and the other department's manager."""
    complaint, tasks = dispatched()
    with pytest.raises(PermissionDeniedError):
        task_verify(task=tasks["tech"], actor=people[role], via="desk")
    tasks["tech"].refresh_from_db()
    assert tasks["tech"].status == TaskStatus.DISPATCHED
    assert not complaint.events.filter(action="task_verified").exists()


def test_a_member_may_not_take_a_colleagues_task(
    dispatched: Callable[..., tuple[Complaint, dict[str, Task]]], make_user: Callable[..., User], tech_dept: Department
) -> None:
    _complaint, tasks = dispatched()
    colleague = make_user("handler", departments=[tech_dept])
    with pytest.raises(PermissionDeniedError):
        task_verify(task=tasks["tech"], actor=colleague, via="desk")


def test_verify_twice_is_refused(
    dispatched: Callable[..., tuple[Complaint, dict[str, Task]]], people: dict[str, User]
) -> None:
    _complaint, tasks = dispatched()
    task_verify(task=tasks["tech"], actor=people["tech_handler"], via="desk")
    with pytest.raises(TransitionNotAllowed):
        task_verify(task=tasks["tech"], actor=people["tech_handler"], via="desk")


# --- information requests ----------------------------------------------------------------------------


def test_request_info_pauses_and_provided_info_resumes_with_the_pause_added(
    at_t0: tuple[Complaint, Task], people: dict[str, User]
) -> None:
    complaint, task = at_t0
    assert open_due(task, "verify") == aware(2026, 11, 23, 11, 0)  # 1wh
    assert open_due(task, "reply") == aware(2026, 11, 25, 10, 0)  # 2wd

    task_request_info(
        task=task,
        reason="photo of the label",
        actor=people["tech_handler"],
        via="desk",
        now=aware(2026, 11, 23, 10, 30),
    )

    task.refresh_from_db()
    assert task.status == TaskStatus.NEEDS_INFO and task.info_request == "photo of the label"
    assert not Deadline.objects.filter(task=task, met_at__isnull=True, paused_at__isnull=True).exists()
    assert task.next_due_at is None  # nothing running: last in the inbox
    complaint.refresh_from_db()
    assert complaint.next_due_at is not None  # the complaint's own clocks keep running
    assert Notification.objects.filter(kind="task_info_requested", recipient=people["agent"]).exists()

    # 10:30–12:00 and 13:00–14:30: three working hours of pause.
    task_info_provided(
        task=task, info="label photo attached", actor=people["agent"], via="desk", now=aware(2026, 11, 23, 14, 30)
    )

    task.refresh_from_db()
    assert task.status == TaskStatus.DISPATCHED  # not verified yet
    assert open_due(task, "verify") == aware(2026, 11, 23, 15, 0)
    assert open_due(task, "reply") == aware(2026, 11, 25, 14, 0)
    assert task.next_due_at == aware(2026, 11, 23, 15, 0)
    event = complaint.events.get(action="task_info_provided")
    assert {c["milestone"] for c in event.after["deadlines"]} >= {"verify", "reply"}
    assert Notification.objects.filter(kind="task_info_provided", recipient=people["tech_handler"]).exists()


def test_info_after_verification_returns_the_task_to_in_progress(
    dispatched: Callable[..., tuple[Complaint, dict[str, Task]]], people: dict[str, User]
) -> None:
    _complaint, tasks = dispatched()
    task_verify(task=tasks["tech"], actor=people["tech_handler"], via="desk")
    task_request_info(task=tasks["tech"], reason="invoice", actor=people["tech_handler"], via="desk")
    task = task_info_provided(task=tasks["tech"], info="sent", actor=people["supervisor"], via="desk")
    assert task.status == TaskStatus.IN_PROGRESS


def test_request_info_needs_a_reason(
    dispatched: Callable[..., tuple[Complaint, dict[str, Task]]], people: dict[str, User]
) -> None:
    _complaint, tasks = dispatched()
    with pytest.raises(DomainError) as exc:
        task_request_info(task=tasks["tech"], reason=" ", actor=people["tech_handler"], via="desk")
    assert exc.value.field == "reason"
    assert not Deadline.objects.filter(task=tasks["tech"], paused_at__isnull=False).exists()


def test_only_customer_service_provides_info_and_only_when_asked(
    dispatched: Callable[..., tuple[Complaint, dict[str, Task]]], people: dict[str, User]
) -> None:
    _complaint, tasks = dispatched()
    with pytest.raises(TransitionNotAllowed):
        task_info_provided(task=tasks["tech"], info="x", actor=people["agent"], via="desk")
    task_request_info(task=tasks["tech"], reason="invoice", actor=people["tech_handler"], via="desk")
    with pytest.raises(PermissionDeniedError):
        task_info_provided(task=tasks["tech"], info="x", actor=people["tech_handler"], via="desk")
    with pytest.raises(DomainError) as exc:
        task_info_provided(task=tasks["tech"], info="", actor=people["agent"], via="desk")
    assert exc.value.field == "info"


def test_a_task_waiting_for_information_cannot_reply_or_ask_again(
    dispatched: Callable[..., tuple[Complaint, dict[str, Task]]], people: dict[str, User]
) -> None:
    _complaint, tasks = dispatched()
    task_request_info(task=tasks["tech"], reason="invoice", actor=people["tech_handler"], via="desk")
    with pytest.raises(TransitionNotAllowed):
        task_request_info(task=tasks["tech"], reason="again", actor=people["tech_handler"], via="desk")
    with pytest.raises(TransitionNotAllowed):
        task_reply(task=tasks["tech"], reply="done", actor=people["tech_handler"], via="desk")


# --- contacts ----------------------------------------------------------------------------------------


def test_handler_logs_a_contact(
    dispatched: Callable[..., tuple[Complaint, dict[str, Task]]], people: dict[str, User]
) -> None:
    complaint, tasks = dispatched()
    contact = contact_log_add(
        complaint=complaint,
        task=tasks["tech"],
        at=complaint.received_at,
        channel="phone",
        outcome="reached",
        summary="agreed a visit on Friday",
        actor=people["tech_handler"],
        via="desk",
    )
    assert contact.by == people["tech_handler"] and contact.task == tasks["tech"]
    assert complaint.events.filter(action="contact_logged", note="agreed a visit on Friday").exists()


def test_customer_service_logs_a_contact_without_a_task(
    make_complaint: Callable[..., Complaint], people: dict[str, User]
) -> None:
    complaint = make_complaint(actor=people["agent"])
    contact_log_add(
        complaint=complaint,
        at=complaint.received_at,
        channel="sms",
        outcome="left_message",
        summary="asked to call",
        actor=people["agent"],
        via="desk",
    )
    assert ContactLog.objects.filter(complaint=complaint, task__isnull=True).count() == 1


def test_contact_refusals(
    dispatched: Callable[..., tuple[Complaint, dict[str, Task]]], people: dict[str, User]
) -> None:
    complaint, tasks = dispatched()
    base = {"complaint": complaint, "at": complaint.received_at, "via": "desk"}
    with pytest.raises(PermissionDeniedError):  # another department's handler on tech's task
        contact_log_add(
            **base, task=tasks["tech"], channel="phone", outcome="reached", summary="x", actor=people["quality_handler"]
        )
    with pytest.raises(PermissionDeniedError):
        contact_log_add(**base, channel="phone", outcome="reached", summary="x", actor=people["auditor"])
    with pytest.raises(ValidationFailed) as exc:
        contact_log_add(
            complaint=complaint,
            task=tasks["tech"],
            at=complaint.received_at + datetime.timedelta(days=3),
            channel="pigeon",
            outcome="reached",
            summary=" ",
            actor=people["tech_handler"],
            via="desk",
        )
    assert set(exc.value.errors) == {"channel", "summary", "at"}
    assert not ContactLog.objects.exists()


# --- progress ----------------------------------------------------------------------------------------


def test_progress_closes_the_open_progress_deadline_and_starts_the_next_from_now(
    at_t0: tuple[Complaint, Task], people: dict[str, User]
) -> None:
    complaint, task = at_t0
    first = Deadline.objects.get(task=task, milestone="progress", met_at__isnull=True)
    assert first.due_at == T0 + datetime.timedelta(hours=48)
    later = aware(2026, 11, 24, 16, 0)

    entry = progress_add(task=task, text="parts ordered", actor=people["tech_handler"], via="desk", now=later)

    first.refresh_from_db()
    assert first.met_at == later
    rolled = Deadline.objects.get(task=task, milestone="progress", met_at__isnull=True)
    assert rolled.started_at == later and rolled.due_at == later + datetime.timedelta(hours=48)
    assert rolled.assignee == people["tech_handler"]
    task.refresh_from_db()
    assert task.last_progress_at == later
    assert entry.text == "parts ordered"
    assert complaint.events.filter(action="progress_added", note="parts ordered").exists()


def test_progress_refusals(
    dispatched: Callable[..., tuple[Complaint, dict[str, Task]]], people: dict[str, User]
) -> None:
    _complaint, tasks = dispatched()
    with pytest.raises(DomainError) as exc:
        progress_add(task=tasks["tech"], text="", actor=people["tech_handler"], via="desk")
    assert exc.value.field == "text"
    with pytest.raises(PermissionDeniedError):
        progress_add(task=tasks["tech"], text="x", actor=people["agent"], via="desk")
    assert not ProgressEntry.objects.exists()


def test_the_sweep_reminds_and_escalates_a_task_without_progress(
    at_t0: tuple[Complaint, Task], people: dict[str, User]
) -> None:
    from closeloop.complaints.sweeps import sla_sweep

    _complaint, task = at_t0
    sla_sweep(now=T0 + datetime.timedelta(hours=40))  # past the 80 % warning point of 48 h
    assert Notification.objects.filter(recipient=people["tech_handler"], kind="deadline_warned").exists()
    sla_sweep(now=T0 + datetime.timedelta(hours=49))
    progress = Deadline.objects.get(task=task, milestone="progress")
    breached = Notification.objects.filter(
        kind="deadline_breached", dedup_key__startswith=f"deadline_breached:{progress.pk}:"
    )
    assert {people["supervisor"].pk, people["tech_manager"].pk} <= set(breached.values_list("recipient", flat=True))


# --- reply -------------------------------------------------------------------------------------------


def test_reply_meets_reply_and_analysis_closes_progress_and_opens_the_feedback_form(
    dispatched: Callable[..., tuple[Complaint, dict[str, Task]]], people: dict[str, User]
) -> None:
    complaint, tasks = dispatched()
    task_verify(task=tasks["tech"], actor=people["tech_handler"], via="desk")

    task = task_reply(task=tasks["tech"], reply="replaced the driver", actor=people["tech_handler"], via="desk")

    assert task.status == TaskStatus.REPLIED and task.reply == "replaced the driver" and task.replied_at
    closed = dict(
        Deadline.objects.filter(task=task).exclude(milestone="feedback_form").values_list("milestone", "met_at")
    )
    assert set(closed) == {"verify", "reply", "analysis", "progress"} and all(closed.values())
    assert FeedbackForm.objects.filter(task=task, handler=people["tech_handler"]).exists()
    assert Deadline.objects.filter(task=task, milestone="feedback_form", met_at__isnull=True).exists()
    assert complaint.events.filter(action="task_replied", note="replaced the driver").exists()
    assert Notification.objects.filter(kind="task_replied", recipient=people["agent"]).exists()


def test_reply_refusals(dispatched: Callable[..., tuple[Complaint, dict[str, Task]]], people: dict[str, User]) -> None:
    _complaint, tasks = dispatched()
    with pytest.raises(TransitionNotAllowed):  # not verified yet
        task_reply(task=tasks["tech"], reply="done", actor=people["tech_handler"], via="desk")
    task_verify(task=tasks["tech"], actor=people["tech_handler"], via="desk")
    with pytest.raises(DomainError) as exc:
        task_reply(task=tasks["tech"], reply="  ", actor=people["tech_handler"], via="desk")
    assert exc.value.field == "reply"
    with pytest.raises(PermissionDeniedError):
        task_reply(task=tasks["tech"], reply="done", actor=people["quality_handler"], via="desk")
    tasks["tech"].refresh_from_db()
    assert tasks["tech"].status == TaskStatus.IN_PROGRESS
    assert not FeedbackForm.objects.exists()
