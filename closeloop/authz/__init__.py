"""Authorization: the one place that answers "who may do this?" and "who is told?".

Public API (everything else in the package is its implementation):

- `allowed(who, perm, obj=None) -> bool` and `require(who, perm, obj=None, *, message=None)` (raises
  `closeloop.core.errors.PermissionDeniedError`): `who` is a user, `None`, an anonymous user or an
  `Actor`; `perm` a name of the permission table, `closeloop/authz/permissions.py` (`PERMISSIONS`),
  printed in docs/architecture.md ("Authorization").
- `holds_any(who, group)`: whether a user holds a role of a group, for choosing people (never for
  refusing them: that is a permission).
- `Actor.of(user)`: the user with their roles and memberships, read once — build one per request
  when a page asks many questions.
- The named role groups (`DESK`, `DEPARTMENT`, `APPROVERS`, `ADMINS`, …, in `closeloop/authz/roles.py`):
  the only sets of roles in the code base; lifecycle tables name them in their `roles=`.
- `recipients`: who is told (`members_of_role`, `active_managers_of`, …); only active users.
- Templates: `may` (the context processor `closeloop.authz.context_processors.may`):
  `{% if may.handling.view_task_inbox %}`. `{% load rules %}{% has_perm … %}` and `perms` also answer,
  through Django's `user.has_perm` (rules' backend), where an active superuser holds everything.

Predicates read the attributes of the objects they are given (`task.handler_id`,
`task.department_id`, …), so this package imports nothing above `directory`.
"""

from __future__ import annotations

from closeloop.authz import recipients
from closeloop.authz.actors import Actor
from closeloop.authz.permissions import PERMISSIONS, Permission, allowed, holds_any, require, who_may
from closeloop.authz.roles import (
    ADMINS,
    APPROVERS,
    CS_SUPERVISORS,
    DECIDERS,
    DEPARTMENT,
    DESK,
    DESK_AND_ADMIN,
    ESCALATION_FALLBACK,
    HAZARD_WATCHERS,
    IMPROVEMENT_CREATORS,
    KPI_READERS,
    MANAGEMENT,
    READ_ONLY,
    REPORT_LIST_KEEPERS,
    STEP_OWNERS,
    TASK_READERS,
    WHOLE_COMPANY,
    WORKERS,
)

__all__ = [
    "ADMINS",
    "APPROVERS",
    "CS_SUPERVISORS",
    "DECIDERS",
    "DEPARTMENT",
    "DESK",
    "DESK_AND_ADMIN",
    "ESCALATION_FALLBACK",
    "HAZARD_WATCHERS",
    "IMPROVEMENT_CREATORS",
    "KPI_READERS",
    "MANAGEMENT",
    "PERMISSIONS",
    "READ_ONLY",
    "REPORT_LIST_KEEPERS",
    "STEP_OWNERS",
    "TASK_READERS",
    "WHOLE_COMPANY",
    "WORKERS",
    "Actor",
    "Permission",
    "allowed",
    "holds_any",
    "recipients",
    "require",
    "who_may",
]
