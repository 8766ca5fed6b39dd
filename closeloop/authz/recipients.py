"""Who is told: the one selector of people every notification asks. Deactivated users never."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import QuerySet

from closeloop.core.roles import Role


def members_of_role(role: Role | str) -> QuerySet[Any]:
    """Active holders of a role (its group; a superuser outside the group is not told)."""
    return get_user_model().objects.filter(is_active=True, groups__name=str(role)).distinct()


def members_of_roles(roles: Iterable[Role | str]) -> QuerySet[Any]:
    return get_user_model().objects.filter(is_active=True, groups__name__in=[str(r) for r in roles]).distinct()


def active_managers_of(department_id: int | None) -> QuerySet[Any]:
    """The active managers of a department."""
    return (
        get_user_model()
        # None (no department) matches no membership
        .objects.filter(is_active=True, memberships__department_id=department_id, memberships__is_manager=True)  # type: ignore[misc]
        .distinct()
    )


def active_managers_of_any(department_ids: Iterable[int | None]) -> QuerySet[Any]:
    """The active managers of any of these departments, each once."""
    return (
        get_user_model()
        .objects.filter(
            is_active=True, memberships__department_id__in=list(department_ids), memberships__is_manager=True
        )
        .distinct()
    )


def active_managers_by_department(department_ids: Iterable[int] | None = None) -> dict[int, list[Any]]:
    """Department id → its active managers, in one query (for sweeps that tell many departments)."""
    from closeloop.directory.models import Membership

    memberships = Membership.objects.filter(is_manager=True, user__is_active=True).select_related("user")
    if department_ids is not None:
        memberships = memberships.filter(department_id__in=set(department_ids))
    managers: dict[int, list[Any]] = defaultdict(list)
    for membership in memberships:
        managers[membership.department_id].append(membership.user)
    return managers


def members_by_role() -> tuple[dict[str, list[Any]], dict[int, Any]]:
    """Role code → its active holders, and user id → user, in two queries (for the SLA sweep)."""
    by_role: dict[str, list[Any]] = defaultdict(list)
    by_id: dict[int, Any] = {}
    users = members_of_roles(Role).prefetch_related("groups")
    for user in users:
        by_id[user.pk] = user
        for group in user.groups.all():
            by_role[group.name].append(user)
    return by_role, by_id
