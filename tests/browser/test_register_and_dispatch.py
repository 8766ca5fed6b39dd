"""Done-when of issue 17: a phone complaint by a known customer is registered and dispatched in at most 8
interactions. Every click, every key pressed (a shortcut, Enter) and every field typed in counts one; the
browser's own waiting (for the lookup, for a page) counts nothing."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import expect

from closeloop.complaints.models import Complaint
from closeloop.core.roles import Role
from closeloop.handling.models import Task
from tests.browser.test_handling_flow import login

MOST = 8


class Interactions:
    """The page, acted on only through here, so that every interaction is counted."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.count = 0
        self.log: list[str] = []

    def click(self, locator: Any, what: str) -> None:
        locator.click()
        self._counted(f"click {what}")

    def type_in(self, locator: Any, text: str, what: str) -> None:
        locator.press_sequentially(text, delay=20)  # as typed: the lookup listens to input events
        self._counted(f"type {what}")

    def key(self, key: str) -> None:
        self.page.keyboard.press(key)
        self._counted(f"key {key}")

    def _counted(self, what: str) -> None:
        self.count += 1
        self.log.append(what)


@pytest.mark.django_db(transaction=True)
def test_a_known_callers_phone_complaint_is_registered_and_dispatched_in_at_most_8_interactions(
    page: Any, make_user: Callable[..., User], make_complaint: Callable[..., Complaint]
) -> None:
    page.set_default_timeout(60000)  # a machine shared by several test runs: waiting is not counted
    agent = make_user(Role.AGENT, username="fast-agent")
    make_complaint(actor=agent, phone="13812345678", customer_name="李娜", city="杭州", description="第一次投诉")
    login(page, "fast-agent")
    expect(page.get_by_role("heading", name="Complaint queue")).to_be_visible()
    act = Interactions(page)

    act.key("n")  # the shortcut: register
    expect(page.locator("input[name=phone]")).to_be_focused()
    act.type_in(page.locator("input[name=phone]"), "13812345678", "the caller's number")
    match = page.locator("#customer-matches .match")
    expect(match).to_contain_text("李娜")
    act.click(match, "the known customer")  # name, kind, city… filled in
    expect(page.locator("input[name=customer_name]")).to_have_value("李娜")
    expect(page.locator("input[name=city]")).to_have_value("杭州市")
    act.click(page.locator(".types label", has_text="Logistics"), "the type")
    expect(page.locator("#department-proposal")).to_have_text("Warehouse & Logistics")
    act.type_in(page.locator("textarea[name=description]"), "快递把灯罩压碎了", "what the customer said")
    act.click(page.get_by_role("button", name="Register", exact=True), "Register")

    expect(page.locator(".msg-success")).to_contain_text("registered.")
    number = re.search(r"TS\d{8}-\d{4}", page.locator(".msg-success").inner_text()).group(0)  # type: ignore[union-attr]
    # The type's department is proposed and ticked: dispatching is one press of the button.
    expect(page.locator("tr[data-department=warehouse] input[type=checkbox]")).to_be_checked()
    act.click(page.locator(".dispatch-form").get_by_role("button", name="Dispatch", exact=True), "Dispatch")

    expect(page.locator(".msg-success")).to_contain_text("ispatched")
    complaint = Complaint.objects.get(number=number)
    assert complaint.status == "dispatched", complaint.status
    assert complaint.customer.name == "李娜" and complaint.channel == "hotline"
    assert list(Task.objects.filter(complaint=complaint).values_list("department__code", flat=True)) == ["warehouse"]
    assert act.count <= MOST, act.log
    print(f"registered and dispatched in {act.count} interactions: {act.log}")
