"""The desk's navigation is built from the permission table (`may` in templates/base.html)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from closeloop.core.roles import Role

pytestmark = pytest.mark.django_db

LINKS = {
    "followup:calllist": {Role.AGENT, Role.CS_SUPERVISOR},
    "handling:inbox": {Role.HANDLER, Role.DEPT_MANAGER, Role.CS_SUPERVISOR},
    "handling:approvals": {Role.CS_SUPERVISOR, Role.MANAGEMENT},
    "insight:dashboard": {
        Role.MANAGEMENT,
        Role.CS_SUPERVISOR,
        Role.QUALITY,
        Role.AUDITOR,
        Role.DEPT_MANAGER,
        Role.ADMIN,
    },
}


@pytest.mark.parametrize("role", list(Role))
def test_each_role_sees_the_links_its_permissions_open(role: Role, make_user: Callable[..., Any]) -> None:
    client = Client()
    client.force_login(make_user(role))
    page = client.get(reverse("handling:roster")).content.decode()
    shown = {name for name in LINKS if f'href="{reverse(name)}"' in page}
    assert shown == {name for name, roles in LINKS.items() if role in roles}
