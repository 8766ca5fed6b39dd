"""Playwright against Debian's Chromium and pytest-django's live server.

The tests are marked `browser`. Without Chromium they are skipped locally, but with CI=true a
missing browser is a failure.
"""

from __future__ import annotations

import os
import shutil
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

# Playwright's sync API runs an event loop in this thread; Django's ORM calls from the test body are
# still synchronous and safe here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def pytest_addoption(parser: Any) -> None:
    parser.addoption(
        "--screenshots",
        default=None,
        help="write each role's home page as a PNG into this directory (scripts/screenshots.sh)",
    )


def pytest_collection_modifyitems(items: list[Any]) -> None:
    for item in items:
        if "browser" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        if os.environ.get("CI") == "true":
            pytest.fail(f"Chromium is required in CI but {CHROMIUM} is missing")
        pytest.skip(f"{CHROMIUM} is not installed")
    from playwright.sync_api import expect, sync_playwright

    # Assertions wait as long as actions do (the contexts' 15 s below). Playwright's own 5 s for
    # `expect` was too short for Swagger UI drawing ~180 operations on a loaded 2-core CI machine.
    expect.set_options(timeout=15_000)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session", autouse=True)
def _warm_live_server(live_server: Any) -> None:
    """Open the sign-in page once before any test's timer runs: the first request imports every URL
    module and compiles the templates, which on a loaded CI machine took longer than a page's 15 s."""
    with urllib.request.urlopen(live_server.url + "/login/", timeout=180) as answer:  # noqa: S310 (http://localhost)
        assert answer.status == 200


@pytest.fixture(autouse=True)
def _cache_of_its_own(settings: Any) -> None:
    """The live server answers in a thread of its own, with a cache object of its own that the test's key
    prefix (tests/conftest.py `_fresh_cache_namespace`) does not reach: the dashboard's figures cached by
    an earlier test were shown to the next (seen in a full run). A prefix in the settings does reach it:
    changing CACHES makes every thread's next cache a new one."""
    import copy
    import uuid

    caches = copy.deepcopy(settings.CACHES)
    for alias in caches:
        caches[alias]["KEY_PREFIX"] = f"b{uuid.uuid4().hex[:12]}"
    settings.CACHES = caches


@pytest.fixture
def page(browser: Any, live_server: Any) -> Iterator[Any]:
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")
    context.set_default_timeout(15000)
    page = context.new_page()
    page.base_url = live_server.url  # type: ignore[attr-defined]
    yield page
    context.close()


@pytest.fixture
def phone_page(browser: Any, live_server: Any) -> Iterator[Any]:
    """A phone-sized viewport, for the portal."""
    context = browser.new_context(
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
    )
    context.set_default_timeout(15000)
    page = context.new_page()
    page.base_url = live_server.url  # type: ignore[attr-defined]
    yield page
    context.close()
