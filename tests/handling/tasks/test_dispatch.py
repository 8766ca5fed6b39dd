"""complaint_dispatch, task_reassign, task_withdraw: who may, validation, redispatch, auditor CC."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User

from closeloop.complaints.lifecycle import Status
from closeloop.complaints.models import Complaint, Event
from closeloop.complaints.services import complaint_transition
from closeloop.core.errors import DomainError, PermissionDeniedError, TransitionNotAllowed
from closeloop.directory.models import Department
from closeloop.handling.models import Task, TaskStatus
from closeloop.handling.services.tasks import complaint_dispatch, task_reassign, task_withdraw
from closeloop.notifications.models import Notification
from closeloop.sla.models import Deadline

pytestmark = pytest.mark.django_db


def test_dispatch_to_two_departments_creates_tasks_with_deadlines_and_moves_the_complaint(
    make_complaint: Callable[..., Complaint], people: dict[str, User], quality_dept: Department, tech_dept: Department
) -> None:
    complaint = make_complaint(actor=people["agent"])

    tasks = complaint_dispatch(
        complaint=complaint,
        assignments=[(quality_dept, people["quality_handler"], "check the batch"), (tech_dept, None, "")],
        actor=people["agent"],
        via="desk",
    )

    complaint.refresh_from_db()
    assert complaint.status == Status.DISPATCHED
    assert [t.department.code for t in tasks] == ["quality", "tech"]
    assert tasks[0].handler == people["quality_handler"] and tasks[0].instruction == "check the batch"
    assert tasks[1].handler is None
    milestones = set(Deadline.objects.filter(task=tasks[1], met_at__isnull=True).values_list("milestone", flat=True))
    assert milestones == {"verify", "reply", "progress", "analysis"}  # tech owes an analysis (4wh)
    actions = list(complaint.events.values_list("action", flat=True))
    # The auditors' copy of a dispatch (issue 14) is written after it.
    assert actions.count("task_created") == 2 and [a for a in actions if a != "auditors_copied"][-1] == "dispatch"


def test_every_auditor_is_copied_once_per_dispatch_without_personal_data(
    make_complaint: Callable[..., Complaint],
    people: dict[str, User],
    make_user: Callable[..., User],
    quality_dept: Department,
    tech_dept: Department,
) -> None:
    second_auditor = make_user("auditor")
    second_auditor.email = "audit@example.com"
    second_auditor.save()
    complaint = make_complaint(actor=people["agent"], phone="13812345678", customer_name="王芳")

    complaint_dispatch(
        complaint=complaint,
        assignments=[(quality_dept, None, ""), (tech_dept, None, "")],
        actor=people["agent"],
        via="desk",
    )

    cc = Notification.objects.filter(kind="dispatch_cc")
    assert sorted(cc.values_list("recipient__username", "method")) == sorted(
        [("p_auditor", "in_app"), (second_auditor.username, "in_app"), (second_auditor.username, "email")]
    )
    for row in cc:
        assert complaint.number in row.subject
        assert "13812345678" not in row.subject + row.body and "王芳" not in row.subject + row.body


def test_redispatch_adds_tasks_keeps_status_and_history(
    dispatched: Callable[..., tuple[Complaint, dict[str, Task]]], people: dict[str, User]
) -> None:
    complaint, _tasks = dispatched()
    production = Department.objects.get(code="production")
    audit_copies = Notification.objects.filter(kind="dispatch_cc").count()

    complaint_dispatch(complaint=complaint, assignments=[(production, None, "")], actor=people["supervisor"], via="api")

    complaint.refresh_from_db()
    assert complaint.status == Status.DISPATCHED
    assert complaint.tasks.count() == 3
    assert complaint.events.filter(action="redispatched").count() == 1
    assert complaint.events.filter(action="dispatch").count() == 1  # the first dispatch is still there
    assert Notification.objects.filter(kind="dispatch_cc").count() == audit_copies + 1


def test_redispatch_to_a_department_with_an_open_task_is_refused(
    dispatched: Callable[..., tuple[Complaint, dict[str, Task]]], people: dict[str, User], tech_dept: Department
) -> None:
    complaint, _tasks = dispatched()
    with pytest.raises(DomainError) as exc:
        complaint_dispatch(complaint=complaint, assignments=[(tech_dept, None, "")], actor=people["agent"], via="desk")
    assert exc.value.field == "departments"
    assert complaint.tasks.count() == 2


def test_after_a_withdrawal_the_department_can_be_dispatched_again(
    dispatched: Callable[..., tuple[Complaint, dict[str, Task]]], people: dict[str, User], tech_dept: Department
) -> None:
    complaint, tasks = dispatched()
    task_withdraw(task=tasks["tech"], reason="wrong department", actor=people["agent"], via="desk")
    new = complaint_dispatch(
        complaint=complaint, assignments=[(tech_dept, None, "")], actor=people["agent"], via="desk"
    )
    assert new[0].pk != tasks["tech"].pk


@pytest.mark.parametrize("role", ["quality_handler", "quality_manager", "auditor", "quality", "management"])
def test_only_customer_service_dispatches(
    role: str, make_complaint: Callable[..., Complaint], people: dict[str, User], quality_dept: Department
) -> None:
    complaint = make_complaint(actor=people["agent"])
    with pytest.raises(PermissionDeniedError):
        complaint_dispatch(complaint=complaint, assignments=[(quality_dept, None, "")], actor=people[role], via="desk")
    assert not Task.objects.exists()


def test_dispatch_needs_a_department(make_complaint: Callable[..., Complaint], people: dict[str, User]) -> None:
    complaint = make_complaint(actor=people["agent"])
    with pytest.raises(DomainError) as exc:
        complaint_dispatch(complaint=complaint, assignments=[], actor=people["agent"], via="desk")
    assert exc.value.field == "departments"


def test_the_same_department_twice_is_refused(
    make_complaint: Callable[..., Complaint], people: dict[str, User], quality_dept: Department
) -> None:
    complaint = make_complaint(actor=people["agent"])
    with pytest.raises(DomainError):
        complaint_dispatch(
            complaint=complaint,
            assignments=[(quality_dept, None, ""), (quality_dept, None, "")],
            actor=people["agent"],
            via="desk",
        )
    assert not Task.objects.exists()


def test_handler_must_be_a_member_of_the_department(
    make_complaint: Callable[..., Complaint], people: dict[str, User], quality_dept: Department
) -> None:
    complaint = make_complaint(actor=people["agent"])
    with pytest.raises(DomainError) as exc:
        complaint_dispatch(
            complaint=complaint,
            assignments=[(quality_dept, people["tech_handler"], "")],
            actor=people["agent"],
            via="desk",
        )
    assert exc.value.field == "handler"
    complaint.refresh_from_db()
    assert complaint.status == Status.REGISTERED and not Task.objects.exists()


def test_a_resolved_complaint_cannot_be_dispatched(
    make_complaint: Callable[..., Complaint], people: dict[str, User], quality_dept: Department
) -> None:
    complaint = make_complaint(actor=people["agent"])
    complaint_transition(
        complaint=complaint, action="resolve", actor=people["agent"], via="desk", data={"resolution": "answered"}
    )
    with pytest.raises(TransitionNotAllowed):
        complaint_dispatch(
            complaint=complaint, assignments=[(quality_dept, None, "")], actor=people["agent"], via="desk"
        )
    assert not Task.objects.exists()
    assert not Event.objects.filter(action__in=["task_created", "dispatch"]).exists()


# --- reassign ----------------------------------------------------------------------------------------


def test_manager_reassigns_and_the_clocks_follow(
    dispatched: Callable[..., tuple[Complaint, dict[str, Task]]],
    people: dict[str, User],
    make_user: Callable[..., User],
    tech_dept: Department,
) -> None:
    complaint, tasks = dispatched()
    colleague = make_user("handler", departments=[tech_dept])

    task = task_reassign(task=tasks["tech"], handler=colleague, actor=people["tech_manager"], via="desk")

    assert task.handler == colleague
    assert set(Deadline.objects.filter(task=task, met_at__isnull=True).values_list("assignee", flat=True)) == {
        colleague.pk
    }
    event = complaint.events.get(action="task_reassigned")
    assert event.before == {"handler": "p_th"} and event.after["handler"] == colleague.username
    assert Notification.objects.filter(kind="task_assigned", recipient=colleague).exists()


def test_customer_service_may_reassign_too(
    dispatched: Callable[..., tuple[Complaint, dict[str, Task]]], people: dict[str, User]
) -> None:
    _complaint, tasks = dispatched()
    task = task_reassign(task=tasks["tech"], handler=None, actor=people["supervisor"], via="desk")
    assert task.handler is None


@pytest.mark.parametrize("role", ["tech_handler", "quality_manager", "auditor"])
def test_others_may_not_reassign(
    role: str, dispatched: Callable[..., tuple[Complaint, dict[str, Task]]], people: dict[str, User]
) -> None:
    _complaint, tasks = dispatched()
    with pytest.raises(PermissionDeniedError):
        task_reassign(task=tasks["tech"], handler=None, actor=people[role], via="desk")


def test_reassign_to_a_non_member_is_refused(
    dispatched: Callable[..., tuple[Complaint, dict[str, Task]]], people: dict[str, User]
) -> None:
    _complaint, tasks = dispatched()
    with pytest.raises(DomainError) as exc:
        task_reassign(task=tasks["tech"], handler=people["quality_handler"], actor=people["tech_manager"], via="desk")
    assert exc.value.field == "handler"
    tasks["tech"].refresh_from_db()
    assert tasks["tech"].handler == people["tech_handler"]


# --- withdraw ----------------------------------------------------------------------------------------


def test_withdraw_cancels_the_task_and_its_deadlines(
    dispatched: Callable[..., tuple[Complaint, dict[str, Task]]], people: dict[str, User]
) -> None:
    complaint, tasks = dispatched()

    task = task_withdraw(task=tasks["tech"], reason="not a technical issue", actor=people["agent"], via="desk")

    assert task.status == TaskStatus.CANCELLED and task.end_reason == "not a technical issue"
    assert not Deadline.objects.filter(task=task, met_at__isnull=True).exists()
    assert set(Deadline.objects.filter(task=task).values_list("cancelled", flat=True)) == {True}
    task.refresh_from_db()
    assert task.next_due_at is None
    assert complaint.events.filter(action="task_withdrawn", note="not a technical issue").exists()


def test_withdraw_needs_a_reason(
    dispatched: Callable[..., tuple[Complaint, dict[str, Task]]], people: dict[str, User]
) -> None:
    _complaint, tasks = dispatched()
    with pytest.raises(DomainError) as exc:
        task_withdraw(task=tasks["tech"], reason="  ", actor=people["agent"], via="desk")
    assert exc.value.field == "reason"
    tasks["tech"].refresh_from_db()
    assert tasks["tech"].status == TaskStatus.DISPATCHED


def test_handlers_and_managers_may_not_withdraw(
    dispatched: Callable[..., tuple[Complaint, dict[str, Task]]], people: dict[str, User]
) -> None:
    _complaint, tasks = dispatched()
    for role in ("tech_handler", "tech_manager"):
        with pytest.raises(PermissionDeniedError):
            task_withdraw(task=tasks["tech"], reason="x", actor=people[role], via="desk")


def test_a_withdrawn_task_cannot_be_withdrawn_again(
    dispatched: Callable[..., tuple[Complaint, dict[str, Task]]], people: dict[str, User]
) -> None:
    _complaint, tasks = dispatched()
    task_withdraw(task=tasks["tech"], reason="x", actor=people["agent"], via="desk")
    with pytest.raises(TransitionNotAllowed):
        task_withdraw(task=tasks["tech"], reason="x", actor=people["agent"], via="desk")


def test_a_deactivated_department_manager_gets_no_task_notice(
    make_complaint: Callable[..., Complaint],
    people: dict[str, User],
    make_user: Callable[..., User],
    tech_dept: Department,
) -> None:
    """An unassigned task is announced to its department's managers: the active ones only."""
    gone = make_user("dept_manager", departments=[tech_dept], manager=True)
    gone.is_active = False
    gone.save()
    complaint = make_complaint(actor=people["agent"])

    complaint_dispatch(complaint=complaint, assignments=[(tech_dept, None, "")], actor=people["agent"], via="desk")

    told = set(Notification.objects.filter(kind="task_assigned").values_list("recipient__username", flat=True))
    assert people["tech_manager"].username in told
    assert gone.username not in told
