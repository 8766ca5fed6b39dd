"""One journey per role, doing the role's core work in a real browser, with axe-core on every page visited.

Each role runs twice: at 1440×900 in one language and at 390×844 (a phone) in the other, so both sizes
and both languages are covered without all four combinations (docs/decisions.md, "Role journeys").
One browser for the session; a new context (cookies, viewport, language) per run.

`scripts/screenshots.sh` runs `test_role_homes_for_the_user_guide` with `--screenshots docs/images`: each
demo user's home at 1440×900 in Chinese on the demo data (`closeloop demo`), for docs/user-guide.md.
"""

from __future__ import annotations

import datetime
import io
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.contrib.auth.models import User
from django.core.management import call_command
from django.urls import reverse
from playwright.sync_api import expect

from closeloop.complaints.models import Complaint
from closeloop.core.roles import Role
from closeloop.directory.models import Absence, Department
from closeloop.handling.models import Task
from closeloop.handling.services.tasks import complaint_dispatch
from tests.browser.test_handling_flow import login
from tests.conftest import PASSWORD

LARGE = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}
SERIOUS = {"serious", "critical"}
_axe = Axe()

# (role, the language of its large-size run); the phone run takes the other language.
ROLES = [
    ("agent", "zh"),
    ("handler", "en"),
    ("manager", "zh"),
    ("supervisor", "en"),
    ("quality", "zh"),
    ("auditor", "en"),
    ("management", "zh"),
    ("admin", "en"),
    ("customer", "en"),
    ("dealer", "zh"),
]
CASES = [
    pytest.param(role, size, language, id=f"{role}-{size}-{language}")
    for role, large_language in ROLES
    for size, language in (("large", large_language), ("phone", "en" if large_language == "zh" else "zh"))
]


def accessible(page: Any) -> None:
    """axe-core on the page as it is now: no serious or critical violation."""
    results = _axe.run(page)
    bad = [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
        for v in results.response["violations"]
        if v.get("impact") in SERIOUS
    ]
    assert bad == [], f"{page.url}: {bad}"


def visit(page: Any, path: str) -> None:
    page.goto(page.base_url + path)
    accessible(page)


def submit(page: Any, form: str) -> None:
    """Press the submit button of the form matched by `form` (opening the disclosure it sits in, as a person
    would) and check the page it leads to."""
    closed = page.locator(f"details:not([open]):has({form})")
    if closed.count():
        closed.last.locator("summary").first.click()
    with page.expect_navigation():
        page.locator(form).locator("button[type=submit]").first.click()
    accessible(page)


