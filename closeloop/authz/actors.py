"""Who is asking: a user with their roles and department memberships, each read at most once."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from closeloop.core.roles import user_roles


class Actor:
    """A user, their role codes (cached on the user for the request) and their memberships
    (department id → is manager), read on first use. A view that asks many questions about one user
    builds one `Actor.of(request.user)` and passes it wherever a user is expected by `authz.allowed`."""

    def __init__(self, user: Any, roles: frozenset[str], departments: dict[int, bool] | None = None) -> None:
        self.user = user
        self.roles = roles
        if departments is not None:
            self.__dict__["departments"] = departments

    @classmethod
    def of(cls, who: Any) -> Actor:
        if isinstance(who, Actor):
            return who
        if who is None or not who.is_authenticated:
            return cls(user=None, roles=frozenset(), departments={})
        return cls(user=who, roles=user_roles(who))

    @cached_property
    def departments(self) -> dict[int, bool]:
        """Department id → whether the user manages it (one query)."""
        from closeloop.directory.models import Membership

        if self.user is None:
            return {}
        return dict(Membership.objects.filter(user=self.user).values_list("department_id", "is_manager"))

    @property
    def pk(self) -> Any:
        return self.user.pk if self.user is not None else None

    def is_member(self, department_id: int | None) -> bool:
        return department_id is not None and department_id in self.departments

    def is_manager(self, department_id: int | None) -> bool:
        return department_id is not None and self.departments.get(department_id, False)

    def manages_any(self) -> bool:
        return any(self.departments.values())
