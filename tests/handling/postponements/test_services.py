"""Postponement requests: the handler asks, the manager opines, customer service confirms, management
decides when the two disagree; an approval moves the reply deadline and keeps the original."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User

from closeloop.complaints.models import Complaint, Event
from closeloop.core.errors import DomainError, PermissionDeniedError, TransitionNotAllowed
from closeloop.handling.models import Postponement, PostponementStatus, Task, TaskStatus
from closeloop.handling.services.postponements import (
    open_reply_deadline,
    postponement_cs_confirm,
    postponement_management_decide,
    postponement_manager_opinion,
    postponement_request,
)
from closeloop.notifications.models import Notification
from closeloop.sla.models import Deadline

Dispatched = Callable[..., tuple[Complaint, dict[str, Task]]]


def _later(task: Task, days: int = 5) -> datetime.datetime:
    deadline = open_reply_deadline(task)
    assert deadline is not None
    return deadline.due_at + datetime.timedelta(days=days)


def _request(task: Task, people: dict[str, User], **overrides: Any) -> Postponement:
    kwargs: dict[str, Any] = {
        "task": task,
        "reason": "生产周期：需要重新生产柜门",
        "proposed_due": _later(task),
        "actor": people["tech_handler"],
        "via": "desk",
    }
    kwargs.update(overrides)
    return postponement_request(**kwargs)


def _recipients(kind: str) -> set[str]:
    return set(Notification.objects.filter(kind=kind).values_list("recipient__username", flat=True))


def _actions(complaint: Complaint) -> list[str]:
    return list(
        Event.objects.filter(complaint=complaint, action__startswith="postponement_")
        .order_by("id")
        .values_list("action", flat=True)
    )


# --- request --------------------------------------------------------------------------------------


def test_handler_requests_and_department_managers_are_told(dispatched: Dispatched, people: dict[str, User]) -> None:
    complaint, tasks = dispatched()
    before = open_reply_deadline(tasks["tech"])
    assert before is not None

    postponement = _request(tasks["tech"], people)

    assert postponement.status == PostponementStatus.PENDING_MANAGER
    assert postponement.requested_by == people["tech_handler"]
    assert _recipients("postponement_requested") == {"p_tm"}
    event = Event.objects.get(complaint=complaint, action="postponement_requested")
    assert event.after["postponement"] == postponement.pk
    assert event.before["reply_due"] == before.due_at.isoformat()
    # nothing moves before the decision
    assert open_reply_deadline(tasks["tech"]).due_at == before.due_at  # type: ignore[union-attr]


def test_a_member_of_the_department_may_request(
    dispatched: Dispatched, people: dict[str, User], make_user: Callable[..., User], tech_dept: Any
) -> None:
    _complaint, tasks = dispatched()
    colleague = make_user("handler", departments=[tech_dept], username="colleague")
    assert _request(tasks["tech"], people, actor=colleague).requested_by == colleague


@pytest.mark.parametrize("who", ["quality_handler", "agent", "auditor", "quality", "management"])
def test_only_the_department_may_request(dispatched: Dispatched, people: dict[str, User], who: str) -> None:
    _complaint, tasks = dispatched()
    with pytest.raises(PermissionDeniedError):
        _request(tasks["tech"], people, actor=people[who])
    assert not Postponement.objects.exists()


def test_reason_is_required(dispatched: Dispatched, people: dict[str, User]) -> None:
    _complaint, tasks = dispatched()
    with pytest.raises(DomainError) as exc:
        _request(tasks["tech"], people, reason="  ")
    assert exc.value.field == "reason"
    assert not Postponement.objects.exists()


@pytest.mark.parametrize("shift", [datetime.timedelta(0), datetime.timedelta(hours=-3)])
def test_proposed_due_must_be_later_than_the_reply_deadline(
    dispatched: Dispatched, people: dict[str, User], shift: datetime.timedelta
) -> None:
    _complaint, tasks = dispatched()
    due = open_reply_deadline(tasks["tech"]).due_at  # type: ignore[union-attr]
    with pytest.raises(DomainError) as exc:
        _request(tasks["tech"], people, proposed_due=due + shift)
    assert exc.value.field == "proposed_due"
    with pytest.raises(DomainError) as exc:
        _request(tasks["tech"], people, proposed_due=None)
    assert exc.value.field == "proposed_due"
    assert not Postponement.objects.exists()


def test_proposed_due_must_be_in_the_future(dispatched: Dispatched, people: dict[str, User]) -> None:
    """An overdue deadline cannot be 'postponed' to a moment already past."""
    _complaint, tasks = dispatched()
    due = open_reply_deadline(tasks["tech"]).due_at  # type: ignore[union-attr]
    with pytest.raises(DomainError) as exc:
        _request(
            tasks["tech"], people, proposed_due=due + datetime.timedelta(hours=1), now=due + datetime.timedelta(days=1)
        )
    assert exc.value.field == "proposed_due"


def test_one_open_request_per_task(dispatched: Dispatched, people: dict[str, User]) -> None:
    _complaint, tasks = dispatched()
    _request(tasks["tech"], people)
    with pytest.raises(DomainError) as exc:
        _request(tasks["tech"], people, reason="再次申请")
    assert exc.value.code == "duplicate"
    # the other department's task is not affected
    _request(tasks["quality"], people, actor=people["quality_handler"])
    assert Postponement.objects.count() == 2


def test_a_new_request_after_a_rejection(dispatched: Dispatched, people: dict[str, User]) -> None:
    _complaint, tasks = dispatched()
    first = _request(tasks["tech"], people)
    postponement_manager_opinion(postponement=first, agrees=False, opinion="可以按期", actor=people["tech_manager"])
    postponement_cs_confirm(postponement=first, agrees=False, note="", actor=people["agent"])
    assert _request(tasks["tech"], people, reason="再次申请").status == PostponementStatus.PENDING_MANAGER


def test_no_request_on_an_ended_or_contested_task(dispatched: Dispatched, people: dict[str, User]) -> None:
    _complaint, tasks = dispatched()
    Task.objects.filter(pk=tasks["tech"].pk).update(status=TaskStatus.CONTESTED)
    with pytest.raises(TransitionNotAllowed):
        _request(tasks["tech"], people)


# --- manager's opinion ----------------------------------------------------------------------------


def test_manager_opinion_goes_to_customer_service(dispatched: Dispatched, people: dict[str, User]) -> None:
    _complaint, tasks = dispatched()
    postponement = _request(tasks["tech"], people)
    postponement = postponement_manager_opinion(
        postponement=postponement, agrees=True, opinion="同意，生产周期确实需要", actor=people["tech_manager"]
    )
    assert postponement.status == PostponementStatus.PENDING_CS
    assert (postponement.manager, postponement.manager_agrees) == (people["tech_manager"], True)
    assert _recipients("postponement_opinion") == {"p_supervisor"}


@pytest.mark.parametrize("who", ["agent", "supervisor", "quality_manager", "tech_handler", "management", "quality"])
def test_only_a_manager_of_the_department_gives_the_opinion(
    dispatched: Dispatched, people: dict[str, User], who: str
) -> None:
    _complaint, tasks = dispatched()
    postponement = _request(tasks["tech"], people)
    with pytest.raises(PermissionDeniedError):
        postponement_manager_opinion(postponement=postponement, agrees=True, opinion="同意", actor=people[who])
    postponement.refresh_from_db()
    assert postponement.status == PostponementStatus.PENDING_MANAGER


def test_opinion_text_is_required(dispatched: Dispatched, people: dict[str, User]) -> None:
    _complaint, tasks = dispatched()
    postponement = _request(tasks["tech"], people)
    with pytest.raises(DomainError) as exc:
        postponement_manager_opinion(postponement=postponement, agrees=True, opinion=" ", actor=people["tech_manager"])
    assert exc.value.field == "opinion"


def test_opinion_only_once(dispatched: Dispatched, people: dict[str, User]) -> None:
    _complaint, tasks = dispatched()
    postponement = _request(tasks["tech"], people)
    postponement_manager_opinion(postponement=postponement, agrees=True, opinion="同意", actor=people["tech_manager"])
    with pytest.raises(TransitionNotAllowed):
        postponement_manager_opinion(
            postponement=postponement, agrees=False, opinion="改主意", actor=people["tech_manager"]
        )


# --- customer service and management --------------------------------------------------------------


def _to_cs(tasks: dict[str, Task], people: dict[str, User], *, manager_agrees: bool) -> Postponement:
    postponement = _request(tasks["tech"], people)
    return postponement_manager_opinion(
        postponement=postponement, agrees=manager_agrees, opinion="经理意见", actor=people["tech_manager"]
    )


def test_both_agree_approves_and_moves_the_deadline_keeping_the_original(
    dispatched: Dispatched, people: dict[str, User]
) -> None:
    complaint, tasks = dispatched()
    original = open_reply_deadline(tasks["tech"]).due_at  # type: ignore[union-attr]
    postponement = _to_cs(tasks, people, manager_agrees=True)

    postponement = postponement_cs_confirm(postponement=postponement, agrees=True, note="", actor=people["agent"])

    assert postponement.status == PostponementStatus.APPROVED
    assert postponement.original_due == original
    deadline = open_reply_deadline(tasks["tech"])
    assert deadline is not None
    assert deadline.due_at == postponement.proposed_due
    assert deadline.original_due_at == original
    tasks["tech"].refresh_from_db()
    assert tasks["tech"].next_due_at is not None
    assert _actions(complaint) == [
        "postponement_requested",
        "postponement_opinion",
        "postponement_confirmed",
        "postponement_approved",
    ]
    assert _recipients("postponement_approved") == {"p_th"}
    assert not Notification.objects.filter(kind="postponement_disputed").exists()


def test_both_refuse_rejects_and_nothing_moves(dispatched: Dispatched, people: dict[str, User]) -> None:
    complaint, tasks = dispatched()
    original = open_reply_deadline(tasks["tech"]).due_at  # type: ignore[union-attr]
    postponement = _to_cs(tasks, people, manager_agrees=False)

    postponement = postponement_cs_confirm(postponement=postponement, agrees=False, note="", actor=people["supervisor"])

    assert postponement.status == PostponementStatus.REJECTED
    assert postponement.original_due is None
    deadline = open_reply_deadline(tasks["tech"])
    assert (deadline.due_at, deadline.original_due_at) == (original, None)  # type: ignore[union-attr]
    assert _actions(complaint)[-1] == "postponement_rejected"
    assert _recipients("postponement_rejected") == {"p_th"}


def test_disagreement_reaches_management_which_approves(dispatched: Dispatched, people: dict[str, User]) -> None:
    """Manager agrees, customer service refuses: management decides; approved moves the deadline."""
    complaint, tasks = dispatched()
    original = open_reply_deadline(tasks["tech"]).due_at  # type: ignore[union-attr]
    postponement = _to_cs(tasks, people, manager_agrees=True)

    with pytest.raises(DomainError) as exc:  # disagreeing needs a reason for management
        postponement_cs_confirm(postponement=postponement, agrees=False, note="", actor=people["agent"])
    assert exc.value.field == "note"

    postponement = postponement_cs_confirm(
        postponement=postponement, agrees=False, note="客户不接受再等", actor=people["agent"]
    )
    assert postponement.status == PostponementStatus.PENDING_MANAGEMENT
    assert _recipients("postponement_disputed") == {"p_gm"}
    assert open_reply_deadline(tasks["tech"]).due_at == original  # type: ignore[union-attr]

    postponement = postponement_management_decide(
        postponement=postponement, approve=True, note="同意推迟，督促生产", actor=people["management"]
    )

    assert postponement.status == PostponementStatus.APPROVED
    assert (postponement.management_by, postponement.management_agrees) == (people["management"], True)
    deadline = open_reply_deadline(tasks["tech"])
    assert deadline.due_at == postponement.proposed_due  # type: ignore[union-attr]
    assert deadline.original_due_at == original == postponement.original_due  # type: ignore[union-attr]
    assert _actions(complaint) == [
        "postponement_requested",
        "postponement_opinion",
        "postponement_confirmed",
        "postponement_decided",
        "postponement_approved",
    ]


def test_disagreement_mirror_management_rejects(dispatched: Dispatched, people: dict[str, User]) -> None:
    """Manager refuses, customer service agrees: management decides; rejected keeps the deadline."""
    complaint, tasks = dispatched()
    original = open_reply_deadline(tasks["tech"]).due_at  # type: ignore[union-attr]
    postponement = _to_cs(tasks, people, manager_agrees=False)
    postponement = postponement_cs_confirm(
        postponement=postponement, agrees=True, note="客户同意等待", actor=people["supervisor"]
    )
    assert postponement.status == PostponementStatus.PENDING_MANAGEMENT

    postponement = postponement_management_decide(
        postponement=postponement, approve=False, note="按期完成", actor=people["management"]
    )

    assert postponement.status == PostponementStatus.REJECTED
    assert open_reply_deadline(tasks["tech"]).due_at == original  # type: ignore[union-attr]
    assert _actions(complaint)[-2:] == ["postponement_decided", "postponement_rejected"]


def test_second_approval_keeps_the_first_original_due(dispatched: Dispatched, people: dict[str, User]) -> None:
    _complaint, tasks = dispatched()
    original = open_reply_deadline(tasks["tech"]).due_at  # type: ignore[union-attr]
    first = _to_cs(tasks, people, manager_agrees=True)
    postponement_cs_confirm(postponement=first, agrees=True, note="", actor=people["agent"])
    second = _request(tasks["tech"], people, proposed_due=_later(tasks["tech"], days=3))
    postponement_manager_opinion(postponement=second, agrees=True, opinion="同意", actor=people["tech_manager"])
    second = postponement_cs_confirm(postponement=second, agrees=True, note="", actor=people["agent"])
    deadline = Deadline.objects.get(task=tasks["tech"], milestone="reply", met_at__isnull=True)
    assert deadline.due_at == second.proposed_due
    assert deadline.original_due_at == original == second.original_due


@pytest.mark.parametrize("who", ["quality", "tech_manager", "tech_handler", "management", "auditor"])
def test_only_customer_service_confirms(dispatched: Dispatched, people: dict[str, User], who: str) -> None:
    _complaint, tasks = dispatched()
    postponement = _to_cs(tasks, people, manager_agrees=True)
    with pytest.raises(PermissionDeniedError):
        postponement_cs_confirm(postponement=postponement, agrees=True, note="", actor=people[who])


def test_confirm_before_the_opinion_is_refused(dispatched: Dispatched, people: dict[str, User]) -> None:
    _complaint, tasks = dispatched()
    postponement = _request(tasks["tech"], people)
    with pytest.raises(TransitionNotAllowed):
        postponement_cs_confirm(postponement=postponement, agrees=True, note="", actor=people["agent"])


@pytest.mark.parametrize("who", ["supervisor", "agent", "tech_manager", "quality"])
def test_only_management_decides(dispatched: Dispatched, people: dict[str, User], who: str) -> None:
    _complaint, tasks = dispatched()
    postponement = _to_cs(tasks, people, manager_agrees=True)
    postponement = postponement_cs_confirm(
        postponement=postponement, agrees=False, note="不同意", actor=people["agent"]
    )
    with pytest.raises(PermissionDeniedError):
        postponement_management_decide(postponement=postponement, approve=True, note="同意", actor=people[who])


def test_management_note_required_and_only_when_disputed(dispatched: Dispatched, people: dict[str, User]) -> None:
    _complaint, tasks = dispatched()
    postponement = _to_cs(tasks, people, manager_agrees=True)
    with pytest.raises(TransitionNotAllowed):  # not disputed (yet)
        postponement_management_decide(postponement=postponement, approve=True, note="同意", actor=people["management"])
    postponement = postponement_cs_confirm(
        postponement=postponement, agrees=False, note="不同意", actor=people["agent"]
    )
    with pytest.raises(DomainError) as exc:
        postponement_management_decide(postponement=postponement, approve=True, note="", actor=people["management"])
    assert exc.value.field == "note"
    postponement.refresh_from_db()
    assert postponement.status == PostponementStatus.PENDING_MANAGEMENT


def test_approval_after_the_reply_moves_nothing(dispatched: Dispatched, people: dict[str, User]) -> None:
    """The department replied while the request was open: nothing is left to move, the event says so."""
    complaint, tasks = dispatched()
    postponement = _to_cs(tasks, people, manager_agrees=True)
    Deadline.objects.filter(task=tasks["tech"], milestone="reply").update(met_at=postponement.requested_at)
    postponement = postponement_cs_confirm(postponement=postponement, agrees=True, note="", actor=people["agent"])
    assert postponement.status == PostponementStatus.APPROVED
    assert postponement.original_due is None
    event = Event.objects.get(complaint=complaint, action="postponement_approved")
    assert event.after["deadline_moved"] is False
