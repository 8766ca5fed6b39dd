"""Responsibility disputes: a department contests a dispatch, quality adjudicates; moved or upheld."""

from __future__ import annotations

import datetime
from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from closeloop.complaints.models import Complaint, Event
from closeloop.core.errors import DomainError, PermissionDeniedError, TransitionNotAllowed
from closeloop.directory.models import Department
from closeloop.handling.models import Dispute, DisputeStatus, Task, TaskStatus
from closeloop.handling.services.disputes import dispute_decide, dispute_raise
from closeloop.notifications.models import Notification
from closeloop.sla.models import Deadline
from closeloop.sla.services import policy_calendar

Dispatched = Callable[..., tuple[Complaint, dict[str, Task]]]
HOUR = datetime.timedelta(hours=1)


def _recipients(kind: str) -> set[str]:
    return set(Notification.objects.filter(kind=kind).values_list("recipient__username", flat=True))


def _raise(task: Task, people: dict[str, User], now: datetime.datetime | None = None, **kw: object) -> Dispute:
    return dispute_raise(
        task=task,
        reason=str(kw.pop("reason", "不是技术问题，是物流破损")),
        actor=kw.pop("actor", people["tech_handler"]),  # type: ignore[arg-type]
        via="desk",
        now=now,
        **kw,  # type: ignore[arg-type]
    )


@pytest.fixture
def warehouse() -> Department:
    return Department.objects.get(code="warehouse")


def test_raise_contests_the_task_pauses_its_clocks_and_tells_quality(
    dispatched: Dispatched, people: dict[str, User], warehouse: Department
) -> None:
    complaint, tasks = dispatched()
    dispute = _raise(tasks["tech"], people, suggested_department=warehouse)

    tasks["tech"].refresh_from_db()
    assert tasks["tech"].status == TaskStatus.CONTESTED
    assert dispute.status == DisputeStatus.PENDING and dispute.suggested_department == warehouse
    open_clocks = Deadline.objects.filter(task=tasks["tech"], met_at__isnull=True)
    assert open_clocks.exists() and not open_clocks.filter(paused_at__isnull=True).exists()
    assert tasks["tech"].next_due_at is None  # nothing runs while quality adjudicates
    # the other department's clocks keep running
    assert not Deadline.objects.filter(task=tasks["quality"], paused_at__isnull=False).exists()
    event = Event.objects.get(complaint=complaint, action="dispute_raised")
    assert event.before == {"task_status": "dispatched"}
    assert event.after["suggested_department"] == "warehouse"
    assert _recipients("dispute_raised") == {"p_quality"}


def test_the_department_manager_may_raise(dispatched: Dispatched, people: dict[str, User]) -> None:
    _complaint, tasks = dispatched()
    assert _raise(tasks["tech"], people, actor=people["tech_manager"]).raised_by == people["tech_manager"]


@pytest.mark.parametrize("who", ["quality_handler", "quality_manager", "agent", "auditor", "quality", "management"])
def test_only_the_department_raises(dispatched: Dispatched, people: dict[str, User], who: str) -> None:
    _complaint, tasks = dispatched()
    with pytest.raises(PermissionDeniedError):
        _raise(tasks["tech"], people, actor=people[who])
    assert not Dispute.objects.exists()


def test_reason_required(dispatched: Dispatched, people: dict[str, User]) -> None:
    _complaint, tasks = dispatched()
    with pytest.raises(DomainError) as exc:
        _raise(tasks["tech"], people, reason="  ")
    assert exc.value.field == "reason"
    tasks["tech"].refresh_from_db()
    assert tasks["tech"].status == TaskStatus.DISPATCHED


def test_suggesting_ones_own_department_is_refused(
    dispatched: Dispatched, people: dict[str, User], tech_dept: Department
) -> None:
    _complaint, tasks = dispatched()
    with pytest.raises(DomainError) as exc:
        _raise(tasks["tech"], people, suggested_department=tech_dept)
    assert exc.value.field == "suggested_department"


@pytest.mark.parametrize("status", [TaskStatus.CONTESTED, TaskStatus.REPLIED, TaskStatus.MOVED, TaskStatus.CANCELLED])
def test_only_an_active_task_can_be_contested(dispatched: Dispatched, people: dict[str, User], status: str) -> None:
    _complaint, tasks = dispatched()
    Task.objects.filter(pk=tasks["tech"].pk).update(status=status)
    with pytest.raises(TransitionNotAllowed):
        _raise(tasks["tech"], people)
    assert not Dispute.objects.exists()


