"""A customer on a 390 px phone asks for a repair on the portal, then follows it by number + last 4 digits."""

from __future__ import annotations

import re
from typing import Any

import pytest

from closeloop.serviceorders.models import ServiceOrder


@pytest.mark.django_db(transaction=True)
def test_customer_requests_a_repair_on_a_phone_and_follows_it(phone_page: Any, settings: Any) -> None:
    settings.PORTAL_FORM_MIN_SECONDS = 0
    settings.PORTAL_LOOKUP_MAX_ATTEMPTS = 1000
    settings.PORTAL_SUBMIT_MAX_PER_IP = 1000
    page = phone_page

    page.goto(f"{page.base_url}/portal/service/")
    page.select_option('select[name="kind"]', "repair")
    page.fill('input[name="customer_name"]', "王芳")
    page.fill('input[name="phone"]', "138 1234 5678")
    page.fill('textarea[name="description"]', "吸顶灯不亮")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.locator("form.complaint-form button[type=submit]").click()

    number_el = page.locator('[data-testid="service-number"]')
    number_el.wait_for()
    number = number_el.inner_text().strip()
    assert re.fullmatch(r"SF\d{8}-\d{4}", number)
    order = ServiceOrder.objects.get(number=number)
    assert (order.kind, order.channel) == ("repair", "web")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    # A new visit (another browser session) follows it by number and last 4 digits.
    page.context.clear_cookies()
    page.goto(f"{page.base_url}/portal/service/status/")
    page.fill('input[name="number"]', number)
    page.fill('input[name="phone_last4"]', "5678")
    page.locator("form.card button[type=submit]").click()
    page.locator('[data-testid="status-label"]').wait_for()
    assert page.url.endswith(f"/portal/service/status/{number}/")
