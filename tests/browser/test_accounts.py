"""Accounts in a real browser on a 390 px phone: management logs in, is sent to set up two-factor,
scans nothing but types the key shown into an authenticator (computed here), confirms, keeps the
recovery codes, and on "My account" ends the session of another browser. No page scrolls sideways."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django_otp.oath import TOTP
from playwright.sync_api import expect

from closeloop.core.roles import Role
from tests.conftest import PASSWORD


def fits_the_phone(page: Any) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"{page.url} is {width}px wide"


@pytest.mark.django_db(transaction=True)
def test_management_sets_up_two_factor_on_a_phone(
    phone_page: Any, browser: Any, live_server: Any, make_user: Callable[..., User]
) -> None:
    make_user(Role.MANAGEMENT, username="m-gm")
    page = phone_page
    page.goto(page.base_url + "/login/")
    fits_the_phone(page)
    page.fill("input[name=username]", "m-gm")
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.locator("form[action='/login/'] button[type=submit]").click()

    # Sent to the set-up before anything else, in Chinese by default.
    expect(page.get_by_role("heading", level=1)).to_have_text("设置双因素认证")
    expect(page.locator(".qr svg")).to_be_visible()
    fits_the_phone(page)
    secret = page.locator("code.secret").inner_text().replace(" ", "")
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    page.fill("input[name=code]", f"{TOTP(key).token():06d}")
    with page.expect_navigation():
        page.get_by_role("button", name="确认").click()

    codes = page.locator("ul.recovery-codes code")
    expect(codes).to_have_count(10)
    fits_the_phone(page)
    assert re.fullmatch(r"[a-z2-7]{4}-[a-z2-7]{4}", codes.first.inner_text())
    with page.expect_navigation():
        page.get_by_role("link", name="我已保存").click()

    # A second browser logs in with the next code; the phone ends that session.
    other = browser.new_context(locale="zh-CN").new_page()
    other.goto(live_server.url + "/login/")
    other.fill("input[name=username]", "m-gm")
    other.fill("input[name=password]", PASSWORD)
    with other.expect_navigation():
        other.locator("form[action='/login/'] button[type=submit]").click()
    # Each time step's code is accepted once; the next step's (t0 shifted by one step) is still valid.
    other.fill("input[name=code]", f"{TOTP(key, t0=-30).token():06d}")
    with other.expect_navigation():
        other.locator("form[action='/login/code/'] button[type=submit]").click()

    page.locator("a.who").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("我的账户")
    fits_the_phone(page)
    sessions = page.locator("#sessions li")
    expect(sessions).to_have_count(2)
    expect(page.locator("#sessions li.current")).to_contain_text("本会话")
    with page.expect_navigation():
        page.locator("#sessions li:not(.current) button").click()
    expect(page.locator("#sessions li")).to_have_count(1)

    other.reload()
    assert "/login/" in other.url
    other.context.close()