def fits(page: Any, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width + 1, page.url


@pytest.fixture
def screenshots(request: Any) -> Path | None:
    option = request.config.getoption("--screenshots", default=None)
    return Path(option) if option else None


@pytest.fixture
def open_page(browser: Any, live_server: Any) -> Iterator[Callable[[str, str], Any]]:
    contexts: list[Any] = []

    def make(size: str, language: str) -> Any:
        context = browser.new_context(
            locale="zh-CN" if language == "zh" else "en-US",
            timezone_id="Asia/Shanghai",
            viewport=LARGE if size == "large" else PHONE,
            is_mobile=size == "phone",
            has_touch=size == "phone",
        )
        context.set_default_timeout(15000)
        contexts.append(context)
        page = context.new_page()
        page.base_url = live_server.url
        return page

    yield make
    for context in contexts:
        context.close()


def staff_login(page: Any, username: str, language: str) -> None:
    login(page, username, english=language == "en")
    expect(page.locator("html")).to_have_attribute("lang", re.compile("^en" if language == "en" else "^zh"))
    accessible(page)


# --- the roles' days -----------------------------------------------------------------------------------


def agent_day(page: Any, people: dict[str, User], data: dict[str, Any]) -> None:
    """Register a phone complaint by a returning customer, then acknowledge it."""
    visit(page, reverse("desk:register"))
    page.locator("input[name=phone]").fill("13812345678")
    page.locator("input[name=customer_name]").fill("李娜")
    page.locator(".types input[type=radio]").first.check()
    page.locator("textarea[name=description]").fill("吸顶灯通电后不亮")
    submit(page, "form.register")
    number = re.search(r"TS\d{8}-\d{4}", page.locator("h1").inner_text()).group(0)  # type: ignore[union-attr]
    submit(page, "form[action$='/do/acknowledge/']")
    assert Complaint.objects.get(number=number).status == "acknowledged"


def handler_day(page: Any, people: dict[str, User], data: dict[str, Any]) -> None:
    """From the inbox to the task: verify it (the task is theirs and complete enough to work on)."""
    complaint: Complaint = data["complaint"]
    visit(page, reverse("handling:inbox"))
    with page.expect_navigation():
        page.locator("a", has_text=complaint.number).first.click()
    accessible(page)
    submit(page, "form[action$='/verify/']")
    assert Task.objects.get(complaint=complaint).status == "in_progress"


def manager_day(page: Any, people: dict[str, User], data: dict[str, Any]) -> None:
    """The department's inbox, then record a handler's leave on the roster."""
    visit(page, reverse("handling:inbox"))
    visit(page, reverse("handling:roster"))
    form = page.locator("form[action$='/roster/absences/add/']")
    form.locator("select[name=user]").select_option(str(people["handler"].pk))
    today = datetime.date.today()
    form.locator("input[name=starts]").fill(today.isoformat())
    form.locator("input[name=ends]").fill((today + datetime.timedelta(days=2)).isoformat())
    submit(page, "form[action$='/roster/absences/add/']")
    assert Absence.objects.filter(user=people["handler"]).exists()


def supervisor_day(page: Any, people: dict[str, User], data: dict[str, Any]) -> None:
    """The home (approvals waiting and escalations), the whole approvals list, then one complaint."""
    complaint: Complaint = data["complaint"]
    visit(page, reverse("handling:supervisor_home"))
    assert page.locator("#home-approvals").is_visible() and page.locator("#home-escalations").is_visible()
    visit(page, reverse("handling:approvals"))
    visit(page, reverse("desk:queue") + "?q=" + complaint.number)
    with page.expect_navigation():
        page.locator("a", has_text=complaint.number).first.click()
    accessible(page)


def quality_day(page: Any, people: dict[str, User], data: dict[str, Any]) -> None:
    """The home (disputes and open alerts), decisions, defect alerts and incidents."""
    visit(page, reverse("defects:quality_home"))
    assert page.locator("#home-disputes").is_visible() and page.locator("#home-alerts").is_visible()
    visit(page, reverse("handling:decisions"))
    visit(page, reverse("defects:alerts"))
    visit(page, reverse("defects:incidents"))


def auditor_day(page: Any, people: dict[str, User], data: dict[str, Any]) -> None:
    """Find a complaint by its number and read it; the customer's phone stays masked."""
    complaint: Complaint = data["complaint"]
    visit(page, reverse("desk:queue") + "?q=" + complaint.number)
    with page.expect_navigation():
        page.locator("a", has_text=complaint.number).first.click()
    accessible(page)
    assert complaint.customer.phone not in page.content()


def management_day(page: Any, people: dict[str, User], data: dict[str, Any]) -> None:
    """The dashboard, the KPIs and the reports."""
    visit(page, reverse("insight:dashboard"))
    visit(page, reverse("insight:kpis"))
    visit(page, reverse("insight:reports"))


def admin_day(page: Any, people: dict[str, User], data: dict[str, Any]) -> None:
    """The administration (branded, roles by their names in the reader's language): users and roles."""
    visit(page, "/admin/")
    expect(page.locator("#site-name")).to_contain_text("CloseLoop")
    visit(page, "/admin/auth/user/")
    visit(page, "/admin/auth/group/")
    expect(page.locator("#result_list")).to_contain_text(re.compile("customer-service agent|客服"))


def portal_day(page: Any, language: str, *, dealer: bool) -> None:
    """Send a complaint, follow the receipt's link to the status page, look it up, add information."""
    page.goto(page.base_url + "/portal/")  # in the browser's language (the context's locale)
    expect(page.locator("html")).to_have_attribute("lang", re.compile("^en" if language == "en" else "^zh"))
    accessible(page)
    if dealer:
        page.locator('input[name="customer_kind"][value="dealer"]').check()
        page.fill('input[name="organisation"]', "佛山照明专卖店")
    page.fill('input[name="customer_name"]', "王芳")
    page.fill('input[name="phone"]', "138 1234 5678")
    page.fill('input[name="product_model"]', "XD-100")
    page.select_option('select[name="type"]', "quality")
    page.fill('textarea[name="description"]', "吸顶灯装好后一闪一闪")
    submit(page, "form.complaint-form")
    number = page.locator('[data-testid="complaint-number"]').inner_text().strip()
    with page.expect_navigation():
        page.locator(f"a[href$='?number={number}']").click()
    accessible(page)
    expect(page.locator("input[name=number]")).to_have_value(number)
    page.fill('input[name="phone_last4"]', "5678")
    submit(page, "form:has(input[name=phone_last4])")
    expect(page.locator('[data-testid="status-label"]')).to_be_visible()
    page.fill('textarea[name="text"]', "周末在家，可以上门")
    submit(page, "form[action$='/add/']")
    assert Complaint.objects.get(number=number).events.filter(action="customer_added").exists()


DAYS: dict[str, Callable[[Any, dict[str, User], dict[str, Any]], None]] = {
    "agent": agent_day,
    "handler": handler_day,
    "manager": manager_day,
    "supervisor": supervisor_day,
    "quality": quality_day,
    "auditor": auditor_day,
    "management": management_day,
    "admin": admin_day,
}
USERNAMES = {
    "agent": ("j-agent", Role.AGENT),
    "handler": ("j-handler", Role.HANDLER),
    "manager": ("j-manager", Role.DEPT_MANAGER),
    "supervisor": ("j-supervisor", Role.CS_SUPERVISOR),
    "quality": ("j-quality", Role.QUALITY),
    "auditor": ("j-auditor", Role.AUDITOR),
    "management": ("j-management", Role.MANAGEMENT),
    "admin": ("j-admin", Role.ADMIN),
}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("role", "size", "language"), CASES)
def test_role_journey(
    role: str,
    size: str,
    language: str,
    open_page: Callable[[str, str], Any],
    make_user: Callable[..., User],
    make_complaint: Callable[..., Complaint],
    settings: Any,
) -> None:
    settings.PORTAL_FORM_MIN_SECONDS = 0
    settings.PORTAL_LOOKUP_MAX_ATTEMPTS = settings.PORTAL_SUBMIT_MAX_PER_IP = 1000
    page = open_page(size, language)
    width = (LARGE if size == "large" else PHONE)["width"]

    if role in ("customer", "dealer"):
        portal_day(page, language, dealer=role == "dealer")
        fits(page, width)
        return

    quality = Department.objects.get(code="quality")
    people = {
        name: make_user(
            kind,
            username=username,
            departments=[quality] if kind in (Role.HANDLER, Role.DEPT_MANAGER) else None,
            manager=kind == Role.DEPT_MANAGER,
        )
        for name, (username, kind) in USERNAMES.items()
    }
    User.objects.filter(pk=people["admin"].pk).update(is_staff=True, is_superuser=True)  # as `closeloop demo` does
    complaint = make_complaint(actor=people["agent"], phone="13912345678", description="灯罩破裂")
    complaint_dispatch(
        complaint=complaint, assignments=[(quality, people["handler"])], actor=people["agent"], via="desk"
    )
    staff_login(page, USERNAMES[role][0], language)
    DAYS[role](page, people, {"complaint": complaint})
    if size == "phone":
        fits(page, width)


