"""No dead ends in a real browser (issue 17): a refused registration comes back at an address that
reloads, with an error summary and the focus on the first field in error; a reload keeps it; the
language switch keeps the page and what was typed."""

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
def test_refused_form_focus_reload_and_language_switch(page: Any, make_user: Callable[..., User]) -> None:
    make_user(Role.AGENT, username="prg-agent")
    page.goto(page.base_url + "/login/")
    page.fill("input[name=username]", "prg-agent")
    page.fill("input[name=password]", PASSWORD)
    page.locator("form[action='/login/'] button[type=submit]").click()
    page.get_by_role("button", name="English").click()

    page.goto(page.base_url + "/desk/new/")
    page.fill("textarea[name=description]", "灯罩裂了，客户很着急")
    page.get_by_role("button", name="Register", exact=True).click()

    # Shown again at an address that reloads, with the summary; the focus is on the first field in error.
    expect(page).to_have_url(re.compile(r"/desk/new/\?kept="))
    summary = page.locator("[data-error-summary]")
    expect(summary).to_be_visible()
    expect(summary.locator("a").first).to_be_visible()
    assert page.evaluate("document.activeElement.closest('.has-error') !== null")
    assert not Complaint.objects.exists()

    page.reload()
    expect(page.locator("[data-error-summary]")).to_be_visible()
    expect(page.locator("textarea[name=description]")).to_have_value("灯罩裂了，客户很着急")
    assert "405" not in page.content()

    # Typed after the refusal, then the language switched: same page, in Chinese, nothing lost.
    page.fill("input[name=city]", "杭州")
    page.get_by_role("button", name="中文").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page).to_have_url(re.compile(r"/desk/new/"))
    expect(page.locator("textarea[name=description]")).to_have_value("灯罩裂了，客户很着急")
    expect(page.locator("input[name=city]")).to_have_value("杭州")
