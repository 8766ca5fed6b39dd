"""The whole cross-department flow of issue 4 in a real browser, every step through the desk pages:

1. the agent dispatches a complaint to quality and tech;
2. the quality handler contests the dispatch; quality moves the task to production (time lost shown);
3. the tech handler verifies and proposes 800 CNY compensation (above the 500 CNY rule) with one step;
4. the CS supervisor approves the first level, management the second;
5. the solution is executed and its step ticked off; tech and production reply to customer service;
6. the agent resolves the complaint;
7. the tech handler's feedback form is submitted, returned once by the CS supervisor, supplemented,
   resubmitted and approved for archive.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from playwright.sync_api import expect

from closeloop.complaints.lifecycle import Status
from closeloop.complaints.models import Complaint
from closeloop.core.roles import Role
from closeloop.directory.models import Department
from closeloop.handling.models import (
    Dispute,
    DisputeStatus,
    FeedbackForm,
    FeedbackStatus,
    Solution,
    SolutionStatus,
    Task,
    TaskStatus,
)
from tests.browser.test_handling_flow import dispatch, login, open_complaint, task_action, task_card


def _status(page: Any) -> Any:
    return page.locator("h1 .status")


def _submit(page: Any, button: Any, message: str) -> None:
    """Click a submit button, wait for the page it leads to, and check the confirmation."""
    with page.expect_navigation():
        button.click()
    expect(page.locator(".msg-success")).to_contain_text(message)


@pytest.mark.django_db(transaction=True)
def test_whole_handling_flow(
    page: Any, make_user: Callable[..., User], make_complaint: Callable[..., Complaint]
) -> None:
    quality = Department.objects.get(code="quality")
    tech = Department.objects.get(code="tech")
    production = Department.objects.get(code="production")
    agent = make_user(Role.AGENT, username="wf-agent")
    make_user(Role.CS_SUPERVISOR, username="wf-supervisor")
    quality_handler = make_user(Role.HANDLER, departments=[quality], username="wf-qh")
    make_user(Role.DEPT_MANAGER, departments=[quality], manager=True, username="wf-qm")
    tech_handler = make_user(Role.HANDLER, departments=[tech], username="wf-th")
    make_user(Role.DEPT_MANAGER, departments=[tech], manager=True, username="wf-tm")
    make_user(Role.HANDLER, departments=[production], username="wf-ph")
    make_user(Role.QUALITY, username="wf-quality")
    make_user(Role.MANAGEMENT, username="wf-gm")
    complaint = make_complaint(actor=agent, description="餐桌漆面开裂,客户要求赔偿")
    number = complaint.number

    # 1. The agent dispatches to quality and tech, each with a named handler.
    login(page, "wf-agent")
    open_complaint(page, number)
    dispatch(
        page,
        {"quality": str(quality_handler.pk), "tech": str(tech_handler.pk)},
        instruction="请核实漆面问题并联系客户",
    )
    expect(_status(page)).to_have_text("dispatched")
    expect(task_card(page, "quality")).to_contain_text("wf-qh")
    expect(task_card(page, "tech")).to_contain_text("wf-th")

    # 2a. The quality handler contests the dispatch, suggesting production.
    login(page, "wf-qh")
    open_complaint(page, number)
    disputes = page.locator("section#disputes")
    contest = disputes.locator("details.action-form", has=page.locator("summary", has_text="Contest the dispatch"))
    contest.locator("summary").click()
    contest.locator("textarea[name$=reason]").fill("漆面开裂属于生产工艺问题,不是来料质量")
    contest.locator("select[name$=suggested_department]").select_option("production")
    _submit(page, contest.get_by_role("button", name="Contest the dispatch"), "Dispatch contested")
    expect(task_card(page, "quality").locator(".task-status")).to_have_text("contested")
    dispute_item = page.locator("article.dispute-item")
    expect(dispute_item.locator(".dispute-status")).to_have_text("waiting for quality")
    expect(dispute_item).to_contain_text("Suggested department: Production")
    expect(dispute_item).to_contain_text("漆面开裂属于生产工艺问题")

    # 2b. Quality finds it among its decisions and moves the task to production.
    login(page, "wf-quality")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Decisions", exact=True).click()
    expect(page.get_by_role("heading", name="Waiting for my decision")).to_be_visible()
    row = page.locator("table.decisions tr", has_text=number)
    expect(row).to_contain_text("Quality")
    expect(row).to_contain_text("Production")
    with page.expect_navigation():
        row.get_by_role("link", name=number).click()
    dispute_item = page.locator("article.dispute-item")
    adjudicate = dispute_item.locator("details.action-form")
    expect(adjudicate.locator("select[name$=move_to]")).to_have_value("production")  # the suggestion
    adjudicate.locator("textarea[name$=note]").fill("工艺问题,转生产部处理")
    _submit(page, adjudicate.get_by_role("button", name="Decide"), "Dispute decided.")
    dispute_item = page.locator("article.dispute-item")
    expect(dispute_item.locator(".dispute-status")).to_have_text("moved to another department")
    expect(dispute_item).to_contain_text("Moved to Production")
    expect(dispute_item.locator(".time-lost")).to_contain_text(re.compile(r"time lost: \d+\s+minute"))
    expect(task_card(page, "quality").locator(".task-status")).to_have_text("moved")
    expect(task_card(page, "production").locator(".task-status")).to_have_text("dispatched")
    expect(task_card(page, "production")).to_contain_text("department pool")
    expect(page.locator(".timeline")).to_contain_text("Responsibility dispute decided")
    quality_task = Task.objects.get(complaint=complaint, department=quality)
    assert quality_task.status == TaskStatus.MOVED
    assert quality_task.moved_to is not None and quality_task.moved_to.department == production
    dispute = Dispute.objects.get(task=quality_task)
    assert dispute.status == DisputeStatus.MOVED and dispute.time_lost is not None

    # 3. The tech handler verifies and proposes 800 CNY compensation with one execution step.
    login(page, "wf-th")
    open_complaint(page, number)
    task_action(page, "tech", "Verify")
    expect(_status(page)).to_have_text("in progress")
    propose = page.locator("details.solution-propose")
    expect(propose).to_have_attribute("open", "")
    propose.locator("input[name=propose-measures][value=onsite_repair]").check()
    propose.locator("input[name=propose-measures][value=compensation]").check()
    propose.locator("input[name=propose-compensation_amount]").fill("800")
    propose.locator("select[name=propose-compensation_form]").select_option("cash")
    propose.locator("textarea[name=propose-description]").fill("上门补漆,并补偿客户800元")
    propose.locator("input[name=step-0-description]").fill("上门补漆")
    propose.locator("select[name=step-0-owner]").select_option(str(tech_handler.pk))
    due = timezone.localdate() + datetime.timedelta(days=3)
    propose.locator("input[name=step-0-due_date]").fill(due.isoformat())
    _submit(page, propose.get_by_role("button", name="Propose for approval"), "Solution proposed")
    expect(_status(page)).to_have_text("solution proposed")
    solution_box = page.locator("#solutions .solution").first
    expect(solution_box.locator(".solution-status")).to_have_text("waiting for approval")
    expect(solution_box).to_contain_text("800.00 CNY")
    chain = solution_box.locator("ul.approval-chain li")
    expect(chain).to_have_count(2)
    expect(chain.nth(0)).to_contain_text("CS supervisor")
    expect(chain.nth(0)).to_contain_text("waiting")
    expect(chain.nth(1)).to_contain_text("management")
    expect(solution_box.locator("form.decide-form")).to_have_count(0)  # not the proposer's to approve

    # 4a. The CS supervisor approves the first level from the approvals page.
    login(page, "wf-supervisor")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Approvals", exact=True).click()
    row = page.locator("table.approvals tr", has_text=number)
    expect(row).to_contain_text("800.00 CNY")
    expect(row).to_contain_text("1 of 2 (CS supervisor)")
    with page.expect_navigation():
        row.get_by_role("link", name=number).click()
    decide = page.locator("form.decide-form")
    decide.locator("textarea").fill("同意上门补漆")
    _submit(page, decide.get_by_role("button", name="Approve"), "Solution approved (level 1 of 2); waiting for level 2")
    expect(_status(page)).to_have_text("solution proposed")  # still waiting for management
    chain = page.locator("#solutions ul.approval-chain li")
    expect(chain.nth(0)).to_contain_text("approved by wf-supervisor")
    expect(chain.nth(1)).to_contain_text("waiting")
    expect(page.locator("form.decide-form")).to_have_count(0)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Approvals", exact=True).click()
    expect(page.locator("table.approvals tr", has_text=number)).to_have_count(0)

    # 4b. Management approves the second level.
    login(page, "wf-gm")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Approvals", exact=True).click()
    row = page.locator("table.approvals tr", has_text=number)
    expect(row).to_contain_text("2 of 2 (management)")
    with page.expect_navigation():
        row.get_by_role("link", name=number).click()
    _submit(
        page,
        page.locator("form.decide-form").get_by_role("button", name="Approve"),
        "Solution approved (level 2 of 2, the last)",
    )
    expect(_status(page)).to_have_text("solution approved")
    expect(page.locator("#solutions .solution-status").first).to_have_text("approved")
    expect(page.locator("#solutions ul.approval-chain li").nth(1)).to_contain_text("approved by wf-gm")

    # 5a. The tech handler executes the solution, ticks off the step and replies to customer service.
    login(page, "wf-th")
    open_complaint(page, number)
    _submit(
        page, page.get_by_role("button", name="Start executing the solution"), "Execution started: mark each step done"
    )
    expect(_status(page)).to_have_text("executing")
    step = page.locator("ul.execution-steps li", has_text="上门补漆")
    step.locator("input[name$=note]").fill("已上门补漆,客户确认")
    _submit(page, step.get_by_role("button", name="Mark done"), "Step done.")
    expect(page.locator("ul.execution-steps li.step-done")).to_contain_text("已上门补漆,客户确认")
    task_action(page, "tech", "Reply to customer service", {"reply": "已上门补漆并赔偿800元,客户认可"})
    expect(task_card(page, "tech").locator(".task-status")).to_have_text("replied")

    # 5b. The production handler finds the moved task in the department's inbox, verifies it and replies.
    login(page, "wf-ph")
    page.get_by_role("link", name="Task inbox").click()
    page.get_by_role("link", name="My department's tasks").click()
    row = page.locator("tr.task-row", has_text=number)
    expect(row).to_contain_text("Production")
    with page.expect_navigation():
        row.get_by_role("link", name=number).click()
    expect(task_card(page, "production")).to_contain_text("请核实漆面问题并联系客户")  # the instruction moved too
    task_action(page, "production", "Verify")
    task_action(page, "production", "Reply to customer service", {"reply": "已调整喷漆工艺参数"})
    expect(task_card(page, "production").locator(".task-status")).to_have_text("replied")

    # 6. The agent resolves the complaint.
    login(page, "wf-agent")
    open_complaint(page, number)
    resolve = page.locator("section.actions details.action-form", has=page.locator("summary", has_text="resolve"))
    resolve.locator("summary").click()
    resolve.locator("textarea[name$=resolution]").fill("上门补漆并赔偿800元,客户满意")
    _submit(page, resolve.get_by_role("button", name=re.compile("resolve")), "Resolved; the customer is told.")
    expect(_status(page)).to_have_text("resolved")
    expect(page.locator(".col-main")).to_contain_text("上门补漆并赔偿800元,客户满意")

    # 7a. The tech handler fills in the feedback form and submits it.
    login(page, "wf-th")
    page.get_by_role("link", name="Feedback forms").click()
    row = page.locator("#fb-fill tr.fb-row", has_text=number)
    expect(row.locator(".fb-status")).to_have_text("to fill in")
    with page.expect_navigation():
        row.get_by_role("link", name="Fill in").click()
    form = page.locator("form.fb-edit")
    expect(form.locator("textarea[name=measures]")).not_to_be_empty()  # prefilled from the solution
    form.locator("input[name=result][value=resolved]").check()
    form.locator("input[name=demand_met][value=yes]").check()
    form.locator("input[name=satisfaction_seen][value=satisfied]").check()
    form.locator("textarea[name=root_cause]").fill("喷漆工序烘干时间不足")
    form.locator("textarea[name=improvement_suggestion]").fill("延长烘干时间")
    _submit(page, form.get_by_role("button", name="Submit for review"), "Feedback form submitted for review.")
    expect(page.locator("article.feedback-form .fb-status")).to_have_text("waiting for review")

    # 7b. The CS supervisor returns it with a note.
    login(page, "wf-supervisor")
    page.get_by_role("link", name="Feedback forms").click()
    row = page.locator("#fb-review tr.fb-row", has_text=number)
    expect(row).to_contain_text("Technical Support")
    with page.expect_navigation():
        row.get_by_role("link", name="Review").click()
    review = page.locator("form.fb-review")
    review.locator("textarea[name=note]").fill("请补充烘干时间的具体数据")
    _submit(page, review.get_by_role("button", name="Return for supplement"), "Returned to the handler.")
    expect(page.locator("article.feedback-form .fb-status")).to_have_text("returned for supplement")

    # 7c. The handler sees it again in the list, supplements it and submits it again.
    login(page, "wf-th")
    page.get_by_role("link", name="Feedback forms").click()
    row = page.locator("#fb-fill tr.fb-row", has_text=number)
    expect(row.locator(".fb-status")).to_have_text("returned for supplement")
    expect(row.locator(".fb-return-note")).to_contain_text("请补充烘干时间的具体数据")
    with page.expect_navigation():
        row.get_by_role("link", name="Fill in").click()
    expect(page.locator(".fb-return-note")).to_contain_text("请补充烘干时间的具体数据")
    form = page.locator("form.fb-edit")
    expect(form.locator("textarea[name=root_cause]")).to_have_value("喷漆工序烘干时间不足")  # kept
    form.locator("textarea[name=root_cause]").fill("喷漆工序烘干时间不足:实测18分钟,标准30分钟")
    _submit(page, form.get_by_role("button", name="Submit for review"), "Feedback form submitted for review.")
    expect(page.locator("article.feedback-form .fb-status")).to_have_text("waiting for review")

    # 7d. The CS supervisor approves it for archive.
    login(page, "wf-supervisor")
    page.get_by_role("link", name="Feedback forms").click()
    row = page.locator("#fb-review tr.fb-row", has_text=number).filter(has_text="Technical Support")
    with page.expect_navigation():
        row.get_by_role("link", name="Review").click()
    expect(page.locator("article.feedback-form")).to_contain_text("实测18分钟")
    review = page.locator("form.fb-review")
    _submit(page, review.get_by_role("button", name="Approve for archive"), "Approved for archive.")
    expect(page.locator("article.feedback-form .fb-status")).to_have_text("approved for archive")

    # The record agrees with what the pages showed.
    complaint.refresh_from_db()
    assert complaint.status == Status.RESOLVED
    assert complaint.resolution == "上门补漆并赔偿800元,客户满意"
    solution = Solution.objects.get(complaint=complaint)
    assert solution.status == SolutionStatus.DONE
    assert solution.compensation_amount == 800
    assert [a.approved for a in solution.approvals.order_by("level")] == [True, True]
    tech_task = Task.objects.get(complaint=complaint, department=tech)
    assert tech_task.status == TaskStatus.REPLIED
    feedback = FeedbackForm.objects.get(task=tech_task)
    assert feedback.status == FeedbackStatus.APPROVED
    assert "实测18分钟" in feedback.root_cause
    assert feedback.revision >= 1
