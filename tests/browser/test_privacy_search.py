"""The desk's search box for a role that sees phone numbers masked, in a real browser: typing a whole
number does not run (or count) the search, Enter does, once; names are still searched while typing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import expect

from closeloop.complaints.models import Complaint, PersonalDataAccess
from closeloop.core.roles import Role
from tests.conftest import PASSWORD


@pytest.mark.django_db(transaction=True)
def test_a_masked_role_searches_a_whole_number_by_pressing_enter(
    page: Any, make_user: Callable[..., User], make_complaint: Callable[..., Complaint]
) -> None:
    auditor = make_user(Role.AUDITOR, username="desk-auditor")
    target = make_complaint(phone="13912344405", customer_name="欧阳娜娜")
    make_complaint(phone="13800001111", customer_name="王五")

    page.goto(page.base_url + "/login/")
    page.fill("input[name=username]", "desk-auditor")
    page.fill("input[name=password]", PASSWORD)
    page.locator("form[action='/login/'] button[type=submit]").click()
    page.get_by_role("button", name="English").click()
    # An auditor lands on the dashboard (their role's home); the queue is one address away.
    expect(page).to_have_url(page.base_url + "/desk/insight/dashboard/")
    page.goto(page.base_url + "/desk/")
    expect(page.get_by_role("heading", name="Complaint queue")).to_be_visible()
    rows = page.locator("table.grid tbody tr")
    expect(rows).to_have_count(2)

    search = page.locator("input[name=q]")
    search.press_sequentially("欧阳", delay=20)
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(target.number)
    expect(rows.first).to_contain_text("139****4405")

    search.fill("")
    search.press_sequentially("13912344405", delay=20)
    expect(page.locator("ul.errors")).to_contain_text("Press Enter to search by this whole phone number")
    assert not PersonalDataAccess.objects.exists()

    search.press("Enter")
    expect(page.locator("ul.errors")).to_have_count(0)
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(target.number)
    page.wait_for_load_state("networkidle")
    assert list(PersonalDataAccess.objects.values_list("user", "customer", "where")) == [
        (auditor.pk, target.customer_id, "queue search")
    ]
