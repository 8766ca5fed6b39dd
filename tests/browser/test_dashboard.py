"""The dashboard in a real browser, as management: the headings, and charts drawn as inline SVG whose
Chinese labels are laid out as text; a count opens the complaints behind it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import expect

from tests.browser.test_handling_flow import login
from tests.insight.dashboard_data import MONTH, build_small_month


@pytest.mark.django_db(transaction=True)
def test_management_reads_the_dashboard(page: Any, make_user: Callable[..., User]) -> None:
    small = build_small_month(make_user)

    login(page, "d_gm", english=False)  # management: password, then the authenticator's code
    page.goto(page.base_url + f"/desk/insight/dashboard/?month={MONTH}")

    # 简体中文 (the default): the charts' labels are the Chinese names.
    expect(page.get_by_role("heading", level=1)).to_contain_text("2026-10")
    by_type = page.locator("#by_type svg.chart")
    expect(by_type).to_be_visible()
    label = by_type.locator("text", has_text="质量").first
    expect(label).to_be_visible()
    box = label.bounding_box()
    assert box is not None and box["width"] > 10
    expect(page.locator("#by_province svg.chart text", has_text="浙江").first).to_be_visible()
    # The Pareto counts the category (料) of the form's cause 驱动电源批次不良, its label written horizontally.
    expect(page.locator("#root_causes svg.chart text", has_text="料").first).to_be_attached()

    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Dashboard")
    for heading in ("KPIs", "By complaint type", "By region", "Root causes by category (Pareto)", "KPIs by department"):
        expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
    expect(page.get_by_role("img", name="By region")).to_be_visible()
    # Provinces are stored in Chinese and stay so in the English interface.
    expect(page.locator("#by_province svg.chart text", has_text="广东").first).to_be_visible()
    expect(page.locator("#by_province table")).to_contain_text("广东")

    page.locator("tr[data-kpi=repeat] a.kpi-numerator").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Complaints behind a KPI")
    rows = page.locator("#queue-results table.grid tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(small.complaints["l2"].number)
