"""The dashboard's cost of quality in a real browser, under the Content-Security-Policy: the charts
are drawn (presentation attributes, no violation), and a figure opens the complaints behind it."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import expect

from closeloop.core.roles import Role
from tests.browser.test_csp import Violations, csp_page, visit  # noqa: F401 (the fixture)
from tests.browser.test_handling_flow import login
from tests.insight import test_report_analysis as fixture_year

year = fixture_year.year  # the fixture year of the report's analysis


@pytest.mark.django_db(transaction=True)
def test_cost_of_quality_on_the_dashboard(
    csp_page: tuple[Any, Violations],  # noqa: F811 (the fixture imported above)
    year: fixture_year.Year,
    make_user: Callable[..., User],
) -> None:
    page, violations = csp_page
    make_user(Role.MANAGEMENT, username="cost-gm")
    login(page, "cost-gm")
    visit(page, violations, "/desk/insight/dashboard/?month=2026-10")
    section = page.locator("#cost")
    expect(section.get_by_role("heading", name="Cost of quality", exact=True)).to_be_visible()
    expect(page.locator("#cost_by_month svg.chart")).to_be_visible()
    bar = page.locator("#cost_by_department svg.chart rect[fill]").first
    assert bar.evaluate("el => getComputedStyle(el).fill") not in ("", "none", "rgb(0, 0, 0)")
    expect(page.locator("#cost-total tbody")).to_contain_text("400.00")
    if os.environ.get("COST_SCREENSHOT"):
        page.locator("#cost").scroll_into_view_if_needed()
        page.screenshot(path=os.environ["COST_SCREENSHOT"], full_page=True)
    violations.assert_none("dashboard with cost")

    with page.expect_navigation():
        page.locator("#cost-total tbody a").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Complaints behind a cost figure")
    expect(page.locator("#cost-figure")).to_contain_text("400.00")
    expect(page.locator("#queue-results table.grid tbody tr")).to_have_count(2)
    violations.assert_none("cost drill-down")
