"""A customer on a phone submits a complaint on the portal and then looks it up."""

from __future__ import annotations

import re
from typing import Any

import pytest

from closeloop.complaints.models import Complaint


@pytest.mark.django_db(transaction=True)
def test_customer_submits_on_a_phone_and_looks_up_the_status(phone_page: Any, settings: Any) -> None:
    settings.PORTAL_FORM_MIN_SECONDS = 0
    # The live server's cache is shared with earlier runs: this test is not about the rate limit.
    settings.PORTAL_LOOKUP_MAX_ATTEMPTS = 1000
    settings.PORTAL_SUBMIT_MAX_PER_IP = 1000
    page = phone_page

    page.goto(f"{page.base_url}/portal/")
    page.locator('input[name="customer_kind"][value="dealer"]').check()
    page.fill('input[name="organisation"]', "佛山照明专卖店")
    page.fill('input[name="customer_name"]', "王芳")
    page.fill('input[name="phone"]', "138 1234 5678")
    page.fill('input[name="product_model"]', "XD-100")
    page.select_option('select[name="type"]', "quality")
    page.fill('textarea[name="description"]', "吸顶灯装好后一闪一闪")
    page.locator("form.complaint-form button[type=submit]").click()

    number_el = page.locator('[data-testid="complaint-number"]')
    number_el.wait_for()
    number = number_el.inner_text().strip()
    assert re.fullmatch(r"TS\d{8}-\d{4}", number)
    complaint = Complaint.objects.get(number=number)
    assert (complaint.channel, complaint.customer.organisation) == ("web", "佛山照明专卖店")
    # Fits the phone: nothing wider than the viewport.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    page.goto(f"{page.base_url}/portal/status/")
    page.fill('input[name="number"]', number)
    page.fill('input[name="phone_last4"]', "5678")
    page.locator("form.card button[type=submit]").click()

    page.locator('[data-testid="status-label"]').wait_for()
    assert page.url.endswith(f"/portal/status/{number}/")
    assert number in page.content()
    assert page.locator('[data-testid="status-label"]').inner_text().strip()
    assert page.locator("ol.milestones li").count() == 1