def test_moved_to_another_department(
    dispatched: Dispatched, people: dict[str, User], tech_dept: Department, warehouse: Department
) -> None:
    complaint, tasks = dispatched()
    Complaint.objects.filter(pk=complaint.pk).update(department=tech_dept)  # tech was responsible
    raised_at = tasks["tech"].dispatched_at + HOUR
    dispute = _raise(tasks["tech"], people, now=raised_at)
    decided_at = raised_at + 3 * HOUR

    dispute = dispute_decide(
        dispute=dispute,
        move_to=warehouse,
        note="包装破损，属仓储物流",
        actor=people["quality"],
        via="desk",
        now=decided_at,
    )

    old = Task.objects.get(pk=tasks["tech"].pk)
    assert dispute.status == DisputeStatus.MOVED
    assert dispute.target_department == warehouse
    assert dispute.time_lost == 3 * HOUR
    new = dispute.new_task
    assert new is not None and new.department == warehouse and new.handler is None
    assert new.status == TaskStatus.DISPATCHED and new.dispatched_at == decided_at
    assert (old.status, old.ended_at, old.moved_to) == (TaskStatus.MOVED, decided_at, new)
    # old clocks cancelled, new ones fresh
    assert not Deadline.objects.filter(task=old, met_at__isnull=True).exists()
    assert all(d.cancelled for d in Deadline.objects.filter(task=old))
    fresh = Deadline.objects.filter(task=new, met_at__isnull=True)
    assert {d.milestone for d in fresh} >= {"verify", "reply"}
    assert all(d.started_at == decided_at for d in fresh)
    complaint.refresh_from_db()
    assert complaint.department == warehouse
    event = Event.objects.get(complaint=complaint, action="dispute_decided")
    assert event.after["time_lost_seconds"] == 3 * 3600
    assert event.after["target_department"] == "warehouse"
    assert event.after["new_task"] == new.pk
    assert Event.objects.filter(complaint=complaint, action="task_created", after__task=new.pk).exists()
    assert {"p_th", "p_tm", "p_auditor"} <= _recipients("dispute_decided")
    # the tech department no longer has an active task; quality's is untouched
    tasks["quality"].refresh_from_db()
    assert tasks["quality"].status == TaskStatus.DISPATCHED


def test_moving_keeps_the_responsible_department_when_it_was_another(
    dispatched: Dispatched, people: dict[str, User], quality_dept: Department, warehouse: Department
) -> None:
    complaint, tasks = dispatched()
    Complaint.objects.filter(pk=complaint.pk).update(department=quality_dept)
    dispute = _raise(tasks["tech"], people)
    dispute_decide(dispute=dispute, move_to=warehouse, note="仓储", actor=people["quality"], via="desk")
    complaint.refresh_from_db()
    assert complaint.department == quality_dept


def test_moving_onto_a_department_already_working_on_it_joins_its_task(
    dispatched: Dispatched, people: dict[str, User], quality_dept: Department
) -> None:
    _complaint, tasks = dispatched()
    dispute = _raise(tasks["tech"], people)
    dispute = dispute_decide(dispute=dispute, move_to=quality_dept, note="质量问题", actor=people["quality"], via="api")
    assert dispute.new_task == tasks["quality"]
    assert Task.objects.filter(department=quality_dept).count() == 1
    assert Task.objects.get(pk=tasks["tech"].pk).moved_to == tasks["quality"]


def test_upheld_restores_the_task_and_resumes_its_clocks(dispatched: Dispatched, people: dict[str, User]) -> None:
    complaint, tasks = dispatched()
    task = tasks["tech"]
    Task.objects.filter(pk=task.pk).update(status=TaskStatus.IN_PROGRESS, verified_at=task.dispatched_at)
    reply = Deadline.objects.select_related("policy__calendar").get(task=task, milestone="reply", met_at__isnull=True)
    reply_before = reply.due_at
    # Quality's two hours fall inside working hours (the next working day, 09:00–11:00 local) whatever
    # the time the test runs: a pause outside working hours does not move a working-days deadline.
    calendar = policy_calendar(reply.policy)
    day = timezone.localdate(task.dispatched_at) + datetime.timedelta(days=1)
    while not calendar.is_working_day(day):
        day += datetime.timedelta(days=1)
    raised_at = datetime.datetime.combine(day, datetime.time(9), tzinfo=timezone.get_current_timezone())
    dispute = _raise(task, people, now=raised_at)

    dispute = dispute_decide(
        dispute=dispute,
        move_to=None,
        note="技术问题，维持原派单",
        actor=people["quality"],
        via="desk",
        now=raised_at + 2 * HOUR,
    )

    task.refresh_from_db()
    assert dispute.status == DisputeStatus.REJECTED and dispute.new_task is None
    assert dispute.time_lost == 2 * HOUR
    assert task.status == TaskStatus.IN_PROGRESS
    reply = Deadline.objects.get(task=task, milestone="reply", met_at__isnull=True)
    assert reply.paused_at is None
    assert reply.paused_seconds == 2 * 3600
    assert reply.due_at > reply_before  # extended by the time quality took
    assert task.next_due_at is not None
    complaint.refresh_from_db()
    event = Event.objects.get(complaint=complaint, action="dispute_decided")
    assert event.after["outcome"] == "rejected" and event.after["task_status"] == "in_progress"
    assert "p_th" in _recipients("dispute_decided")