# The demo users of `closeloop demo` (closeloop/demo/logins.py) by the role they show.
DEMO_HOMES = [
    ("agent", "agent"),
    ("handler", "handler"),
    ("manager", "manager"),
    ("supervisor", "supervisor"),
    ("quality", "quality"),
    ("auditor", "auditor"),
    ("management", "gm"),
    ("admin", "admin"),
]


@pytest.mark.django_db(transaction=True)
def test_role_homes_for_the_user_guide(
    open_page: Callable[[str, str], Any], screenshots: Path | None, settings: Any
) -> None:
    """Only with --screenshots DIR (scripts/screenshots.sh): each role's home on the demo data, and the
    customer's status page on a phone."""
    if screenshots is None:
        pytest.skip("regenerates docs/images with --screenshots (scripts/screenshots.sh)")
    settings.PORTAL_FORM_MIN_SECONDS = 0
    settings.PORTAL_LOOKUP_MAX_ATTEMPTS = settings.PORTAL_SUBMIT_MAX_PER_IP = 1000
    screenshots.mkdir(parents=True, exist_ok=True)
    call_command("demo", stdout=io.StringIO())
    for _role, username in DEMO_HOMES:
        user = User.objects.get(username=username)
        user.set_password(PASSWORD)
        user.save()
    for role, username in DEMO_HOMES:
        page = open_page("large", "zh")
        login(page, username, english=False)
        page.wait_for_load_state("networkidle")
        page.screenshot(path=str(screenshots / f"{role}-home.png"))
        page.context.close()
    for role in ("customer", "dealer"):
        page = open_page("phone", "zh")
        portal_day(page, "zh", dealer=role == "dealer")
        page.screenshot(path=str(screenshots / f"{role}-status.png"), full_page=True)
        page.context.close()
