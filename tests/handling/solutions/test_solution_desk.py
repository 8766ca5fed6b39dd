"""The desk: the solution panel on the complaint page, its forms, and the approvals page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from closeloop.directory.models import Department
from closeloop.handling.models import Solution, SolutionStatus, Task, TaskStatus

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _only_this_panel(monkeypatch: pytest.MonkeyPatch) -> None:
    """The other areas' panels are built alongside; these tests look at this one only."""
    from closeloop.complaints import panels
    from closeloop.handling.views import solutions

    monkeypatch.setattr(panels, "_providers", [solutions.panel])


@pytest.fixture
def client_for() -> Callable[[User], Client]:
    def make(user: User) -> Client:
        client = Client(headers={"Accept-Language": "en"})
        client.force_login(user)
        return client

    return make


def proposal_form(task: Task, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "propose-task": str(task.pk),
        "propose-measures": ["onsite_repair", "compensation"],
        "propose-description": "上门维修并补偿代金券",
        "propose-compensation_amount": "800",
        "propose-compensation_form": "voucher",
        "step-TOTAL_FORMS": "3",
        "step-INITIAL_FORMS": "0",
        "step-MIN_NUM_FORMS": "0",
        "step-MAX_NUM_FORMS": "20",
        "step-0-description": "上门维修",
        "step-0-owner": "",
        "step-0-due_date": "",
        "step-1-description": "",
        "step-2-description": "",
    }
    data.update(overrides)
    return data


def test_handler_proposes_from_the_complaint_page(working, people, client_for) -> None:
    complaint, tasks = working()
    handler = client_for(people["quality_handler"])
    page = handler.get(f"/desk/c/{complaint.number}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Propose a solution" in html and 'value="compensation"' in html

    response = handler.post(f"/desk/h/c/{complaint.number}/solutions/propose/", proposal_form(tasks["quality"]))
    assert response.status_code == 302
    solution = Solution.objects.get()
    assert solution.required_levels == ["cs_supervisor", "management"]
    assert [s.description for s in solution.steps.all()] == ["上门维修"]

    page = handler.get(f"/desk/c/{complaint.number}/").content.decode()
    assert "waiting for approval" in page and "Propose a solution" not in page
    assert 'name="decision"' not in page  # a handler does not decide


def test_refused_proposal_keeps_what_was_typed(working, people, client_for) -> None:
    complaint, tasks = working()
    handler = client_for(people["quality_handler"])
    response = handler.post(
        f"/desk/h/c/{complaint.number}/solutions/propose/",
        proposal_form(tasks["quality"], **{"propose-compensation_amount": ""}),
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert "Enter the compensation amount" in html
    assert "上门维修并补偿代金券" in html and 'value="上门维修"' in html
    assert not Solution.objects.exists()


def test_other_department_gets_no_form_and_is_refused(working, people, client_for) -> None:
    complaint, tasks = working()
    response = client_for(people["auditor"]).post(
        f"/desk/h/c/{complaint.number}/solutions/propose/", proposal_form(tasks["quality"])
    )
    assert response.status_code == 403
    assert not Solution.objects.exists()


def test_approve_reject_execute_and_steps_in_the_desk(working, propose, people, client_for) -> None:
    complaint, tasks = working()
    solution = propose(complaint, tasks["quality"], steps=[("上门维修", None, None)])
    supervisor = client_for(people["supervisor"])
    page = supervisor.get(f"/desk/c/{complaint.number}/").content.decode()
    assert 'name="decision"' in page

    # Rejecting without a reason: the message is on the reason field.
    response = supervisor.post(
        f"/desk/h/solutions/{solution.pk}/decide/", {"decision": "reject", f"decide{solution.pk}-reason": ""}
    )
    assert response.status_code == 422 and "Say why the solution is rejected." in response.content.decode()
    # A handler cannot decide.
    response = client_for(people["quality_handler"]).post(
        f"/desk/h/solutions/{solution.pk}/decide/", {"decision": "approve"}
    )
    assert response.status_code == 403
    response = supervisor.post(f"/desk/h/solutions/{solution.pk}/decide/", {"decision": "approve"})
    assert response.status_code == 302
    solution.refresh_from_db()
    assert solution.status == SolutionStatus.APPROVED

    handler = client_for(people["quality_handler"])
    assert "Start executing the solution" in handler.get(f"/desk/c/{complaint.number}/").content.decode()
    assert handler.post(f"/desk/h/solutions/{solution.pk}/execute/").status_code == 302
    step = solution.steps.get()
    page = handler.get(f"/desk/c/{complaint.number}/").content.decode()
    assert "Mark done" in page
    response = handler.post(f"/desk/h/solutions/{solution.pk}/steps/{step.pk}/done/", {f"step{step.pk}-note": "修好了"})
    assert response.status_code == 302
    solution.refresh_from_db()
    assert solution.status == SolutionStatus.DONE
    page = handler.get(f"/desk/c/{complaint.number}/").content.decode()
    assert "修好了" in page and "Solution executed" in page  # the timeline names the new events


def test_out_of_scope_posts_are_404(working, propose, people, client_for, make_user) -> None:
    complaint, tasks = working()
    solution = propose(complaint, tasks["quality"])
    outsider = client_for(
        make_user("handler", departments=[Department.objects.exclude(code__in=["quality", "tech"]).first()])
    )
    assert outsider.post(f"/desk/h/c/{complaint.number}/solutions/propose/", {}).status_code == 404
    assert outsider.post(f"/desk/h/solutions/{solution.pk}/decide/", {"decision": "approve"}).status_code == 404
    assert outsider.post(f"/desk/h/solutions/{solution.pk}/execute/").status_code == 404


def test_approvals_page_lists_my_level_with_a_fixed_number_of_queries(
    working, propose, people, client_for, count_queries
) -> None:
    supervisor = client_for(people["supervisor"])
    gm = client_for(people["management"])
    complaint, tasks = working()
    first = propose(complaint, tasks["quality"])

    def measure() -> int:
        with count_queries() as counter:
            assert supervisor.get("/desk/h/approvals/").status_code == 200
        return counter.count

    one = measure()
    for _ in range(3):
        complaint, tasks = working()
        Task.objects.filter(pk=tasks["tech"].pk).update(status=TaskStatus.IN_PROGRESS)
        propose(complaint, tasks["quality"], steps=[("a", None, None), ("b", None, None)])
    assert measure() == one

    html = supervisor.get("/desk/h/approvals/").content.decode()
    assert first.complaint.number in html and 'href="/desk/h/approvals/"' in html
    assert "Nothing waits for your approval." in gm.get("/desk/h/approvals/").content.decode()
    handler_page = client_for(people["quality_handler"]).get("/desk/h/approvals/").content.decode()
    assert 'href="/desk/h/approvals/"' not in handler_page  # no nav link for handlers
