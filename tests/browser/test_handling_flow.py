"""Cross-department handling in a real browser: an agent dispatches a complaint to quality and tech
from the complaint page; the tech handler finds it in the inbox, verifies it, logs a contact and a
progress entry, and replies to customer service.

Small helpers (log in, open a complaint, act on a department's task) so that later steps of the
flow (disputes, solutions, feedback forms) can be added as further functions and tests."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from closeloop.accounts.testing import next_totp_code
from closeloop.accounts.twofactor import two_factor_required
from closeloop.complaints.models import Complaint
from closeloop.core.roles import Role
from closeloop.directory.models import Department
from tests.conftest import PASSWORD

# --- helpers -------------------------------------------------------------------------------------------


def login(page: Any, username: str, *, english: bool = True) -> None:
    """Log in through /login/ (logging out whoever was logged in) and switch the desk to English.
    A user whose role requires two-factor authentication has an authenticator (set up here if
    missing) and types its current code at the second step."""
    page.goto(page.base_url + "/login/")
    if page.locator("form[action='/logout/']").count():
        page.locator("form[action='/logout/'] button").click()
        page.wait_for_load_state()
        page.goto(page.base_url + "/login/")
    user = User.objects.get(username=username)
    device = None
    if two_factor_required(user):
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first() or TOTPDevice.objects.create(
            user=user, name="authenticator", confirmed=True
        )
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.locator("form[action='/login/'] button[type=submit]").click()
    if device is not None:
        page.fill("input[name=code]", next_totp_code(device))
        with page.expect_navigation():
            page.locator("form[action='/login/code/'] button[type=submit]").click()
    expect(page.locator(".who")).to_contain_text(username)
    if english and page.get_by_role("button", name="English").get_attribute("aria-pressed") != "true":
        with page.expect_navigation():
            page.get_by_role("button", name="English").click()


def open_complaint(page: Any, number: str) -> None:
    page.goto(f"{page.base_url}/desk/c/{number}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text(number)


def task_card(page: Any, department: str) -> Any:
    """The newest task of a department on the complaint page."""
    return page.locator(f"article.task[data-department='{department}']").last


def task_action(page: Any, department: str, label: str, fields: dict[str, str] | None = None) -> None:
    """Open one of the task's action forms, fill it, submit it and wait for the confirmation."""
    card = task_card(page, department)
    form = card.locator("details.action-form", has=page.locator("summary", has_text=label))
    form.locator("summary").click()
    for name, value in (fields or {}).items():
        field = form.locator(f"[name={name}]")
        if field.evaluate("el => el.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)
    with page.expect_navigation():
        form.get_by_role("button", name=label).click()
    expect(page.locator(".msg-success")).to_contain_text(f"{label}: done.")


def dispatch(page: Any, departments: dict[str, str | None], instruction: str = "") -> None:
    """From the complaint page: tick each department, choose its handler (None = pool), dispatch."""
    form = page.locator("details.dispatch-form")
    if form.get_attribute("open") is None:
        form.locator("summary").click()
    for code, handler_id in departments.items():
        form.locator(f"input[name=dept_{code}]").check()
        if handler_id is not None:
            form.locator(f"select[name=handler_{code}]").select_option(handler_id)
    if instruction:
        form.locator("textarea[name=instruction]").fill(instruction)
    with page.expect_navigation():
        form.get_by_role("button", name="Dispatch").click()
    expect(page.locator(".msg-success")).to_contain_text(re.compile("[Dd]ispatched to"))


# --- the flow ------------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_agent_dispatches_and_the_tech_handler_replies(
    page: Any, make_user: Callable[..., User], make_complaint: Callable[..., Complaint]
) -> None:
    quality = Department.objects.get(code="quality")
    tech = Department.objects.get(code="tech")
    agent = make_user(Role.AGENT, username="flow-agent")
    make_user(Role.HANDLER, departments=[quality], username="flow-quality")
    tech_handler = make_user(Role.HANDLER, departments=[tech], username="flow-tech")
    complaint = make_complaint(actor=agent, description="吸顶灯闪烁,遥控失灵")

    # The agent dispatches to quality (department pool) and tech (a named handler).
    login(page, "flow-agent")
    open_complaint(page, complaint.number)
    dispatch(page, {"quality": None, "tech": str(tech_handler.pk)}, instruction="请核实批次并联系客户")
    expect(page.locator("h1 .status")).to_have_text("dispatched")
    expect(task_card(page, "quality")).to_contain_text("department pool")
    expect(task_card(page, "tech")).to_contain_text("flow-tech")
    expect(page.locator(".timeline")).to_contain_text("Dispatched")

    # The tech handler finds it in the inbox.
    login(page, "flow-tech")
    page.get_by_role("link", name="Task inbox").click()
    expect(page.get_by_role("heading", name="Task inbox")).to_be_visible()
    row = page.locator("tr.task-row", has_text=complaint.number)
    expect(row).to_be_visible()
    expect(row).to_contain_text("Technical Support")
    with page.expect_navigation():
        row.get_by_role("link", name=complaint.number).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(complaint.number)
    card = task_card(page, "tech")
    expect(card).to_contain_text("请核实批次并联系客户")
    expect(task_card(page, "quality").locator("details.action-form")).to_have_count(0)  # not theirs

    task_action(page, "tech", "Verify")
    expect(page.locator("h1 .status")).to_have_text("in progress")
    task_action(
        page,
        "tech",
        "Log a contact",
        {"channel": "phone", "outcome": "reached", "summary": "约好周五上门检查"},
    )
    expect(task_card(page, "tech").locator(".task-contacts")).to_contain_text("约好周五上门检查")
    task_action(page, "tech", "Add progress", {"text": "已更换驱动电源,待客户确认"})
    expect(task_card(page, "tech").locator(".task-progress")).to_contain_text("已更换驱动电源")
    task_action(page, "tech", "Reply to customer service", {"reply": "驱动电源故障,已上门更换,客户确认正常"})
    expect(task_card(page, "tech").locator(".task-status")).to_have_text("replied")
    expect(task_card(page, "tech").locator(".task-reply")).to_contain_text("已上门更换")
    expect(page.locator(".timeline")).to_contain_text(re.compile("Department replied"))
