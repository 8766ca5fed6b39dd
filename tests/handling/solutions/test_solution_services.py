"""Solutions: levels from the rules, who decides each level, rejection and a new proposal, execution
to resolution. Given/when/then in the comments where the flow is long."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from closeloop.complaints.models import Event
from closeloop.complaints.services import complaint_transition
from closeloop.core.errors import DomainError, PermissionDeniedError, TransitionNotAllowed, ValidationFailed
from closeloop.handling.models import (
    ApprovalRule,
    ExecutionStep,
    Solution,
    SolutionApproval,
    SolutionStatus,
    Task,
    TaskStatus,
)
from closeloop.handling.services.solutions import (
    execution_step_done,
    solution_decide,
    solution_execute,
    solution_required_levels,
)
from closeloop.notifications.models import Method, Notification

pytestmark = pytest.mark.django_db


def compensation(amount: str, form: str = "cash") -> dict[str, Any]:
    return {"measures": ["compensation"], "compensation_amount": Decimal(amount), "compensation_form": form}


# --- levels --------------------------------------------------------------------------------------


def test_no_rule_matches_only_the_cs_supervisor(db: None) -> None:
    assert solution_required_levels(measures=["onsite_repair"], amount=None, custom_made=False) == ["cs_supervisor"]
    # 500 is not *above* 500.
    assert solution_required_levels(measures=["compensation"], amount=Decimal("500"), custom_made=False) == [
        "cs_supervisor"
    ]


def test_compensation_above_the_threshold_goes_to_management(db: None) -> None:
    assert solution_required_levels(measures=["compensation"], amount=Decimal("800"), custom_made=False) == [
        "cs_supervisor",
        "management",
    ]


def test_refund_of_a_custom_made_product_goes_to_management(db: None) -> None:
    assert solution_required_levels(measures=["return_refund"], amount=None, custom_made=True) == [
        "cs_supervisor",
        "management",
    ]
    assert solution_required_levels(measures=["return_refund"], amount=None, custom_made=False) == ["cs_supervisor"]


def test_inactive_rules_are_ignored_and_levels_are_deduplicated(db: None) -> None:
    ApprovalRule.objects.filter(measure="compensation").update(is_active=False)
    assert solution_required_levels(measures=["compensation"], amount=Decimal("800"), custom_made=False) == [
        "cs_supervisor"
    ]
    ApprovalRule.objects.filter(measure="compensation").update(is_active=True)
    ApprovalRule.objects.create(name="any refund", measure="return_refund", levels=["cs_supervisor", "quality"])
    levels = solution_required_levels(
        measures=["compensation", "return_refund"], amount=Decimal("900"), custom_made=True
    )
    assert levels == ["cs_supervisor", "management", "quality"]


# --- propose -------------------------------------------------------------------------------------


def test_propose_creates_solution_steps_event_and_asks_the_cs_supervisor(working, propose, people) -> None:
    complaint, tasks = working()
    due = timezone.localdate() + datetime.timedelta(days=2)
    solution = propose(
        complaint,
        tasks["quality"],
        **compensation("800", "voucher"),
        steps=[("寄出代金券", people["quality_handler"], due), ("回访确认", None, None)],
    )

    complaint.refresh_from_db()
    assert complaint.status == "solution_proposed"
    assert solution.required_levels == ["cs_supervisor", "management"]
    assert solution.next_role == "cs_supervisor"
    assert solution.compensation_amount == Decimal("800")
    assert [s.description for s in solution.steps.all()] == ["寄出代金券", "回访确认"]
    event = Event.objects.get(complaint=complaint, action="propose_solution")
    assert event.after["solution"] == solution.pk and event.after["required_levels"] == ["cs_supervisor", "management"]
    assert Notification.objects.filter(recipient=people["supervisor"], kind="solution_approval").exists()
    assert not Notification.objects.filter(recipient=people["management"], kind="solution_approval").exists()


def test_only_the_handler_or_the_department_manager_proposes(working, propose, people) -> None:
    complaint, tasks = working()
    for intruder in ("tech_handler", "supervisor", "auditor", "management", "tech_manager"):
        with pytest.raises(PermissionDeniedError):
            propose(complaint, tasks["quality"], actor=people[intruder])
    solution = propose(complaint, tasks["quality"], actor=people["quality_manager"])
    assert solution.proposed_by == people["quality_manager"]


def test_compensation_needs_an_amount_above_zero_and_a_form(working, propose) -> None:
    complaint, tasks = working()
    with pytest.raises(ValidationFailed) as exc:
        propose(complaint, tasks["quality"], measures=["compensation"], compensation_amount=Decimal("0"))
    assert set(exc.value.errors) == {"compensation_amount", "compensation_form"}
    with pytest.raises(ValidationFailed) as exc:
        propose(complaint, tasks["quality"], measures=[], description=" ")
    assert set(exc.value.errors) == {"measures", "description"}
    assert not Solution.objects.exists()
    complaint.refresh_from_db()
    assert complaint.status == "dispatched"


def test_a_second_proposal_while_one_is_pending_is_refused(working, propose) -> None:
    complaint, tasks = working()
    propose(complaint, tasks["quality"])
    with pytest.raises(TransitionNotAllowed):
        propose(complaint, tasks["tech"])
    assert Solution.objects.count() == 1


def test_a_contested_task_cannot_propose(working, propose) -> None:
    complaint, tasks = working()
    Task.objects.filter(pk=tasks["quality"].pk).update(status=TaskStatus.CONTESTED)
    tasks["quality"].refresh_from_db()
    with pytest.raises(PermissionDeniedError):
        propose(complaint, tasks["quality"])


# --- decide --------------------------------------------------------------------------------------


def test_each_level_is_decided_by_its_own_role(working, propose, people) -> None:
    complaint, tasks = working()
    solution = propose(complaint, tasks["quality"], **compensation("800"))

    # Level 1 is the CS supervisor's: not management, not a handler, not an auditor.
    for intruder in ("management", "quality_handler", "tech_handler", "auditor", "agent"):
        with pytest.raises(PermissionDeniedError):
            solution_decide(solution=solution, approve=True, actor=people[intruder], via="desk")
    solution = solution_decide(solution=solution, approve=True, actor=people["supervisor"], via="desk")
    assert solution.approved_levels == 1 and solution.next_role == "management"
    assert Notification.objects.filter(recipient=people["management"], kind="solution_approval").exists()

    # Level 2 is management's: a CS supervisor cannot decide it.
    with pytest.raises(PermissionDeniedError):
        solution_decide(solution=solution, approve=True, actor=people["supervisor"], via="desk")
    complaint.refresh_from_db()
    assert complaint.status == "solution_proposed"
    solution = solution_decide(solution=solution, approve=True, reason="同意", actor=people["management"], via="desk")
    assert solution.status == SolutionStatus.APPROVED
    complaint.refresh_from_db()
    assert complaint.status == "solution_approved"
    approvals = list(SolutionApproval.objects.filter(solution=solution).values_list("level", "role", "approved"))
    assert approvals == [(1, "cs_supervisor", True), (2, "management", True)]
    assert Event.objects.filter(complaint=complaint, action="solution_level_approved").count() == 1
    final = Event.objects.get(complaint=complaint, action="approve_solution")
    assert final.after["level"] == 2 and final.after["role"] == "management" and final.after["decision"] == "approved"
    assert Notification.objects.filter(recipient=people["quality_handler"], kind="solution_approved").exists()


def test_a_decided_solution_cannot_be_decided_again(working, propose, people) -> None:
    complaint, tasks = working()
    solution = propose(complaint, tasks["quality"])
    solution_decide(solution=solution, approve=True, actor=people["supervisor"], via="desk")
    with pytest.raises(TransitionNotAllowed):
        solution_decide(solution=solution, approve=False, reason="x", actor=people["supervisor"], via="desk")


def test_reject_needs_a_reason_and_returns_to_the_department(working, propose, people) -> None:
    complaint, tasks = working()
    solution = propose(complaint, tasks["quality"], **compensation("800"))
    with pytest.raises(DomainError) as exc:
        solution_decide(solution=solution, approve=False, reason="  ", actor=people["supervisor"], via="desk")
    assert exc.value.field == "reason"
    assert not SolutionApproval.objects.exists()

    solution_decide(solution=solution, approve=True, actor=people["supervisor"], via="desk")
    solution = solution_decide(
        solution=solution, approve=False, reason="补偿金额过高", actor=people["management"], via="desk"
    )
    assert solution.status == SolutionStatus.REJECTED and solution.rejection_reason == "补偿金额过高"
    complaint.refresh_from_db()
    assert complaint.status == "in_progress"
    event = Event.objects.get(complaint=complaint, action="reject_solution")
    assert event.note == "补偿金额过高" and event.after["level"] == 2 and event.after["decision"] == "rejected"
    told = Notification.objects.get(recipient=people["quality_handler"], kind="solution_rejected", method=Method.IN_APP)
    assert told.body == "补偿金额过高"

    # The department proposes again, within the standard this time.
    again = propose(complaint, tasks["quality"], **compensation("300"))
    assert again.required_levels == ["cs_supervisor"]
    complaint.refresh_from_db()
    assert complaint.status == "solution_proposed"


def test_nobody_approves_their_own_proposal(working, propose, people, make_user, quality_dept) -> None:
    complaint, tasks = working()
    both = make_user("dept_manager", departments=[quality_dept], manager=True)
    both.groups.add(people["supervisor"].groups.first())
    solution = propose(complaint, tasks["quality"], actor=both)
    with pytest.raises(PermissionDeniedError):
        solution_decide(solution=solution, approve=True, actor=both, via="desk")


def test_full_approval_queues_the_customer_solution_message(working, propose, people) -> None:
    complaint, tasks = working()
    solution = propose(complaint, tasks["quality"])
    solution_decide(solution=solution, approve=True, actor=people["supervisor"], via="desk")
    message = Notification.objects.get(kind="customer_solution")
    assert message.method == Method.SMS and message.recipient is None
    assert message.address == complaint.customer.phone
    assert "上门更换驱动电源" in message.body and complaint.number in message.body
    event = Event.objects.get(complaint=complaint, action="approve_solution")
    assert event.after["customer_messages"] == ["sms"]


# --- execution -----------------------------------------------------------------------------------


def _approved(working, propose, people, **overrides: Any):  # type: ignore[no-untyped-def]
    complaint, tasks = working()
    solution = propose(complaint, tasks["quality"], **overrides)
    solution_decide(solution=solution, approve=True, actor=people["supervisor"], via="desk")
    solution.refresh_from_db()
    return complaint, tasks, solution


def test_execution_steps_then_resolution(working, propose, people) -> None:
    complaint, _tasks, solution = _approved(
        working, propose, people, steps=[("上门维修", people["tech_handler"], None), ("回访", None, None)]
    )
    with pytest.raises(PermissionDeniedError):
        solution_execute(solution=solution, actor=people["tech_handler"], via="desk")
    with pytest.raises(PermissionDeniedError):
        solution_execute(solution=solution, actor=people["auditor"], via="desk")
    solution_execute(solution=solution, actor=people["quality_handler"], via="desk")
    complaint.refresh_from_db()
    solution.refresh_from_db()
    assert complaint.status == "executing" and solution.status == SolutionStatus.EXECUTING
    with pytest.raises(TransitionNotAllowed):
        solution_execute(solution=solution, actor=people["quality_handler"], via="desk")

    # The departments have replied; only the open steps stand in the way.
    Task.objects.filter(complaint=complaint).update(status=TaskStatus.REPLIED)
    with pytest.raises(DomainError, match="Execution steps"):
        complaint_transition(
            complaint=complaint, action="resolve", actor=people["agent"], via="desk", data={"resolution": "已解决"}
        )

    first, second = ExecutionStep.objects.filter(solution=solution).order_by("pk")
    # The step's owner may tick it although tech is not the proposing department.
    execution_step_done(step=first, note="已修好", actor=people["tech_handler"])
    with pytest.raises(TransitionNotAllowed):
        execution_step_done(step=first, note="", actor=people["tech_handler"])
    with pytest.raises(PermissionDeniedError):
        execution_step_done(step=second, note="", actor=people["tech_handler"])
    with pytest.raises(PermissionDeniedError):
        execution_step_done(step=second, note="", actor=people["auditor"])
    execution_step_done(step=second, note="客户确认", actor=people["agent"])

    solution.refresh_from_db()
    assert solution.status == SolutionStatus.DONE
    assert Event.objects.filter(complaint=complaint, action="execution_step_done").count() == 2
    assert Event.objects.filter(complaint=complaint, action="solution_executed").exists()
    # The agent who dispatched is told the complaint can be resolved.
    assert Notification.objects.filter(recipient=people["agent"], kind="solution_executed").exists()

    complaint_transition(
        complaint=complaint, action="resolve", actor=people["agent"], via="desk", data={"resolution": "已解决"}
    )
    complaint.refresh_from_db()
    assert complaint.status == "resolved"
    assert Notification.objects.filter(kind="customer_resolved").exists()


def test_steps_cannot_be_ticked_before_execution_starts(working, propose, people) -> None:
    _complaint, _tasks, solution = _approved(working, propose, people)
    step = solution.steps.get()
    with pytest.raises(TransitionNotAllowed):
        execution_step_done(step=step, note="", actor=people["quality_handler"])


def test_a_solution_without_steps_is_done_when_execution_starts(working, propose, people) -> None:
    _complaint, _tasks, solution = _approved(working, propose, people, steps=[])
    solution_execute(solution=solution, actor=people["agent"], via="desk")
    solution.refresh_from_db()
    assert solution.status == SolutionStatus.DONE


def test_only_approved_solutions_execute(working, propose, people) -> None:
    complaint, tasks = working()
    solution = propose(complaint, tasks["quality"])
    with pytest.raises(TransitionNotAllowed):
        solution_execute(solution=solution, actor=people["quality_handler"], via="desk")
