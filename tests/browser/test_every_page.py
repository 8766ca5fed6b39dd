"""Every desk and portal page a GET opens, in Chromium with axe-core: no serious or critical violation,
and at 390 px (a phone) no page wider than the screen.

The pages are read from the URL configuration (every route without parameters under the desk's and the
portal's namespaces, and the pages of one complaint), so a new page is checked without being listed.
The phone run is in Chinese, the large one in English. A superuser holds every role: every page opens."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.contrib.auth.models import User
from django.urls import URLPattern, URLResolver, get_resolver
from playwright.sync_api import Error as PlaywrightError

from closeloop.complaints.models import Complaint
from tests.browser.test_handling_flow import login
from tests.conftest import PASSWORD

SERIOUS = {"serious", "critical"}
NAMESPACES = (
    "desk",
    "handling",
    "followup",
    "insight",
    "improvement",
    "defects",
    "notifications",
    "sla",
    "accounts",
    "portal",
    "serviceorders",
)
# Routes that answer a GET but are no page: files, feeds, lookups, leaving a session.
NOT_PAGES = ("lookup", "/file", "/pdf", ".csv", ".xlsx", "/export", "/events", "/poll", "/badge", "/stream")
_axe = Axe()


def _pages() -> list[str]:
    found: list[str] = []

    def walk(patterns: Any, prefix: str, namespace: str) -> None:
        for entry in patterns:
            route = str(entry.pattern)
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, prefix + route, entry.namespace or namespace)
            elif isinstance(entry, URLPattern) and "<" not in route and namespace in NAMESPACES:
                path = "/" + prefix + route
                if not any(part in path for part in NOT_PAGES):
                    found.append(path)

    walk(get_resolver().url_patterns, "", "")
    return sorted(set(found))


@pytest.fixture
def every_page_user(db: None, make_complaint: Any) -> Iterator[tuple[User, Complaint]]:
    root = User.objects.create_superuser("root", password=PASSWORD)
    complaint = make_complaint(phone="13812345678", product_text="吸顶灯", priority=2)
    make_complaint(phone="13812345678", priority=1)
    yield root, complaint


def _violations(page: Any) -> list[Any]:
    results = _axe.run(page)
    return [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
        for v in results.response["violations"]
        if v.get("impact") in SERIOUS
    ]


@pytest.mark.parametrize(
    ("width", "language"), [pytest.param(390, "zh", id="phone-zh"), pytest.param(1440, "en", id="large-en")]
)
def test_every_page_is_accessible_and_fits(
    browser: Any, live_server: Any, every_page_user: tuple[User, Complaint], width: int, language: str
) -> None:
    root, complaint = every_page_user
    context = browser.new_context(
        locale="zh-CN" if language == "zh" else "en-US",
        timezone_id="Asia/Shanghai",
        viewport={"width": width, "height": 844 if width < 500 else 900},
        is_mobile=width < 500,
        has_touch=width < 500,
    )
    context.set_default_timeout(15000)
    page = context.new_page()
    page.base_url = live_server.url
    try:
        login(page, root.username, english=language == "en")
        paths = [*_pages(), f"/desk/c/{complaint.number}/", f"/desk/c/{complaint.number}/write/?method=email"]
        visited, problems, passed_by = 0, [], []
        for path in paths:
            # Asked first with the browser's own cookies: a POST-only route (405), a file or a refusal is no
            # page, and opening it would leave Chromium on an error page that interrupts the next navigation.
            asked = context.request.get(live_server.url + path)
            if asked.status >= 500:
                problems.append((path, f"answered {asked.status}"))
            if asked.status != 200 or "html" not in asked.headers.get("content-type", ""):
                passed_by.append((path, asked.status))
                continue
            if "<html" not in asked.text()[:1000].lower():  # an htmx fragment (a lookup's choices): no page
                passed_by.append((path, "fragment"))
                continue
            try:
                response = page.goto(live_server.url + path)
            except PlaywrightError as error:
                problems.append((path, str(error).splitlines()[0]))
                continue
            if response is None or response.status != 200:
                problems.append((path, "no page" if response is None else f"answered {response.status}"))
                continue
            visited += 1
            bad = _violations(page)
            if bad:
                problems.append((path, bad))
            if width < 500:
                wide = page.evaluate("document.documentElement.scrollWidth")
                if wide > width + 1:
                    problems.append((path, f"{wide} px wide"))
        assert visited >= 25, "\n".join(f"{path}: {why}" for path, why in passed_by)
        assert problems == [], "\n".join(str(p) for p in problems)
    finally:
        context.close()
