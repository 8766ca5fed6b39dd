"""The sidebar: each role sees exactly the pages it may open, and lands on its own home."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from closeloop.authz.navigation import MENU, home_for, items_for, menu_for
from closeloop.core.roles import Role

pytestmark = pytest.mark.django_db

EVERYONE = {
    "home",
    "desk:queue",
    "serviceorders:queue",
    "knowledge:list",
    "notifications:inbox",
    "handling:roster",
    "sla:month",
}
# What each role finds in its menu: the page's URL name (the overdue queue as "desk:queue?due=overdue").
BY_ROLE: dict[str, set[str]] = {
    "agent": EVERYONE | {"desk:register", "followup:calllist", "handling:decisions", "macros:list"},
    "cs_supervisor": EVERYONE
    | {
        "macros:list",
        "desk:register",
        "handling:inbox",
        "followup:calllist",
        "handling:feedback_list",
        "handling:approvals",
        "desk:queue?due=overdue",
        "handling:decisions",
        "defects:alerts",
        "improvement:list",
        "insight:dashboard",
        "insight:reports",
    },
    "handler": EVERYONE | {"handling:inbox", "handling:feedback_list", "improvement:list"},
    "dept_manager": EVERYONE
    | {
        "handling:inbox",
        "handling:feedback_list",
        "handling:decisions",
        "defects:alerts",
        "improvement:list",
        "insight:dashboard",
    },
    "quality": EVERYONE
    | {
        "handling:decisions",
        "defects:alerts",
        "improvement:list",
        "triage:hazards",
        "insight:dashboard",
        "insight:reports",
    },
    "auditor": EVERYONE
    | {"defects:alerts", "improvement:list", "triage:hazards", "insight:dashboard", "insight:reports"},
    "management": EVERYONE
    | {
        "handling:approvals",
        "desk:queue?due=overdue",
        "handling:decisions",
        "defects:alerts",
        "improvement:list",
        "triage:hazards",
        "insight:dashboard",
        "insight:reports",
    },
    "admin": EVERYONE
    | {
        "desk:register",
        "defects:alerts",
        "improvement:list",
        "triage:hazards",
        "triage:admin",
        "insight:dashboard",
        "insight:reports",
    },
}

HOME = {
    "agent": "desk:queue",
    "cs_supervisor": "handling:supervisor_home",
    "handler": "handling:inbox",
    "dept_manager": "handling:inbox",
    "quality": "defects:quality_home",
    "auditor": "insight:dashboard",
    "management": "insight:dashboard",
    "admin": "desk:queue",
}


def _names(items: Any) -> set[str]:
    return {item.url_name + (f"?{item.query}" if item.query else "") for item in items}


@pytest.mark.parametrize("role", sorted(BY_ROLE))
def test_each_role_sees_exactly_the_pages_it_may_open(role: str, make_user: Callable[..., Any]) -> None:
    assert _names(items_for(make_user(role))) == BY_ROLE[role]


def test_every_role_is_listed_and_nobody_signed_out_sees_a_menu() -> None:
    assert set(BY_ROLE) == {r.value for r in Role}
    assert items_for(None) == []


def test_staff_status_adds_the_administration(make_user: Callable[..., Any]) -> None:
    admin = make_user(Role.ADMIN)
    admin.is_staff = True
    admin.save()
    assert "admin:index" in _names(items_for(admin))


@pytest.mark.parametrize("role", sorted(BY_ROLE))
def test_the_sidebar_shows_the_menu_and_the_logout(role: str, make_user: Callable[..., Any]) -> None:
    user = make_user(role)
    client = Client()
    client.force_login(user)
    html = client.get(reverse("sla:month")).content.decode()
    sidebar = html[html.index('id="sidebar"') : html.index("</nav>", html.index('id="sidebar"'))]
    hrefs = set(re.findall(r'<a href="([^"]+)"', sidebar))
    assert hrefs == {item.href() for item in items_for(user)}
    assert 'aria-current="page"' in sidebar  # the calendar, the page shown
    assert reverse("logout") in html


def test_a_group_without_an_item_for_the_user_is_left_out(make_user: Callable[..., Any]) -> None:
    handler = make_user(Role.HANDLER)
    labels = [str(section.label) for section in menu_for(handler)]
    assert "Decisions" not in labels and "决策" not in labels
    assert len(labels) < len(MENU)


def test_the_overdue_queue_and_the_queue_are_current_on_their_own_addresses(make_user: Callable[..., Any]) -> None:
    supervisor = make_user(Role.CS_SUPERVISOR)

    def current(query: str) -> set[str]:
        return {
            link.href
            for section in menu_for(supervisor, view_name="desk:queue", query=query)
            for link in section.links
            if link.current
        }

    assert current("due=overdue") == {"/desk/?due=overdue"}
    assert current("status=closed") == {"/desk/"}
    assert {link.href for s in menu_for(supervisor, view_name="desk:detail") for link in s.links if link.current} == {
        "/desk/"
    }


@pytest.mark.parametrize("role", sorted(HOME))
def test_each_role_lands_on_its_home(role: str, make_user: Callable[..., Any]) -> None:
    user = make_user(role)
    assert home_for(user) == reverse(HOME[role])
    client = Client()
    client.force_login(user)
    response = client.get("/")
    assert response.status_code == 302 and response["Location"] == reverse(HOME[role])
    assert client.get(response["Location"]).status_code == 200


def test_a_handler_who_also_registers_lands_on_the_inbox(make_user: Callable[..., Any]) -> None:
    user = make_user(Role.HANDLER)
    user.groups.add(make_user(Role.AGENT).groups.get())
    assert home_for(user) == reverse("handling:inbox")


def _current_links(html: str) -> list[str]:
    sidebar = html[html.index('id="sidebar"') : html.index("</nav>", html.index('id="sidebar"'))]
    return re.findall(r'<a href="([^"]+)" aria-current="page"', sidebar)


@pytest.mark.parametrize(
    ("role", "home", "elsewhere", "its_item"),
    [
        ("quality", "defects:quality_home", "defects:alerts", "defects:alerts"),
        ("cs_supervisor", "handling:supervisor_home", "handling:approvals", "handling:approvals"),
    ],
)
def test_on_a_roles_own_home_the_sidebar_marks_my_desk_not_the_item_whose_prefix_it_shares(
    role: str, home: str, elsewhere: str, its_item: str, make_user: Callable[..., Any]
) -> None:
    """Quality's home lives under /desk/defects/, whose pages are the early warning's: the home is marked."""
    client = Client()
    client.force_login(make_user(role))
    assert _current_links(client.get(reverse(home)).content.decode()) == [reverse("home")]
    assert _current_links(client.get(reverse(elsewhere)).content.decode()) == [reverse(its_item)]


def test_an_items_own_view_wins_over_another_items_prefix(make_user: Callable[..., Any]) -> None:
    quality = make_user(Role.QUALITY)

    def current(view_name: str) -> set[str]:
        return {link.href for s in menu_for(quality, view_name=view_name) for link in s.links if link.current}

    assert current("defects:quality_home") == {reverse("home")}
    assert current("defects:incident") == {reverse("defects:alerts")}  # under the prefix, no other item
    assert current("accounts:account") == set()