def test_upheld_with_the_own_department_named(
    dispatched: Dispatched, people: dict[str, User], tech_dept: Department
) -> None:
    _complaint, tasks = dispatched()
    dispute = _raise(tasks["tech"], people)
    dispute = dispute_decide(dispute=dispute, move_to=tech_dept, note="维持", actor=people["quality"], via="desk")
    assert dispute.status == DisputeStatus.REJECTED
    assert Task.objects.get(pk=tasks["tech"].pk).status == TaskStatus.DISPATCHED


def test_upheld_while_waiting_for_information_stays_paused(dispatched: Dispatched, people: dict[str, User]) -> None:
    _complaint, tasks = dispatched()
    task = tasks["tech"]
    Task.objects.filter(pk=task.pk).update(status=TaskStatus.NEEDS_INFO)
    dispute = _raise(task, people)
    dispute_decide(dispute=dispute, move_to=None, note="维持", actor=people["quality"], via="desk")
    task.refresh_from_db()
    assert task.status == TaskStatus.NEEDS_INFO
    assert not Deadline.objects.filter(task=task, met_at__isnull=True, paused_at__isnull=True).exists()


@pytest.mark.parametrize(
    "who",
    [
        "tech_handler",
        "tech_manager",
        "quality_handler",
        "quality_manager",
        "agent",
        "supervisor",
        "management",
        "auditor",
    ],
)
def test_only_quality_adjudicates(
    dispatched: Dispatched, people: dict[str, User], who: str, warehouse: Department
) -> None:
    """A handler (even of the quality department) is not the quality role."""
    _complaint, tasks = dispatched()
    dispute = _raise(tasks["tech"], people)
    with pytest.raises(PermissionDeniedError):
        dispute_decide(dispute=dispute, move_to=warehouse, note="x", actor=people[who], via="desk")
    dispute.refresh_from_db()
    assert dispute.status == DisputeStatus.PENDING


def test_decision_note_required_and_decided_once(
    dispatched: Dispatched, people: dict[str, User], warehouse: Department
) -> None:
    _complaint, tasks = dispatched()
    dispute = _raise(tasks["tech"], people)
    with pytest.raises(DomainError) as exc:
        dispute_decide(dispute=dispute, move_to=warehouse, note=" ", actor=people["quality"], via="desk")
    assert exc.value.field == "note"
    assert Task.objects.get(pk=tasks["tech"].pk).status == TaskStatus.CONTESTED
    dispute_decide(dispute=dispute, move_to=None, note="维持", actor=people["quality"], via="desk")
    with pytest.raises(TransitionNotAllowed):
        dispute_decide(dispute=dispute, move_to=warehouse, note="改判", actor=people["quality"], via="desk")


def test_contested_task_can_be_contested_again_after_upholding(dispatched: Dispatched, people: dict[str, User]) -> None:
    _complaint, tasks = dispatched()
    dispute = _raise(tasks["tech"], people)
    dispute_decide(dispute=dispute, move_to=None, note="维持", actor=people["quality"], via="desk")
    assert _raise(tasks["tech"], people, reason="新的证据").status == DisputeStatus.PENDING


def test_moving_ends_an_open_postponement_of_the_old_task(
    dispatched: Dispatched, people: dict[str, User], warehouse: Department
) -> None:
    from closeloop.handling.models import Postponement, PostponementStatus
    from closeloop.handling.services.postponements import open_reply_deadline, postponement_request

    complaint, tasks = dispatched()
    due = open_reply_deadline(tasks["tech"]).due_at  # type: ignore[union-attr]
    postponement = postponement_request(
        task=tasks["tech"], reason="生产", proposed_due=due + 24 * HOUR, actor=people["tech_handler"], via="desk"
    )
    dispute = _raise(tasks["tech"], people)
    dispute_decide(dispute=dispute, move_to=warehouse, note="仓储", actor=people["quality"], via="desk")
    postponement = Postponement.objects.get(pk=postponement.pk)
    assert postponement.status == PostponementStatus.REJECTED
    event = Event.objects.get(complaint=complaint, action="postponement_rejected")
    assert event.after["task_moved"] is True
