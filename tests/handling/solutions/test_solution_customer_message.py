"""The customer's solution message: the solution as approved, never the approvers' notes; once per solution."""

from __future__ import annotations

import pytest
from django.utils import timezone

from closeloop.complaints.customer_messages import customer_notify
from closeloop.complaints.models import Priority
from closeloop.notifications.models import Method, Notification

pytestmark = pytest.mark.django_db


def test_solution_message_holds_the_solution_but_not_the_approvers_notes(working, propose, people) -> None:
    from closeloop.handling.services.solutions import solution_decide

    complaint, tasks = working(priority=Priority.IMPORTANT, email="li@example.com")
    solution = propose(
        complaint, tasks["quality"], measures=["compensation"], compensation_amount="800", compensation_form="voucher"
    )
    solution_decide(solution=solution, approve=True, reason="内部意见：可以", actor=people["supervisor"], via="desk")
    solution_decide(solution=solution, approve=True, reason="总经理同意", actor=people["management"], via="desk")
    rows = {r.method: r for r in Notification.objects.filter(kind="customer_solution")}
    assert set(rows) == {Method.SMS, Method.EMAIL}
    assert "上门更换驱动电源" in rows[Method.EMAIL].body and "800" in rows[Method.EMAIL].body
    for row in rows.values():
        assert "内部意见" not in row.body and "总经理同意" not in row.body and "p_qh" not in row.body
    # Sent once per solution, whatever calls it again.
    customer_notify(complaint=complaint, code="solution", now=timezone.now(), dedup=str(solution.pk))
    assert Notification.objects.filter(kind="customer_solution").count() == 2
