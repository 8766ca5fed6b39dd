"""The people the generated history names: customer service at the desk, CS supervisors and
management who approve, and the handlers of each department that gets tasks.

`staff_ensure` reads who exists and, where a department has fewer handlers than asked for (or no
supervisor or management user exists), creates them in bulk: members of the department with the
handler role, Chinese display names, no usable password (they exist so that the history has realistic
names; the demo logins are the ones in `logins.py`). Idempotent: the same call twice creates nothing.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import transaction

from closeloop.core.roles import Role
from closeloop.directory.models import Department, Membership

# Handlers per department when the caller does not say: enough for a per-handler KPI table.
MIN_HANDLERS = 3
MAX_HANDLERS = 20
COMPLAINTS_PER_HANDLER = 10_000


def handlers_for(count: int) -> int:
    """How many handlers a department needs for `count` generated complaints (3 to 20)."""
    return max(MIN_HANDLERS, min(MAX_HANDLERS, count // COMPLAINTS_PER_HANDLER))


@dataclass
class Staff:
    desk: list[Any]
    api: Any
    supervisors: list[Any]
    management: list[Any]
    # department id -> its handlers (members with the handler role), by id
    handlers: dict[int, list[Any]] = field(default_factory=dict)
    # user id -> how the user is named on forms (full name, else username)
    names: dict[int, str] = field(default_factory=dict)

    def name(self, user: Any) -> str:
        if user is None:
            return ""
        return self.names.get(user.pk) or user.get_full_name() or user.get_username()


def _role_users(role: Role) -> list[Any]:
    return list(get_user_model().objects.filter(groups__name=role.value, is_active=True).distinct().order_by("id"))


def _display_names(rng: random.Random) -> list[str]:
    from closeloop.demo.generator import _data

    names = _data("names")
    surnames = [s for s, _py, _w in names["surnames"]]
    weights = [w for _s, _py, w in names["surnames"]]
    return [rng.choices(surnames, weights=weights)[0] + rng.choice(names["given"])[0] for _ in range(64)]


def _create_users(specs: list[tuple[str, str, str, int | None, bool]]) -> None:
    """(username, role, display name, department id, is manager) → users, groups, memberships."""
    if not specs:
        return
    user_model = get_user_model()
    unusable = make_password(None)
    user_model.objects.bulk_create(
        [user_model(username=u, first_name=name, password=unusable) for u, _r, name, _d, _m in specs],
        ignore_conflicts=True,
    )
    users = {u.username: u for u in user_model.objects.filter(username__in=[s[0] for s in specs])}
    groups = {g.name: g for g in (Group.objects.get_or_create(name=r)[0] for r in {s[1] for s in specs})}
    through = user_model.groups.through
    through.objects.bulk_create(
        [through(user_id=users[u].pk, group_id=groups[r].pk) for u, r, _n, _d, _m in specs], ignore_conflicts=True
    )
    Membership.objects.bulk_create(
        [Membership(user=users[u], department_id=d, is_manager=m) for u, _r, _n, d, m in specs if d is not None],
        ignore_conflicts=True,
    )


def staff_ensure(
    *,
    departments: list[Department],
    handlers_per_department: int,
    desk: list[Any],
    api: Any,
    seed: int = 0,
) -> Staff:
    """The staff the history needs, creating what is missing (see the module docstring)."""
    rng = random.Random(f"staff-{seed}")
    display = _display_names(rng)
    specs: list[tuple[str, str, str, int | None, bool]] = []
    with transaction.atomic():
        if not _role_users(Role.CS_SUPERVISOR):
            specs.append(("demo.supervisor", Role.CS_SUPERVISOR.value, display[0], None, False))
        if not _role_users(Role.MANAGEMENT):
            specs.append(("demo.gm", Role.MANAGEMENT.value, display[1], None, False))
        members = _members(departments)
        for index, department in enumerate(departments):
            have = members.get(department.pk, [])
            for number in range(len(have) + 1, handlers_per_department + 1):
                username = f"demo.{department.code}.{number:02d}"
                name = display[(index * 7 + number) % len(display)]
                specs.append((username, Role.HANDLER.value, name, department.pk, False))
        _create_users(specs)
        members = _members(departments)
    supervisors = _role_users(Role.CS_SUPERVISOR)
    management = _role_users(Role.MANAGEMENT)
    everyone = [*desk, *supervisors, *management, *(u for us in members.values() for u in us)]
    names = {u.pk: (u.get_full_name() or u.get_username()) for u in everyone if u is not None}
    return Staff(
        desk=desk,
        api=api,
        supervisors=supervisors,
        management=management,
        handlers={d.pk: members.get(d.pk, []) for d in departments},
        names=names,
    )


def _members(departments: list[Department]) -> dict[int, list[Any]]:
    """Active members of each department with the handler role, who get its tasks."""
    rows = (
        Membership.objects.filter(
            department__in=departments,
            user__is_active=True,
            user__groups__name=Role.HANDLER.value,
        )
        .select_related("user")
        .order_by("department_id", "user_id")
        .distinct()
    )
    out: dict[int, list[Any]] = {}
    for membership in rows:
        users = out.setdefault(membership.department_id, [])
        if membership.user not in users:
            users.append(membership.user)
    return out
