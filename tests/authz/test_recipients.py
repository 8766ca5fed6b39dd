"""Who is told: active people only."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import Group

from closeloop.authz import recipients
from closeloop.core.roles import Role
from closeloop.directory.models import Department

pytestmark = pytest.mark.django_db


def test_active_managers_of_a_department_leave_out_the_deactivated_and_the_members(
    make_user: Callable[..., object], department: Department, other_department: Department
) -> None:
    manager = make_user(Role.DEPT_MANAGER, departments=[department], manager=True)
    gone = make_user(Role.DEPT_MANAGER, departments=[department], manager=True)
    gone.is_active = False  # type: ignore[attr-defined]
    gone.save()  # type: ignore[attr-defined]
    make_user(Role.HANDLER, departments=[department])
    make_user(Role.DEPT_MANAGER, departments=[other_department], manager=True)
    assert list(recipients.active_managers_of(department.pk)) == [manager]
    assert recipients.active_managers_by_department([department.pk]) == {department.pk: [manager]}


def test_members_of_a_role_are_active_and_listed_once(make_user: Callable[..., object]) -> None:
    quality = make_user(Role.QUALITY)
    gone = make_user(Role.QUALITY)
    gone.is_active = False  # type: ignore[attr-defined]
    gone.save()  # type: ignore[attr-defined]
    make_user(Role.AUDITOR)
    assert list(recipients.members_of_role(Role.QUALITY)) == [quality]
    both = make_user(Role.AGENT)
    both.groups.add(Group.objects.get(name=Role.CS_SUPERVISOR))  # type: ignore[attr-defined]
    assert list(recipients.members_of_roles([Role.AGENT, Role.CS_SUPERVISOR])) == [both]
    by_role, by_id = recipients.members_by_role()
    assert by_role[Role.QUALITY] == [quality]
    assert gone.pk not in by_id  # type: ignore[attr-defined]
