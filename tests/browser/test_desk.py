"""The desk in a real browser: log in, register a complaint (the phone lookup fills in a returning
customer), find it in the queue by search, open it and read its timeline."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import expect

from closeloop.complaints.models import Complaint
from closeloop.core.roles import Role
from tests.conftest import PASSWORD


@pytest.mark.django_db(transaction=True)
def test_agent_registers_finds_and_opens_a_complaint(
    page: Any, make_user: Callable[..., User], make_complaint: Callable[..., Complaint]
) -> None:
    agent = make_user(Role.AGENT, username="desk-agent")
    make_complaint(actor=agent, phone="13812345678", customer_name="李娜", city="杭州", description="第一次投诉")

    page.goto(page.base_url + "/login/")
    page.fill("input[name=username]", "desk-agent")
    page.fill("input[name=password]", PASSWORD)
    page.locator("form[action='/login/'] button[type=submit]").click()
    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("heading", name="Complaint queue")).to_be_visible()
    expect(page.locator(".who")).to_contain_text("customer-service agent")

    page.get_by_role("link", name="Register a complaint").first.click()
    expect(page.locator("input[name=phone]")).to_be_focused()
    page.locator("input[name=phone]").press_sequentially("1381234", delay=30)
    match = page.locator("#customer-matches .match")
    expect(match).to_contain_text("李娜")
    expect(match).to_contain_text("1 previous complaint")
    match.click()
    expect(page.locator("input[name=customer_name]")).to_have_value("李娜")
    expect(page.locator("input[name=phone]")).to_have_value("13812345678")
    expect(page.locator("input[name=city]")).to_have_value("杭州市")

    page.locator(".types label", has_text="Logistics").click()
    expect(page.locator("#department-proposal")).to_have_text("Warehouse & Logistics")
    page.locator(".priority label", has_text="urgent").click()
    page.fill("textarea[name=description]", "快递把灯罩压碎了 <b>急</b>")
    page.get_by_role("button", name="Register", exact=True).click()

    message = page.locator(".msg-success")
    expect(message).to_contain_text("registered.")
    number = re.search(r"TS\d{8}-\d{4}", message.inner_text()).group(0)  # type: ignore[union-attr]
    expect(page.locator(".description")).to_have_text("快递把灯罩压碎了 <b>急</b>")

    page.get_by_role("link", name="Queue", exact=True).click()
    page.locator("input[name=q]").press_sequentially("灯罩压碎", delay=20)
    rows = page.locator("table.grid tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(number)
    expect(rows.first).to_contain_text("urgent")
    expect(page).to_have_url(re.compile(r"q=%E7%81%AF"))
    rows.first.get_by_role("link", name=number).click()

    expect(page.get_by_role("heading", level=1)).to_contain_text(number)
    timeline = page.locator(".timeline")
    expect(timeline).to_contain_text("Registered")
    expect(timeline).to_contain_text("desk-agent · desk")

    page.get_by_role("button", name="Acknowledge receipt").click()
    expect(page.locator(".msg-success")).to_contain_text("Receipt acknowledged; the customer is told.")
    expect(timeline).to_contain_text("Acknowledged")
    expect(timeline).to_contain_text("registered → acknowledged")
