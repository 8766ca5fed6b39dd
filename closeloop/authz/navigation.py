"""The desk's navigation: one definition of the menu's groups and items, each with the permission it
needs, and each role's home page.

The sidebar (base.html, through the `menu` context processor) shows an item when `allowed` answers yes
for its permission; tests/authz/test_navigation.py checks, role by role, that the menu is exactly what
the table allows. A page of a new domain gets its item here, in the group where users look for it.
URL names are strings: this package imports no view.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from closeloop.authz.actors import Actor
from closeloop.authz.permissions import allowed
from closeloop.core.roles import Role


@dataclass(frozen=True)
class Item:
    label: str | Promise
    url_name: str
    # The permission of closeloop/authz/permissions.py it needs; None: every signed-in user.
    perm: str | None
    # Views (names, or prefixes ending in ":" or "_") on which this item is the current page.
    current: tuple[str, ...] = ()
    query: str = ""
    # The second key of its keyboard shortcut ("g" then this key: closeloop/static/closeloop/shortcuts.js).
    key: str = ""
    # A template included after the label (a count of what waits there).
    badge: str = ""

    def href(self) -> str:
        url = reverse(self.url_name)
        return f"{url}?{self.query}" if self.query else url

    def match(self, view_name: str, query: str) -> int:
        """How closely the page `view_name`?`query` is this item's: 2 its own address or a view it names,
        1 a view under one of its prefixes, 0 not at all. The sidebar marks the closest items only, so a
        page that is one item's own and under another's prefix (quality's home, under "defects:") is the
        first's."""
        if self.query:
            return 2 if view_name == self.url_name and query == self.query else 0
        if query and any(other.query == query for other in _QUERY_ITEMS.get(view_name, ())):
            return 0  # the page of an item with this query (the overdue queue), not of the plain list
        names = (self.url_name, *self.current)
        if view_name in names:
            return 2
        return 1 if any(name.endswith((":", "_")) and view_name.startswith(name) for name in names) else 0


@dataclass(frozen=True)
class Group:
    label: str | Promise
    items: tuple[Item, ...]


MENU: tuple[Group, ...] = (
    Group(
        pgettext_lazy("menu group", "My work"),
        (
            # "/" sends each user to their role's home (HOMES below); the item is the current one on the
            # homes that are no other item's page.
            Item(_("My desk"), "home", None, ("handling:supervisor_home", "defects:quality_home")),
            Item(_("Queue"), "desk:queue", "complaints.view_queue", ("desk:detail", "desk:write"), key="q"),
            Item(_("Register a complaint"), "desk:register", "complaints.open_registration", key="n"),
            Item(_("Service orders"), "serviceorders:queue", "serviceorders.view_orders", ("serviceorders:",), key="s"),
            Item(_("Task inbox"), "handling:inbox", "handling.view_task_inbox", key="i"),
            Item(_("Knowledge base"), "knowledge:list", "knowledge.read_articles", ("knowledge:",)),
            Item(_("Canned replies"), "macros:list", "macros.use_macros", ("macros:",)),
            Item(_("Follow-ups"), "followup:calllist", "followup.make_followup", key="f"),
            Item(
                _("Feedback forms"), "handling:feedback_list", "handling.view_feedback_forms", ("handling:feedback_",)
            ),
            Item(
                _("Notifications"),
                "notifications:inbox",
                None,
                ("notifications:",),
                key="m",
                badge="notifications/_badge.html",
            ),
        ),
    ),
    Group(
        pgettext_lazy("menu group", "Decisions"),
        (
            Item(_("Approvals"), "handling:approvals", "handling.view_approvals", key="a"),
            Item(_("Escalated (overdue)"), "desk:queue", "handling.view_approvals", query="due=overdue", key="e"),
            Item(_("Decisions"), "handling:decisions", "handling.view_decisions", key="d"),
        ),
    ),
    Group(
        pgettext_lazy("menu group", "Quality"),
        (
            Item(_("Early warning"), "defects:alerts", "defects.view_alerts", ("defects:",), key="w"),
            Item(_("Improvement actions"), "improvement:list", "improvement.view_actions", ("improvement:",)),
            Item(_("Safety hazards"), "triage:hazards", "triage.view_hazards"),
        ),
    ),
    Group(
        pgettext_lazy("menu group", "Insight"),
        (
            Item(
                _("Dashboard"),
                "insight:dashboard",
                "insight.view_kpis",
                ("insight:kpis", "insight:kpi_", "insight:targets"),
                key="h",
            ),
            Item(_("Reports"), "insight:reports", "insight.read_reports", ("insight:report", "insight:recipient")),
        ),
    ),
    Group(
        pgettext_lazy("menu group", "Organisation"),
        (
            Item(_("Roster"), "handling:roster", "handling.view_roster", ("handling:roster_", "handling:absence_")),
            Item(_("Calendar"), "sla:month", None, ("sla:",)),
            Item(_("Triage"), "triage:admin", "triage.retrain_model"),
            Item(_("Administration"), "admin:index", "core.open_admin_site"),
        ),
    ),
)

_QUERY_ITEMS: dict[str, tuple[Item, ...]] = {}
for _group in MENU:
    for _item in _group.items:
        if _item.query:
            _QUERY_ITEMS[_item.url_name] = (*_QUERY_ITEMS.get(_item.url_name, ()), _item)


@dataclass(frozen=True)
class Link:
    label: str | Promise
    href: str
    current: bool
    key: str
    badge: str


@dataclass(frozen=True)
class Section:
    label: str | Promise
    links: list[Link]


def items_for(who: Any) -> list[Item]:
    """Every item of the menu `who` may open, in menu order."""
    actor = Actor.of(who)
    return [item for group in MENU for item in group.items if _may_open(actor, item)]


def menu_for(who: Any, *, view_name: str = "", query: str = "") -> list[Section]:
    """The menu as the sidebar shows it: groups with at least one item `who` may open."""
    actor = Actor.of(who)
    shown = [(group, [item for item in group.items if _may_open(actor, item)]) for group in MENU]
    closest = max((item.match(view_name, query) for _group, items in shown for item in items), default=0)
    sections = []
    for group, items in shown:
        links = [
            Link(item.label, item.href(), closest > 0 and item.match(view_name, query) == closest, item.key, item.badge)
            for item in items
        ]
        if links:
            sections.append(Section(group.label, links))
    return sections


def _may_open(actor: Actor, item: Item) -> bool:
    if actor.user is None:
        return False
    return item.perm is None or allowed(actor, item.perm)


# Each role's home after logging in, the first role the user holds in this order wins: a person who
# works tasks lands on them, a decider on what waits for their decision.
HOMES: tuple[tuple[Role, str], ...] = (
    (Role.HANDLER, "handling:inbox"),
    (Role.DEPT_MANAGER, "handling:inbox"),
    (Role.AGENT, "desk:queue"),
    # Two lists each, on one page: approvals and escalations; disputes and defect alerts.
    (Role.CS_SUPERVISOR, "handling:supervisor_home"),
    (Role.QUALITY, "defects:quality_home"),
    (Role.MANAGEMENT, "insight:dashboard"),
    (Role.AUDITOR, "insight:dashboard"),
    (Role.ADMIN, "desk:queue"),
)


def home_for(who: Any) -> str:
    """The address of `who`'s home page (the queue for a user without a role)."""
    roles = Actor.of(who).roles
    for role, url_name in HOMES:
        if role in roles:
            return reverse(url_name)
    return reverse("desk:queue")
